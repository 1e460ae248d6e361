import { DateTime } from 'luxon';

/** QBO writes every timestamp in US-Pacific time, whatever the company's own zone. */
const QBO_ZONE = 'America/Los_Angeles';

/** Per UTC year: the Pacific offset (minutes) at its start and each change within it. */
const yearOffsets = new Map<number, { readonly start: number; readonly changes: ReadonlyArray<readonly [sec: number, offset: number]> }>();

/**
 * The Pacific offset in minutes at an instant. Luxon answers it once per year (its zone
 * lookups cost ~50 µs each, too slow for a page of 1000 records); the rest is a table.
 */
function pacificOffsetMinutes(epochSeconds: number): number {
  const year = new Date(epochSeconds * 1000).getUTCFullYear();
  let entry = yearOffsets.get(year);
  if (!entry) {
    const from = Date.UTC(year, 0, 1) / 1000;
    const offsetAt = (sec: number) => DateTime.fromSeconds(sec, { zone: QBO_ZONE }).offset;
    entry = { start: offsetAt(from), changes: pacificOffsetChanges(from, Date.UTC(year + 1, 0, 1) / 1000).map((t) => [t, offsetAt(t)] as const) };
    yearOffsets.set(year, entry);
  }
  let offset = entry.start;
  for (const [t, o] of entry.changes) if (epochSeconds >= t) offset = o;
  return offset;
}

/** Local wall-clock ISO text (`…T13:16:17.000`) and its `±HH:MM` suffix. */
function localParts(epochMs: number): [local: string, offset: string] {
  const minutes = pacificOffsetMinutes(Math.floor(epochMs / 1000));
  const local = new Date(epochMs + minutes * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(minutes);
  const offset = `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return [local, offset];
}

/** `2023-02-18T13:16:17-08:00`: second precision, with the Pacific offset of that instant. */
export function formatPacific(epochSeconds: number): string {
  const [local, offset] = localParts(epochSeconds * 1000);
  return `${local.slice(0, 19)}${offset}`;
}

/** `2023-02-18T13:20:00.000-08:00`: the envelope's `time`, with milliseconds. */
export function formatPacificMillis(epochMs: number): string {
  const [local, offset] = localParts(epochMs);
  return `${local}${offset}`;
}

/** `yyyy-MM-dd` of an instant, in Pacific time (QBO's TxnDate is a local date). */
export function pacificDate(epochSeconds: number): string {
  return localParts(epochSeconds * 1000)[0].slice(0, 10);
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses a QBO datetime literal into epoch milliseconds: `Z`, `±HH:MM`, `±HHMM`, or no offset
 * (read as Pacific, QBO's zone); a bare date is Pacific midnight. Undefined when not a datetime.
 */
export function parseQboDateTime(text: string): number | undefined {
  const m = DATETIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const fields = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
    millisecond: Number(frac.slice(0, 3).padEnd(3, '0')),
  };
  let zoneName = QBO_ZONE;
  if (zone) zoneName = zone.toUpperCase() === 'Z' ? 'UTC' : `UTC${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const t = DateTime.fromObject(fields, { zone: zoneName });
  return t.isValid ? t.toMillis() : undefined;
}

/** The instants in [fromSec, toSec) where the Pacific offset changes (DST switches), in seconds. */
export function pacificOffsetChanges(fromSec: number, toSec: number): number[] {
  const out: number[] = [];
  const offsetAt = (sec: number) => DateTime.fromSeconds(sec, { zone: QBO_ZONE }).offset;
  const hour = 3600;
  const day = 24 * hour;
  // Offsets change at most once a day and on the hour: look day by day, then hour by hour.
  for (let dayStart = fromSec - (fromSec % hour); dayStart < toSec; dayStart += day) {
    if (offsetAt(dayStart) === offsetAt(Math.min(dayStart + day, toSec))) continue;
    let prev = offsetAt(dayStart);
    for (let t = dayStart + hour; t <= dayStart + day && t < toSec; t += hour) {
      const cur = offsetAt(t);
      if (cur !== prev && t >= fromSec) out.push(t);
      prev = cur;
    }
  }
  return out;
}
