import { describe, expect, it } from 'vitest';
import { DateTime, Duration } from 'luxon';
import { nextWindow, streamProgress } from './streamProgress.js';

const utc = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
const start = utc('2025-01-01T00:00:00Z');
const end = utc('2025-01-11T00:00:00Z');

describe('streamProgress', () => {
  it('reads each stream bookmark as the committed point, clamped to the backfill range', () => {
    const state = {
      bookmarks: {
        invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2025-01-04T00:00:00Z' },
        items: { replication_key_value: '2025-03-01T00:00:00Z' },
        customers: { replication_key_value: '2024-06-01T00:00:00Z' },
      },
    };
    const rows = streamProgress(state, ['invoices', 'items', 'customers', 'payments'], start, end);
    expect(rows.map((r) => [r.stream, r.doneMs / 86_400_000, r.complete])).toEqual([
      ['invoices', 3, false],
      ['items', 10, true],
      ['customers', 0, false],
      ['payments', 0, false],
    ]);
    expect(rows[0]?.totalMs).toBe(10 * 86_400_000);
  });

  it('never holds a run back for a FULL_TABLE stream (company_info has no bookmark: each run reads it whole)', () => {
    expect(streamProgress(undefined, ['company_info', 'invoices'], start, end).map((r) => [r.stream, r.complete])).toEqual([
      ['company_info', true],
      ['invoices', false],
    ]);
  });

  it('counts no progress without a state', () => {
    expect(streamProgress(undefined, ['invoices'], start, end)[0]?.doneUntil.toISO()).toBe(start.toISO());
  });

  it('names the next window, cut at the end of the range', () => {
    const [row] = streamProgress({ bookmarks: { invoices: { replication_key_value: '2025-01-10T12:00:00Z' } } }, ['invoices'], start, end);
    const window = nextWindow(row!, Duration.fromISO('P1D'), end);
    expect([window.start.toISO(), window.end.toISO()]).toEqual(['2025-01-10T12:00:00.000Z', '2025-01-11T00:00:00.000Z']);
  });
});
