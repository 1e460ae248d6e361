import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger, registerSecret, RunError, UsageError } from 'singer-kit';
import { hostname, tmpdir } from 'node:os';
import { lockJob } from '../jobLock.js';
import { missingRunnerText, RunJournal, type RunStart } from './RunJournal.js';
import { newRunId, RUN_ID, runsToPrune, shellExit } from './RunRecord.js';
import { isFailurePast } from '../triggers/failurePast.js';
import type { Trigger } from '../triggers/Trigger.js';
import { triggerStore } from '../triggers/TriggerStore.js';

const dir = await mkdtemp(path.join(tmpdir(), 'run-journal-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const start = (job = 'qb_invoices_backfill'): RunStart => ({
  kind: 'backfill',
  job,
  streams: ['invoices'],
  range: { start: '2025-01-01T00:00:00Z', end: '2025-01-03T00:00:00Z' },
  stateFile: `/state/${job}.json`,
  progress: [{ stream: 'invoices', doneUntil: '2025-01-01T00:00:00Z', daysDone: 0, totalDays: 2, complete: false }],
});

/** A clock that moves one second per reading, so run ids sort in start order. */
function clock(from = Date.parse('2025-09-12T03:45:54Z')) {
  let t = from;
  return () => new Date((t += 1000));
}

describe('RunRecord', () => {
  it('run ids sort by start time to the millisecond and say so; ids recorded before they had milliseconds still read', () => {
    const a = newRunId(new Date('2025-09-12T03:45:54.123Z'));
    const b = newRunId(new Date('2025-09-12T03:45:54.124Z'));
    const c = newRunId(new Date('2025-09-12T03:45:55Z'));
    expect(a).toMatch(/^run-20250912T034554\.123Z-[0-9a-f]{6}$/);
    for (let i = 0; i < 20; i++) expect([c, b, newRunId(new Date('2025-09-12T03:45:54.123Z'))].sort().slice(1)).toEqual([b, c]);
    expect([a, b, c].every((id) => RUN_ID.test(id))).toBe(true);
    expect(RUN_ID.test('run-20250912T034554Z-1a2b3c')).toBe(true);
    expect(RUN_ID.test('run-20250912T034554.1Z-1a2b3c')).toBe(false);
  });

  it('a killed process exits as a shell reports it (128 + signal number)', () => {
    expect(shellExit(2, null, { SIGKILL: 9 })).toBe(2);
    expect(shellExit(null, 'SIGKILL', { SIGKILL: 9 })).toBe(137);
    expect(shellExit(null, null, {})).toBeUndefined();
  });

  it('pruning keeps the newest N finished runs of each job, and never a running one', () => {
    const runs = [
      { id: 'run-1', job: 'a', status: 'succeeded' as const },
      { id: 'run-2', job: 'a', status: 'running' as const },
      { id: 'run-3', job: 'a', status: 'failed' as const },
      { id: 'run-4', job: 'a', status: 'succeeded' as const },
      { id: 'run-5', job: 'b', status: 'succeeded' as const },
    ];
    expect(runsToPrune(runs, 2)).toEqual(['run-1']);
    expect(runsToPrune(runs, 1)).toEqual(['run-1', 'run-3']);
    expect(runsToPrune(runs, 0)).toEqual(['run-1', 'run-3', 'run-4', 'run-5']);
  });
});

describe('RunJournal', () => {
  it('records a run live: running with its progress, then how it ended; the file is whole at every step', async () => {
    const journal = new RunJournal(path.join(dir, 'live'), { now: clock() });
    const run = await journal.start({ ...start(), triggerId: 'trg-1' });
    expect(await journal.read(run.id)).toMatchObject({
      id: run.id,
      status: 'running',
      job: 'qb_invoices_backfill',
      triggerId: 'trg-1',
      attempt: 1,
      pid: process.pid,
      tapRunIds: [],
    });
    await run.update({ progress: [{ stream: 'invoices', doneUntil: '2025-01-02T00:00:00Z', daysDone: 1, totalDays: 2, complete: false, wallMs: 1500 }] });
    expect((await journal.read(run.id)).progress[0]).toMatchObject({ daysDone: 1, wallMs: 1500 });
    const ended = await run.finish({
      status: 'failed',
      exitCode: 1,
      tapExit: 1,
      targetExit: 0,
      reason: 'tap-quickbooks: HTTP 503',
      tapRunIds: ['t1'],
      resumeCommand: 'node cli.js backfill --job x',
    });
    const read = await journal.read(run.id);
    expect(read).toEqual(ended);
    expect(read).toMatchObject({ status: 'failed', exitCode: 1, tapExit: 1, targetExit: 0, tapRunIds: ['t1'], resumeCommand: 'node cli.js backfill --job x' });
    expect(read.finishedAt! > read.startedAt).toBe(true);
    expect((await readdir(journal.dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the log in order, secrets redacted, and lets a reader follow it from an offset', async () => {
    registerSecret('s3cr3t-refresh-token-value');
    const journal = new RunJournal(path.join(dir, 'log'), { now: clock() });
    const run = await journal.start(start());
    run.log('INFO qbo-pipeline: starting');
    run.log('[tap] WARN tap-quickbooks: token s3cr3t-refresh-token-value rejected');
    await run.update({});
    const first = await journal.readLog(run.id);
    expect(first.text).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z INFO qbo-pipeline: starting\n.*\[tap\] WARN tap-quickbooks: token \[redacted\] rejected\n$/);
    run.log('[target] INFO target-postgres-raw: commit 1');
    await run.finish({ status: 'succeeded', exitCode: 0 });
    const next = await journal.readLog(run.id, first.offset);
    expect(next.text).toMatch(/\[target\] INFO target-postgres-raw: commit 1\n$/);
    expect(await journal.tail(run.id, 2)).toEqual([expect.stringContaining('rejected'), expect.stringContaining('commit 1')]);
    expect(await readFile(journal.logFile(run.id), 'utf8')).not.toContain('s3cr3t');
  });

  it('lists runs newest first, per job, and refuses an unknown id with a line naming the folder', async () => {
    const journal = new RunJournal(path.join(dir, 'list'), { now: clock() });
    const a = await journal.start(start('a'));
    const b = await journal.start(start('b'));
    const c = await journal.start(start('a'));
    expect((await journal.list()).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect((await journal.list({ job: 'a' })).map((r) => r.id)).toEqual([c.id, a.id]);
    expect((await journal.list({ limit: 1 })).map((r) => r.id)).toEqual([c.id]);
    await expect(journal.read('run-20990101T000000Z-000000')).rejects.toThrow(`no run run-20990101T000000Z-000000 in ${journal.dir}`);
    await expect(journal.read('../../etc/passwd')).rejects.toThrow(/run ids look like run-/);
  });

  it('a daily job keeps only its newest runs: older records and logs are deleted as new runs start', async () => {
    const journal = new RunJournal(path.join(dir, 'prune'), { keepPerJob: 3, now: clock() });
    for (let day = 0; day < 10; day++) {
      const run = await journal.start(start('daily'));
      run.log('a line');
      await run.finish({ status: 'succeeded', exitCode: 0 });
    }
    const other = await journal.start(start('other'));
    await other.finish({ status: 'succeeded', exitCode: 0 });
    const files = await readdir(journal.dir);
    // Each start prunes to the newest 3 finished runs; the start of `other` pruned `daily` a last time.
    expect((await journal.list({ job: 'daily' })).length).toBe(3);
    expect(files.filter((f) => f.endsWith('.log')).length).toBe(4);
    expect(files.length).toBe(8);
  });

  it('tells a run whose runner died from one still running', async () => {
    const journal = new RunJournal(path.join(dir, 'orphan'), { now: clock() });
    const run = await journal.start(start());
    expect(RunJournal.orphaned(run.record)).toBe(false);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    expect(RunJournal.orphaned({ ...run.record, pid: Number(dead.stdout.toString()) })).toBe(true);
    expect(RunJournal.orphaned({ ...run.record, pid: Number(dead.stdout.toString()), host: 'elsewhere' })).toBe(false);
    await run.finish({ status: 'succeeded', exitCode: 0 });
    expect(RunJournal.orphaned(await journal.read(run.id))).toBe(false);
  });

  it('tells a runner whose pid another process has now (another start) as gone, and a sweep closes its run', async () => {
    const journal = new RunJournal(path.join(dir, 'reused'), { now: clock() });
    const run = await journal.start(start('daily'));
    // The runner's own start is recorded with it (Linux: /proc/<pid>/stat).
    expect(run.record.pidStart).toMatch(/^\d+$/);
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const reused = { ...run.record, pid: other.pid!, pidStart: '1' };
      expect(RunJournal.orphaned(reused), 'a live process of the pid, started at another time').toBe(true);
      expect(RunJournal.runnerAliveHere(reused)).toBe(false);
      // The same pid with no start recorded (an older runner's record): a live process counts as the runner.
      const { pidStart: _unknown, ...older } = reused;
      expect(RunJournal.orphaned(older)).toBe(false);
      expect(RunJournal.runnerAliveHere(older)).toBe(true);
      await writeFile(journal.recordFile(run.id), JSON.stringify(reused));
      const { closed, alive } = await journal.closeGone('daily', { sweeper: 'the scheduler (pid 7 on box)' });
      expect(alive).toEqual([]);
      expect(closed).toMatchObject([{ id: run.id, status: 'failed', runnerGone: { bySweeper: 'the scheduler (pid 7 on box)' } }]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it("says a running run's runner is missing: gone when its process here exited, silent when nobody holds its job's lock; a finished run has none missing", async () => {
    const folder = path.join(dir, 'missing');
    const journal = RunJournal.of(folder, { now: clock() });
    const quiet = createLogger('test', { sink: () => undefined });
    const job = 'qb_nightly';
    await mkdir(folder, { recursive: true });
    const release = await lockJob(journal.jobStateFile(job), job, { logger: quiet });
    const run = await journal.start(start(job));
    expect(journal.jobStateFile(job)).toBe(path.join(folder, `${job}.json`));
    // Held by its runner (this process): alive, here or as seen from anywhere.
    expect(await journal.runnerMissing(run.record)).toBeUndefined();
    expect(await journal.runnerMissing({ ...run.record, host: 'elsewhere' })).toBeUndefined();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    expect(await journal.runnerMissing({ ...run.record, pid: Number(dead.stdout.toString()) })).toBe('gone');
    await release();
    // Nobody holds the lock: from another host's runner, nothing shows it alive.
    expect(await journal.runnerMissing({ ...run.record, host: 'elsewhere' })).toBe('silent');
    // Its last sign of life as every instant reads (2025-09-12 03:45:55Z), not raw ISO with milliseconds.
    expect(missingRunnerText({ ...run.record, updatedAt: '2025-09-12T03:45:55.123Z' }, 'silent')).toBe(
      'runner gone? no sign of life since 2025-09-12 03:45:55Z',
    );
    expect(missingRunnerText(run.record, 'gone')).toBe(`runner pid ${process.pid} on ${hostname()} is gone`);
    // A run that ended (its record is written before the lock is let go) has no runner missing, even read before it ended.
    await run.finish({ status: 'succeeded', exitCode: 0 });
    expect(await journal.runnerMissing({ ...run.record, status: 'running', host: 'elsewhere' })).toBeUndefined();
    // Nor one whose runner here (a backfill by hand) exited since, once it ended: a look reading every record first met that.
    expect(await journal.runnerMissing({ ...run.record, status: 'running', pid: Number(dead.stdout.toString()) })).toBeUndefined();
    expect(await journal.runnerMissing(await journal.read(run.id))).toBeUndefined();
  });

  it('a sweep closes the running runs of a job whose runner is gone, saying which scheduler found them, and gives back the disk their runner held', async () => {
    const journal = new RunJournal(path.join(dir, 'swept'), { now: clock() });
    const run = await journal.start(start('daily'));
    const otherJob = await journal.start(start('weekly'));
    // A temporary file of the run's record by another process than its runner: not the closed run's runner's to give back.
    const foreign = `.${run.id}.json.${process.pid + 1}.0123abcd.tmp`;
    await writeFile(path.join(journal.dir, foreign), '');
    /** The temporary files beside a run's record. */
    const tempsOf = async (id: string) => (await readdir(journal.dir)).filter((n) => n.startsWith(`.${id}.json.`) && n.endsWith('.tmp'));
    expect(await tempsOf(run.id)).toHaveLength(2);
    expect(await tempsOf(otherJob.id)).toHaveLength(1);
    const sweeper = 'the scheduler (pid 7 on box)';
    const { closed, alive } = await journal.closeGone('daily', { sweeper });
    expect(alive).toEqual([]);
    // (RunSweeper holds the job's lock for this call; the run's pid, this process's, is one runnerAliveHere never counts.)
    expect(closed.map((r) => r.id)).toEqual([run.id]);
    // The space the closed run held for its end is given back; the other job's running run keeps its own.
    expect(await tempsOf(run.id)).toEqual([foreign]);
    expect(await tempsOf(otherJob.id)).toHaveLength(1);
    expect(await journal.read(run.id)).toMatchObject({
      status: 'failed',
      runnerGone: { bySweeper: sweeper, lastSignOfLife: run.record.updatedAt },
      reason: expect.stringMatching(
        /; found by the scheduler \(pid 7 on box\) while no runner held the job's lock; run the job again: it resumes from its state file$/,
      ),
    });
  });

  it('a run stopped by an error records it: the fix for exit 2, how to resume otherwise', async () => {
    const journal = new RunJournal(path.join(dir, 'failed'), { now: clock() });
    const refused = await (await journal.start(start())).failWith(new UsageError('setting realm_id is required'), 'qbo-pipeline backfill …');
    expect(refused).toMatchObject({ status: 'failed', exitCode: 2, reason: 'setting realm_id is required', fix: 'setting realm_id is required' });
    expect(refused.resumeCommand).toBeUndefined();
    const broken = await (await journal.start(start())).failWith(new RunError('network down'), 'qbo-pipeline backfill …');
    expect(broken).toMatchObject({ status: 'failed', exitCode: 1, reason: 'network down', resumeCommand: 'qbo-pipeline backfill …' });
    expect(broken.fix).toBeUndefined();
    expect(await journal.tail(broken.id)).toEqual([expect.stringMatching(/ FATAL qbo-pipeline: network down$/)]);
  });
});

describe('RunJournal pruning and an advised reconcile', () => {
  it('keeps a run whose advised reconcile is still to do beyond keepPerJob, and lets it go once a reconcile has done it', async () => {
    const journal = new RunJournal(path.join(dir, 'advice'), { now: clock(), keepPerJob: 1 });
    const advising = await journal.start(start('daily'));
    await advising.finish({
      status: 'succeeded',
      exitCode: 0,
      reconcileCommand: 'node cli.js reconcile --job daily --streams invoices',
      reconcileStreams: ['invoices'],
    });
    const plain = [];
    for (let i = 0; i < 2; i++) {
      const run = await journal.start(start('daily'));
      plain.push(run.id);
      await run.finish({ status: 'succeeded', exitCode: 0 });
    }
    const reconcile = await journal.start({ ...start('daily'), kind: 'reconcile' });
    // Each start pruned the job to its newest finished run, but for the one whose advice is still to do.
    expect((await journal.list()).map((r) => r.id)).toEqual([reconcile.id, plain[1], advising.id]);
    await reconcile.finish({ status: 'succeeded', exitCode: 0 });
    const next = await journal.start(start('daily'));
    expect((await journal.list()).map((r) => r.id)).toEqual([next.id, reconcile.id]);
  });
});

describe('RunJournal pruning and a failed one-time trigger', () => {
  it("keeps the run that covered a failed trigger, and the trigger's failed run, beyond keepPerJob: its failure stays past", async () => {
    const stateDir = path.join(dir, 'failed-trigger');
    const journal = RunJournal.of(stateDir, { now: clock(), keepPerJob: 2 });
    const failed = await journal.start(start('daily'));
    await failed.finish({ status: 'failed', exitCode: 2, reason: 'QuickBooks rejected the refresh token (invalid_grant)' });
    const trigger: Trigger = {
      id: 'trg-20250912T034500Z-abcdef',
      at: failed.record.startedAt,
      atGiven: failed.record.startedAt,
      createdAt: failed.record.startedAt,
      backfill: { streams: ['invoices'], job: 'daily', ...start().range },
      status: 'failed',
      enabled: false,
      finishedAt: failed.record.finishedAt!,
      result: { exitCode: 2, message: 'QuickBooks rejected the refresh token (invalid_grant)', runId: failed.id, runIds: [failed.id] },
    };
    await triggerStore(stateDir).save(trigger);
    const covering = await journal.start(start('daily'));
    await covering.finish({ status: 'succeeded', exitCode: 0 });
    const newer = [];
    for (let i = 0; i < 4; i++) {
      const run = await journal.start(start('daily'));
      newer.push(run.id);
      await run.finish({ status: 'succeeded', exitCode: 0 });
    }
    const next = await journal.start(start('daily'));
    // Each start pruned the job to its newest 2 finished runs, but for the two the trigger's verdict reads.
    const runs = await journal.list();
    expect(runs.map((r) => r.id)).toEqual([next.id, newer[3], newer[2], covering.id, failed.id]);
    expect(isFailurePast(trigger, [trigger], runs)).toBe(true);
  });
});
