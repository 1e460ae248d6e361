/**
 * A runner killed with SIGKILL mid-run, with a real `scheduler --console` process running beside
 * it: the scheduler's next passes close the run (failed, runner gone) within a few seconds in the
 * runs journal, the console and `_pipeline_runs`, instead of the run saying `running` until its
 * job's next run (a day later for a nightly sync). Live runs, of another job and of the same job
 * on the lock, are never closed. The sweep also removes the dead runner's config folder (its client
 * secret and refresh token) from the temporary folder, never a live runner's. Every wait polls with a deadline; none races the 1 s lock refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunJournal } from '../packages/qbo-pipeline/src/index.js';
import type { RunRecord } from '../packages/qbo-pipeline/src/runs/RunRecord.js';
import { send } from './consoleHttp.js';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { configDirs, killRunningClis, runnerArgs, startRunnerCli, suiteHarness, waitFor } from './pipelineHarness.js';

const START = '2025-02-26T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
/** The scheduler judges a job's lock free after its lease: short here, so a dead runner's run is closed in seconds. */
const LEASE_SECONDS = 3;

const h = suiteHarness({ seed: 32, now: new Date(END), days: 3, counts: { invoices: 30 } });
beforeAll(() => {
  // The temporary folder of the runners and the scheduler: only this suite's config folders are there.
  process.env.TMPDIR = path.join(h.dir, 'tmp');
  mkdirSync(process.env.TMPDIR);
});
afterAll(() => {
  killRunningClis();
  h.emulator.setFaults({ rules: [] });
});

describe('a run whose runner was killed (kill -9) while a scheduler runs', () => {
  const schema = scratchSchema('gone');
  const stateDir = () => path.join(h.dir, `state-${schema}`);
  const journal = () => RunJournal.of(stateDir());
  const rowOf = async (runId: string, inSchema = schema) =>
    (
      await withClient((c) =>
        c.query(`SELECT status, exit_code, finished_at_utc, reason FROM "${inSchema}"._pipeline_runs WHERE run_id = $1`, [runId]).catch(() => ({ rows: [] })),
      )
    ).rows[0] as { status: string; exit_code: number | null; finished_at_utc: Date | null; reason: string | null } | undefined;

  /** A backfill by hand of `job`, its tap stuck on a QBO that does not answer; resolves once its run is in the journal and the warehouse (`rowSchema`'s). */
  async function liveRunner(
    job: string,
    targetConfig: string,
    notRun?: string,
    rowSchema = schema,
  ): Promise<{ child: ChildProcess; run: RunRecord; exited: Promise<number | null>; configDir: string }> {
    const before = configDirs();
    const runner = startRunnerCli(
      runnerArgs('backfill', { job, streams: 'invoices', start: START, end: END, tapConfig: h.tapConfig, targetConfig, stateDir: stateDir() }),
    );
    const run = await waitFor(
      `job ${job}'s run to say running in the journal and _pipeline_runs`,
      async () => {
        const [newest] = await journal().list({ job, limit: 1 });
        return newest && newest.id !== notRun && newest.pid === runner.child.pid && (await rowOf(newest.id, rowSchema))?.status === 'running' && newest;
      },
      60_000,
      runner.output,
    );
    // Its config folder was written before its run went into the warehouse.
    const [configDir, ...more] = configDirs().filter((n) => !before.includes(n));
    expect(more).toEqual([]);
    return { child: runner.child, run, exited: runner.exited, configDir: configDir! };
  }

  const kill9 = async (runner: { child: ChildProcess; exited: Promise<number | null> }) => {
    process.kill(-runner.child.pid!, 'SIGKILL'); // the runner, its tap and target: as the OOM killer would
    await runner.exited;
  };

  it(
    'is closed as failed, runner gone, by the scheduler once the lease of its lock has passed, in the journal, the console and _pipeline_runs; live runs of another job and of the same job are left running',
    { timeout: 240_000 },
    async () => {
      const targetConfig = await h.targetConfig(schema);
      h.emulator.setFaults({ rules: [{ fault: 'stall', from: 1 }] });
      const doomed = await liveRunner('qb_doomed', targetConfig);
      const other = await liveRunner('qb_other', targetConfig);

      const scheduler = startRunnerCli(
        ['scheduler', '--state-dir', stateDir(), '--interval', '0.5', '--lease-seconds', String(LEASE_SECONDS), '--console', '--console-port', '0'],
        // Where its sweeps close rows: the warehouse its environment names, as under docker compose.
        { env: { ...process.env, TARGET_POSTGRES_RAW_DATABASE_URL: databaseUrl(), TARGET_POSTGRES_RAW_SCHEMA: schema } },
      );
      const consoleUrl = await waitFor('the console', async () => /console at (http:\/\/\S+)/.exec(scheduler.output())?.[1], 30_000, scheduler.output);

      await kill9(doomed);
      // The scheduler's lease (3 s) for the lock to go stale, then its next pass (every 0.5 s).
      const closed = await waitFor(
        'the sweep to close the killed run in the journal',
        async () => {
          const record = await journal().read(doomed.run.id);
          return record.status !== 'running' && record;
        },
        90_000,
        scheduler.output,
      );
      expect(closed).toMatchObject({
        status: 'failed',
        runnerGone: { bySweeper: `the scheduler (pid ${scheduler.child.pid} on ${doomed.run.host})`, lastSignOfLife: doomed.run.updatedAt },
        reason: `its runner (pid ${doomed.child.pid} on ${doomed.run.host}) was gone (killed, or its machine restarted) before the run ended; when it stopped is unknown (last sign of life ${doomed.run.updatedAt}); found by the scheduler (pid ${scheduler.child.pid} on ${doomed.run.host}) while no runner held the job's lock; run the job again: it resumes from its state file`,
      });
      expect(configDirs(), "the killed runner's config folder is gone, the live runner's stays").toEqual([other.configDir]);
      expect(closed.exitCode).toBeUndefined();
      expect(closed.finishedAt).toBeUndefined();
      expect(closed.runnerGone?.byRun).toBeUndefined();
      // Its log says so: the sweep appends the line just after it rewrites the record.
      expect(
        await waitFor(
          "the killed run's log to say why it was closed",
          async () => {
            const tail = await journal().tail(doomed.run.id, 1);
            return tail.some((line) => line.includes('ERROR qbo-pipeline: ')) && tail;
          },
          15_000,
          scheduler.output,
        ),
      ).toEqual([expect.stringContaining(`ERROR qbo-pipeline: ${closed.reason}`)]);
      expect(
        await waitFor('its row in _pipeline_runs to be closed', async () => (await rowOf(doomed.run.id))?.status === 'failed' && rowOf(doomed.run.id), 15_000),
      ).toEqual({ status: 'failed', exit_code: null, finished_at_utc: null, reason: closed.reason });
      expect(scheduler.output()).toMatch(
        new RegExp(
          `WARN qbo-pipeline: run ${doomed.run.id} of job qb_doomed \\(started \\S+\\) still said running, but its runner \\(pid ${doomed.child.pid} on \\S+\\) was gone`,
        ),
      );

      // The console says so: failed, runner gone, and who found it; the other job's live run is running, nothing more.
      const runs = await send(consoleUrl, '/runs');
      const rowHtml = (id: string) => new RegExp(`<tr data-run="${id}"[^>]*>[\\s\\S]*?</tr>`).exec(runs.text)?.[0] ?? '';
      expect(rowHtml(doomed.run.id)).toMatch(/<span class="pill error">failed<\/span> <small>runner gone<\/small>/);
      expect(rowHtml(other.run.id)).toMatch(/<span class="pill info">running<\/span><\/td>/);
      const page = await send(consoleUrl, `/runs/${doomed.run.id}`);
      expect(page.text).toContain(`the scheduler (pid ${scheduler.child.pid} on ${doomed.run.host}) found it so`);

      // The other job's runner lived through those sweeps: its run was never closed.
      expect((await journal().read(other.run.id)).status).toBe('running');
      expect((await rowOf(other.run.id))?.status).toBe('running');

      // The same job runs again, on the lock: the sweeps that close the other job's run once it is killed leave it alone.
      const again = await liveRunner('qb_doomed', targetConfig, doomed.run.id);
      await kill9(other);
      await waitFor(
        "the sweep to close the other job's killed run",
        async () => (await journal().read(other.run.id)).status === 'failed',
        30_000,
        scheduler.output,
      );
      expect(configDirs()).toEqual([again.configDir]);
      expect(await journal().read(again.run.id)).toMatchObject({ status: 'running' });
      expect((await journal().read(again.run.id)).runnerGone).toBeUndefined();
      expect((await rowOf(again.run.id))?.status).toBe('running');
      const later = await send(consoleUrl, '/runs');
      expect(new RegExp(`<tr data-run="${again.run.id}"[^>]*>[\\s\\S]*?</tr>`).exec(later.text)?.[0]).toMatch(/<span class="pill info">running<\/span><\/td>/);

      await kill9(again);
      h.emulator.setFaults({ rules: [] });
      scheduler.child.kill('SIGTERM');
      await scheduler.exited;
    },
  );

  it(
    "closes the _pipeline_runs row of a run that loaded elsewhere with its own --target-config, connecting as that file says (the scheduler's own settings name another server)",
    { timeout: 120_000 },
    async () => {
      const own = scratchSchema('gone_own');
      const ownConfig = await h.targetConfig(own);
      // The scheduler's warehouse is another PostgreSQL altogether (nothing listens there): its settings cannot reach the run's row.
      const elsewhere = path.join(h.dir, 'target-elsewhere.json');
      writeFileSync(elsewhere, JSON.stringify({ database_url: 'postgres://nobody@127.0.0.1:1/nowhere', schema }));
      h.emulator.setFaults({ rules: [{ fault: 'stall', from: 1 }] });
      const doomed = await liveRunner('qb_own', ownConfig, undefined, own);
      const where = new URL(databaseUrl());
      // Where its row went, and the file that said so: no user, no password.
      expect(doomed.run.warehouse).toEqual({
        host: where.hostname,
        port: Number(where.port || 5432),
        database: where.pathname.slice(1),
        schema: own,
        targetConfig: ownConfig,
      });
      if (where.password) expect(readFileSync(journal().recordFile(doomed.run.id), 'utf8')).not.toContain(where.password);

      const { TARGET_POSTGRES_RAW_DATABASE_URL: _url, TARGET_POSTGRES_RAW_SCHEMA: _schema, ...env } = process.env;
      const scheduler = startRunnerCli(
        ['scheduler', '--state-dir', stateDir(), '--interval', '0.5', '--lease-seconds', String(LEASE_SECONDS), '--target-config', elsewhere],
        { env },
      );
      await kill9(doomed);
      await waitFor(
        'the sweep to close the killed run in the journal',
        async () => (await journal().read(doomed.run.id)).status === 'failed',
        30_000,
        scheduler.output,
      );
      const closed = await journal().read(doomed.run.id);
      expect(
        await waitFor(
          'its row in its own warehouse to be closed',
          async () => (await rowOf(doomed.run.id, own))?.status === 'failed' && rowOf(doomed.run.id, own),
          15_000,
          scheduler.output,
        ),
      ).toEqual({ status: 'failed', exit_code: null, finished_at_utc: null, reason: closed.reason });
      expect(scheduler.output()).not.toContain('could not close');

      h.emulator.setFaults({ rules: [] });
      scheduler.child.kill('SIGTERM');
      await scheduler.exited;
    },
  );
});
