import { createRequire } from 'node:module';
import type * as AjvFormats from 'ajv-formats/dist/formats.js';
import { isRealDate, usualDateFields, usualInstantFields } from '../rows/recordInstant.js';

type FormatCheck = (value: string) => boolean;
type FormatDefinition = { readonly validate: FormatCheck; readonly compare: (a: string, b: string) => number | undefined };

const require = createRequire(import.meta.url);

/** The usual `YYYY-MM-DD`, a real date: true only when ajv-formats' full check would say so. */
function usualDate(s: string): boolean {
  const date = s.length === 10 ? usualDateFields(s) : undefined;
  return date !== undefined && isRealDate(date);
}

/**
 * The usual shape, `2024-05-01T12:30:00(.123456)?(Z|+02:00)`, valid: true only when ajv-formats'
 * full check would say so; anything else (leap seconds, `t`/space separators, `+0200`) is left to it.
 */
function usualDateTime(s: string): boolean {
  const f = usualInstantFields(s);
  return (
    f !== undefined && f.sign !== undefined && isRealDate(f) && f.hour <= 23 && f.minute <= 59 && f.second <= 59 && f.offsetHours <= 23 && f.offsetMinutes <= 59
  );
}

/**
 * ajv-formats' `date` and `date-time` (full mode) with the same answers, faster for the shapes
 * taps send: its date-time splits the string and runs two regular expressions, a fifth of the
 * target's validation time on QBO records (four date-times each). ajv-formats (CommonJS) is loaded
 * by the first call, as ajv is by the first SchemaValidator: a run whose records all equal their
 * stored rows checks none.
 */
export function dateFormats() {
  const { fullFormats } = require('ajv-formats/dist/formats.js') as typeof AjvFormats;
  const date = fullFormats.date as FormatDefinition;
  const dateTime = fullFormats['date-time'] as FormatDefinition;
  return {
    date: { validate: (s: string) => usualDate(s) || date.validate(s), compare: date.compare },
    'date-time': { validate: (s: string) => usualDateTime(s) || dateTime.validate(s), compare: dateTime.compare },
    /**
     * A time of day with or without an offset (RFC 3339 partial-time or full-time: ajv-formats'
     * `iso-time`). Its `time` demands the offset, which the Singer SDK's taps never write for a
     * TIME column (`12:30:00`, Python's isoformat): every record of such a stream was refused.
     */
    time: fullFormats['iso-time'] as FormatDefinition,
  };
}
