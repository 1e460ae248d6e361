import { describe, expect, it } from 'vitest';
import { DateTime, Duration, Settings } from 'luxon';
import { bookmarkInstant, defaultRangeEnd, planWindows, resolveStart, splitWindow, makeWindow, windowHolding } from './planWindows.js';

const ms = (iso: string) => Date.parse(iso);

describe('planWindows', () => {
  it('cuts a range into half-open UTC days, partial at both ends', () => {
    const windows = planWindows(ms('2025-03-08T12:00:00Z'), ms('2025-03-10T06:00:00Z'), Duration.fromISO('P1D'));
    expect(windows.map((w) => [w.start, w.end])).toEqual([
      ['2025-03-08T12:00:00Z', '2025-03-09T00:00:00Z'],
      ['2025-03-09T00:00:00Z', '2025-03-10T00:00:00Z'],
      ['2025-03-10T00:00:00Z', '2025-03-10T06:00:00Z'],
    ]);
  });

  it('is unaffected by US daylight saving (UTC days are 24 h)', () => {
    const windows = planWindows(ms('2025-03-08T00:00:00Z'), ms('2025-03-11T00:00:00Z'), Duration.fromISO('P1D'));
    expect(windows.every((w) => w.endMs - w.startMs === 86_400_000)).toBe(true);
    expect(windows).toHaveLength(3);
  });

  it('windowHolding finds the very window planWindows plans around an instant, partial ends and other steps included', () => {
    const cases: Array<[string, string, string]> = [
      ['2025-03-08T12:00:00Z', '2025-03-10T06:00:00Z', 'P1D'],
      ['2025-01-01T01:30:00Z', '2025-01-03T13:00:00Z', 'PT6H'],
      ['2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z', 'P1W'],
    ];
    for (const [from, to, step] of cases) {
      const duration = Duration.fromISO(step);
      for (const window of planWindows(ms(from), ms(to), duration))
        for (const at of [window.startMs, Math.floor((window.startMs + window.endMs) / 2), window.endMs - 1])
          expect(windowHolding(at, ms(from), ms(to), duration), `${step} ${new Date(at).toISOString()}`).toEqual(window);
    }
  });

  it('honours other steps and returns nothing for an empty range', () => {
    expect(planWindows(ms('2025-01-01T00:00:00Z'), ms('2025-01-01T13:00:00Z'), Duration.fromISO('PT6H')).map((w) => w.end)).toEqual([
      '2025-01-01T06:00:00Z',
      '2025-01-01T12:00:00Z',
      '2025-01-01T13:00:00Z',
    ]);
    expect(planWindows(ms('2025-01-01T00:00:00Z'), ms('2025-01-01T00:00:00Z'), Duration.fromISO('P1D'))).toEqual([]);
  });

  it('splits a window into parts on whole seconds, fewer when it is short, and refuses a one-second window', () => {
    const [a, b] = splitWindow(makeWindow(ms('2025-01-01T00:00:00Z'), ms('2025-01-02T00:00:00Z')))!;
    expect([a!.start, a!.end, b!.start, b!.end]).toEqual(['2025-01-01T00:00:00Z', '2025-01-01T12:00:00Z', '2025-01-01T12:00:00Z', '2025-01-02T00:00:00Z']);
    expect(splitWindow(makeWindow(ms('2025-01-01T00:00:00Z'), ms('2025-01-02T00:00:00Z')), 3)!.map((w) => w.end)).toEqual([
      '2025-01-01T08:00:00Z',
      '2025-01-01T16:00:00Z',
      '2025-01-02T00:00:00Z',
    ]);
    expect(splitWindow(makeWindow(ms('2025-01-01T00:00:00Z'), ms('2025-01-01T00:00:03Z')), 10)!.map((w) => w.start)).toEqual([
      '2025-01-01T00:00:00Z',
      '2025-01-01T00:00:01Z',
      '2025-01-01T00:00:02Z',
    ]);
    expect(splitWindow(makeWindow(ms('2025-01-01T00:00:00Z'), ms('2025-01-01T00:00:01Z')))).toBeUndefined();
  });
});

describe('resolveStart', () => {
  const start = DateTime.fromISO('2025-01-01T00:00:00Z', { zone: 'utc' });
  const resume = (bookmark: string | undefined) => resolveStart(start, bookmark === undefined ? undefined : bookmarkInstant(bookmark));
  it('takes the later of start_date and the bookmark, comparing instants', () => {
    expect(resume(undefined)).toBe(ms('2025-01-01T00:00:00Z'));
    expect(resume('2025-01-05T00:00:00Z')).toBe(ms('2025-01-05T00:00:00Z'));
    expect(resume('2024-12-31T20:00:00-08:00')).toBe(ms('2025-01-01T04:00:00Z'));
    expect(resume('2024-06-01T00:00:00Z')).toBe(ms('2025-01-01T00:00:00Z'));
  });
  it('reads a bookmark without an offset as UTC whatever the zone of the machine, and from the start of its second', () => {
    const machineZone = Settings.defaultZone;
    Settings.defaultZone = 'America/Los_Angeles';
    try {
      expect(resume('2025-01-05T00:00:00')).toBe(ms('2025-01-05T00:00:00Z'));
      expect(resume('2025-01-05')).toBe(ms('2025-01-05T00:00:00Z'));
    } finally {
      Settings.defaultZone = machineZone;
    }
    expect(resume('2025-01-05T10:20:30.999Z')).toBe(ms('2025-01-05T10:20:30Z'));
    expect(resume('2025-01-05T02:20:30.5-08:00')).toBe(ms('2025-01-05T10:20:30Z'));
  });
  it('finds no instant in a bookmark that is not ISO 8601', () => {
    expect(bookmarkInstant('2025-01-05 00:00:00Z')).toBeUndefined();
    expect(bookmarkInstant('yesterday')).toBeUndefined();
  });
});

describe('defaultRangeEnd', () => {
  it('is the run start, cut to its second, minus end_lag, in UTC', () => {
    const runStart = DateTime.fromISO('2025-02-01T04:34:56.789-08:00', { setZone: true });
    expect(defaultRangeEnd(runStart, Duration.fromISO('PT5M')).toISO()).toBe('2025-02-01T12:29:56.000Z');
    expect(defaultRangeEnd(runStart, Duration.fromISO('PT0S')).toISO()).toBe('2025-02-01T12:34:56.000Z');
    expect(defaultRangeEnd(runStart, Duration.fromISO('P1D')).toISO()).toBe('2025-01-31T12:34:56.000Z');
  });
});
