import { describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { createLogger } from 'singer-kit';
import { RunJournal, runBackfill, type BackfillHooks } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, scratchRole, scratchSchema, withClient } from './support/db.js';
import { startPgProxy, type PgProxy } from './support/pgProxy.js';
import { expectExactly, runCliProcess, runnerArgs, suiteHarness, waitFor } from './pipelineHarness.js';

/**
 * What an on-call engineer meets in the warehouse at night: another session holding a lock on a
 * raw table. The run must stop with one line saying so (exit 1) instead of waiting without a word
 * for as long as the lock is held, and the printed command must resume it with nothing lost.
 */
const START = '2025-02-23';
const START_Z = '2025-02-23T00:00:00Z';
const END_Z = '2025-03-01T00:00:00Z';

const h = suiteHarness({ seed: 28, now: new Date(END_Z), days: 6, counts: { invoices: 120, customers: 20 } });

describe('qbo-pipeline when another session holds a lock on a raw table', () => {
  const schema = scratchSchema('lockheld');
  const stateDir = () => path.join(h.dir, `state-${schema}`);
  // The lock is waited for at most reconnect_timeout_seconds (here 1 s) per attempt, as long as retrying lasts.
  const args = () =>
    h.backfillArgs(schema, { streams: 'invoices,customers', start: START, end: END_Z, stateDir: stateDir() }, { reconnect_timeout_seconds: 1 });

  it('stops with exit 1 and a line naming the lock, writes no state past it, and the resume command then loads everything once', async () => {
    const first = await runCliProcess(await args());
    expect(first.code, first.stderr).toBe(0);

    // An analyst's session that took a lock on raw invoices and went to lunch.
    const holder = new pg.Client({ connectionString: databaseUrl() });
    await holder.connect();
    let locked: Awaited<ReturnType<typeof runCliProcess>>;
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${pg.escapeIdentifier(schema)}.invoices IN ACCESS EXCLUSIVE MODE`);
      locked = await runCliProcess([...(await args()), '--fresh']);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    expect(locked.code, locked.stderr).toBe(1);
    const failed = locked.stdout.split('\n').find((l) => l.startsWith('FAILED: '));
    expect(failed).toMatch(
      /^FAILED: target-postgres-raw: database transaction failed while .*lock timeout \[55P03\].*another session holds a lock on a table this needs/,
    );
    const resume = locked.stdout.split('\n')[locked.stdout.split('\n').indexOf('resume with:') + 1]?.trim();
    expect(resume).toMatch(/ backfill --job qb_customers_invoices /);

    // The lock is gone: the printed command resumes, and the tables equal the emulator's records.
    const rerun = await runCliProcess((resume as string).split(' ').slice(2));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/^backfill qb_customers_invoices: done in/);
    await expectExactly(databaseUrl(), schema, h.emulator, ['invoices', 'customers'], START_Z, END_Z);
  });
});

describe('qbo-pipeline when its state file cannot be written (a full disk, a read-only folder)', () => {
  const schema = scratchSchema('statefull');
  const stateDir = () => path.join(h.dir, `state-${schema}`);
  const request = async () => ({
    streams: ['invoices', 'customers'],
    start: START,
    end: END_Z,
    tapConfig: h.tapConfig,
    targetConfig: await h.targetConfig(schema),
    stateDir: stateDir(),
  });
  const quiet: BackfillHooks = { logger: createLogger('qbo-pipeline', { sink: () => undefined }), onChildLog: () => undefined };

  it('fails like any run (exit 1, what and where, the resume command), and says so in _pipeline_runs instead of "running" for ever', async () => {
    const stateFile = path.join(stateDir(), 'qb_customers_invoices.json');
    // Once tap and target run, the state file's name is taken by a folder that is not empty: every write of it fails.
    const result = await runBackfill(await request(), {
      ...quiet,
      onSpawn: () => {
        mkdirSync(stateFile, { recursive: true });
        writeFileSync(path.join(stateFile, 'in-the-way'), '');
      },
    });
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.failure?.reason.startsWith(`cannot write state file ${stateFile}: `)).toBe(true);
    // Not a full disk (a folder in the way): the line says what to make writable; a full disk is test/stateDiskFull's.
    expect(result.failure?.reason).toMatch(/: EISDIR: .*; make .* writable, then run again: it resumes/);
    expect(result.resumeCommand).toMatch(/ backfill --job qb_customers_invoices /);
    const rows = await withClient((c) =>
      c.query(`SELECT status, exit_code, reason FROM ${pg.escapeIdentifier(schema)}._pipeline_runs WHERE run_id = $1`, [result.runId]),
    );
    expect(rows.rows).toEqual([{ status: 'failed', exit_code: 1, reason: result.failure?.reason }]);

    // Fixed: the run resumes (here from nothing, as no state was kept) and the tables equal the emulator's records.
    rmSync(stateFile, { recursive: true });
    const again = await runBackfill(await request(), quiet);
    expect(again.ok, again.failure?.reason).toBe(true);
    await expectExactly(databaseUrl(), schema, h.emulator, ['invoices', 'customers'], START_Z, END_Z);
  });
});

describe('qbo-pipeline when the warehouse accepts connections but never answers (a hung host, a proxy that swallows bytes)', () => {
  it('fails within the timeouts it was given (exit 1, the line naming what did not answer, the resume command), instead of hanging the night', async () => {
    const swallower = net.createServer((socket) => socket.on('data', () => undefined));
    await new Promise<void>((resolve) => swallower.listen(0, '127.0.0.1', resolve));
    const { port } = swallower.address() as net.AddressInfo;
    const schema = 'raw';
    let result: Awaited<ReturnType<typeof runCliProcess>>;
    try {
      result = await runCliProcess(
        runnerArgs('backfill', {
          streams: 'invoices',
          start: START,
          end: END_Z,
          tapConfig: h.tapConfig,
          targetConfig: await h.targetConfig(`swallowed-${port}`, {
            database_url: `postgres://loader:pw@127.0.0.1:${port}/warehouse`,
            schema,
            connect_timeout_seconds: 0.5,
            reconnect_timeout_seconds: 1,
          }),
          stateDir: path.join(h.dir, `state-swallowed-${port}`),
        }),
      );
    } finally {
      swallower.close();
    }
    // A run that waited on the silent server (no connect_timeout_seconds) would never end: the test's timeout fails it.
    expect(result.code, result.stderr).toBe(1);
    // The runner's own lines do not say the reason again (the target's FATAL line and the summary's FAILED line do), but say the row is not written.
    const runnerLines = result.stderr.split('\n').filter((l) => l.includes(' qbo-pipeline: '));
    expect(runnerLines.join('\n')).toMatch(/could not record run \S+ in raw\._pipeline_runs: the same error the run failed on/);
    expect(runnerLines.filter((l) => l.includes('gave no answer'))).toEqual([]);
    expect(result.stdout.split('\n').find((l) => l.startsWith('FAILED: '))).toMatch(
      new RegExp(
        `^FAILED: target-postgres-raw: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/warehouse as loader: PostgreSQL gave no answer to the connection attempt within connect_timeout_seconds \\(0\\.5 s\\) \\[ETIMEDOUT\\]; still failing after`,
      ),
    );
    expect(result.stdout).toMatch(/resume with:\n\s+\S.* backfill --job qb_invoices /);
  });
});

describe('qbo-pipeline when the warehouse takes no writes (a standby after a failover, default_transaction_read_only)', () => {
  const schema = scratchSchema('readonly');
  const { name: role, url } = scratchRole('readonly');

  it('fails with exit 1 and a line saying how to tell a standby from a read-only setting; once writable, the resume command loads everything once', async () => {
    await withClient((c) => c.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`));
    const stateDir = path.join(h.dir, `state-${schema}`);
    const failed = await runCliProcess(
      await h.backfillArgs(
        schema,
        { streams: 'invoices,customers', start: START, end: END_Z, stateDir },
        { database_url: url(), reconnect_timeout_seconds: 1 },
      ),
    );
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stdout.split('\n').find((l) => l.startsWith('FAILED: '))).toMatch(
      new RegExp(
        `^FAILED: target-postgres-raw: cannot connect to PostgreSQL at .* as ${role}: cannot execute CREATE TABLE in a read-only transaction \\[25006\\]; still failing after .*; the server takes no writes: it is a standby .*pg_is_in_recovery\\(\\).*, or default_transaction_read_only is on for database \\S+ or user ${role} `,
      ),
    );
    expect(failed.stderr).toMatch(new RegExp(`could not record run \\S+ in ${schema}\\._pipeline_runs as it started: .*read-only transaction`));
    const resume = failed.stdout.split('\n')[failed.stdout.split('\n').indexOf('resume with:') + 1]?.trim();
    expect(resume).toMatch(/ backfill --job qb_customers_invoices /);

    await withClient((c) => c.query(`ALTER ROLE ${role} RESET default_transaction_read_only`));
    const rerun = await runCliProcess((resume as string).split(' ').slice(2));
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectExactly(databaseUrl(), schema, h.emulator, ['invoices', 'customers'], START_Z, END_Z);
    const runs = await withClient((c) => c.query(`SELECT status, exit_code FROM ${pg.escapeIdentifier(schema)}._pipeline_runs ORDER BY started_at_utc`));
    expect(runs.rows.at(-1)).toEqual({ status: 'succeeded', exit_code: 0 });
  });
});

describe('qbo-pipeline when someone dropped the warehouse schema between two runs', () => {
  const schema = scratchSchema('schemagone');
  const args = async (...extra: string[]) => [
    ...(await h.backfillArgs(schema, { streams: 'invoices,customers', start: START, end: END_Z, stateDir: path.join(h.dir, `state-${schema}`) })),
    ...extra,
  ];

  it('the next run warns that the schema is made anew behind the bookmarks, and --fresh loads everything again', async () => {
    expect((await runCliProcess(await args())).code).toBe(0);
    await withClient((c) => c.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`));
    const next = await runCliProcess(await args());
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(
      new RegExp(
        `WARN .*schema ${schema} did not exist \\(dropped or renamed, or a new one in the settings\\), though state file \\S+qb_customers_invoices\\.json says this job loaded up to (customers|invoices) \\S+, (customers|invoices) \\S+: it is made anew .*otherwise load everything again with --fresh`,
      ),
    );
    const fresh = await runCliProcess(await args('--fresh'));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).not.toMatch(/did not exist/);
    await expectExactly(databaseUrl(), schema, h.emulator, ['invoices', 'customers'], START_Z, END_Z);
  });
});

describe('a run that ends while the warehouse is down (a PostgreSQL restart failed it)', () => {
  const schema = scratchSchema('rowbehind');
  const stateDir = () => path.join(h.dir, `state-${schema}`);
  const quiet: BackfillHooks = { logger: createLogger('qbo-pipeline', { sink: () => undefined }), onChildLog: () => undefined };
  const rowOf = async (runId: string) =>
    (
      await withClient((c) =>
        c.query(`SELECT status, exit_code, finished_at_utc, reason FROM ${pg.escapeIdentifier(schema)}._pipeline_runs WHERE run_id = $1`, [runId]),
      )
    ).rows[0] as { status: string; exit_code: number | null; finished_at_utc: Date | null; reason: string | null } | undefined;

  it("its _pipeline_runs row, left running, says failed with the journal's reason and end after the scheduler's next pass once the warehouse is back", async () => {
    // The warehouse the run knows is this proxy's address: it goes away mid-run, and comes back at the same address.
    const proxy = await startPgProxy(databaseUrl());
    const port = Number(new URL(proxy.url).port);
    let back: PgProxy | undefined;
    // QBO's answers wait until the warehouse is gone: the run is under way, its row says running.
    const answer = h.emulator.holdAnswers();
    try {
      const journal = RunJournal.of(stateDir());
      const targetConfig = await h.targetConfig(schema, { database_url: proxy.url, reconnect_timeout_seconds: 1 });
      const ended = runBackfill({ streams: ['invoices'], start: START, end: END_Z, tapConfig: h.tapConfig, targetConfig, stateDir: stateDir() }, quiet);
      const runId = await waitFor(
        'the run to say running in _pipeline_runs',
        async () => {
          const [run] = await journal.list({ limit: 1 });
          return run !== undefined && (await rowOf(run.id).catch(() => undefined))?.status === 'running' && run.id;
        },
        60_000,
      );
      await proxy.close();
      answer();
      const result = await ended;
      expect(result.ok).toBe(false);
      const record = await journal.read(runId);
      expect(record).toMatchObject({ status: 'failed', exitCode: 1, rowBehind: true });
      expect(record.reason).toMatch(/^target-postgres-raw: /);
      // Its end could not reach the warehouse: the row still says running, as the journal says it is behind.
      expect(await rowOf(runId)).toMatchObject({ status: 'running' });

      // The warehouse is back; the scheduler's next pass (not the job's next run) copies the journal's outcome in.
      back = await startPgProxy(databaseUrl(), port);
      const pass = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir()], {
        env: { ...process.env, TARGET_POSTGRES_RAW_DATABASE_URL: back.url, TARGET_POSTGRES_RAW_SCHEMA: schema },
      });
      expect(pass.code, pass.stderr).toBe(0);
      expect(await rowOf(runId)).toEqual({ status: 'failed', exit_code: 1, finished_at_utc: new Date(record.finishedAt!), reason: record.reason });
      const { rowBehind, ...caughtUp } = await journal.read(runId);
      expect(rowBehind).toBeUndefined();
      expect(caughtUp).toEqual((({ rowBehind: _behind, ...rest }) => rest)(record));
    } finally {
      answer();
      await proxy.close().catch(() => undefined);
      await back?.close();
    }
  });
});
