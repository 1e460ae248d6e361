import { DateTime, IANAZone } from 'luxon';
import { calendarProblem, UsageError } from 'singer-kit';

/** Every IANA zone the runtime knows, UTC first: the zone choices of the trigger form. */
export function timeZones(): string[] {
  return ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
}

export interface ZonedInstant {
  /** `2025-09-12T03:45:54Z` */
  readonly utc: string;
  /** The wall-clock time with the zone's offset then: `2025-09-11T22:45:54-05:00` (what a trigger records as given). */
  readonly given: string;
  readonly zone: string;
  /** `2025-09-11 22:45:54` */
  readonly wallClock: string;
  /** `−05:00` */
  readonly offset: string;
}

/**
 * Pure: a wall-clock date-time (`2025-09-11T22:45` or with seconds, as a datetime-local field
 * sends it) in an IANA zone, as an instant. A time the zone skips (clocks jump forward) is an
 * error rather than silently moved; in the hour a zone repeats, the earlier instant is taken and
 * the offset shown says so.
 */
export function zonedInstant(wallClock: string, zone: string, what = 'When'): ZonedInstant {
  const text = wallClock.trim();
  if (text === '') throw new UsageError(`${what}: give a date and time, e.g. 2025-09-11T22:45`);
  if (!IANAZone.isValidZone(zone)) throw new UsageError(`${what}: ${JSON.stringify(zone)} is not a time zone; pick one from the list, e.g. America/Guayaquil`);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(text)) {
    throw new UsageError(`${what}: ${JSON.stringify(wallClock)} is not a date and time like 2025-09-11T22:45 (the zone is chosen beside it)`);
  }
  const parsed = DateTime.fromISO(text, { zone });
  if (!parsed.isValid) throw new UsageError(`${what}: ${JSON.stringify(wallClock)} is not a date and time: ${calendarProblem(text) ?? 'out of range'}`);
  // In a repeated hour both offsets are possible: take the earlier instant.
  const at = parsed.getPossibleOffsets().reduce((a, b) => (b < a ? b : a), parsed);
  const typed = text.length === 16 ? `${text}:00` : text.slice(0, 19);
  if (at.toFormat("yyyy-LL-dd'T'HH:mm:ss") !== typed) {
    throw new UsageError(`${what}: ${typed.replace('T', ' ')} does not exist in ${zone} (its clocks jump forward then); pick a time outside the gap`);
  }
  const utc = at.toUTC();
  return {
    utc: utc.toISO({ suppressMilliseconds: true }) ?? '',
    given: at.toISO({ suppressMilliseconds: true, includeOffset: true }) ?? '',
    zone,
    wallClock: at.toFormat('yyyy-LL-dd HH:mm:ss'),
    offset: at.toFormat('ZZ').replace('-', '−'),
  };
}
