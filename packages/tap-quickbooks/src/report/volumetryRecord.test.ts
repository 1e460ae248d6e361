import { describe, expect, it } from 'vitest';
import { makeWindow } from '../plan/planWindows.js';
import { dayComplete, spanEvidence, spanLine, type SpanFacts } from './volumetryRecord.js';

const DAY = 86_400_000;
const T0 = Date.parse('2025-03-05T00:00:00Z');
const day = (d: number) => makeWindow(T0 + d * DAY, T0 + (d + 1) * DAY);
const cost = { pages: 3, requests: 5, retries: 1, rereads: 1, durationMs: 700 };
const facts = (window: ReturnType<typeof makeWindow>, days: number[], perDay: number[], count: number): SpanFacts => ({
  span: { window, days: days.map(day), count },
  qboCount: count,
  perDay,
  cost,
  extractedAt: '2025-03-10T00:00:00Z',
});

describe('spanEvidence', () => {
  it('a span over several days gives each day its records; its cost counts on the first day only, so sums are exact', () => {
    const [first, second] = spanEvidence(facts(makeWindow(T0, T0 + 2 * DAY), [0, 1], [4, 6], 10), undefined);
    expect(first).toMatchObject({ qboCount: 4, extracted: 4, ...cost, spanQboCount: 10, spans: 1 });
    expect(second).toMatchObject({ qboCount: 6, extracted: 6, pages: 0, requests: 0, retries: 0, rereads: 0, durationMs: 0, spanQboCount: 10 });
    expect(dayComplete(first!) && dayComplete(second!)).toBe(true);
  });

  it('the pieces of a crowded day add up, and the day is complete with its last piece', () => {
    const half = T0 + DAY / 2;
    const [morning] = spanEvidence(facts(makeWindow(T0, half), [0], [7], 7), undefined);
    expect(morning).toMatchObject({ qboCount: 7, extracted: 7, ...cost, spans: 1 });
    expect(dayComplete(morning!)).toBe(false);
    const [whole] = spanEvidence(facts(makeWindow(half, T0 + DAY), [0], [3], 3), morning);
    expect(whole).toMatchObject({ qboCount: 10, extracted: 10, pages: 6, requests: 10, retries: 2, rereads: 2, durationMs: 1400, spanQboCount: 10, spans: 2 });
    expect(whole!.span).toEqual(day(0));
    expect(dayComplete(whole!)).toBe(true);
  });
});

describe('spanLine', () => {
  it('says each count as key=value, an empty span too, so one request never reads "1 requests"', () => {
    const read = { window: makeWindow(T0, T0 + 2 * DAY), pages: 0, requests: 1, retries: 0, rereads: 0, durationMs: 110 };
    expect(spanLine('terms', { ...read, qboCount: 0, extracted: 0 })).toBe('terms [2025-03-05, 2025-03-07) 2 days: no data (qbo_count=0 requests=1 0.11 s)');
    expect(spanLine('terms', { ...read, qboCount: 1, extracted: 1, pages: 1, requests: 2 })).toBe(
      'terms [2025-03-05, 2025-03-07) 2 days: qbo_count=1 extracted=1 pages=1 requests=2 0.11 s',
    );
  });
});
