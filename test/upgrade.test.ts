/**
 * Upgrading (docs/runbook.md#upgrading): a user runs an earlier version every night, then pulls
 * today's and the next night's run must just work. The earlier version's state folder and
 * warehouse are built here in the shapes the version of 2026-12-04 (0d2b0e8, the first with
 * `sync`, the runs journal and schedules) left them: stream tables without `payload_sha256` and
 * `deleted_at_utc` (it did not track deletions), `_pipeline_runs` without `rows_loaded`,
 * `rows_deleted`, `reconcile_command` and `late`, `_load_runs`/`_load_stats` without `deleted`, no
 * `_company`; run records without `moved` or reconcile fields, one of them still `running` though
 * its runner is gone; a schedule and a pending slot of it. A deletion happened in QBO while it ran,
 * which it could not mark.
 *
 * Today's scheduler then runs the pending slot: it resumes from the bookmarks (nothing is read
 * again), loads the night's changes exactly, marks the night's deletion, closes the dead run,
 * gives `_pipeline_runs` its columns, and advises the one reconcile that finds the deletion of the
 * earlier version's time; the console's overview lists it until the reconcile has run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { consoleOptions, startConsole } from '../packages/qbo-pipeline/src/index.js';
import { Warehouse } from '../packages/qbo-pipeline/src/Warehouse.js';
import { send } from './consoleHttp.js';
import { codeBlocks, documentedLine } from './docsHarness.js';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { dayStart, diffWithTruth, runCliProcess, runnerArgs, suiteHarness, tableCell } from './pipelineHarness.js';

const DAY = 86_400_000;
const second = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

// CDC looks back 30 days from QBO's clock, so this company lives in the present. Its "next night"
// runs moments after the bookmarks it writes: no end_lag, so it goes on from them (test/endLag has the lag).
const h = suiteHarness({ seed: 45, days: 4, counts: { invoices: 40, customers: 8 }, tap: { end_lag: 'PT0S' } });

/** A pid no process has now: one that ran and ended. */
async function gonePid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/** What the earlier version's tables lacked: today's columns, tables and view taken away from a warehouse today's runner loaded. */
async function toEarlierShapes(schema: string): Promise<void> {
  const q = (name: string) => `"${schema}"."${name}"`;
  await withClient(async (c) => {
    await c.query(`DROP VIEW ${q('evidence')}`);
    for (const table of ['invoices', 'customers', '_volumetry']) {
      await c.query(`DROP TRIGGER target_postgres_raw_payload_sha256 ON ${q(table)}`);
      await c.query(`ALTER TABLE ${q(table)} DROP COLUMN payload_sha256, DROP COLUMN deleted_at_utc`);
    }
    await c.query(`DROP FUNCTION ${q('_target_postgres_raw_payload_changed')}()`);
    await c.query(`ALTER TABLE ${q('_load_runs')} DROP COLUMN deleted`);
    await c.query(`ALTER TABLE ${q('_load_stats')} DROP COLUMN deleted`);
    await c.query(`ALTER TABLE ${q('_pipeline_runs')} DROP COLUMN rows_loaded, DROP COLUMN rows_deleted, DROP COLUMN reconcile_command, DROP COLUMN late`);
    await c.query(`DROP TABLE ${q('_company')}, ${q('_reconciliations')}`);
  });
}

describe('upgrading: an earlier version state folder, journal and tables, then today runner', () => {
  const schema = scratchSchema('upgrade');
  const streams = 'invoices,customers';
  let stateDir: string;
  let targetConfig: string;
  const columns = (table: string) =>
    withClient(async (c) =>
      (
        await c.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, [
          schema,
          table,
        ])
      ).rows.map((r) => r.column_name),
    );

  it('the next night resumes from the bookmarks, marks what it can and advises the reconcile for the rest; after it, every table equals QBO', async () => {
    stateDir = path.join(h.dir, 'state');
    targetConfig = await h.targetConfig(schema);
    const job = 'qb_customers_invoices';
    const stateFile = path.join(stateDir, `${job}.json`);
    const start = dayStart(Date.now() - 5 * DAY);

    // The earlier version's nights: a backfill loaded every record (its rows are what any version
    // stored), then QBO deleted an invoice, and its sync moved the bookmarks past the deletion
    // without marking it (it did not read QBO's change data capture).
    const backfill = await runCliProcess(runnerArgs('backfill', { streams, start, end: second(Date.now()), tapConfig: h.tapConfig, targetConfig, stateDir }));
    expect(backfill.code, backfill.stderr).toBe(0);
    await toEarlierShapes(schema);
    const truth = h.emulator.truth('invoices');
    const goneThen = truth[5]!.id;
    h.emulator.deleteTransaction('Invoice', goneThen);
    await sleep(1100);
    const bookmark = second(Date.now());
    const bookmarkOf = { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: bookmark };
    await writeFile(stateFile, JSON.stringify({ bookmarks: { customers: bookmarkOf, invoices: bookmarkOf } }));
    await rm(path.join(stateDir, 'runs'), { recursive: true });
    await mkdir(path.join(stateDir, 'runs'));
    const oldRun = (id: string, fields: Record<string, unknown>) =>
      writeFile(
        path.join(stateDir, 'runs', `${id}.json`),
        JSON.stringify({
          id,
          kind: 'sync',
          job,
          streams: ['invoices', 'customers'],
          range: { start: bookmark, end: bookmark },
          attempt: 1,
          host: hostname(),
          startedAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
          progress: ['invoices', 'customers'].map((s) => ({ stream: s, doneUntil: bookmark, daysDone: 0, totalDays: 0, complete: false })),
          tapRunIds: [],
          stateFile,
          logFile: path.join(stateDir, 'runs', `${id}.log`),
          ...fields,
        }),
      );
    const failed = 'run-20261204T210000Z-0a0a0a';
    const killed = 'run-20261204T211500Z-0b0b0b';
    await oldRun(failed, {
      pid: await gonePid(),
      status: 'failed',
      exitCode: 1,
      tapExit: 1,
      targetExit: 0,
      reason: 'tap-quickbooks: query failed after 6 attempts: HTTP 503',
      resumeCommand: `node cli.js sync --job ${job} --streams invoices,customers`,
      finishedAt: new Date().toISOString(),
    });
    await oldRun(killed, { pid: await gonePid(), status: 'running' });
    await mkdir(path.join(stateDir, 'schedules'), { recursive: true });
    await mkdir(path.join(stateDir, 'triggers'), { recursive: true });
    const sync = { streams: ['invoices', 'customers'], job, tapConfig: h.tapConfig, targetConfig, stateDir };
    const createdAt = new Date().toISOString();
    // Due on the 1st of the month half a year away only: no slot of its own comes due while the test
    // runs (a fixed 1 January was, for a test started on 31 December just before midnight).
    const cron = `0 0 1 ${((new Date().getUTCMonth() + 6) % 12) + 1} *`;
    await writeFile(
      path.join(stateDir, 'schedules', 'nightly.json'),
      JSON.stringify({ name: 'nightly', cron, tz: 'UTC', sync, paused: false, createdAt, activeSince: createdAt }),
    );
    const slot = second(Date.now() - 60_000);
    const slotId = `sch-nightly-${slot.replace(/[-:]/g, '')}`;
    await writeFile(
      path.join(stateDir, 'triggers', `${slotId}.json`),
      JSON.stringify({
        id: slotId,
        at: slot,
        atGiven: `${slot} (schedule nightly: ${cron})`,
        createdAt,
        sync,
        schedule: { name: 'nightly', slot, slots: 1 },
        status: 'pending',
        enabled: true,
      }),
    );

    // The night after the pull: an amount changes to the digit, an invoice is deleted.
    const changed = truth[10]!.id;
    const goneNow = truth[20]!.id;
    h.emulator.update('Invoice', changed, { TotalAmt: '1234567.10' });
    h.emulator.deleteTransaction('Invoice', goneNow);
    await sleep(1100);

    const night = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir]);
    expect(night.code, night.stderr).toBe(0);
    // From the bookmarks, not the backfill's start: nothing is extracted again.
    expect(night.stdout).toContain(`sync ${job}: done`);
    expect(night.stdout).toMatch(new RegExp(`^range \\[${bookmark}, `, 'm'));
    expect(tableCell(night.stdout, 'invoices', 'loaded'), night.stdout).toBe('1');
    expect(tableCell(night.stdout, 'invoices', 'deleted')).toBe('1');
    expect(tableCell(night.stdout, 'customers', 'loaded')).toBe('0');
    // The run whose runner died under the earlier version is closed.
    const closed = JSON.parse(await readFile(path.join(stateDir, 'runs', `${killed}.json`), 'utf8')) as { status: string; runnerGone?: unknown };
    expect(closed.status).toBe('failed');
    expect(closed.runnerGone).toBeDefined();
    // The deletion of the earlier version's time: no sync can read it, so the run says how to find it.
    // As the runbook's Upgrading section shows it (the command's paths are this test's).
    const documented = codeBlocks('docs/runbook.md')
      .flatMap((b) => b.text.split('\n'))
      .find((l) => l.startsWith('WARN qbo-pipeline: customers, invoices: loaded by an earlier version'));
    expect(documented).toBeDefined();
    expect(night.stderr.split('\n')).toContainEqual(expect.stringMatching(documentedLine(documented!.replace(/run once: .*/, 'run once: …'))));
    const advised = /run once: node (\S+) (reconcile .*)$/m.exec(night.stderr);
    expect(advised?.[2], night.stderr).toMatch(
      new RegExp(`^reconcile --job ${job} --streams customers,invoices --tap-config \\S+ --target-config \\S+ --state-dir \\S+$`),
    );
    const reconcile = advised![2]!;
    const runs = await withClient((c) =>
      c.query<{ run_id: string; status: string; rows_loaded: string | null; rows_deleted: string | null; reconcile_command: string | null }>(
        `SELECT run_id, status, rows_loaded, rows_deleted, reconcile_command FROM "${schema}"._pipeline_runs WHERE started_at_utc > now() - interval '1 minute' AND kind = 'sync'`,
      ),
    );
    expect(runs.rows).toHaveLength(1);
    expect(runs.rows[0]).toMatchObject({ status: 'succeeded', rows_loaded: '1', rows_deleted: '1' });
    expect(runs.rows[0]!.reconcile_command).toContain(reconcile);
    for (const table of ['invoices', 'customers']) expect(await columns(table)).toEqual(expect.arrayContaining(['payload_sha256', 'deleted_at_utc']));
    const list = await runCliProcess(['trigger', 'list', '--state-dir', stateDir]);
    expect(list.stdout).toContain(`${slotId}: WARNING: deletions QBO's change data capture could not give`);

    // The console reads the earlier version's journal, and lists the reconcile until it has run.
    const overview = async () => {
      const web = await startConsole(consoleOptions({ port: 0, stateDir, tapConfig: h.tapConfig, targetConfig }, {}));
      try {
        return { overview: (await send(web.url, '/')).text, runs: (await send(web.url, '/runs')).text };
      } finally {
        await web.close();
      }
    };
    const before = await overview();
    expect(before.overview).toContain('customers, invoices of job qb_customers_invoices');
    for (const id of [failed, killed]) expect(before.runs).toContain(`data-run="${id}"`);

    const reconciled = await runCliProcess(reconcile.split(' ')); // the paths in it are relative to this process's folder, as the scheduler's were
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(reconciled.stdout).toContain(`invoices marked deleted: ${goneThen}`);
    expect((await overview()).overview).not.toContain('customers, invoices of job qb_customers_invoices');
    const next = await runCliProcess(runnerArgs('sync', { streams, tapConfig: h.tapConfig, targetConfig, stateDir }));
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout + next.stderr).not.toContain('reconcile');

    // Every table equals QBO: payloads to the digit, nothing twice, both deletions marked with the last full payload kept.
    const now = new Date(Date.now() + 1000).toISOString();
    const invoices = await diffWithTruth(databaseUrl(), schema, h.emulator, 'invoices', start, now);
    expect({ missing: invoices.missing, different: invoices.different, extra: [...invoices.extra].sort() }).toEqual({
      missing: [],
      different: [],
      extra: [goneThen, goneNow].sort(),
    });
    const customers = await diffWithTruth(databaseUrl(), schema, h.emulator, 'customers', start, now);
    expect(customers).toMatchObject({ missing: [], different: [], extra: [] });
    const deleted = await withClient((c) => c.query<{ id: string }>(`SELECT id FROM "${schema}".invoices WHERE deleted_at_utc IS NOT NULL ORDER BY id`));
    expect(deleted.rows.map((r) => r.id)).toEqual([goneThen, goneNow].sort());
  });
});

describe("upgrading: the runbook's line that deletes the config folders killed runners of earlier versions left", () => {
  it('deletes the folders of the earlier naming (qbo-pipeline-XXXXXX), never one of the naming today runners sweep themselves, nor a file', async () => {
    const line = codeBlocks('docs/runbook.md')
      .filter((b) => b.lang === 'sh')
      .map((b) => b.text.trim())
      .find((t) => t.startsWith('find "${TMPDIR:-/tmp}"'));
    expect(line).toBeDefined();
    const tmp = await mkdtemp(path.join(tmpdir(), 'upgrade-tmp-'));
    try {
      const earlier = 'qbo-pipeline-PupXB2';
      await mkdir(path.join(tmp, earlier));
      await writeFile(path.join(tmp, earlier, 'tap.json'), '{"client_secret":"s"}');
      const today = [`qbo-pipeline-${hostname()}-4242-123456-Ab12Cd`, `qbo-pipeline-${hostname()}-4242-x-Ab12Cd`];
      for (const name of today) await mkdir(path.join(tmp, name));
      await writeFile(path.join(tmp, 'qbo-pipeline-ZZ99zz'), 'a file of another program');
      execFileSync('bash', ['-ec', line!], { env: { ...process.env, TMPDIR: tmp } });
      expect((await readdir(tmp)).sort()).toEqual([...today, 'qbo-pipeline-ZZ99zz'].sort());
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('which tables an earlier version loaded before deletions were tracked', () => {
  const schema = scratchSchema('before_del');

  it("the target's tables of its first shape that hold rows; not an empty one, one of today's shape, another program's, nor a missing one", async () => {
    const first =
      'id text PRIMARY KEY, payload jsonb NOT NULL, ingested_at_utc timestamptz NOT NULL, extract_window_start_utc timestamptz, extract_window_end_utc timestamptz, page_number integer, page_size integer, request_payload jsonb, realm_id text, extracted_at_utc timestamptz, last_updated_utc timestamptz';
    await withClient(async (c) => {
      await c.query(`CREATE SCHEMA "${schema}"`);
      for (const table of ['invoices', 'customers', 'items']) await c.query(`CREATE TABLE "${schema}".${table} (${first})`);
      await c.query(`ALTER TABLE "${schema}".items ADD COLUMN deleted_at_utc timestamptz`);
      await c.query(`CREATE TABLE "${schema}".bills (id text PRIMARY KEY, amount numeric)`);
      for (const table of ['invoices', 'items']) await c.query(`INSERT INTO "${schema}".${table} (id, payload, ingested_at_utc) VALUES ('1', '{}', now())`);
      await c.query(`INSERT INTO "${schema}".bills VALUES ('1', 1)`);
    });
    const warehouse = await Warehouse.open({ connectionString: databaseUrl() }, schema);
    try {
      expect(await warehouse.loadedBeforeDeletions(['bills', 'customers', 'invoices', 'items', 'payments'])).toEqual(['invoices']);
    } finally {
      await warehouse.close();
    }
  });
});
