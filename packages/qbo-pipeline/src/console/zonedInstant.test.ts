import { describe, expect, it } from 'vitest';
import { UsageError } from 'singer-kit';
import { timeZones, zonedInstant } from './zonedInstant.js';

describe('zonedInstant', () => {
  it('reads a wall-clock time in a zone as the instant, side by side with UTC', () => {
    expect(zonedInstant('2025-09-11T22:45:54', 'America/Guayaquil')).toEqual({
      utc: '2025-09-12T03:45:54Z',
      given: '2025-09-11T22:45:54-05:00',
      zone: 'America/Guayaquil',
      wallClock: '2025-09-11 22:45:54',
      offset: '−05:00',
    });
    expect(zonedInstant('2025-09-12T03:45', 'UTC').utc).toBe('2025-09-12T03:45:00Z');
  });

  it('refuses a time the zone skips, and takes the earlier instant of a repeated hour', () => {
    expect(() => zonedInstant('2025-03-09T02:30', 'America/New_York')).toThrow(/does not exist in America\/New_York/);
    expect(zonedInstant('2025-11-02T01:30', 'America/New_York').utc).toBe('2025-11-02T05:30:00Z');
  });

  it('names the field and the problem for bad input', () => {
    expect(() => zonedInstant('', 'UTC')).toThrow(new UsageError('When: give a date and time, e.g. 2025-09-11T22:45'));
    expect(() => zonedInstant('2025-09-11T22:45', 'Mars/Olympus')).toThrow(/"Mars\/Olympus" is not a time zone/);
    expect(() => zonedInstant('2025-09-11 22:45Z', 'UTC')).toThrow(/is not a date and time like/);
    expect(() => zonedInstant('2025-02-30T10:00', 'UTC')).toThrow(new UsageError('When: "2025-02-30T10:00" is not a date and time: February 2025 has 28 days'));
  });

  it('offers UTC first, then every IANA zone', () => {
    const zones = timeZones();
    expect(zones[0]).toBe('UTC');
    expect(zones).toContain('America/Guayaquil');
    expect(new Set(zones).size).toBe(zones.length);
  });
});
