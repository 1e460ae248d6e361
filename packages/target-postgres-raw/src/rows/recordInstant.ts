const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})?$/;

export interface Instant {
  /** Milliseconds since the epoch, for comparisons. */
  readonly ms: number;
  /** Text PostgreSQL reads as the same instant (the original, with `Z` added when it had no offset). */
  readonly text: string;
}

/**
 * An ISO 8601 date-time found in a record (`_sdc_*` metadata, MetaData.LastUpdatedTime) as an
 * instant, or undefined when it is not a real one. (Instants people type in settings and flags
 * are singer-kit's parseInstant: it requires an offset and throws a UsageError.) Unlike `Date`,
 * this refuses `2024-02-30` instead of rolling it to March, and year 0. A value without an
 * offset is read as UTC (the session also runs in UTC).
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

function parse(value: string): Instant | undefined {
  const m = ISO_INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  const text = m[8] === undefined ? `${value}Z` : value;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : { ms, text };
}
