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

function parse(value: string): Instant | undefined {
  const m = ISO_INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1) - daysFromCivil(year, month, 1);
  if (day < 1 || day > daysInMonth) return undefined;
  let offsetSeconds = 0;
  if (m[9] !== undefined) {
    const [offsetHours, offsetMinutes] = [Number(m[10]), Number(m[11])];
    if (offsetHours > 15 || offsetMinutes > 59) return undefined;
    offsetSeconds = (m[9] === '-' ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
  }
  // As PostgreSQL's ParseFractionalSecond: strtod of the fraction, times 1e6, rint.
  const fractionMicros = m[7] === undefined ? 0 : rint(Number(m[7]) * 1_000_000);
  const seconds = (daysFromCivil(year, month, day) - DAYS_1970_TO_2000) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  const micros = BigInt(seconds) * 1_000_000n + BigInt(fractionMicros);
  const text = m[8] === undefined && m[9] === undefined ? `${value}Z` : value;
  return { ms: seconds * 1000 + Math.floor(fractionMicros / 1000) + MS_1970_TO_2000, text, micros };
}
