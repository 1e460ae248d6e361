import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { formatPacific, formatPacificMillis, pacificOffsetChanges, parseQboDateTime } from './pacificTime.js';

const sec = (iso: string) => Date.parse(iso) / 1000;

describe('Pacific time', () => {
  it('formats with the offset of the instant, on both sides of a DST switch', () => {
    expect(formatPacific(sec('2025-03-09T09:59:59Z'))).toBe('2025-03-09T01:59:59-08:00');
    expect(formatPacific(sec('2025-03-09T10:00:00Z'))).toBe('2025-03-09T03:00:00-07:00');
    expect(formatPacific(sec('2025-11-02T08:59:59Z'))).toBe('2025-11-02T01:59:59-07:00');
    expect(formatPacific(sec('2025-11-02T09:00:00Z'))).toBe('2025-11-02T01:00:00-08:00');
    expect(formatPacificMillis(Date.parse('2023-02-18T21:20:00.5Z'))).toBe('2023-02-18T13:20:00.500-08:00');
  });

  it('parses every literal form QBO accepts into the same instant', () => {
    const t = Date.parse('2011-08-10T17:20:30Z');
    for (const text of ['2011-08-10T17:20:30Z', '2011-08-10T10:20:30-07:00', '2011-08-10T10:20:30-0700', '2011-08-10T10:20:30', '2011-08-10T19:20:30+02:00']) {
      expect(parseQboDateTime(text)).toBe(t);
    }
    expect(parseQboDateTime('2025-01-01')).toBe(Date.parse('2025-01-01T08:00:00Z'));
    expect(parseQboDateTime('yesterday')).toBeUndefined();
    expect(parseQboDateTime('2025-02-30T00:00:00Z')).toBeUndefined();
  });

  it('finds the DST switches of a range', () => {
    expect(pacificOffsetChanges(sec('2025-01-01T00:00:00Z'), sec('2026-01-01T00:00:00Z'))).toEqual([sec('2025-03-09T10:00:00Z'), sec('2025-11-02T09:00:00Z')]);
  });
});

describe('pacificOffsetMinutes', () => {
  it('agrees with the time-zone database every hour of two years, across both switches', () => {
    const bad: number[] = [];
    for (let t = sec('2024-01-01T00:00:00Z'); t < sec('2026-01-01T00:00:00Z'); t += 3600) {
      const expected = DateTime.fromSeconds(t, { zone: 'America/Los_Angeles' }).toFormat("yyyy-MM-dd'T'HH:mm:ssZZ");
      if (formatPacific(t) !== expected) bad.push(t);
    }
    expect(bad).toEqual([]);
  });
});
