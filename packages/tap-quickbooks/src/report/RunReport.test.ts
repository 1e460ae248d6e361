import { describe, expect, it } from 'vitest';
import { createLogger } from 'singer-kit';
import { RunReport } from './RunReport.js';
import type { ReadDone } from './volumetryRecord.js';

const DAY = 86_400_000;
const day = (n: number) => Date.parse('2025-03-01T00:00:00Z') + n * DAY;
const read = (from: number, to: number, extracted: number): ReadDone => ({
  window: { start: new Date(from).toISOString(), end: new Date(to).toISOString(), startMs: from, endMs: to },
  qboCount: extracted,
  extracted,
  pages: 1,
  requests: 2,
  retries: 0,
  rereads: 0,
  durationMs: 5,
});

function summaryOf(reads: ReadonlyArray<readonly [string, ReadDone, readonly number[]]>): string[] {
  const lines: string[] = [];
  let now = 0;
  const report = new RunReport({
    logger: createLogger('tap-quickbooks', { sink: (l) => lines.push(l) }),
    requestsLastMinute: () => 0,
    now: () => (now += 1000),
  });
  for (const [stream, r, days] of reads) report.spanDone(stream, r, days, 0);
  lines.length = 0;
  report.summary();
  return lines;
}

describe('RunReport summary', () => {
  it('says 1 day, not 1 days', () => {
    const lines = summaryOf([['invoices', read(day(0), day(1), 3), [day(1)]]]);
    expect(lines[0]).toMatch(/summary invoices: 3 records in 1 day \(0 empty\) read as 1 span, /);
    expect(lines[1]).toMatch(/summary: 3 records, 1 day, 2 requests in /);
  });

  it('says 1 record and 1 page, not 1 records and 1 pages (a sync minutes after the last reads one)', () => {
    const lines = summaryOf([['invoices', read(day(0), day(1), 1), [day(1)]]]);
    expect(lines[0]).toMatch(/summary invoices: 1 record in 1 day \(0 empty\) read as 1 span, 1 page, 2 requests$/);
    expect(lines[1]).toMatch(/summary: 1 record, 1 day, 2 requests in /);
  });

  it('counts the days a sync of three streams read once, with the sum over streams beside them', () => {
    const lines = summaryOf([
      // Each from its own bookmark, all up to the same end: the days end together.
      ['customers', read(day(0) + 3_000, day(0) + 9_000, 1), [day(0) + 9_000]],
      ['invoices', read(day(0) + 5_000, day(0) + 9_000, 3), [day(0) + 9_000]],
      ['items', read(day(0) + 4_000, day(0) + 9_000, 0), [day(0) + 9_000]],
    ]);
    expect(lines.at(-1)).toMatch(/summary: 4 records, 1 day \(3 stream-days\), 6 requests in /);
  });

  it('a sync over parts of three UTC days reads 3 days', () => {
    const lines = summaryOf([['invoices', read(day(0) + DAY / 2, day(2) + 5_000, 3), [day(1), day(2), day(2) + 5_000]]]);
    expect(lines.at(-1)).toMatch(/summary: 3 records, 3 days, 2 requests in /);
  });
});
