import { DateTime } from 'luxon';
import { formatAge } from './formatTable.js';

// Instants and ages as a person reads them, in the CLI's lines and tables and on the console's pages alike.

/** The time of day in every UTC instant a person reads: `06:00:00Z`. */
const UTC_CLOCK = "HH:mm:ss'Z'";

/** `2025-02-01 06:00:00Z`: an instant as a person reads it in a table (UTC). */
export function utc(iso: string | undefined): string {
  if (iso === undefined) return '–';
  const at = DateTime.fromISO(iso, { zone: 'utc' });
  return at.isValid ? at.toFormat(`yyyy-LL-dd ${UTC_CLOCK}`) : iso;
}

/** `06:00:00Z`: an instant's time of day as `utc` reads it, where its UTC day is already said (an evidence row's). */
export function utcClock(ms: number): string {
  return DateTime.fromMillis(ms, { zone: 'utc' }).toFormat(UTC_CLOCK);
}

/** The same instant on a zone's wall clock, with its offset: `2025-01-31 20:00:00 (UTC−05:00)`. */
export function inZone(iso: string, zone: string): string {
  const at = DateTime.fromISO(iso, { zone: 'utc' }).setZone(zone);
  return at.isValid ? `${at.toFormat('yyyy-LL-dd HH:mm:ss')} (UTC${at.toFormat('ZZ').replace('-', '−')})` : '–';
}

/** `3 h 12 min ago` / `in 2 days`, or `–`. */
export function relative(iso: string | undefined, now: Date): string {
  if (iso === undefined) return '–';
  const ms = now.getTime() - Date.parse(iso);
  if (Number.isNaN(ms)) return '–';
  return ms >= 0 ? `${age(ms)} ago` : `in ${age(-ms)}`;
}

/** How old, in the largest unit that reads well: `45 s`, `1 min 54 s`, `5 h 2 min`, `3 days`. */
export function age(ms: number): string {
  if (ms >= 2 * 86_400_000) return `${Math.floor(ms / 86_400_000)} days`;
  return formatAge(ms);
}
