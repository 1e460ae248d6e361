import { describe, expect, it } from 'vitest';
import { DEMO_DAYS, demoRange } from './runDemo.js';

const DAY_MS = 86_400_000;
const iso = (range: ReturnType<typeof demoRange>) => [range.start, range.end, range.companyNow].map((t) => t.toUTC().toISO({ suppressMilliseconds: true }));

describe("the demo's range", () => {
  it('starts at a midnight and ends end_lag before now, as a sync does: fresh right after the demo, its company within it', () => {
    const range = demoRange(new Date('2026-12-07T09:12:34.567Z'));
    expect(range.endLag.toISO()).toBe('PT5M');
    expect(iso(range)).toEqual(['2026-11-07T00:00:00Z', '2026-12-07T09:07:34Z', '2026-12-07T09:00:00Z']);
    // 30 whole UTC days and today's part: 31 windows of one UTC day.
    expect(Math.ceil(range.end.toMillis() / DAY_MS) - range.start.toMillis() / DAY_MS).toBe(DEMO_DAYS + 1);
  });

  it('in the first minutes of a day, ends the day before, its company too', () => {
    expect(iso(demoRange(new Date('2026-12-07T00:02:00Z')))).toEqual(['2026-11-06T00:00:00Z', '2026-12-06T23:57:00Z', '2026-12-06T23:00:00Z']);
  });
});
