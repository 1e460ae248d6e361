import { DateTime } from 'luxon';
import { UsageError } from './errors.js';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const HAS_ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d/i;
const FORMS = 'write 2025-01-31 (midnight UTC), 2025-01-31T00:00:00Z, or an offset such as 2025-01-31T00:00:00-05:00';

/**
 * An ISO 8601 instant given by a person, as UTC. A date alone means midnight UTC; a date-time
 * must say `Z` or an offset (`2025-09-11T22:45:54-05:00`), because a wall-clock time without
 * one would silently depend on the machine's time zone.
 */
export function parseInstant(text: string, what: string): DateTime<true> {
  const trimmed = text.trim();
  if (!DATE_ONLY.test(trimmed) && !HAS_ZONE.test(trimmed) && DATE_TIME.test(trimmed)) {
    throw new UsageError(`${what}: ${JSON.stringify(text)} has no time zone; end it with Z (UTC) or an offset such as -05:00`);
  }
  const parsed = DateTime.fromISO(trimmed, { zone: 'utc', setZone: false });
  if (!parsed.isValid || (!DATE_ONLY.test(trimmed) && !HAS_ZONE.test(trimmed))) {
    // A date of the right shape with a field out of range (month 13) needs that field named, not the forms.
    const problem = parsed.isValid ? undefined : calendarProblem(trimmed);
    if (problem !== undefined) throw new UsageError(`${what}: ${JSON.stringify(text)} is not a date: ${problem}`);
    throw new UsageError(`${what}: ${JSON.stringify(text)} is not an ISO 8601 date; ${FORMS}`);
  }
  // luxon takes any two-digit offset (+25:00 would be read as a day and an hour off).
  const offset = offsetProblem(trimmed);
  if (offset !== undefined) throw new UsageError(`${what}: ${JSON.stringify(text)} is not a date: ${offset}`);
  return parsed.toUTC();
}

const OFFSET = /[T ]\d{2}(?::?\d{2}){0,2}(?:[.,]\d+)?(([+-])(\d{2}):?(\d{2})?)$/i;
/** The UTC offsets places use, in minutes: from -12:00 (Baker Island) to +14:00 (Kiribati). */
const OFFSET_MINUTES = { min: -12 * 60, max: 14 * 60 };

/** Pure: why the UTC offset ending a date-time cannot be one (`+25:00`, `+05:60`); undefined when it can or there is none. */
function offsetProblem(text: string): string | undefined {
  const offset = OFFSET.exec(text);
  if (offset === null) return undefined;
  const [, written, sign, hours, minutes = '00'] = offset;
  const total = (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
  if (Number(minutes) <= 59 && total >= OFFSET_MINUTES.min && total <= OFFSET_MINUTES.max) return undefined;
  return `${written} is not a UTC offset (they run from -12:00 to +14:00)`;
}

const FIELDS = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?/i;

/**
 * Pure: which field of an ISO-shaped date or date-time (`2025-13-01`, `2025-02-30T10:00`) is out of
 * range, in words (`there is no month 13`, `February 2025 has 28 days`); undefined when none is.
 */
export function calendarProblem(text: string): string | undefined {
  const fields = FIELDS.exec(text.trim());
  if (fields === null) return undefined;
  const [whole, year, month, day, hour = '0', minute = '0', second = '0'] = fields;
  const monthStart = DateTime.utc(Number(year), Number(month));
  if (!monthStart.isValid) return `there is no month ${month}`;
  if (Number(day) < 1 || Number(day) > monthStart.daysInMonth) return `${monthStart.toFormat('LLLL yyyy')} has ${monthStart.daysInMonth} days`;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return `${whole.slice(11)} is not a time of day`;
  return undefined;
}

/** `2025-01-01T00:00:00Z`: the one text form instants take in files, configs and messages. */
export function formatInstant(instant: DateTime): string {
  return instant.toUTC().toISO({ suppressMilliseconds: true }) ?? '';
}
