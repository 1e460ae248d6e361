import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { createLogger, UsageError } from 'singer-kit';
import type { BackfillRequest } from '../BackfillRequest.js';
import type { BackfillResult } from '../runBackfill.js';
import { addTrigger } from './addTrigger.js';
import { formatTriggers } from './formatTriggers.js';
import { runDueTriggers, runScheduler } from './runDueTriggers.js';
import { TriggerStore } from './TriggerStore.js';

const dir = await mkdtemp(path.join(tmpdir(), 'triggers-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const logger = createLogger('test', { sink: () => undefined });
const backfill: BackfillRequest = { streams: ['invoices'], start: '2025-01-01', end: '2025-01-02' };

function fakeResult(request: BackfillRequest, ok: boolean): BackfillResult {
  return {
    ok,
    exitCode: ok ? 0 : 1,
    runId: 'run-20250912T034600Z-000000',
    logFile: 'state/runs/run-20250912T034600Z-000000.log',
    stopped: false,
    job: request.job ?? '',
    stateFile: 'state/x.json',
    backupFile: undefined,
    start: request.start,
    end: request.end,
    durationMs: 1,
    progress: [{ stream: 'invoices', doneUntil: DateTime.fromISO(request.end, { zone: 'utc' }), daysDone: 1, totalDays: 1, complete: ok }],
    wallMs: {},
    runIds: ['run-1'],
    totals: [],
    evidence: { unavailable: 'test' },
    failure: ok ? undefined : { reason: 'tap-quickbooks: HTTP 503', windows: [] },
    resumeCommand: ok ? undefined : 'node cli.js backfill …',
    fix: undefined,
  };
}

describe('one-time triggers', () => {
  it('stores the instant in UTC whatever offset it was given', async () => {
    const store = new TriggerStore(path.join(dir, 'utc'));
    const t = await addTrigger(store, '2025-09-11T22:45:54-05:00', backfill, { now: new Date('2025-09-01T00:00:00Z'), cwd: '/repo' });
    expect(t).toMatchObject({ at: '2025-09-12T03:45:54Z', atGiven: '2025-09-11T22:45:54-05:00', status: 'pending', enabled: true });
    expect(t.backfill).toMatchObject({ job: 'qb_invoices_backfill', start: '2025-01-01T00:00:00Z', stateDir: '/repo/state' });
    expect(await store.list()).toEqual([t]);
  });

  it('checks the backfill arguments when the trigger is added, not when it fires', async () => {
    const store = new TriggerStore(path.join(dir, 'bad'));
    await expect(addTrigger(store, '2025-09-12T03:45:54Z', { ...backfill, streams: ['nope'] })).rejects.toThrow(UsageError);
    await expect(addTrigger(store, '2025-09-12T03:45:54', backfill)).rejects.toThrow(/--at: .* no time zone/);
    expect(await store.list()).toEqual([]);
  });

  it('two schedulers racing run each due trigger exactly once; future ones wait', async () => {
    const store = new TriggerStore(path.join(dir, 'race'));
    const now = new Date('2025-09-12T04:00:00Z');
    const due = await addTrigger(store, '2025-09-12T03:59:58Z', backfill, { now });
    const future = await addTrigger(store, '2025-09-12T05:00:00Z', backfill, { now });
    const calls: BackfillRequest[] = [];
    const run = async (request: BackfillRequest) => {
      calls.push(request);
      return fakeResult(request, true);
    };
    const other = new TriggerStore(store.dir);
    const [a, b] = await Promise.all([runDueTriggers({ store, run, now: () => now, logger }), runDueTriggers({ store: other, run, now: () => now, logger })]);
    expect(calls).toHaveLength(1);
    expect([...a, ...b].map((t) => t.id)).toEqual([due.id]);
    const after = await store.get(due.id);
    expect(after).toMatchObject({ status: 'completed', enabled: false, late: false, lateByMs: 2000, result: { exitCode: 0, runIds: ['run-1'] } });
    expect((await store.get(future.id)).status).toBe('pending');
    expect(await runDueTriggers({ store, run, now: () => now, logger })).toEqual([]);
  });

  it('a trigger missed while the scheduler was down runs once at start-up, marked late by how much; a failure keeps its reason', async () => {
    const store = new TriggerStore(path.join(dir, 'late'));
    await addTrigger(store, '2025-09-12T03:45:54Z', backfill);
    const now = new Date('2025-09-12T07:00:00Z');
    const [ran] = await runDueTriggers({ store, run: async (r) => fakeResult(r, false), now: () => now, logger });
    expect(ran).toMatchObject({ status: 'failed', enabled: false, late: true, lateByMs: 11_646_000, result: { exitCode: 1, message: 'tap-quickbooks: HTTP 503', resumeCommand: 'node cli.js backfill …' } });
    expect(formatTriggers(await store.list(), now)).toMatch(/2025-09-12T03:45:54Z \| failed \(late by 3 h 14 min\) \| qb_invoices_backfill/);
  });

  it('a backfill that throws (bad config) fails the trigger with the error and its exit code', async () => {
    const store = new TriggerStore(path.join(dir, 'throws'));
    await addTrigger(store, '2025-09-12T03:45:54Z', backfill);
    const [ran] = await runDueTriggers({
      store,
      run: async () => {
        throw new UsageError('state file state/x.json is malformed');
      },
      now: () => new Date('2025-09-12T03:46:00Z'),
      logger,
    });
    expect(ran).toMatchObject({ status: 'failed', late: false, result: { exitCode: 2, message: 'state file state/x.json is malformed' } });
  });
});

describe('runScheduler', () => {
  it('keeps running after a pass fails (a damaged trigger file), and stops when asked', async () => {
    const store = new TriggerStore(path.join(dir, 'loop'));
    await addTrigger(store, '2025-09-12T03:45:54Z', backfill);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(store.dir, 'trg-damaged.json'), '{');
    const errors: string[] = [];
    const stop = new AbortController();
    await runScheduler({
      store,
      run: async () => {
        throw new Error('not reached: the damaged file fails the listing');
      },
      intervalMs: 1,
      signal: stop.signal,
      logger: createLogger('test', {
        sink: (line) => {
          if (errors.push(line) === 2) stop.abort(); // a second pass came after the failed one
        },
      }),
    });
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/ERROR test: scheduler pass failed .*cannot read trigger .*trg-damaged\.json/);
  });
});
