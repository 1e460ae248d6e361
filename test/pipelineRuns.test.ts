import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from 'singer-kit';
import { lock } from 'proper-lockfile';
import { JobBusyError, RunJournal, runBackfill, type BackfillHooks } from '../packages/qbo-pipeline/src/index.js';
import { jobLockFile } from '../packages/qbo-pipeline/src/jobLock.js';
import { processOnThisHost } from '../packages/qbo-pipeline/src/processOnHost.js';
import { scratchSchema, withClient } from './support/db.js';
import { runCliProcess, RUNNER_CLI, runnerArgs, suiteHarness } from './pipelineHarness.js';
import type { RunRecord } from '../packages/qbo-pipeline/src/runs/RunRecord.js';

/** The runs journal (`<state-dir>/runs/`) and `<schema>._pipeline_runs`, as real runs write them. */
const START = '2025-02-26T00:00:00Z';
const END = '2025-03-01T00:00:00Z';

const h = suiteHarness({ seed: 21, now: new Date(END), days: 3, counts: { invoices: 60, customers: 12 } });

const logs: string[] = [];
const quiet: BackfillHooks = { logger: createLogger('qbo-pipeline', { sink: (line) => logs.push(line) }), onChildLog: () => undefined };

describe('every runner run is journaled and recorded next to _load_runs', () => {
  const schema = scratchSchema('runs');
  const stateDir = () => path.join(h.dir, `state-${schema}`);

  it('a successful run: the journal holds its progress, tap run ids and log; _pipeline_runs links the target runs', async () => {
    const result = await runBackfill(
      { streams: ['invoices', 'customers'], start: START, end: END, tapConfig: h.tapConfig, targetConfig: await h.targetConfig(schema), stateDir: stateDir() },
      quiet,
    );
    expect(result.ok, result.failure?.reason).toBe(true);
    const journal = RunJournal.of(stateDir());
    const record = await journal.read(result.runId);
    expect(record).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      tapExit: 0,
      targetExit: 0,
      kind: 'backfill',
      job: 'qb_customers_invoices',
      streams: ['invoices', 'customers'],
      range: { start: START, end: END },
      attempt: 1,
      pid: process.pid,
    });
    expect(record.tapRunIds).toEqual(result.runIds);
    expect(record.tapRunIds).toHaveLength(1);
    expect(record.progress.map((p) => [p.stream, p.complete, p.daysDone])).toEqual([
      ['invoices', true, 3],
      ['customers', true, 3],
    ]);
    for (const p of record.progress) expect(p.wallMs).toBeLessThanOrEqual(result.durationMs);
    expect(record.resumeCommand).toBeUndefined();
    expect(record.fix).toBeUndefined();
    const log = await readFile(record.logFile, 'utf8');
    expect(log).toMatch(/\[tap\] INFO tap-quickbooks: summary: /);
    expect(log).toMatch(/\[target\] INFO target-postgres-raw: done \(end of input\)/);
    expect(log).not.toContain(h.emulator.clientSecret);

    const rows = await withClient((c) =>
      c.query(`SELECT p.*, (SELECT array_agg(load_run_id::text) FROM "${schema}"._load_runs) AS all_load_runs FROM "${schema}"._pipeline_runs p`),
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({
      run_id: result.runId,
      status: 'succeeded',
      exit_code: 0,
      tap_exit: 0,
      target_exit: 0,
      reason: null,
      tap_run_ids: result.runIds,
      job: 'qb_customers_invoices',
    });
    expect(rows.rows[0].load_run_ids).toEqual(rows.rows[0].all_load_runs);
    expect(rows.rows[0].finished_at_utc).toBeInstanceOf(Date);
    // What it moved, exactly: every invoice and customer of the 3 days, read and new; no deletion, so no reconcile to advise.
    expect(record.moved).toEqual({ loaded: 72, deleted: 0, read: 72, inserted: 72, updated: 0, unchanged: 0 });
    expect(rows.rows[0]).toMatchObject({ rows_loaded: '72', rows_deleted: '0', reconcile_command: null });
  });

  it('a run whose tap is refused (exit 2): the target still reads "succeeded", _pipeline_runs says failed with the tap\'s exit and reason; the summary says what to fix, no resume command', async () => {
    const badTap = path.join(h.dir, 'tap-bad-token.json');
    await writeFile(
      badTap,
      JSON.stringify({
        ...JSON.parse(await readFile(h.tapConfig, 'utf8')),
        refresh_token: 'AB11-not-a-token-the-emulator-issued',
        token_store: path.join(h.dir, 'tokens-bad.json'),
      }),
    );
    const run = await runCliProcess(
      runnerArgs('backfill', {
        streams: 'invoices',
        start: START,
        end: END,
        tapConfig: badTap,
        targetConfig: await h.targetConfig(schema),
        stateDir: stateDir(),
      }),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toMatch(/FAILED: tap-quickbooks: .*invalid_grant/);
    expect(run.stdout.split('invalid_grant')).toHaveLength(2);
    expect(run.stdout).toContain(
      'fix that first (exit 2; running again unchanged fails the same way), then run the same command again: it resumes from the state file',
    );
    expect(run.stdout).not.toContain('resume with');
    const runId = /\(run (run-\S+)\)/.exec(run.stdout)?.[1];
    expect(runId).toBeDefined();

    const record = await RunJournal.of(stateDir()).read(runId!);
    expect(record).toMatchObject({ status: 'failed', exitCode: 2, tapExit: 2, targetExit: 0, fix: expect.stringMatching(/invalid_grant/) });
    expect(record.resumeCommand).toBeUndefined();
    // Its tap started (and was refused by QuickBooks): a run that failed, not one that did not start.
    expect(record.notStarted).toBeUndefined();
    const { rows } = await withClient((c) =>
      c.query(`SELECT status, exit_code, tap_exit, target_exit, reason FROM "${schema}"._pipeline_runs WHERE run_id = $1`, [runId]),
    );
    expect(rows).toEqual([{ status: 'failed', exit_code: 2, tap_exit: 2, target_exit: 0, reason: expect.stringMatching(/^tap-quickbooks: .*invalid_grant/) }]);
    // What the target alone records for the same run: a clean end of input.
    const target = await withClient((c) => c.query(`SELECT status, exit_reason FROM "${schema}"._load_runs ORDER BY started_at_utc DESC LIMIT 1`));
    expect(target.rows[0]).toEqual({ status: 'succeeded', exit_reason: 'end of input' });
  });

  it('a run refused before it starts (damaged state file) is journaled too, as failed and not started, with what to fix', async () => {
    const job = 'qb_items';
    await writeFile(path.join(stateDir(), `${job}.json`), '{"bookmarks": ');
    await expect(
      runBackfill(
        { streams: ['items'], start: START, end: END, tapConfig: h.tapConfig, targetConfig: await h.targetConfig(schema), stateDir: stateDir() },
        quiet,
      ),
    ).rejects.toThrow(/state file .* is not valid JSON/);
    const [latest] = await RunJournal.of(stateDir()).list({ job, limit: 1 });
    // A failure (the job did not run: a scheduled one must be seen), said as one that did not start, not one that loaded nothing.
    expect(latest).toMatchObject({ status: 'failed', notStarted: true, exitCode: 2, job, fix: expect.stringMatching(/state file .* is not valid JSON/) });
    expect(latest!.resumeCommand).toBeUndefined();
    expect(await RunJournal.of(stateDir()).tail(latest!.id, 1)).toEqual([expect.stringMatching(/FATAL qbo-pipeline: state file .* is not valid JSON/)]);
  });

  it('a --fresh run that could not start (its config folder refused) leaves its state file where it was, as its record says', async () => {
    const job = 'qb_customers_invoices';
    const stateFile = path.join(stateDir(), `${job}.json`);
    const before = await readFile(stateFile, 'utf8');
    const run = await runCliProcess(
      [...(await h.backfillArgs(schema, { streams: 'invoices,customers', start: START, end: END, stateDir: stateDir() })), '--fresh'],
      { env: { ...process.env, TMPDIR: path.join(h.dir, 'no-such-tmp') } },
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/cannot write the tap's and target's config files/);
    const [latest] = await RunJournal.of(stateDir()).list({ job, limit: 1 });
    expect(latest).toMatchObject({ status: 'failed', notStarted: true, fresh: true });
    // "did not start: … its state file is as it was": true only if --fresh did not set it aside yet.
    expect(await readFile(stateFile, 'utf8')).toBe(before);
  });

  it('a run refused because its job is busy never started: the journal does not count it', async () => {
    const job = 'qb_busy';
    const stateFile = path.join(stateDir(), `${job}.json`);
    const release = await lock(stateFile, { realpath: false, lockfilePath: jobLockFile(stateFile) });
    try {
      await expect(
        runBackfill(
          { job, streams: ['items'], start: START, end: END, tapConfig: h.tapConfig, targetConfig: await h.targetConfig(schema), stateDir: stateDir() },
          quiet,
        ),
      ).rejects.toThrow(JobBusyError);
    } finally {
      await release();
    }
    expect(await RunJournal.of(stateDir()).list({ job })).toEqual([]);
  });

  it("a run whose runner was killed says running until the job's next run, which closes it in the journal and _pipeline_runs: failed, exit and end unknown; a live runner's run is never closed", async () => {
    const job = 'qb_killed';
    const targetConfig = await h.targetConfig(schema);
    const journal = RunJournal.of(stateDir());
    const request = { job, streams: ['invoices'], start: START, end: END, tapConfig: h.tapConfig, targetConfig, stateDir: stateDir() };
    const rowOf = async (runId: string) =>
      (
        await withClient((c) =>
          c.query(`SELECT status, exit_code, finished_at_utc, reason FROM "${schema}"._pipeline_runs WHERE run_id = $1`, [runId]).catch(() => ({ rows: [] })),
        )
      ).rows[0] as { status: string; exit_code: number | null; finished_at_utc: Date | null; reason: string | null } | undefined;

    // A runner in its own process group, its tap stuck on a QBO that does not answer, once its run is in the journal and the warehouse.
    h.emulator.setFaults({ rules: [{ fault: 'stall', from: 1 }] });
    const runner = spawn(process.execPath, [RUNNER_CLI, ...runnerArgs('backfill', { ...request, streams: 'invoices' })], {
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => runner.on('close', resolve));
    let killed: RunRecord | undefined;
    try {
      for (;;) {
        [killed] = await journal.list({ job });
        if (killed && (await rowOf(killed.id))?.status === 'running') break;
        await sleep(100);
      }
      // While it lives, the job is its own: another run is refused and closes nothing.
      await expect(runBackfill(request, { ...quiet, lockStaleMs: 2_000 })).rejects.toThrow(JobBusyError);
      expect((await journal.read(killed.id)).status).toBe('running');
    } finally {
      process.kill(-runner.pid!, 'SIGKILL'); // the runner, its tap and target: kill -9, as the OOM killer would
      await exited;
      h.emulator.setFaults({ rules: [] });
    }
    expect(killed.pid).toBe(runner.pid);
    expect((await journal.read(killed.id)).status).toBe('running');
    expect((await rowOf(killed.id))?.status).toBe('running');

    // A run of the job whose runner still exists on this host (one that lost the lock by stalling past its staleness) is left alone.
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' });
    const aliveId = 'run-20250101T000000Z-a11ce0';
    await mkdir(journal.dir, { recursive: true });
    await writeFile(
      journal.recordFile(aliveId),
      // Its own process and start: a process that only has the pid of a gone runner is no runner (another start: runner gone).
      JSON.stringify({
        ...killed,
        id: aliveId,
        pid: alive.pid,
        pidStart: processOnThisHost(alive.pid!)?.start,
        host: hostname(),
        logFile: journal.logFile(aliveId),
      }),
    );
    await appendFile(journal.logFile(aliveId), '');

    let result;
    try {
      // The killed runner's lock goes stale 2 s after its last refresh; until then the job is busy.
      for (;;) {
        result = await runBackfill(request, { ...quiet, lockStaleMs: 2_000 }).catch((error: unknown) => {
          if (error instanceof JobBusyError) return undefined;
          throw error;
        });
        if (result) break;
        await sleep(200);
      }
    } finally {
      alive.kill('SIGKILL');
    }
    expect(result.ok, result.failure?.reason).toBe(true);

    const closed = await journal.read(killed.id);
    expect(closed).toMatchObject({
      status: 'failed',
      runnerGone: { byRun: result.runId, lastSignOfLife: killed.updatedAt },
      reason: `its runner (pid ${runner.pid} on ${hostname()}) was gone (killed, or its machine restarted) before the run ended; when it stopped is unknown (last sign of life ${killed.updatedAt}); run ${result.runId} went on from the job's state file`,
    });
    expect(closed.exitCode).toBeUndefined();
    expect(closed.finishedAt).toBeUndefined();
    expect(await journal.tail(killed.id, 1)).toEqual([expect.stringContaining(`ERROR qbo-pipeline: ${closed.reason}`)]);
    expect(await rowOf(killed.id)).toEqual({ status: 'failed', exit_code: null, finished_at_utc: null, reason: closed.reason });
    expect(logs).toContainEqual(
      expect.stringContaining(`WARN qbo-pipeline: run ${killed.id} of job ${job} (started ${killed.startedAt}) still said running, but its runner`),
    );
    expect(await journal.tail(result.runId, 200)).toContainEqual(expect.stringContaining(`run ${killed.id} of job ${job}`));

    expect((await journal.read(aliveId)).status).toBe('running');
    expect(logs).toContainEqual(
      expect.stringContaining(`run ${aliveId} of job ${job} says running and its runner (pid ${alive.pid}) still exists on this host`),
    );
    expect(await rowOf(result.runId)).toMatchObject({ status: 'succeeded', exit_code: 0 });
  });
});

describe('a _pipeline_runs made by an older runner', () => {
  const schema = scratchSchema('runs_old');
  /** The table as runners wrote it before it had rows_loaded, rows_deleted, reconcile_command and late. */
  const OLD_TABLE = `CREATE TABLE "${schema}"._pipeline_runs (
  run_id text PRIMARY KEY, kind text NOT NULL, job text NOT NULL, company text, streams text[] NOT NULL,
  range_start_utc timestamptz NOT NULL, range_end_utc timestamptz NOT NULL, trigger_id text, schedule_id text,
  attempt integer NOT NULL, host text NOT NULL, pid integer NOT NULL, started_at_utc timestamptz NOT NULL,
  finished_at_utc timestamptz, status text NOT NULL, exit_code integer, tap_exit integer, target_exit integer, reason text,
  tap_run_ids text[] NOT NULL DEFAULT '{}', load_run_ids uuid[] NOT NULL DEFAULT '{}')`;
  /** An older runner's row, as its upsert wrote it (every column it knew). */
  const oldRow = (runId: string) =>
    withClient((c) =>
      c.query(
        `INSERT INTO "${schema}"._pipeline_runs (run_id, kind, job, company, streams, range_start_utc, range_end_utc, trigger_id, schedule_id, attempt, host, pid, started_at_utc, finished_at_utc, status, exit_code, tap_exit, target_exit, reason, tap_run_ids, load_run_ids)
VALUES ($1, 'sync', 'qb_invoices', NULL, '{invoices}', '2025-02-01T00:00:00Z', '2025-02-02T00:00:00Z', NULL, NULL, 1, 'old-host', 4242, '2025-02-02T03:00:00Z', '2025-02-02T03:01:00Z', 'succeeded', 0, 0, 0, NULL, '{tap-run-old}', '{}')`,
        [runId],
      ),
    );
  const rowsOf = async () =>
    (await withClient((c) => c.query(`SELECT * FROM "${schema}"._pipeline_runs ORDER BY run_id`))).rows as Array<Record<string, unknown>>;

  it('gains the new columns on the next run, in place: its rows stay as they were (null in the new columns), and an older runner can still write its rows', async () => {
    await withClient(async (c) => {
      await c.query(`CREATE SCHEMA "${schema}"`);
      await c.query(OLD_TABLE);
    });
    await oldRow('run-20250202T030000Z-0000a1');
    const [before] = await rowsOf();
    const result = await runBackfill(
      {
        job: 'qb_invoices',
        streams: ['invoices'],
        start: START,
        end: END,
        tapConfig: h.tapConfig,
        targetConfig: await h.targetConfig(schema),
        stateDir: path.join(h.dir, `state-${schema}`),
      },
      quiet,
    );
    expect(result.ok, result.failure?.reason).toBe(true);
    const [old, run] = await rowsOf();
    expect(old).toEqual({ ...before, rows_loaded: null, rows_deleted: null, reconcile_command: null, late: null });
    expect(run).toMatchObject({ run_id: result.runId, status: 'succeeded', rows_loaded: '60', rows_deleted: '0', reconcile_command: null, late: null });
    // A runner from before the columns, still running somewhere, writes its row as it always did.
    await oldRow('run-20250203T030000Z-0000a2');
    expect((await rowsOf())[1]).toMatchObject({ run_id: 'run-20250203T030000Z-0000a2', rows_loaded: null, reconcile_command: null });
  });
});
