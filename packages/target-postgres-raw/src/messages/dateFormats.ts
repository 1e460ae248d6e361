import { fullFormats } from 'ajv-formats/dist/formats.js';

type FormatCheck = (value: string) => boolean;
type FormatDefinition = { readonly validate: FormatCheck; readonly compare: (a: string, b: string) => number | undefined };

const original = {
  date: fullFormats.date as FormatDefinition,
  dateTime: fullFormats['date-time'] as FormatDefinition,
};

const ZERO = 48;
const isDigit = (code: number) => code >= ZERO && code <= ZERO + 9;
const twoDigits = (s: string, at: number) => (s.charCodeAt(at) - ZERO) * 10 + s.charCodeAt(at + 1) - ZERO;

function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** `YYYY-MM-DD` at the start of `s` is a real date (RFC 3339 full-date, as ajv-formats checks it). */
function realDateAt(s: string): boolean {
  if (!allDigits(s, 0, 4) || s.charCodeAt(4) !== 45 || !allDigits(s, 5, 7) || s.charCodeAt(7) !== 45 || !allDigits(s, 8, 10)) return false;
  const year = Number(s.slice(0, 4));
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}

/**
 * The usual shape, `2024-05-01T12:30:00(.123456)?(Z|+02:00)`, valid: true only when ajv-formats'
 * full check would say so; anything else (leap seconds, `t`/space separators, `+0200`) is left to it.
 */
function usualDateTime(s: string): boolean {
  const n = s.length;
  if (n < 20 || s.charCodeAt(10) !== 84 /* T */ || !realDateAt(s)) return false;
  if (!allDigits(s, 11, 13) || s.charCodeAt(13) !== 58 || !allDigits(s, 14, 16) || s.charCodeAt(16) !== 58 || !allDigits(s, 17, 19)) return false;
  if (twoDigits(s, 11) > 23 || twoDigits(s, 14) > 59 || twoDigits(s, 17) > 59) return false;
  let zone = 19;
  if (s.charCodeAt(19) === 46 /* . */) {
    zone = 20;
    while (zone < n && isDigit(s.charCodeAt(zone))) zone++;
    if (zone === 20) return false;
  }
  if (zone === n - 1) return s.charCodeAt(zone) === 90; /* Z */
  const sign = s.charCodeAt(zone);
  return (
    zone === n - 6 &&
    (sign === 43 || sign === 45) &&
    allDigits(s, zone + 1, zone + 3) &&
    s.charCodeAt(zone + 3) === 58 &&
    allDigits(s, zone + 4, n) &&
    twoDigits(s, zone + 1) <= 23 &&
    twoDigits(s, zone + 4) <= 59
  );
}

/**
 * ajv-formats' `date` and `date-time` (full mode) with the same answers, faster for the shapes
 * taps send: its date-time splits the string and runs two regular expressions, a fifth of the
 * target's validation time on QBO records (four date-times each).
 */
export const dateFormats = {
  date: { validate: (s: string) => (s.length === 10 && realDateAt(s)) || original.date.validate(s), compare: original.date.compare },
  'date-time': { validate: (s: string) => usualDateTime(s) || original.dateTime.validate(s), compare: original.dateTime.compare },
};
