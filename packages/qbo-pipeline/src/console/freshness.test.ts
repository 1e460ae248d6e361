import { describe, expect, it } from 'vitest';
import { CDC_LOOKBACK_MS } from 'tap-quickbooks';
import { CDC_WARN_AFTER_MS, cdcWindows, cdcWindowText, endLagOf, endLagText, readsDeletionsOf, STALE_AFTER_MS, streamFreshness } from './freshness.js';

const now = new Date('2025-02-01T06:00:00Z');
const job = (name: string, bookmarks: Record<string, string>) => ({
  job: name,
  file: `${name}.json`,
  state: { bookmarks: Object.fromEntries(Object.entries(bookmarks).map(([s, v]) => [s, { replication_key_value: v }])) },
  problem: undefined,
});

describe('streamFreshness', () => {
  it('takes each stream’s newest bookmark over all jobs, with its age and job', () => {
    const result = streamFreshness(
      [job('backfill_2024', { invoices: '2025-01-01T00:00:00Z', items: '2025-01-01T00:00:00Z' }), job('daily', { invoices: '2025-02-01T00:00:00+00:00' })],
      now,
      0,
    );
    expect(result).toEqual([
      { stream: 'invoices', bookmark: '2025-02-01T00:00:00Z', job: 'daily', ageMs: 6 * 3_600_000, stale: false },
      { stream: 'items', bookmark: '2025-01-01T00:00:00Z', job: 'backfill_2024', ageMs: 31 * 86_400_000 + 6 * 3_600_000, stale: true },
    ]);
  });

  it('is stale only past the threshold, and skips jobs without a usable state', () => {
    const edge = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
    expect(streamFreshness([job('a', { customers: edge })], now, 0)[0]?.stale).toBe(false);
    expect(streamFreshness([{ job: 'broken', file: 'broken.json', state: undefined, problem: 'not JSON' }, job('b', { x: 'not a date' })], now, 0)).toEqual([]);
  });
});

describe('streamFreshness and end_lag', () => {
  it('counts the company’s end_lag as on time: stale only past the threshold beyond it', () => {
    const HOUR = 3_600_000;
    const at = (ageMs: number) => streamFreshness([job('a', { invoices: new Date(now.getTime() - ageMs).toISOString() })], now, HOUR)[0];
    expect(at(STALE_AFTER_MS + HOUR)).toMatchObject({ ageMs: STALE_AFTER_MS + HOUR, stale: false });
    expect(at(STALE_AFTER_MS + HOUR + 1000)?.stale).toBe(true);
  });
});

describe('endLagOf', () => {
  const company = (tap: Record<string, string> = {}) => ({ tap });

  it('takes the companies file’s end_lag first, else the newest run’s recorded one, else the tap’s default PT5M', () => {
    const runs = [{}, { endLag: 'PT30M' }, { endLag: 'PT2H' }];
    expect(endLagOf(company({ end_lag: 'PT1H' }), runs)).toEqual({ iso: 'PT1H', ms: 3_600_000 });
    expect(endLagOf(company(), runs)).toEqual({ iso: 'PT30M', ms: 1_800_000 });
    expect(endLagOf(undefined, [])).toEqual({ iso: 'PT5M', ms: 300_000 });
  });

  it('says it in words', () => {
    expect(endLagText({ iso: 'PT5M', ms: 300_000 })).toBe('runs read up to 5 minutes before they start (end_lag PT5M)');
    expect(endLagText({ iso: 'PT1H30M', ms: 5_400_000 })).toBe('runs read up to 1 hour, 30 minutes before they start (end_lag PT1H30M)');
    expect(endLagText({ iso: 'PT0S', ms: 0 })).toBe('runs read up to the moment they start (end_lag PT0S)');
  });
});

describe('cdcWindows', () => {
  const at = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const windows = (bookmarks: Record<string, string>) => cdcWindows(streamFreshness([job('daily', bookmarks)], now, 0), () => true);

  it('names nothing while every bookmark is younger than the threshold, and only streams CDC covers', () => {
    expect(windows({ invoices: at(CDC_WARN_AFTER_MS), customers: at(3_600_000) })).toEqual([]);
    // tax_codes and company_info are not in CDC: their deletions never come from it, old or not.
    expect(windows({ tax_codes: at(40 * 86_400_000), company_info: at(40 * 86_400_000), nowhere: at(40 * 86_400_000) })).toEqual([]);
  });

  it('tells the days left until the tap’s own cut-off, from the oldest bookmark of the streams past the threshold', () => {
    const result = windows({
      invoices: '2025-01-10T00:00:00Z',
      bills: '2025-01-08T00:00:00Z',
      customers: '2025-01-31T00:00:00Z',
      tax_codes: '2025-01-01T00:00:00Z',
    });
    expect(result).toEqual([
      {
        closed: false,
        streams: ['bills', 'invoices'],
        since: '2025-01-08T00:00:00Z',
        until: '2025-02-06T23:50:00.000Z',
        leftMs: 5 * 86_400_000 + 17 * 3_600_000 + 50 * 60_000,
      },
    ]);
    expect(result.map(cdcWindowText)).toEqual([
      "bills, invoices: deletions since 2025-01-08 00:00:00Z can be read from QBO's change data capture for 5 more days (until 2025-02-06 23:50:00Z); after that a reconcile is needed: sync before then",
    ]);
  });

  it('is still open exactly at the cut-off (the tap reads CDC then), and closed a millisecond after, when the next sync advises a reconcile', () => {
    expect(windows({ invoices: at(CDC_LOOKBACK_MS) })).toMatchObject([{ closed: false, streams: ['invoices'], leftMs: 0 }]);
    expect(cdcWindowText(windows({ invoices: at(CDC_LOOKBACK_MS) })[0]!)).toContain('for less than a day more (until 2025-02-01 06:00:00Z)');
    expect(cdcWindowText(windows({ invoices: at(CDC_LOOKBACK_MS - 86_400_000) })[0]!)).toContain('for 1 more day (');
    const past = windows({ invoices: at(CDC_LOOKBACK_MS + 1), items: '2024-12-01T00:00:00Z', bills: at(25 * 86_400_000) });
    expect(past.map((w) => [w.closed, w.streams])).toEqual([
      [false, ['bills']],
      [true, ['invoices', 'items']],
    ]);
    expect(cdcWindowText(past[1]!)).toBe(
      "invoices, items: deletions since 2024-12-01 00:00:00Z are older than QBO's 30-day change data capture (it reached them until 2024-12-30 23:50:00Z): the next sync will advise a reconcile to mark the rows QBO no longer has",
    );
  });

  it('names no stream of a job whose runs do not read deletions (include_deleted false): its sync would read none', () => {
    const old = '2025-01-08T00:00:00Z';
    const freshness = streamFreshness([job('daily', { invoices: old }), job('weekly', { bills: old })], now, 0);
    expect(cdcWindows(freshness, (j) => j !== 'daily').map((w) => w.streams)).toEqual([['bills']]);
  });
});

describe('readsDeletionsOf', () => {
  const runs = [
    { job: 'daily' }, // the newest run of daily: refused before its settings were checked, so it says nothing
    { job: 'daily', readsDeletions: false },
    { job: 'daily', readsDeletions: true },
    { job: 'weekly', readsDeletions: true },
  ];

  it("takes the company's own include_deleted from the companies file first, which wins in each of its runs", () => {
    expect(readsDeletionsOf({ include_deleted: false }, runs)('weekly')).toBe(false);
    expect(readsDeletionsOf({ include_deleted: true }, runs)('daily')).toBe(true);
  });

  it("else the newest run of the job that recorded it, else the tap's default (on)", () => {
    const of = readsDeletionsOf({ base_url: 'x' }, runs);
    expect([of('daily'), of('weekly'), of('never-ran')]).toEqual([false, true, true]);
    expect(readsDeletionsOf(undefined, [])('daily')).toBe(true);
  });
});
