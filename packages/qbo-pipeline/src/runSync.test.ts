import { describe, expect, it } from 'vitest';
import { DateTime, Duration } from 'luxon';
import { parseTapSettings } from 'tap-quickbooks';
import { formatInstant, UsageError } from 'singer-kit';
import { resumeCommand } from './BackfillRequest.js';
import { planSync, resolveSync } from './runSync.js';

const state = (marks: Record<string, string>) => ({
  bookmarks: Object.fromEntries(Object.entries(marks).map(([s, v]) => [s, { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: v }])),
});
const now = new Date('2025-09-12T08:15:03.456Z');
const plan = (s: ReturnType<typeof state> | undefined, streams: string[], start?: string, endLag = 'PT0S') => {
  const r = planSync(s, resolveSync({ streams, ...(start ? { start } : {}) }, '/repo'), now, Duration.fromISO(endLag));
  return [formatInstant(r.start), formatInstant(r.end)];
};

describe('planSync (pure: the job state, --start, now, end_lag)', () => {
  it('goes from the bookmark up to now, to the second, minus end_lag', () => {
    expect(plan(state({ invoices: '2025-09-11T08:15:01Z' }), ['invoices'])).toEqual(['2025-09-11T08:15:01Z', '2025-09-12T08:15:03Z']);
    expect(plan(state({ invoices: '2025-09-11T08:15:01Z' }), ['invoices'], undefined, 'PT5M')).toEqual(['2025-09-11T08:15:01Z', '2025-09-12T08:10:03Z']);
    expect(plan(undefined, ['invoices'], '2025-01-01', 'PT5M')).toEqual(['2025-01-01T00:00:00Z', '2025-09-12T08:10:03Z']);
  });

  it('ends where the tap would end it by default: one computation (defaultRangeEnd) for both', () => {
    const required = { client_id: 'c', client_secret: 's', refresh_token: 'r', realm_id: '1', start_date: '2025-09-01' };
    for (const endLag of ['PT0S', 'PT5M', 'PT1H']) {
      const tapEnd = parseTapSettings({ ...required, end_lag: endLag }, DateTime.fromJSDate(now)).endDate;
      expect(plan(state({ invoices: '2025-09-11T00:00:00Z' }), ['invoices'], undefined, endLag)[1]).toBe(formatInstant(tapEnd));
    }
  });

  it('a bookmark at or after now minus end_lag (a sync run again within the lag) gives a one-second range ending there, which reads nothing and moves no bookmark back', () => {
    for (const bookmark of ['2025-09-12T08:10:03Z', '2025-09-12T08:12:00Z', '2025-09-12T08:15:03Z']) {
      expect(plan(state({ invoices: bookmark }), ['invoices'], undefined, 'PT5M'), bookmark).toEqual(['2025-09-12T08:10:02Z', '2025-09-12T08:10:03Z']);
    }
    // One stream behind the end, one past it: the range goes from the one behind; the tap starts the other at its own bookmark.
    expect(plan(state({ invoices: '2025-09-12T08:12:00Z', customers: '2025-09-12T06:00:00Z' }), ['invoices', 'customers'], undefined, 'PT5M')).toEqual([
      '2025-09-12T06:00:00Z',
      '2025-09-12T08:10:03Z',
    ]);
  });

  it('reads a bookmark as the tap does: from the start of its second, UTC without an offset', () => {
    expect(plan(state({ invoices: '2025-09-11T08:15:01.900Z' }), ['invoices'])).toEqual(['2025-09-11T08:15:01Z', '2025-09-12T08:15:03Z']);
    expect(plan(state({ invoices: '2025-09-11T08:15:01' }), ['invoices'])).toEqual(['2025-09-11T08:15:01Z', '2025-09-12T08:15:03Z']);
  });

  it('starts the range at the earliest bookmark: each stream goes on from its own (the tap takes the later of the two)', () => {
    expect(plan(state({ invoices: '2025-09-11T00:00:00Z', customers: '2025-09-10T00:00:00Z' }), ['invoices', 'customers'])).toEqual([
      '2025-09-10T00:00:00Z',
      '2025-09-12T08:15:03Z',
    ]);
  });

  it('uses --start only for a stream with no bookmark yet', () => {
    expect(plan(undefined, ['invoices'], '2025-01-01')).toEqual(['2025-01-01T00:00:00Z', '2025-09-12T08:15:03Z']);
    expect(plan(state({ invoices: '2025-09-11T00:00:00Z' }), ['invoices'], '2025-01-01')).toEqual(['2025-09-11T00:00:00Z', '2025-09-12T08:15:03Z']);
    expect(plan(state({ invoices: '2025-09-11T00:00:00Z' }), ['invoices', 'items'], '2025-09-01')).toEqual(['2025-09-01T00:00:00Z', '2025-09-12T08:15:03Z']);
  });

  it('refuses, naming the streams and the state file, when a stream has neither a bookmark nor --start', () => {
    expect(() => plan(undefined, ['invoices'])).toThrow(UsageError);
    expect(() => plan(undefined, ['invoices'])).toThrow(
      'sync qb_invoices: stream invoices has no bookmark in /repo/state/qb_invoices.json; give --start for the first sync (e.g. --start 2025-01-01)',
    );
    expect(() => plan(state({ invoices: '2025-09-11T00:00:00Z' }), ['invoices', 'items', 'customers'])).toThrow(
      /^sync qb_customers_invoices_items: streams items, customers have no bookmark in/,
    );
  });

  it('needs no bookmark for company_info (FULL_TABLE: read whole by every run, never bookmarked): a job with it syncs after its backfill', () => {
    expect(plan(state({ invoices: '2025-09-11T00:00:00Z' }), ['company_info', 'invoices'])).toEqual(['2025-09-11T00:00:00Z', '2025-09-12T08:15:03Z']);
    expect(plan(undefined, ['company_info'])).toEqual(['2025-09-12T08:15:02Z', '2025-09-12T08:15:03Z']);
    expect(plan(undefined, ['company_info'], '2025-01-01')).toEqual(['2025-01-01T00:00:00Z', '2025-09-12T08:15:03Z']);
    expect(() => plan(undefined, ['company_info', 'invoices'])).toThrow(/^sync qb_company_info_invoices: stream invoices has no bookmark in/);
  });

  it('a bookmark at or after now gives a one-second range (nothing new), not an error', () => {
    expect(plan(state({ invoices: '2025-09-12T08:15:03Z' }), ['invoices'])).toEqual(['2025-09-12T08:15:02Z', '2025-09-12T08:15:03Z']);
    // Written while the clock was ahead (set back since): the range still starts before now, or the tap refuses start_date as in the future.
    const required = { client_id: 'c', client_secret: 's', refresh_token: 'r', realm_id: '1' };
    for (const endLag of ['PT0S', 'PT5M']) {
      const ahead = plan(state({ invoices: '2025-09-12T08:20:00Z' }), ['invoices'], undefined, endLag);
      expect(Date.parse(ahead[1]!) - Date.parse(ahead[0]!)).toBe(1000);
      expect(() => parseTapSettings({ ...required, start_date: ahead[0], end_date: ahead[1] }, DateTime.fromJSDate(now))).not.toThrow();
    }
  });

  it('leaves a --start after now to the tap to refuse (start_date in the future), rather than reading nothing', () => {
    expect(plan(undefined, ['invoices'], '2025-09-13', 'PT5M')).toEqual(['2025-09-13T00:00:00Z', '2025-09-13T00:00:01Z']);
  });
});

describe('the resume command of a failed sync', () => {
  it('is a sync of the same job and streams, with the range start as --start and no --end', async () => {
    const { resolveBackfill } = await import('./BackfillRequest.js');
    const r = resolveBackfill({ kind: 'sync', streams: ['invoices'], start: '2025-09-11T00:00:00Z', end: '2025-09-12T08:15:03Z' }, '/repo');
    expect(resumeCommand(r, '/repo/packages/qbo-pipeline/dist/cli.js', '/repo')).toBe(
      'node packages/qbo-pipeline/dist/cli.js sync --job qb_invoices --streams invoices --start 2025-09-11T00:00:00Z',
    );
  });
});
