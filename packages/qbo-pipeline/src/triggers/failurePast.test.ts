import { describe, expect, it } from 'vitest';
import { coveringRun, isFailurePast, runsKeepingFailuresPast, type CoveringRunFacts } from './failurePast.js';
import type { Trigger } from './Trigger.js';

/** A one-time trigger of globex's that failed at 02:00 (its refresh token revoked): a backfill or a sync. */
const failedOneTime = {
  id: 'trg-globex',
  at: '2025-02-01T02:00:00Z',
  atGiven: '2025-02-01T02:00:00Z',
  createdAt: '2025-02-01T01:00:00Z',
  status: 'failed',
  enabled: false,
  finishedAt: '2025-02-01T02:00:05Z',
  result: { exitCode: 2, message: 'QuickBooks rejected the refresh token (invalid_grant)', runId: 'r-failed', runIds: ['r-failed'] },
} as const satisfies Partial<Trigger>;
/** Its backfill [2025-01-29, 2025-02-01). */
const failedBackfill: Trigger = {
  ...failedOneTime,
  backfill: { streams: [], job: 'qb_company', stateDir: '/s/globex', start: '2025-01-29T00:00:00Z', end: '2025-02-01T00:00:00Z' },
};
/** The same with --fresh: read the range anew, the state file set aside. */
const failedFreshBackfill: Trigger = { ...failedBackfill, backfill: { ...failedBackfill.backfill!, fresh: true } };
const failedRun: CoveringRunFacts = {
  id: 'r-failed',
  job: 'qb_company',
  streams: ['customers', 'invoices'],
  status: 'failed',
  startedAt: '2025-02-01T02:00:01Z',
  range: { start: '2025-01-29T00:00:00Z', end: '2025-02-01T00:00:00Z' },
};
/** A run after the failure that did the same: each case changes one fact of it. */
const later = (change: Partial<CoveringRunFacts> = {}): CoveringRunFacts => ({
  ...failedRun,
  id: 'r-later',
  status: 'succeeded',
  startedAt: '2025-02-01T09:00:00Z',
  ...change,
});

describe('isFailurePast, a one-time backfill', () => {
  it('is past once a later run of its job succeeded over its streams and its range (or more of both)', () => {
    expect(isFailurePast(failedBackfill, [], [later(), failedRun])).toBe(true);
    const wider = later({ streams: ['customers', 'invoices', 'items'], range: { start: '2025-01-01T00:00:00Z', end: '2025-02-05T00:00:00Z' } });
    expect(isFailurePast(failedBackfill, [], [wider, failedRun])).toBe(true);
  });

  it('still needs you with no later run, a later run that failed too, or one that did less or elsewhere', () => {
    expect(isFailurePast(failedBackfill, [], [failedRun])).toBe(false);
    for (const run of [
      later({ status: 'failed' }),
      later({ status: 'running' }),
      later({ startedAt: '2025-02-01T01:00:00Z' }),
      later({ job: 'qb_invoices' }),
      later({ streams: ['invoices'] }),
      later({ range: { start: '2025-01-30T00:00:00Z', end: '2025-02-01T00:00:00Z' } }),
      later({ range: { start: '2025-01-29T00:00:00Z', end: '2025-01-31T00:00:00Z' } }),
    ])
      expect(isFailurePast(failedBackfill, [], [run, failedRun]), JSON.stringify(run)).toBe(false);
  });

  it('is past after a sync of its job whose range took it in whole, from bookmarks before its start to past its end', () => {
    const sync = later({ range: { start: '2025-01-28T00:00:00Z', end: '2025-02-01T08:55:00Z' } });
    expect(isFailurePast(failedBackfill, [], [sync, failedRun])).toBe(true);
  });
});

describe('isFailurePast, a one-time --fresh backfill', () => {
  it('is past only once a later run that started over too (--fresh) covered it: a plain one goes on from the bookmarks', () => {
    expect(isFailurePast(failedFreshBackfill, [], [later(), failedRun])).toBe(false);
    expect(isFailurePast(failedFreshBackfill, [], [later({ fresh: true }), failedRun])).toBe(true);
    // A trigger without --fresh is covered by either.
    expect(isFailurePast(failedBackfill, [], [later({ fresh: true }), failedRun])).toBe(true);
  });
});

describe('coveringRun and the runs the journal keeps', () => {
  it('names the earliest covering run, so newer runs do not change it, and keeps it with the failed run', () => {
    const first = later({ id: 'r-first', startedAt: '2025-02-01T05:00:00Z' });
    const second = later({ id: 'r-second', startedAt: '2025-02-01T06:00:00Z' });
    expect(coveringRun(failedBackfill, [second, first, failedRun])?.id).toBe('r-first');
    expect(runsKeepingFailuresPast([failedBackfill], [second, first, failedRun])).toEqual(['r-first', 'r-failed']);
  });

  it('keeps nothing for a trigger still failed, a trigger that did not fail, or a schedule slot', () => {
    expect(runsKeepingFailuresPast([failedBackfill], [later({ status: 'failed' }), failedRun])).toEqual([]);
    expect(runsKeepingFailuresPast([{ ...failedBackfill, status: 'completed' }], [later(), failedRun])).toEqual([]);
    const slot: Trigger = { ...failedBackfill, schedule: { name: 'nightly', slot: failedBackfill.at, slots: 1 } };
    expect(runsKeepingFailuresPast([slot], [later(), failedRun])).toEqual([]);
  });
});

describe('isFailurePast, a one-time sync', () => {
  const failedSync: Trigger = { ...failedOneTime, sync: { streams: [], job: 'qb_company', stateDir: '/s/globex' } };
  const syncRun = { ...failedRun, range: { start: '2025-01-31T00:00:00Z', end: '2025-02-01T01:55:00Z' } };

  it('is past once a later sync brought the bookmarks past the end its run had, wherever they started', () => {
    expect(isFailurePast(failedSync, [], [later({ range: { start: '2025-01-31T12:00:00Z', end: '2025-02-01T08:55:00Z' } }), syncRun])).toBe(true);
    expect(isFailurePast(failedSync, [], [later({ range: { start: '2025-01-31T12:00:00Z', end: '2025-02-01T01:00:00Z' } }), syncRun])).toBe(false);
  });
});

describe('isFailurePast, a schedule slot', () => {
  const slot = (hour: number, status: Trigger['status']): Trigger => ({
    ...failedOneTime,
    id: `sch-${hour}`,
    at: `2025-03-01T0${hour}:05:00.000Z`,
    sync: { streams: [], job: 'qb_company', stateDir: '/s' },
    schedule: { name: 'company', slot: `2025-03-01T0${hour}:05:00.000Z`, slots: 1 },
    status,
  });

  it('is past once a later slot of its schedule completed, not an earlier one nor another schedule', () => {
    expect(isFailurePast(slot(3, 'failed'), [slot(3, 'failed'), slot(4, 'completed')], [])).toBe(true);
    expect(isFailurePast(slot(4, 'failed'), [slot(3, 'completed'), slot(4, 'failed')], [])).toBe(false);
    const otherSchedule = { ...slot(5, 'completed'), schedule: { name: 'nightly', slot: '2025-03-01T05:05:00.000Z', slots: 1 } };
    expect(isFailurePast(slot(4, 'failed'), [slot(4, 'failed'), otherSchedule], [])).toBe(false);
  });
});
