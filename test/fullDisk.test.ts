import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { consoleOptions, RunJournal, startConsole } from '../packages/qbo-pipeline/src/index.js';
import { send } from './consoleHttp.js';
import { ownPostgres } from './support/db.js';
import { noSmallVolumeReason, smallVolume } from './support/smallVolume.js';
import { dayStart, diffWithTruth, expectExactly, runCliProcess, runnerArgs, startHarness, type Harness } from './pipelineHarness.js';

/**
 * A warehouse disk that fills up, for real: the warehouse's tables live on a 4 MiB tmpfs (a
 * tablespace on it, the database's default), and 3,000 invoices do not fit. What a person must
 * read at night: one line naming the full disk, the table and what to do (a run-time failure, exit
 * 1, not a record to blame); nothing lost, no state ahead of the rows; and once there is room, the
 * same command loading exactly the truth.
 */
const END = dayStart(Date.now());
const START = dayStart(Date.parse(END) - 28 * 86_400_000);
const STREAMS = ['invoices', 'customers'];

const CANNOT_MOUNT = noSmallVolumeReason();
if (CANNOT_MOUNT) console.warn(CANNOT_MOUNT);

/** A run's lines without `    at …`: a full disk is a condition to report, never a crash. */
const noStackTrace = (text: string) => expect(text.split('\n').filter((l) => /^\s+at /.test(l))).toEqual([]);

// Each test here runs the runner's CLIs several times over (a scheduler, taps and targets): 20-50 s on a
// loaded 2-core machine with one test file at a time; beside another file, the default minute is too short.
describe.skipIf(CANNOT_MOUNT !== undefined)(`a warehouse whose disk fills up${CANNOT_MOUNT ? ` (${CANNOT_MOUNT})` : ''}`, { timeout: 180_000 }, () => {
  const server = ownPostgres('13');
  const volume = smallVolume(server, 4);
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: server().url, seed: 65, now: new Date(END), days: 28, counts: { invoices: 3000, customers: 200 } });
  });
  afterAll(() => h?.close());

  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: volume().url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };

  /** The options of the job both tests run (a backfill, a trigger) into `schema` of the small disk. */
  const jobOptions = async (schema: string, stateDir: string) => ({
    streams: STREAMS.join(','),
    start: START,
    end: END,
    tapConfig: h.tapConfig,
    targetConfig: await h.targetConfig(schema, { database_url: volume().url }),
    stateDir,
  });

  /** Every record before each stream's bookmark in the state file is in its table, as the emulator has it. */
  const expectStateNotAhead = async (stateFile: string, schema: string) => {
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { bookmarks: Record<string, { replication_key_value: string }> };
    for (const stream of STREAMS) {
      const bookmark = state.bookmarks[stream]?.replication_key_value;
      if (bookmark === undefined) continue;
      const diff = await diffWithTruth(volume().url, schema, h.emulator, stream, START, bookmark);
      expect({ stream, bookmark, missing: diff.missing, different: diff.different }).toEqual({ stream, bookmark, missing: [], different: [] });
    }
  };

  it('a first load that fills the disk mid-way: one line naming the full disk and table, exit 1, nothing ahead of the rows; grown, the same command loads the truth', async () => {
    const schema = 'raw';
    const stateDir = path.join(h.dir, 'state-by-hand');
    const stateFile = path.join(stateDir, 'qb_customers_invoices.json');
    const args = runnerArgs('backfill', await jobOptions(schema, stateDir));
    const full = await runCliProcess(args);
    expect(full.code, full.stdout + full.stderr).toBe(1);
    noStackTrace(full.stdout + full.stderr);
    // Said once, on the summary's FAILED line: the target's FATAL line is not passed through again (the run's log keeps it).
    expect(full.stderr.split('\n').filter((l) => l.includes('FATAL'))).toEqual([]);
    const why = new RegExp(
      `^target-postgres-raw: stream "invoices": PostgreSQL has no space left for table "raw"\\."invoices": could not extend file "[^"]+": No space left on device \\[53100\\]; the disk of the PostgreSQL server at 127\\.0\\.0\\.1:${server().port} \\(tablespace ${volume().tablespace}, in ${volume().mountPoint}\\) is full: free space there or grow its volume, then run again: it resumes; nothing of this batch was committed and no state was printed for it$`,
    );
    const lines = full.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('FAILED: ')).map((l) => l.slice('FAILED: '.length))).toEqual([expect.stringMatching(why)]);
    expect(lines[lines.indexOf('resume with:') + 1]).toMatch(/^ {2}\S.* backfill --job qb_customers_invoices /);
    expect(lines.find((l) => l.startsWith('fix this first'))).toBeUndefined();

    // What was committed before the disk filled is in the summary, from the evidence, and the state is not ahead of it.
    expect(full.stdout).toMatch(/^customers +\| 28\/28 days \| +\d+ \| +200 \| +200 \| +200 \|/m);
    expect(full.stdout).not.toMatch(/^evidence: could not read/m);
    await expectStateNotAhead(stateFile, schema);
    const [committed] = await query<{ n: number }>('SELECT count(*)::int AS n FROM raw.invoices');
    expect(committed?.n).toBeGreaterThan(0);
    expect(committed?.n).toBeLessThan(3000);

    // The run is failed with that reason everywhere a person looks: the journal (console, company list) and _pipeline_runs.
    const [record] = await RunJournal.of(stateDir).list({});
    expect(record).toMatchObject({ status: 'failed', exitCode: 1, targetExit: 1, reason: expect.stringMatching(why), resumeCommand: expect.any(String) });
    expect(record?.fix).toBeUndefined();
    expect(await query('SELECT status, exit_code, reason FROM raw._pipeline_runs')).toEqual([
      { status: 'failed', exit_code: 1, reason: expect.stringMatching(why) },
    ]);

    // The console's overview (what a notification says) and the run's page say it too, with the command that resumes.
    const web = await startConsole(consoleOptions({ port: 0, stateDir }, {}));
    try {
      const unescaped = (html: string) =>
        html
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&');
      expect(unescaped((await send(web.url, '/')).text)).toMatch(
        /last run of job qb_customers_invoices failed[^:]*: target-postgres-raw: stream "invoices": PostgreSQL has no space left for table "raw"\."invoices"/,
      );
      const page = unescaped((await send(web.url, `/runs/${record!.id}`)).text);
      expect(page).toMatch(
        /<dt>why<\/dt><dd>target-postgres-raw: stream "invoices": PostgreSQL has no space left .* is full: free space there or grow its volume/,
      );
    } finally {
      await web.close();
    }

    // The volume is grown: the same command resumes and the tables equal the emulator's records, money to the digit.
    volume().resize(64);
    const again = await runCliProcess(args);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectExactly(volume().url, schema, h.emulator, STREAMS, START, END);
  });

  it('a scheduled run on a disk full to the brim: the trigger failed saying so (scheduler --once exits 1), and once a filler is dropped the next run loads the truth', async () => {
    const schema = 'scheduled';
    const stateDir = path.join(h.dir, 'state-scheduled');
    // A disk of 64 MiB, which what else lives on it takes all but 2 MiB of: fillers of 1 MiB until the disk refuses one, then two dropped.
    volume().resize(64);
    let fillers = 0;
    for (;;) {
      const refused = await query(`CREATE TABLE filler_${fillers} AS SELECT repeat('x', 1000) AS t FROM generate_series(1, 1000)`).then(
        () => undefined,
        (error: { code?: string }) => error,
      );
      if (refused) {
        expect(refused.code).toBe('53100');
        break;
      }
      fillers++;
    }
    await query(`DROP TABLE filler_${fillers - 1}, filler_${fillers - 2}`);
    fillers -= 2;

    const addTrigger = async () => {
      const added = await runCliProcess(
        runnerArgs(['trigger', 'add'], { at: new Date(Date.now() - 1000).toISOString(), ...(await jobOptions(schema, stateDir)) }),
      );
      expect(added.code, added.stderr).toBe(0);
      return /^trigger (trg-\S+):/.exec(added.stdout)![1]!;
    };
    const id = await addTrigger();
    const once = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir]);
    expect(once.code, once.stdout + once.stderr).toBe(1);
    noStackTrace(once.stdout + once.stderr);
    const onceLines = once.stdout.split('\n');
    expect(onceLines.find((l) => l.startsWith('FAILED: '))).toMatch(
      /^FAILED: target-postgres-raw: .*\[53100\].* is full: free space there or grow its volume, then run again: it resumes; /,
    );
    expect(onceLines[onceLines.indexOf('resume with:') + 1]).toMatch(/^ {2}\S.* backfill --job qb_customers_invoices /);
    expect(once.stderr).toMatch(new RegExp(`ERROR qbo-pipeline scheduler: trigger ${id} failed: target-postgres-raw: .*\\[53100\\]`));
    const trigger = JSON.parse(await readFile(path.join(stateDir, 'triggers', `${id}.json`), 'utf8')) as {
      status: string;
      result: { exitCode: number; fix?: string; resumeCommand?: string };
    };
    expect(trigger).toMatchObject({
      status: 'failed',
      result: { exitCode: 1, resumeCommand: expect.stringContaining('backfill --job qb_customers_invoices ') },
    });
    expect(trigger.result.fix).toBeUndefined();
    expect(await query(`SELECT status, exit_code FROM ${schema}._pipeline_runs`)).toEqual([{ status: 'failed', exit_code: 1 }]);
    await expectStateNotAhead(path.join(stateDir, 'qb_customers_invoices.json'), schema).catch((error: { code?: string }) => {
      if (error.code !== 'ENOENT') throw error; // no commit at all: no state file
    });

    // Space is freed (the fillers dropped): a new trigger resumes, and the tables equal the truth.
    await query(Array.from({ length: fillers }, (_, i) => `DROP TABLE filler_${i}`).join('; '));
    const retried = await addTrigger();
    const fixed = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir]);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stderr).toMatch(new RegExp(`trigger ${retried} completed`));
    await expectExactly(volume().url, schema, h.emulator, STREAMS, START, END);
    expect(await query(`SELECT status, exit_code FROM ${schema}._pipeline_runs ORDER BY started_at_utc`)).toEqual([
      { status: 'failed', exit_code: 1 },
      { status: 'succeeded', exit_code: 0 },
    ]);
  });
});
