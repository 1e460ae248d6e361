import { describe, expect, it } from 'vitest';
import { Duration } from 'luxon';
import { planSpans, type Span } from './planSpans.js';
import { planWindows, type Window } from './planWindows.js';

const ms = (iso: string) => Date.parse(iso);
const DAY = Duration.fromISO('P1D');

/** A fake QBO: rows at the given instants; counts the COUNT(*) calls. */
function company(instants: readonly number[]) {
  const asked: Window[] = [];
  const count = async (w: Window) => {
    asked.push(w);
    return instants.filter((t) => t >= w.startMs && t < w.endMs).length;
  };
  return { count, asked };
}

async function collect(spans: AsyncIterable<Span>): Promise<Span[]> {
  const out: Span[] = [];
  for await (const span of spans) out.push(span);
  return out;
}

/** Every day of `days` in exactly one span, in order; a day is cut only into consecutive pieces. */
function expectTiling(spans: readonly Span[], days: readonly Window[]) {
  expect(spans[0]!.window.startMs).toBe(days[0]!.startMs);
  expect(spans.at(-1)!.window.endMs).toBe(days.at(-1)!.endMs);
  for (let i = 1; i < spans.length; i++) expect(spans[i]!.window.startMs).toBe(spans[i - 1]!.window.endMs);
  for (const span of spans) {
    expect(span.days[0]!.startMs).toBeLessThanOrEqual(span.window.startMs);
    expect(span.days.at(-1)!.endMs).toBeGreaterThanOrEqual(span.window.endMs);
    if (span.days.length > 1) expect([span.days[0]!.startMs, span.days.at(-1)!.endMs]).toEqual([span.window.startMs, span.window.endMs]);
  }
}

describe('planSpans', () => {
  const days = planWindows(ms('2022-03-20T00:00:00Z'), ms('2025-03-20T12:00:00Z'), DAY);

  it('reads an empty range with one COUNT, whatever its length', async () => {
    const qbo = company([]);
    const spans = await collect(planSpans(days, { maxRows: 100, count: qbo.count }));
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ count: 0, days });
    expect(qbo.asked).toHaveLength(1);
  });

  it('reads a range with few rows as one span, its days all there', async () => {
    const qbo = company([ms('2023-01-01T10:00:00Z'), ms('2025-03-20T11:59:59Z')]);
    const spans = await collect(planSpans(days, { maxRows: 100, count: qbo.count }));
    expect(spans.map((s) => [s.window.start, s.window.end, s.count, s.days.length])).toEqual([
      ['2022-03-20T00:00:00Z', '2025-03-20T12:00:00Z', 2, days.length],
    ]);
  });

  it('cuts only where the rows are: empty halves cost one COUNT each, every span holds at most maxRows', async () => {
    // 600 rows in the last 60 days of a 3-year range.
    const from = ms('2025-01-19T12:00:00Z');
    const rows = Array.from({ length: 600 }, (_, i) => from + Math.floor((i * 60 * 86_400_000) / 600));
    const qbo = company(rows);
    const spans = await collect(planSpans(days, { maxRows: 200, count: qbo.count }));
    expectTiling(spans, days);
    expect(spans.every((s) => s.count <= 200)).toBe(true);
    expect(spans.reduce((sum, s) => sum + s.count, 0)).toBe(600);
    // One COUNT per span, plus one per span that was cut, each cut into a few parts.
    expect(qbo.asked.length).toBeLessThan(30);
    expect(spans.filter((s) => s.count > 0).length).toBeLessThanOrEqual(6);
  });

  it('cuts a range of evenly spread rows straight into parts that each fit: one COUNT per span, plus one', async () => {
    const year = planWindows(ms('2024-03-20T00:00:00Z'), ms('2025-03-20T00:00:00Z'), DAY);
    const rows = Array.from({ length: 12_000 }, (_, i) => year[0]!.startMs + Math.floor((i * 365 * 86_400_000) / 12_000));
    const qbo = company(rows);
    const spans = await collect(planSpans(year, { maxRows: 1000, count: qbo.count }));
    expectTiling(spans, year);
    expect(spans).toHaveLength(18);
    expect(spans.every((s) => s.count > 500 && s.count <= 1000)).toBe(true);
    expect(qbo.asked).toHaveLength(spans.length + 1);
  });

  it('cuts a crowded day into pieces of that day on whole seconds, in order', async () => {
    const day = ms('2025-03-09T00:00:00Z');
    const rows = Array.from({ length: 50 }, (_, i) => day + i * 1_000_000);
    const oneDay = planWindows(day, day + 86_400_000, DAY);
    const cuts: Array<[string, number, boolean]> = [];
    const spans = await collect(planSpans(oneDay, { maxRows: 20, count: company(rows).count, onCut: (w, n, crowded) => cuts.push([w.start, n, crowded]) }));
    expectTiling(spans, oneDay);
    expect(spans.length).toBeGreaterThan(2);
    for (const span of spans) {
      expect(span.days).toEqual(oneDay);
      expect(span.count).toBeLessThanOrEqual(20);
      expect(span.window.startMs % 1000).toBe(0);
    }
    expect(cuts[0]).toEqual(['2025-03-09T00:00:00Z', 50, true]);
  });

  it('reads a second that alone holds more than maxRows whole rather than splitting it forever', async () => {
    const at = ms('2025-03-09T10:00:00Z');
    const oneDay = planWindows(ms('2025-03-09T00:00:00Z'), ms('2025-03-10T00:00:00Z'), DAY);
    const spans = await collect(planSpans(oneDay, { maxRows: 5, count: company(Array.from({ length: 9 }, () => at)).count }));
    expectTiling(spans, oneDay);
    expect(spans.find((s) => s.count === 9)!.window).toMatchObject({ start: '2025-03-09T10:00:00Z', end: '2025-03-09T10:00:01Z' });
  });

  it('plans nothing for an empty range', async () => {
    const qbo = company([]);
    expect(await collect(planSpans([], { maxRows: 10, count: qbo.count }))).toEqual([]);
    expect(qbo.asked).toEqual([]);
  });
});
