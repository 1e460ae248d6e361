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
    // Luxon's reason helps for a date of the right shape (month 13), not for another notation.
    const why = parsed.isValid || !/^\d{4}-\d{2}-\d{2}/.test(trimmed) ? '' : ` (${parsed.invalidExplanation ?? parsed.invalidReason})`;
    throw new UsageError(`${what}: ${JSON.stringify(text)} is not an ISO 8601 date${why}; ${FORMS}`);
  }
  return parsed.toUTC();
}

/** `2025-01-01T00:00:00Z`: the one text form instants take in files, configs and messages. */
export function formatInstant(instant: DateTime): string {
  return instant.toUTC().toISO({ suppressMilliseconds: true }) ?? '';
}
