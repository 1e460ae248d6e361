const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

export interface Instant {
  /** Milliseconds since the epoch, for comparisons. */
  readonly ms: number;
  /** Text PostgreSQL reads as the same instant (the original, with `Z` added when it had no offset). */
  readonly text: string;
  /** Microseconds since 2000-01-01 00:00:00 UTC: the value PostgreSQL stores for `text`, as binary COPY sends a timestamptz. */
  readonly micros: bigint;
}

/**
 * An ISO 8601 date-time found in a record (`_sdc_*` metadata, MetaData.LastUpdatedTime) as an
 * instant, or undefined when it is not a real one. (Instants people type in settings and flags
 * are singer-kit's parseInstant: it requires an offset and throws a UsageError.) Unlike `Date`,
 * this refuses `2024-02-30` instead of rolling it to March, year 0, and offsets PostgreSQL
 * refuses (beyond ±15:59). A value without an offset is read as UTC (the session also runs in UTC).
 */
export function parseRecordInstant(value: string): Instant | undefined {
  // Window bounds and extraction times repeat on every record of a page.
  if (recent.has(value)) return recent.get(value);
  if (recent.size >= 1024) recent.clear();
  const instant = parse(value);
  recent.set(value, instant);
  return instant;
}

const recent = new Map<string, Instant | undefined>();

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_1970_TO_2000 = 10957;
const MS_1970_TO_2000 = DAYS_1970_TO_2000 * 86_400_000;

/** C's rint() in the default rounding mode (half to even), as PostgreSQL rounds fractional seconds. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A calendar date as its numbers (not yet checked to be a real date). */
export interface DateFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/** A date-time as its numbers and parts, as written (not yet checked to be a real instant). */
export interface InstantFields extends DateFields {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** `.` and 1–9 digits, or undefined. */
  readonly fraction: string | undefined;
  /** -1 or 1 with an offset, 0 for `Z`, undefined without any. */
  readonly sign: number | undefined;
  readonly offsetHours: number;
  readonly offsetMinutes: number;
}

/** Whether year, month and day name a real day of the proleptic Gregorian calendar (any year, 0 included). */
export function isRealDate({ year, month, day }: DateFields): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1);
}

const ZERO = 48;
const digitsAt = (s: string, at: number, count: number): number => {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
};

/** `YYYY-MM-DD` at the start of `v`, or undefined. */
export function usualDateFields(v: string): DateFields | undefined {
  if (v.length < 10 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45) return undefined;
  const year = digitsAt(v, 0, 4);
  const month = digitsAt(v, 5, 2);
  const day = digitsAt(v, 8, 2);
  // NaN marks a non-digit.
  return Number.isNaN(year + month + day) ? undefined : { year, month, day };
}

/**
 * The fields of the shape records carry (`2024-05-01T12:30:00.123-07:00`, `Z`, or no offset),
 * read without a regular expression (a record's LastUpdatedTime is read on every record, its
 * date-times checked by the SCHEMA validation); other shapes (lowercase, space, `+0700`, more than
 * 9 fraction digits) give undefined and are left to a slower, general reader.
 */
export function usualInstantFields(v: string): InstantFields | undefined {
  const n = v.length;
  if (n < 19 || v.charCodeAt(10) !== 84 || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58) return undefined;
  const date = usualDateFields(v);
  if (date === undefined) return undefined;
  let at = 19;
  if (v.charCodeAt(at) === 46) {
    while (at < 28 && at + 1 < n && digitsAt(v, at + 1, 1) >= 0) at++;
    if (at === 19) return undefined;
    at++;
  }
  const fraction = at > 19 ? v.slice(19, at) : undefined;
  let sign: number | undefined;
  let offsetHours = 0;
  let offsetMinutes = 0;
  if (at === n - 1 && v.charCodeAt(at) === 90) sign = 0;
  else if (at === n - 6 && v.charCodeAt(at + 3) === 58 && (v.charCodeAt(at) === 43 || v.charCodeAt(at) === 45)) {
    sign = v.charCodeAt(at) === 45 ? -1 : 1;
    offsetHours = digitsAt(v, at + 1, 2);
    offsetMinutes = digitsAt(v, at + 4, 2);
  } else if (at !== n) return undefined;
  const hour = digitsAt(v, 11, 2);
  const minute = digitsAt(v, 14, 2);
  const second = digitsAt(v, 17, 2);
  if (Number.isNaN(hour + minute + second + offsetHours + offsetMinutes)) return undefined;
  // Fields written out: a `...date` spread here made this 50 times slower (V8 clones such literals slowly).
  return { year: date.year, month: date.month, day: date.day, hour, minute, second, fraction, sign, offsetHours, offsetMinutes };
}

function regexFields(value: string): InstantFields | undefined {
  const m = ISO_INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const sign = m[9] === undefined ? (m[8] === undefined ? undefined : 0) : m[9] === '-' ? -1 : 1;
  return { year, month, day, hour, minute, second, fraction: m[7], sign, offsetHours: Number(m[10] ?? 0), offsetMinutes: Number(m[11] ?? 0) };
}

function parse(value: string): Instant | undefined {
  const f = usualInstantFields(value) ?? regexFields(value);
  if (!f) return undefined;
  const { year, month, day, hour, minute, second } = f;
  if (year < 1 || hour > 23 || minute > 59 || second > 59 || !isRealDate(f)) return undefined;
  if (f.offsetHours > 15 || f.offsetMinutes > 59) return undefined;
  const offsetSeconds = (f.sign ?? 0) * (f.offsetHours * 3600 + f.offsetMinutes * 60);
  // As PostgreSQL's ParseFractionalSecond: strtod of the fraction, times 1e6, rint.
  const fractionMicros = f.fraction === undefined ? 0 : rint(Number(f.fraction) * 1_000_000);
  const seconds = (daysFromCivil(year, month, day) - DAYS_1970_TO_2000) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  const exact = seconds * 1_000_000 + fractionMicros;
  const micros = Number.isSafeInteger(exact) ? BigInt(exact) : BigInt(seconds) * 1_000_000n + BigInt(fractionMicros);
  const text = f.sign === undefined ? `${value}Z` : value;
  return { ms: seconds * 1000 + Math.floor(fractionMicros / 1000) + MS_1970_TO_2000, text, micros };
}
