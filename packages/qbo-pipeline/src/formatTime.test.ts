import { describe, expect, it } from 'vitest';
import { age, inZone, relative, utc, utcClock } from './formatTime.js';

describe('formatTime', () => {
  it('reads an instant in UTC, its clock alone, and on a zone’s wall clock with the offset then', () => {
    expect(utc('2025-02-01T06:00:00Z')).toBe('2025-02-01 06:00:00Z');
    expect(utc('2025-01-31T23:00:00-05:00')).toBe('2025-02-01 04:00:00Z');
    expect(utc(undefined)).toBe('–');
    expect(utcClock(Date.parse('2025-02-01T06:07:08Z'))).toBe('06:07:08Z');
    expect(inZone('2025-02-01T01:00:00Z', 'America/New_York')).toBe('2025-01-31 20:00:00 (UTC−05:00)');
    expect(inZone('2025-07-01T01:00:00Z', 'America/New_York')).toBe('2025-06-30 21:00:00 (UTC−04:00)');
  });

  it('says how long ago or until, in days from two days on', () => {
    const now = new Date('2025-02-10T00:00:00Z');
    expect(relative('2025-02-09T21:48:00Z', now)).toBe('2 h 12 min ago');
    expect(relative('2025-02-13T00:00:00Z', now)).toBe('in 3 days');
    expect(relative('not a time', now)).toBe('–');
    expect(age(45_000)).toBe('45 s');
    expect(age(2 * 86_400_000)).toBe('2 days');
  });
});
