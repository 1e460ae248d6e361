import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { databaseUrl, REPO_ROOT, scratchSchema, withClient } from './support/db.js';
import { expectExactly, runCliProcess, runnerArgs, suiteHarness } from './pipelineHarness.js';

const START = '2025-02-23';
const END = '2025-03-01T00:00:00Z';
const END_Z = '2025-03-01T00:00:00Z';
const START_Z = '2025-02-23T00:00:00Z';

const h = suiteHarness({ seed: 11, now: new Date(END_Z), days: 6, counts: { invoices: 150, customers: 30, items: 12 } });

async function backfill(schema: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env) {
  return runCliProcess(
    [...(await h.backfillArgs(schema, { streams: 'invoices,customers', start: START, end: END, stateDir: path.join(h.dir, `state-${schema}`) })), ...extra],
    { env },
  );
}

const expectTruth = (schema: string, streams: readonly string[]) => expectExactly(databaseUrl(), schema, h.emulator, streams, START_Z, END_Z);

describe('qbo-pipeline backfill (tap | target against the emulator and PostgreSQL)', () => {
  const schema = scratchSchema('pipe');
  const stateFile = () => path.join(h.dir, `state-${schema}`, 'qb_customers_invoices.json');

  it("loads exactly the emulator's records, keeps the committed state and prints a per-stream summary with the evidence", async () => {
    const run = await backfill(schema);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^backfill qb_customers_invoices: done in/);
    expect(run.stdout).toMatch(/invoices\s+\| 6\/6 days /);
    expect(run.stdout).toMatch(/evidence: SELECT \* FROM pipe_\w+\.evidence WHERE run_id IN \('[0-9a-f-]{36}'\)/);
    const state = JSON.parse(await readFile(stateFile(), 'utf8'));
    expect(state.bookmarks.invoices.replication_key_value).toBe(END_Z);
    expect(state.bookmarks.customers.replication_key_value).toBe(END_Z);
    await expectTruth(schema, ['invoices', 'customers']);
    const evidence = await withClient((c) =>
      c.query(
        `SELECT stream, count(*)::int AS windows, sum(qbo_count)::int AS qbo, bool_and(extracted_equals_loaded) AS equal FROM "${schema}".evidence GROUP BY stream ORDER BY stream`,
      ),
    );
    const truthCount = (stream: string) => h.emulator.truth(stream).filter((r) => Date.parse(r.lastUpdated) < Date.parse(END_Z)).length;
    expect(evidence.rows).toEqual([
      { stream: 'customers', windows: 6, qbo: truthCount('customers'), equal: true },
      { stream: 'invoices', windows: 6, qbo: truthCount('invoices'), equal: true },
    ]);
  });

  it('resumes from the state file: a finished job has nothing left to do', async () => {
    const before = h.emulator.requestLog().filter((r) => r.kind === 'query' || r.kind === 'count').length;
    const run = await backfill(schema);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('nothing to do');
    expect(h.emulator.requestLog().filter((r) => r.kind === 'query' || r.kind === 'count').length).toBe(before);
  });

  it('carries what it does not own in the state file digit for digit through the tap and target (9007199254740993, 1.10)', async () => {
    // A day left to read, and keys of others (a person, another tool) next to the bookmarks.
    const foreign = '"other_tool":{"cursor":9007199254740993,"rate":1.10,"e":1E+2}';
    const kept = '"customers":{"replication_key":"MetaData.LastUpdatedTime","replication_key_value":"2025-03-01T00:00:00Z","partition":12345678901234567891}';
    await writeFile(
      stateFile(),
      `{"bookmarks":{"invoices":{"replication_key":"MetaData.LastUpdatedTime","replication_key_value":"2025-02-28T00:00:00Z","page":9007199254740993},${kept}},${foreign}}\n`,
    );
    const run = await backfill(schema);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(stateFile(), 'utf8')).toBe(
      `{"bookmarks":{"invoices":{"replication_key":"MetaData.LastUpdatedTime","replication_key_value":"${END_Z}","page":9007199254740993},${kept}},${foreign}}\n`,
    );
  });

  it('--fresh extracts the whole range again, keeps a backup of the state, and changes no row', async () => {
    const run = await backfill(schema, ['--fresh']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('previous state kept as');
    expect(readdirSync(path.dirname(stateFile())).filter((f) => f.endsWith('.bak.json'))).toHaveLength(1);
    expect(run.stdout).toMatch(/invoices\s+\| 6\/6 days\s+\|\s+6 \|\s+(\d+) \|\s+\1 \|\s+\1 \|\s+0 \|\s+0 \|\s+\1 \|/);
    // The target's commit lines say inserted 12 (the tap's evidence rows, 2 streams × 6 days): the summary says what each counts.
    const targetInserted = [...run.stderr.matchAll(/target-postgres-raw: commit \d+ \([^)]*\) in \d+ ms: received \d+, inserted (\d+)/g)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(targetInserted).toBe(12);
    expect(run.stdout).toContain(
      "inserted counts each stream's own rows; the target's commit lines also count the tap's 12 _volumetry rows (the evidence: one per stream and day read, new at every run)",
    );
    await expectTruth(schema, ['invoices', 'customers']);
  });

  it('refuses a malformed state file with exit 2 and a message naming it, leaving it untouched and extracting nothing', async () => {
    await writeFile(stateFile(), '{"bookmarks": {"invoices": ');
    const before = h.emulator.requestLog().length;
    const run = await backfill(schema);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(/^FATAL qbo-pipeline: state file \S+ is not valid JSON \(.+\); repair it, or run again with --fresh/);
    expect(run.stderr.split('\n')[0]).toContain(stateFile());
    expect(await readFile(stateFile(), 'utf8')).toBe('{"bookmarks": {"invoices": ');
    expect(h.emulator.requestLog().length).toBe(before);
  });
});

describe('a failed backfill', () => {
  const schema = scratchSchema('fail');

  it('names the failed window and why, and prints the one command that resumes it', async () => {
    // Spans of at most 30 rows (about a day of invoices each): the 6th COUNT, of the third day, fails.
    h.emulator.setFaults({ rules: [{ fault: '503', kinds: ['count'], nth: [6] }] });
    const run = await runCliProcess(
      await h.backfillArgs(schema, { streams: 'invoices', start: START, end: END, stateDir: path.join(h.dir, `state-${schema}`) }),
      { env: { ...process.env, TAP_QUICKBOOKS_MAX_RETRIES: '0', TAP_QUICKBOOKS_MAX_SPAN_ROWS: '30' } },
    );
    h.emulator.setFaults({ rules: [] });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/FAILED: .*503/);
    expect(run.stdout).toMatch(/ {2}invoices: window \[2025-02-2\dT00:00:00Z, 2025-02-2\dT00:00:00Z\) not committed/);
    const command = /resume with:\n {2}(.+)/.exec(run.stdout)?.[1];
    expect(command).toMatch(
      /^node packages\/qbo-pipeline\/dist\/cli\.js backfill --job qb_invoices --streams invoices --start 2025-02-23T00:00:00Z --end 2025-03-01T00:00:00Z /,
    );
    expect(command).not.toContain('--fresh');

    const resumed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('sh', ['-c', command!], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/invoices\s+\| 6\/6 days /);
    await expectTruth(schema, ['invoices']);
  });
});

describe('one-time triggers and the scheduler', () => {
  const schema = scratchSchema('trig');
  const stateDir = () => path.join(h.dir, `state-${schema}`);
  const addArgs = async (at: string) =>
    runnerArgs(['trigger', 'add'], {
      at,
      streams: 'items',
      start: START,
      end: END,
      tapConfig: h.tapConfig,
      targetConfig: await h.targetConfig(schema),
      stateDir: stateDir(),
    });

  it('records a trigger given with an offset in UTC and lists it as pending', async () => {
    const run = await runCliProcess(await addArgs('2099-09-11T22:45:54-05:00'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^trigger trg-20990912T034554Z-\w+: backfill qb_items \[2025-02-23T00:00:00Z, 2025-03-01T00:00:00Z\) at 2099-09-12T03:45:54Z \(given as 2099-09-11T22:45:54-05:00\)/,
    );
    const list = await runCliProcess(['trigger', 'list', '--state-dir', stateDir()]);
    expect(list.stdout).toMatch(/trg-20990912T034554Z-\w+ \| 2099-09-12T03:45:54Z \| pending\s+\| qb_items/);
  });

  it('two schedulers run a due trigger exactly once, marked late by how much; then it stays disabled', async () => {
    const due = new Date(Date.now() - 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    expect((await runCliProcess(await addArgs(due))).code).toBe(0);
    const [a, b] = await Promise.all([
      runCliProcess(['scheduler', '--once', '--state-dir', stateDir()]),
      runCliProcess(['scheduler', '--once', '--state-dir', stateDir()]),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    expect([a.stdout, b.stdout].filter((out) => out.includes('backfill qb_items: done'))).toHaveLength(1);
    const runs = await withClient((c) => c.query(`SELECT count(DISTINCT payload->>'run_id')::int AS n FROM "${schema}"._volumetry`));
    expect(runs.rows[0].n).toBe(1);

    const third = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir()]);
    expect(third.stdout).toBe('');
    const triggers = readdirSync(path.join(stateDir(), 'triggers')).filter((f) => f.endsWith('.json'));
    const ran = triggers.map((f) => JSON.parse(readFileSync(path.join(stateDir(), 'triggers', f), 'utf8'))).find((t) => t.at === due);
    expect(ran).toMatchObject({ status: 'completed', enabled: false, late: true, result: { exitCode: 0 } });
    expect(ran.lateByMs).toBeGreaterThanOrEqual(2 * 3600_000);
    // The run the trigger started is in the runs journal, named after the trigger.
    const record = JSON.parse(readFileSync(path.join(stateDir(), 'runs', `${ran.result.runId}.json`), 'utf8'));
    expect(record).toMatchObject({ triggerId: ran.id, status: 'succeeded', job: 'qb_items', exitCode: 0 });
    const list = await runCliProcess(['trigger', 'list', '--state-dir', stateDir()]);
    expect(list.stdout).toMatch(new RegExp(`${due} \\| completed \\(late by 2 h 0 min\\)`));
    expect(list.stdout).toMatch(/2099-09-12T03:45:54Z \| pending/);
    await expectTruth(schema, ['items']);
  });

  it('scheduler --once exits 2 when a due run needs a fix first (a wrong database password), and says when nothing is due', async () => {
    const dir = path.join(h.dir, `state-${schema}-fix`);
    const wrong = new URL(databaseUrl());
    wrong.password = 'not-the-password-1';
    const targetConfig = path.join(h.dir, `target-${schema}-wrong.json`);
    await writeFile(targetConfig, JSON.stringify({ database_url: wrong.toString(), schema }));
    const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const added = await runCliProcess(
      runnerArgs(['trigger', 'add'], { at: due, streams: 'items', start: START, end: END, tapConfig: h.tapConfig, targetConfig, stateDir: dir }),
    );
    expect(added.code, added.stderr).toBe(0);
    const run = await runCliProcess(['scheduler', '--once', '--state-dir', dir]);
    expect(run.code, run.stderr).toBe(2);
    // The reason once, on the FAILED line: not again as what to fix, nor as why the evidence could not be read.
    expect(run.stdout).toMatch(/^FAILED: target-postgres-raw: PostgreSQL at [^\n]*password authentication failed/m);
    expect(run.stdout.split('password authentication failed')).toHaveLength(2);
    expect(run.stdout).toContain('evidence: could not read it from the warehouse after the run: the same error the run failed on');
    expect(run.stderr).toContain('could not read the evidence from the warehouse: the same error the run failed on');
    expect(run.stdout).toContain(
      'fix that first (exit 2; running again unchanged fails the same way), then run the job again, by hand or with a new trigger (trigger ',
    );
    const idle = await runCliProcess(['scheduler', '--once', '--state-dir', dir]);
    expect([idle.code, idle.stdout]).toEqual([0, '']);
    expect(idle.stderr).toBe(
      `INFO qbo-pipeline: scheduler --once: nothing due in ${path.join(dir, 'triggers')} or ${path.join(dir, 'schedules')} (trigger list and schedule list say what comes next)\n`,
    );
  });
});
