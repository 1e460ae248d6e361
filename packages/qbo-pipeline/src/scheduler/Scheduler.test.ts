import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { createLogger, UsageError } from 'singer-kit';
import { JobBusyError, type BackfillResult } from '../runBackfill.js';
import { addSchedule } from '../schedules/scheduleCommands.js';
import { ScheduleStore } from '../schedules/ScheduleStore.js';
import { addTrigger } from '../triggers/addTrigger.js';
import { formatTriggers } from '../triggers/formatTriggers.js';
import { triggerJob, type Trigger } from '../triggers/Trigger.js';
import { TriggerStore } from '../triggers/TriggerStore.js';
import { RunJournal } from '../runs/RunJournal.js';
import { Scheduler, type TriggerRunner } from './Scheduler.js';

const dir = await mkdtemp(path.join(tmpdir(), 'scheduler-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const backfill = { streams: ['invoices'], start: '2025-01-01', end: '2025-01-02', stateDir: path.join(dir, 'state') };
/** Settings as the scheduler's environment holds them: triggers and schedules are only accepted when they are complete. */
const env = {
  TAP_QUICKBOOKS_CLIENT_ID: 'client-id',
  TAP_QUICKBOOKS_CLIENT_SECRET: 'client-secret-value',
  TAP_QUICKBOOKS_REFRESH_TOKEN: 'refresh-token-value',
  TAP_QUICKBOOKS_REALM_ID: '9341453050000000',
  TAP_QUICKBOOKS_TOKEN_STORE: path.join(dir, 'tokens.json'),
  DATABASE_URL: 'postgres://loader@127.0.0.1:5432/warehouse',
};

function fakeResult(trigger: Trigger, ok: boolean): BackfillResult {
  const end = trigger.backfill?.end ?? '2025-01-02T00:00:00Z';
  return {
    kind: trigger.sync ? 'sync' : 'backfill',
    ok,
    exitCode: ok ? 0 : 1,
    runId: 'run-20250912T034600Z-000000',
    logFile: 'state/runs/run-20250912T034600Z-000000.log',
    stopped: false,
    job: trigger.backfill?.job ?? trigger.sync?.job ?? '',
    stateFile: 'state/x.json',
    backupFile: undefined,
    start: '2025-01-01T00:00:00Z',
    end,
    durationMs: 1,
    wallMs: {},
    progress: [{ stream: 'invoices', doneUntil: DateTime.fromISO(end, { zone: 'utc' }), doneMs: 86_400_000, totalMs: 86_400_000, complete: ok }],
    runIds: ['run-1'],
    totals: [],
    evidence: { unavailable: 'test' },
    failure: ok ? undefined : { reason: 'tap-quickbooks: HTTP 503', windows: [] },
    resumeCommand: ok ? undefined : 'node cli.js backfill …',
    fix: undefined,
    reconcileCommand: undefined,
  };
}

/** A scheduler on its own folders with a clock the test moves; records what it ran. */
function setup(name: string, options: { run?: TriggerRunner } = {}) {
  const triggers = new TriggerStore(path.join(dir, name, 'triggers'));
  const schedules = new ScheduleStore(path.join(dir, name, 'schedules'));
  const clock = { now: new Date('2025-09-12T04:00:00Z') };
  const ran: Trigger[] = [];
  const logs: string[] = [];
  const make = (run?: TriggerRunner) =>
    new Scheduler({
      triggers,
      schedules,
      now: () => clock.now,
      logger: createLogger('test', { sink: (line) => logs.push(line) }),
      run:
        run ??
        options.run ??
        (async (trigger) => {
          ran.push(trigger);
          return fakeResult(trigger, true);
        }),
    });
  return { triggers, schedules, clock, ran, logs, make };
}

/** A run that stays in progress until the test releases it. */
function gate() {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const ran: Trigger[] = [];
  const run: TriggerRunner = async (trigger) => {
    ran.push(trigger);
    await released;
    return fakeResult(trigger, true);
  };
  return { run, release, ran };
}

describe('one-time triggers', () => {
  it('stores the instant in UTC whatever offset it was given', async () => {
    const store = new TriggerStore(path.join(dir, 'utc'));
    const t = await addTrigger(
      store,
      '2025-09-11T22:45:54-05:00',
      { ...backfill, stateDir: undefined },
      { now: new Date('2025-09-01T00:00:00Z'), cwd: '/repo', env },
    );
    expect(t).toMatchObject({ at: '2025-09-12T03:45:54Z', atGiven: '2025-09-11T22:45:54-05:00', status: 'pending', enabled: true });
    expect(t.backfill).toMatchObject({ job: 'qb_invoices', start: '2025-01-01T00:00:00Z', stateDir: '/repo/state' });
    expect(await store.list()).toEqual([t]);
  });

  it('sweeps the runs whose runner is gone before it starts anything, leaving the jobs it starts to their run; a failed sweep stops no run', async () => {
    const triggers = new TriggerStore(path.join(dir, 'sweep', 'triggers'));
    const t = await addTrigger(triggers, '2025-09-12T03:45:54Z', backfill, { now: new Date('2025-09-01T00:00:00Z'), env });
    const seen: Array<{ except: string[]; ran: number }> = [];
    const ran: Trigger[] = [];
    const logs: string[] = [];
    const scheduler = new Scheduler({
      triggers,
      now: () => new Date('2025-09-12T04:00:00Z'),
      logger: createLogger('test', { sink: (line) => logs.push(line) }),
      run: async (trigger) => {
        ran.push(trigger);
        return fakeResult(trigger, true);
      },
      sweeper: {
        sweep: async (except = new Set()) => {
          seen.push({ except: [...except], ran: ran.length });
          throw new Error('EACCES: permission denied, mkdir state/qb_invoices.lock');
        },
      },
    });
    expect((await scheduler.pass()).map((a) => a.kind)).toEqual(['start']);
    await scheduler.idle();
    expect(seen).toEqual([{ except: [t.backfill!.job], ran: 0 }]);
    expect(ran.map((r) => r.id)).toEqual([t.id]);
    expect(logs).toContainEqual(expect.stringContaining('WARN test: could not close the runs whose runner is gone: EACCES: permission denied'));
  });

  it('checks the backfill arguments when the trigger is added, not when it fires', async () => {
    const store = new TriggerStore(path.join(dir, 'bad'));
    await expect(addTrigger(store, '2025-09-12T03:45:54Z', { ...backfill, streams: ['nope'] }, { env })).rejects.toThrow(UsageError);
    await expect(addTrigger(store, '2025-09-12T03:45:54', backfill, { env })).rejects.toThrow(/--at: .* no time zone/);
    expect(await store.list()).toEqual([]);
  });

  it('refuses a trigger whose settings would fail when it fires, saying which and where they come from', async () => {
    const store = new TriggerStore(path.join(dir, 'settings'));
    const { TAP_QUICKBOOKS_REALM_ID: _realm, ...noRealm } = env;
    await expect(addTrigger(store, '2025-09-12T03:45:54Z', backfill, { env: noRealm })).rejects.toThrow(
      'tap-quickbooks settings (no --tap-config given, so TAP_QUICKBOOKS_* and *_FILE variables only): setting realm_id is required',
    );
    await expect(
      addTrigger(store, '2025-09-12T03:45:54Z', backfill, { env: { ...env, TAP_QUICKBOOKS_CLIENT_SECRET_FILE: path.join(dir, 'missing-secret') } }),
    ).rejects.toThrow(/^tap-quickbooks settings .*: TAP_QUICKBOOKS_CLIENT_SECRET_FILE: cannot read .*missing-secret \(ENOENT\)/);
    await expect(addTrigger(store, '2025-09-12T03:45:54Z', backfill, { env: { ...env, DATABASE_URL: 'mysql://x' } })).rejects.toThrow(
      /^target-postgres-raw settings \(no --target-config given, so TARGET_POSTGRES_RAW_\* and \*_FILE variables only\): setting database_url must start with postgres:\/\//,
    );
    expect(await store.list()).toEqual([]);
  });

  it('refuses a schedule whose settings would fail when it fires', async () => {
    const store = new ScheduleStore(path.join(dir, 'settings-schedules'));
    const { TAP_QUICKBOOKS_REALM_ID: _realm, ...noRealm } = env;
    await expect(
      addSchedule(store, { cron: '0 2 * * *', sync: { streams: ['invoices'], stateDir: path.join(dir, 'state') } }, { env: noRealm }),
    ).rejects.toThrow(/^tap-quickbooks settings .*: setting realm_id is required/);
    expect(await store.list()).toEqual([]);
  });

  it('two schedulers racing run each due trigger exactly once; future ones wait', async () => {
    const s = setup('race');
    const due = await addTrigger(s.triggers, '2025-09-12T03:59:58Z', backfill, { env });
    const future = await addTrigger(s.triggers, '2025-09-12T05:00:00Z', backfill, { env });
    const [a, b] = [s.make(), s.make()];
    await Promise.all([a.pass(), b.pass()]);
    await Promise.all([a.idle(), b.idle()]);
    expect(s.ran.map((t) => t.id)).toEqual([due.id]);
    expect(await s.triggers.get(due.id)).toMatchObject({
      status: 'completed',
      enabled: false,
      late: false,
      lateByMs: 2000,
      result: { exitCode: 0, runIds: ['run-1'] },
      attempts: [{ attempt: 1, outcome: 'completed' }],
    });
    expect((await s.triggers.get(future.id)).status).toBe('pending');
    await a.pass();
    await a.idle();
    expect(s.ran).toHaveLength(1);
  });

  it('--once runs every due trigger within its concurrency, one after another, and returns them; one pass starts only as many as it has room for', async () => {
    const s = setup('once-all');
    const invoices = await addTrigger(s.triggers, '2025-09-12T03:59:00Z', backfill, { env });
    const customers = await addTrigger(s.triggers, '2025-09-12T03:59:30Z', { ...backfill, streams: ['customers'] }, { env });
    const future = await addTrigger(s.triggers, '2025-09-12T05:00:00Z', backfill, { env });
    const onePass = s.make();
    expect((await onePass.pass()).filter((a) => a.kind === 'start')).toHaveLength(1); // concurrency 1: no room for the other
    await onePass.idle();
    expect(s.ran.map((t) => t.id)).toEqual([invoices.id]);
    expect((await s.triggers.get(customers.id)).status).toBe('pending');
    expect(await s.make().runOnce(1)).toEqual([customers.id]);
    expect(s.ran.map((t) => t.id)).toEqual([invoices.id, customers.id]);
    expect((await s.triggers.get(customers.id)).status).toBe('completed');
    expect((await s.triggers.get(future.id)).status).toBe('pending');
    expect(await s.make().runOnce(1)).toEqual([]);
  });

  it('a trigger missed while the scheduler was down runs once at start-up, marked late by how much; a failure keeps its reason', async () => {
    const s = setup('late', { run: async (t) => fakeResult(t, false) });
    const t = await addTrigger(s.triggers, '2025-09-12T03:45:54Z', backfill, { env });
    s.clock.now = new Date('2025-09-12T07:00:00Z');
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.idle();
    expect(await s.triggers.get(t.id)).toMatchObject({
      status: 'failed',
      enabled: false,
      late: true,
      lateByMs: 11_646_000,
      result: { exitCode: 1, message: 'tap-quickbooks: HTTP 503', resumeCommand: 'node cli.js backfill …' },
    });
    expect(formatTriggers(await s.triggers.list(), s.clock.now)).toMatch(/2025-09-12T03:45:54Z \| failed \(late by 3 h 14 min\) \| qb_invoices/);
    // An ERROR line, as a log alert watching for errors expects of a failed run.
    expect(s.logs).toContainEqual(expect.stringMatching(new RegExp(`^ERROR test: trigger ${t.id} failed: tap-quickbooks: HTTP 503`)));
  });

  it('a backfill that throws (bad config) fails the trigger with the error and its exit code', async () => {
    const s = setup('throws', {
      run: async () => {
        throw new UsageError('state file state/x.json is malformed');
      },
    });
    const t = await addTrigger(s.triggers, '2025-09-12T03:45:54Z', backfill, { env });
    s.clock.now = new Date('2025-09-12T03:46:00Z');
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.idle();
    expect(await s.triggers.get(t.id)).toMatchObject({
      status: 'failed',
      late: false,
      result: { exitCode: 2, message: 'state file state/x.json is malformed' },
    });
  });

  it('sets an unreadable trigger file aside with a clear error, and still runs the others', async () => {
    const s = setup('damaged');
    const good = await addTrigger(s.triggers, '2025-09-12T03:45:54Z', backfill, { env });
    await writeFile(path.join(s.triggers.dir, 'trg-damaged.json'), '{');
    await writeFile(path.join(s.triggers.dir, 'trg-notatrigger.json'), '{"id": "trg-notatrigger"}');
    // A listing (trigger list, the console) reports them and moves nothing.
    expect((await s.triggers.list()).map((t) => t.id)).toEqual([good.id]);
    const listed = await s.triggers.scan({ setAside: false });
    expect(formatTriggers(listed.triggers, s.clock.now, listed.setAside)).toMatch(
      /^unreadable: .*trg-damaged\.json: not valid JSON \(.*\) \(the scheduler sets it aside at its next pass\)$/m,
    );
    expect((await readdir(s.triggers.dir)).filter((f) => f.endsWith('.unreadable'))).toEqual([]);
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.idle();
    expect(s.ran.map((t) => t.id)).toEqual([good.id]);
    expect(s.logs.filter((l) => l.startsWith('ERROR'))).toEqual([
      expect.stringMatching(/^ERROR test: trigger file set aside as .*trg-damaged\.json\.unreadable: not valid JSON \(.*\); the other triggers still run$/),
      expect.stringMatching(
        /^ERROR test: trigger file set aside as .*trg-notatrigger\.json\.unreadable: no id or no valid "at"; the other triggers still run$/,
      ),
    ]);
    expect((await readdir(s.triggers.dir)).filter((f) => f.endsWith('.unreadable')).sort()).toEqual([
      'trg-damaged.json.unreadable',
      'trg-notatrigger.json.unreadable',
    ]);
    const scan = await s.triggers.scan();
    expect(formatTriggers(scan.triggers, s.clock.now, scan.setAside)).toMatch(
      /^set aside \(unreadable\): .*trg-damaged\.json\.unreadable: not valid JSON \(expected property name or '}' in JSON at position 1\)$/m,
    );
  });
});

describe('leases: a scheduler that dies does not strand its trigger', () => {
  /** What a scheduler killed after claiming leaves: the trigger running, attempt 1's lease last renewed at `heartbeat`. */
  async function strand(s: ReturnType<typeof setup>, heartbeat: string, expires: string) {
    const t = await addTrigger(s.triggers, '2025-09-12T03:50:00Z', backfill, { env });
    const lease = {
      owner: 'dead-owner',
      host: 'old-host',
      pid: 4242,
      attempt: 1,
      claimedAt: '2025-09-12T03:50:01Z',
      heartbeatAt: heartbeat,
      expiresAt: expires,
    };
    expect(await s.triggers.claim(t.id, lease)).toBe(true);
    await s.triggers.save({
      ...t,
      status: 'running',
      claimedBy: { pid: 4242, host: 'old-host' },
      startedAt: '2025-09-12T03:50:01Z',
      attempts: [{ attempt: 1, owner: 'dead-owner', host: 'old-host', pid: 4242, startedAt: '2025-09-12T03:50:01Z', outcome: 'running' }],
    });
    return t;
  }

  it('a live lease is left alone: the trigger is not run twice, and the scheduler says once until when the lease holds it', async () => {
    const s = setup('lease-live');
    const t = await strand(s, '2025-09-12T03:59:50Z', '2025-09-12T04:00:50Z');
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.pass();
    await scheduler.idle();
    expect(s.ran).toEqual([]);
    expect(scheduler.heldElsewhere).toEqual([t.id]);
    expect(s.logs.filter((l) => l.includes(t.id))).toEqual([
      `INFO test: trigger ${t.id}: attempt 1 is held by the scheduler on old-host pid 4242 (last heartbeat 2025-09-12T03:59:50Z), whose lease expires at 2025-09-12T04:00:50Z unless renewed; if that scheduler is gone, a pass after then takes the trigger over and resumes its run`,
    ]);
  });

  it('an expired lease is taken over: the run resumes as attempt 2 and both attempts are recorded', async () => {
    const s = setup('lease-expired');
    const t = await strand(s, '2025-09-12T03:58:00Z', '2025-09-12T03:59:00Z');
    const [a, b] = [s.make(), s.make()];
    await Promise.all([a.pass(), b.pass()]);
    await Promise.all([a.idle(), b.idle()]);
    expect(s.ran.map((r) => r.id)).toEqual([t.id]);
    const after = await s.triggers.get(t.id);
    expect(after).toMatchObject({ status: 'completed', startedAt: '2025-09-12T03:50:01Z' });
    expect(after.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        host: 'old-host',
        pid: 4242,
        outcome: 'lease expired',
        finishedAt: '2025-09-12T03:59:00Z',
        message: expect.stringMatching(
          /stopped renewing its lease \(last heartbeat 2025-09-12T03:58:00Z\); taken over by .* resuming from the job's state file/,
        ),
      }),
      expect.objectContaining({ attempt: 2, pid: process.pid, outcome: 'completed' }),
    ]);
    expect((await s.triggers.latestLease(t.id))?.attempt).toBe(2);
    const listed = formatTriggers([after], s.clock.now);
    expect(listed).toMatch(/ {2}attempt 1 +\| 2025-09-12T03:50:01Z \| lease expired at 2025-09-12T03:59:00Z \| old-host pid 4242 /);
    expect(listed).toMatch(/ {2}attempt 2 +\| 2025-09-12T04:00:00Z \| completed at 2025-09-12T04:00:00Z +\| \S+ pid \d+ /);
  });

  it('a first-version claim (pid and host, no heartbeat) counts as expired a lease length after it was written', async () => {
    const s = setup('lease-legacy');
    const t = await addTrigger(s.triggers, '2025-09-12T03:50:00Z', backfill, { env });
    await writeFile(path.join(s.triggers.dir, `${t.id}.claim`), JSON.stringify({ pid: 1, host: 'old' }));
    await s.triggers.save({ ...t, status: 'running' });
    s.clock.now = new Date(Date.now() + 61_000);
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.idle();
    expect((await s.triggers.get(t.id)).attempts?.map((a) => a.outcome)).toEqual(['lease expired', 'completed']);
  });

  it('renews its lease while it runs, so nobody takes over a live run', async () => {
    const g = gate();
    const s = setup('lease-renew');
    const t = await addTrigger(s.triggers, '2025-09-12T03:59:00Z', backfill, { env });
    const scheduler = new Scheduler({
      triggers: s.triggers,
      now: () => new Date(),
      leaseMs: 3000,
      run: g.run,
      logger: createLogger('test', { sink: () => undefined }),
    });
    s.clock.now = new Date();
    await scheduler.pass();
    const claimed = await s.triggers.latestLease(t.id);
    // Waits for a renewal, then looks past the first lease's end: a live run is left alone
    // because its lease was renewed, however late the renewal came on a busy machine.
    await vi.waitFor(async () => expect(Date.parse((await s.triggers.latestLease(t.id))!.expiresAt)).toBeGreaterThan(Date.parse(claimed!.expiresAt)), {
      timeout: 20_000,
      interval: 50,
    });
    const other = s.make();
    s.clock.now = new Date(Date.parse(claimed!.expiresAt) + 1);
    await other.pass();
    expect(g.ran).toHaveLength(1);
    g.release();
    await scheduler.idle();
    expect((await s.triggers.get(t.id)).status).toBe('completed');
  });

  it('a job locked by another runner: the attempt is given back and the trigger waits', async () => {
    const s = setup('busy', {
      run: async () => {
        throw new JobBusyError('job qb_invoices is already running');
      },
    });
    const t = await addTrigger(s.triggers, '2025-09-12T03:59:00Z', backfill, { env });
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.idle();
    expect(await s.triggers.get(t.id)).toMatchObject({ status: 'pending', enabled: true, attempts: [{ attempt: 1, outcome: 'job busy' }] });
    expect(await s.triggers.latestLease(t.id)).toBeUndefined();
  });

  it("a job whose lock a killed runner left, not yet stale by this scheduler's lease: no attempt, said once with until when", async () => {
    const s = setup('locked');
    const stateDir = path.join(dir, 'locked', 'state');
    const t = await addTrigger(s.triggers, '2025-09-12T03:59:00Z', { ...backfill, stateDir }, { env });
    // The lock as a runner killed 40 s ago left it: past a backfill's 30 s, within the scheduler's 60 s lease (its run's staleness).
    const lock = path.join(stateDir, `${triggerJob(t)}.lock`);
    await mkdir(lock, { recursive: true });
    const refreshed = new Date(Date.now() - 40_000);
    await utimes(lock, refreshed, refreshed);
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.pass();
    await scheduler.idle();
    expect(s.ran).toEqual([]);
    expect((await s.triggers.get(t.id)).attempts).toBeUndefined();
    expect(scheduler.heldElsewhere).toEqual([t.id]);
    expect(s.logs.filter((l) => l.includes(t.id))).toEqual([
      `WARN test: trigger ${t.id} (due 2025-09-12T03:59:00Z) waits: job ${triggerJob(t)} is locked by a runner its runs journal does not name, until ${new Date(refreshed.getTime() + 60_000).toISOString()} unless its runner refreshes it; a scheduler pass after then runs it`,
    ]);
  });

  it('a job whose run has just ended, its runner not yet letting go of the lock: the pass looks again and starts the trigger, naming no stranger', async () => {
    const s = setup('ending');
    const stateDir = path.join(dir, 'ending', 'state');
    const t = await addTrigger(s.triggers, '2025-09-12T03:59:00Z', { ...backfill, stateDir }, { env });
    const job = triggerJob(t);
    // The job's last run has ended in its journal; its runner still holds the lock while it records the end elsewhere.
    const journal = RunJournal.of(stateDir, { now: () => s.clock.now });
    const ended = await journal.start({
      kind: 'sync',
      job,
      streams: ['invoices'],
      range: { start: backfill.start, end: backfill.end },
      stateFile: path.join(stateDir, `${job}.json`),
      progress: [],
    });
    await ended.finish({ status: 'succeeded', exitCode: 0 });
    const lock = path.join(stateDir, `${job}.lock`);
    await mkdir(lock, { recursive: true });
    const letGo = setTimeout(() => void rm(lock, { recursive: true }), 300);
    try {
      const scheduler = s.make();
      await scheduler.pass();
      await scheduler.idle();
      expect(s.ran.map((r) => r.id)).toEqual([t.id]);
      expect(s.logs.filter((l) => l.includes('waits:'))).toEqual([]);
    } finally {
      clearTimeout(letGo);
    }
  });

  it('a scheduler stopped mid-run gives the trigger back for the next scheduler to resume', async () => {
    const stop = new AbortController();
    const s = setup('stopped');
    const t = await addTrigger(s.triggers, '2025-09-12T03:59:00Z', backfill, { env });
    const scheduler = new Scheduler({
      triggers: s.triggers,
      now: () => s.clock.now,
      signal: stop.signal,
      logger: createLogger('test', { sink: () => undefined }),
      run: async (trigger, hooks) => {
        await new Promise((resolve) => hooks.signal?.addEventListener('abort', resolve));
        return fakeResult(trigger, false);
      },
    });
    await scheduler.pass();
    stop.abort();
    await scheduler.idle();
    expect(await s.triggers.get(t.id)).toMatchObject({ status: 'pending', enabled: true, attempts: [{ attempt: 1, outcome: 'stopped' }] });
    const next = s.make();
    await next.pass();
    await next.idle();
    expect(await s.triggers.get(t.id)).toMatchObject({
      status: 'completed',
      attempts: [
        { attempt: 1, outcome: 'stopped' },
        { attempt: 2, outcome: 'completed' },
      ],
    });
  });
});

describe('schedules', () => {
  const sync = { streams: ['invoices'], start: '2025-01-01', stateDir: path.join(dir, 'state') };

  it('runs each due slot once; a slot that comes while the last run still runs is queued and runs when it ends, late and saying why; the next slot replaces one still queued', async () => {
    const g = gate();
    const s = setup('every-minute');
    s.clock.now = new Date('2025-09-12T04:00:30Z');
    await addSchedule(s.schedules, { name: 'minutely', cron: '* * * * *', sync }, { now: s.clock.now, env });
    const late: Array<string | undefined> = [];
    const scheduler = s.make((trigger, hooks) => {
      late.push(hooks.run?.late);
      return g.run(trigger, hooks);
    });
    await scheduler.pass();
    expect(g.ran).toEqual([]);
    s.clock.now = new Date('2025-09-12T04:01:02Z');
    await scheduler.pass();
    await scheduler.pass();
    expect(g.ran.map((t) => t.id)).toEqual(['sch-minutely-20250912T040100Z']);
    expect(g.ran[0]).toMatchObject({ sync: { job: 'qb_invoices' }, schedule: { name: 'minutely', slot: '2025-09-12T04:01:00Z', slots: 1 } });
    s.clock.now = new Date('2025-09-12T04:02:01Z');
    await scheduler.pass();
    expect(g.ran).toHaveLength(1);
    expect(await s.triggers.get('sch-minutely-20250912T040200Z')).toMatchObject({
      status: 'pending',
      enabled: true,
      queued: { behind: "this scheduler's run of the job", until: '2025-09-12T04:03:00Z' },
    });
    expect(s.logs).toContainEqual(
      "WARN test: schedule minutely slot 2025-09-12T04:02:00Z is due; queued: job qb_invoices is busy (this scheduler's run of the job), the slot runs when that ends (its next slot, 2025-09-12T04:03:00Z, replaces it if it still waits then)",
    );
    expect(formatTriggers(await s.triggers.list(), s.clock.now)).toContain("pending (due 1 s ago, queued behind this scheduler's run of the job)");
    // Still running at the next slot: that slot replaces the queued one, and stands for both.
    s.clock.now = new Date('2025-09-12T04:03:01Z');
    await scheduler.pass();
    expect((await s.triggers.list()).map((t) => `${t.id} ${t.status}`)).toEqual([
      'sch-minutely-20250912T040100Z running',
      'sch-minutely-20250912T040300Z pending',
    ]);
    expect(s.logs.at(-1)).toMatch(
      /^WARN test: schedule minutely slot 2025-09-12T04:03:00Z is due \(it replaces slot 2025-09-12T04:02:00Z, still queued: 2 slots run once\); queued:/,
    );
    g.release();
    await scheduler.idle();
    s.clock.now = new Date('2025-09-12T04:03:05Z');
    await scheduler.pass();
    await scheduler.idle();
    expect(g.ran.map((t) => t.schedule?.slot)).toEqual(['2025-09-12T04:01:00Z', '2025-09-12T04:03:00Z']);
    const ranLate = await s.triggers.get('sch-minutely-20250912T040300Z');
    expect(ranLate).toMatchObject({ status: 'completed', late: true, lateByMs: 65_000, schedule: { slots: 2, firstSlot: '2025-09-12T04:02:00Z' } });
    expect(late).toEqual([undefined, "late by 65.0 s, 2 slots run once, queued behind this scheduler's run of the job"]);
    expect(formatTriggers([ranLate], s.clock.now)).toContain("completed (late by 65.0 s, 2 slots run once, queued behind this scheduler's run of the job)");
  });

  it('--once waits for a slot it queued behind a job locked elsewhere and runs it when the job frees; at its next slot, it leaves it to the next scheduler', async () => {
    const s = setup('once-queued');
    s.clock.now = new Date('2025-09-12T04:00:30Z');
    await addSchedule(s.schedules, { name: 'minutely', cron: '* * * * *', sync }, { now: s.clock.now, env });
    // A sync by hand holds the job: its lock file, fresh.
    const lock = path.join(dir, 'state', 'qb_invoices.lock');
    await mkdir(lock, { recursive: true });
    s.clock.now = new Date('2025-09-12T04:01:02Z');
    const ran: string[] = [];
    const scheduler = s.make(async (trigger) => {
      ran.push(trigger.id);
      return fakeResult(trigger, true);
    });
    const once = scheduler.runOnce(1, 5);
    await vi.waitFor(async () => expect((await s.triggers.list()).map((t) => `${t.id} ${t.status}`)).toEqual(['sch-minutely-20250912T040100Z pending']));
    expect(ran).toEqual([]);
    await rm(lock, { recursive: true }); // the sync by hand ends
    expect(await once).toEqual(['sch-minutely-20250912T040100Z']);
    expect(await s.triggers.get('sch-minutely-20250912T040100Z')).toMatchObject({ status: 'completed', late: true, queued: { until: '2025-09-12T04:02:00Z' } });

    // The next slot, the job locked again, and the lock still held at the slot after: --once leaves the slot queued, and says so.
    await mkdir(lock, { recursive: true });
    s.clock.now = new Date('2025-09-12T04:02:01Z');
    const second = scheduler.runOnce(1, 5);
    await vi.waitFor(async () => expect((await s.triggers.list()).map((t) => t.status)).toEqual(['completed', 'pending']));
    s.clock.now = new Date('2025-09-12T04:03:00Z');
    expect(await second).toEqual([]);
    expect(s.logs.at(-1)).toMatch(
      /^WARN test: trigger sch-minutely-20250912T040200Z \(due 2025-09-12T04:02:00Z\) still waits for job qb_invoices \(a runner its runs journal does not name, until .*\) at its schedule's next slot, 2025-09-12T04:03:00Z: it is left to the next scheduler, whose pass replaces it by that slot$/,
    );
    await rm(lock, { recursive: true });
  });

  it('--once waits too for a slot that, waiting for room, found its job taken by a run by hand; its run says behind what', async () => {
    const s = setup('once-taken');
    s.clock.now = new Date('2025-09-12T04:00:30Z');
    await addSchedule(s.schedules, { name: 'minutely', cron: '* * * * *', sync }, { now: s.clock.now, env });
    // A backfill of another job, due first, takes the one room (concurrency 1): the slot waits for room, its job free.
    await addTrigger(s.triggers, '2025-09-12T04:00:50Z', { ...backfill, streams: ['items'] }, { now: s.clock.now, cwd: dir, env });
    s.clock.now = new Date('2025-09-12T04:01:02Z');
    const g = gate();
    const scheduler = s.make(g.run);
    const once = scheduler.runOnce(1, 5);
    await vi.waitFor(() => expect(g.ran.map(triggerJob)).toEqual(['qb_items']));
    expect(await s.triggers.get('sch-minutely-20250912T040100Z')).toMatchObject({ status: 'pending' });
    expect((await s.triggers.get('sch-minutely-20250912T040100Z')).queued).toBeUndefined();
    // Meanwhile a sync by hand takes the slot's job; the backfill ends, and the slot waits for the sync.
    const lock = path.join(dir, 'state', 'qb_invoices.lock');
    await mkdir(lock, { recursive: true });
    g.release();
    await vi.waitFor(() =>
      expect(s.logs.some((l) => l.includes('sch-minutely-20250912T040100Z (due 2025-09-12T04:01:00Z) waits: job qb_invoices is locked'))).toBe(true),
    );
    await rm(lock, { recursive: true }); // the sync by hand ends
    expect(await once).toEqual([expect.stringMatching(/^trg-/), 'sch-minutely-20250912T040100Z']);
    expect(await s.triggers.get('sch-minutely-20250912T040100Z')).toMatchObject({
      status: 'completed',
      late: true,
      queued: { behind: expect.stringMatching(/^a runner its runs journal does not name, until /) },
    });
  });

  it('--once runs the slot due when it began and ends, though a schedule every second has another slot due when its run ends', async () => {
    const s = setup('once-every-second');
    s.clock.now = new Date('2025-09-12T04:00:30Z');
    await addSchedule(s.schedules, { name: 'everysecond', cron: '* * * * * *', sync }, { now: s.clock.now, env });
    s.clock.now = new Date('2025-09-12T04:00:32.500Z');
    const ran: string[] = [];
    const scheduler = s.make(async (trigger) => {
      ran.push(trigger.id);
      s.clock.now = new Date(s.clock.now.getTime() + 2000); // each run takes two seconds
      return fakeResult(trigger, true);
    });
    expect(await scheduler.runOnce(1)).toEqual(['sch-everysecond-20250912T040032Z']);
    expect(ran).toEqual(['sch-everysecond-20250912T040032Z']);
    expect((await s.triggers.list()).map((t) => t.id)).toEqual(['sch-everysecond-20250912T040032Z']);
  });

  it('slots missed while no scheduler ran run once at start-up, marked late', async () => {
    const s = setup('down');
    s.clock.now = new Date('2025-09-12T04:00:30Z');
    await addSchedule(s.schedules, { name: 'minutely', cron: '* * * * *', sync }, { now: s.clock.now, env });
    s.clock.now = new Date('2025-09-12T04:05:10Z');
    const scheduler = s.make();
    await scheduler.pass();
    await scheduler.idle();
    await scheduler.pass();
    await scheduler.idle();
    expect(s.ran).toHaveLength(1);
    const t = await s.triggers.get('sch-minutely-20250912T040500Z');
    expect(t).toMatchObject({ status: 'completed', late: true, lateByMs: 4 * 60_000 + 10_000, schedule: { slots: 5, firstSlot: '2025-09-12T04:01:00Z' } });
    expect(formatTriggers([t], s.clock.now)).toContain('completed (late by 4 min 10 s, 5 slots run once)');
  });

  it('a paused schedule runs nothing; resumed, it starts at its next slot, owing nothing for the pause', async () => {
    const { pauseSchedule, resumeSchedule } = await import('../schedules/scheduleCommands.js');
    const s = setup('paused');
    s.clock.now = new Date('2025-09-12T04:00:30Z');
    await addSchedule(s.schedules, { name: 'minutely', cron: '* * * * *', sync }, { now: s.clock.now, env });
    await pauseSchedule(s.schedules, 'minutely', { now: s.clock.now });
    s.clock.now = new Date('2025-09-12T04:10:00Z');
    const scheduler = s.make();
    await scheduler.pass();
    expect(s.ran).toEqual([]);
    await resumeSchedule(s.schedules, 'minutely', { now: new Date('2025-09-12T04:10:05Z') });
    s.clock.now = new Date('2025-09-12T04:10:30Z');
    await scheduler.pass();
    expect(s.ran).toEqual([]);
    s.clock.now = new Date('2025-09-12T04:11:00Z');
    await scheduler.pass();
    await scheduler.idle();
    expect(s.ran.map((t) => t.schedule?.slot)).toEqual(['2025-09-12T04:11:00Z']);
  });
});
