import { describe, expect, it } from 'vitest';
import { STALE_AFTER_MS, streamFreshness } from './freshness.js';

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
    );
    expect(result).toEqual([
      { stream: 'invoices', bookmark: '2025-02-01T00:00:00Z', job: 'daily', ageMs: 6 * 3_600_000, stale: false },
      { stream: 'items', bookmark: '2025-01-01T00:00:00Z', job: 'backfill_2024', ageMs: 31 * 86_400_000 + 6 * 3_600_000, stale: true },
    ]);
  });

  it('is stale only past the threshold, and skips jobs without a usable state', () => {
    const edge = new Date(now.getTime() - STALE_AFTER_MS).toISOString();
    expect(streamFreshness([job('a', { customers: edge })], now)[0]?.stale).toBe(false);
    expect(streamFreshness([{ job: 'broken', file: 'broken.json', state: undefined, problem: 'not JSON' }, job('b', { x: 'not a date' })], now)).toEqual([]);
  });
});
