import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { scratchSchema, withClient } from './support/db.js';
import { runCliProcess, runnerArgs, suiteHarness } from './pipelineHarness.js';

/**
 * `qbo-pipeline reconcile`: for deletions CDC cannot report (older than 30 days), page every
 * record QBO has, compare with the table, and mark deleted only what QBO does not return even
 * when asked by Id. Real emulator over HTTP, real PostgreSQL, the CLI as a user runs it.
 */
const START = '2025-05-01T00:00:00Z';
const END = '2025-05-11T00:00:00Z';

// One request at a time, so the page-shift hook lands between pages deterministically.
const h = suiteHarness({
  seed: 31,
  now: new Date(END),
  days: 10,
  counts: { invoices: 2500, customers: 20 },
  tap: { max_concurrency: 1, max_requests_per_minute: 100_000 },
});

const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => withClient(async (c) => (await c.query<T>(sql, params)).rows);

describe('qbo-pipeline reconcile', () => {
  const schema = scratchSchema('recon');
  const stateDir = () => path.join(h.dir, 'state-recon');
  const reconcile = async (extra: readonly string[] = [], tapConfig = h.tapConfig) =>
    runCliProcess([
      ...runnerArgs('reconcile', { streams: 'invoices,customers', tapConfig, targetConfig: await h.targetConfig(schema), stateDir: stateDir() }),
      ...extra,
    ]);
  const rows = () =>
    q<{ id: string; xmin: string; deleted_at_utc: Date | null }>(`SELECT id, xmin::text, deleted_at_utc FROM "${schema}".invoices ORDER BY id`);
  let deleted: string[] = [];

  it('after a backfill, with 3 invoices deleted in QBO and rows shifting while paged: a dry run changes nothing and records what it found', async () => {
    const backfill = await runCliProcess(await h.backfillArgs(schema, { streams: 'invoices,customers', start: START, end: END, stateDir: stateDir() }));
    expect(backfill.code, backfill.stderr).toBe(0);
    const truth = h.emulator.truth('invoices');
    deleted = [truth[10]!.id, truth[1500]!.id, truth[2400]!.id].sort();
    for (const id of deleted) h.emulator.deleteTransaction('Invoice', id);
    h.emulator.deleteTransaction('Customer', h.emulator.truth('customers')[0]!.id); // a name list: deactivated, still there

    const before = await rows();
    h.emulator.touchAfterPage({ entity: 'invoices', afterPage: 1, count: 1 });
    const run = await reconcile(['--dry-run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^reconcile qb_customers_invoices: done in .* \(dry run: no row changed\)/);
    // One row slipped past the paging (the shift): a candidate, but QBO returns it by Id, so it is not gone.
    expect(run.stdout).toMatch(/invoices\s+\|\s+2496 \|\s+2500 \|\s+4 \|\s+3 \|\s+-\s+\|/);
    expect(run.stdout).toMatch(/customers\s+\|\s+20 \|\s+20 \|\s+0 \|\s+0 \|\s+-\s+\|/);
    expect(run.stdout).toContain(`invoices would be marked deleted: ${deleted.join(', ')}`);
    expect(await rows()).toEqual(before);
    const [evidence] = await q<Record<string, unknown>>(`SELECT * FROM "${schema}"._reconciliations WHERE stream = 'invoices'`);
    expect(evidence).toMatchObject({
      realm_id: h.emulator.realmId,
      qbo_records: 2496,
      live_rows: 2500,
      candidates: 4,
      missing_ids: deleted,
      marked: 0,
      deleted_at_utc: null,
      dry_run: true,
    });
  });

  it('marks exactly the rows QBO no longer has; every other row is untouched (xmin), and the evidence says which, when and how many', async () => {
    const before = new Map((await rows()).map((r) => [r.id, r.xmin]));
    const run = await reconcile();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/invoices\s+\|\s+2497 \|\s+2500 \|\s+3 \|\s+3 \|\s+3 \|/);
    expect(run.stdout).toContain(`invoices marked deleted: ${deleted.join(', ')}`);
    const after = await rows();
    expect(after.filter((r) => r.deleted_at_utc !== null).map((r) => r.id)).toEqual(deleted);
    expect(after.filter((r) => !deleted.includes(r.id) && r.xmin !== before.get(r.id))).toEqual([]);
    expect(await q(`SELECT count(*)::int AS n FROM "${schema}".customers WHERE deleted_at_utc IS NOT NULL`)).toEqual([{ n: 0 }]);

    const runId = /run (run-\S+)/.exec(run.stdout)![1]!;
    expect(run.stdout).toContain(`evidence: SELECT * FROM "${schema}"."_reconciliations" WHERE run_id = '${runId}'`);
    const evidence = await q<Record<string, unknown>>(
      `SELECT stream, missing_ids, marked, dry_run, deleted_at_utc FROM "${schema}"._reconciliations WHERE run_id = $1 ORDER BY stream`,
      [runId],
    );
    const markedAt = after.find((r) => r.id === deleted[0])!.deleted_at_utc;
    expect(evidence).toEqual([
      { stream: 'customers', missing_ids: [], marked: 0, dry_run: false, deleted_at_utc: expect.any(Date) },
      { stream: 'invoices', missing_ids: deleted, marked: 3, dry_run: false, deleted_at_utc: markedAt },
    ]);
    // The runs journal and _pipeline_runs know the run.
    const journal = JSON.parse(readFileSync(path.join(stateDir(), 'runs', `${runId}.json`), 'utf8'));
    expect(journal).toMatchObject({ kind: 'reconcile', job: 'qb_customers_invoices', status: 'succeeded', exitCode: 0, streams: ['invoices', 'customers'] });
    expect(await q(`SELECT kind, status FROM "${schema}"._pipeline_runs WHERE run_id = $1`, [runId])).toEqual([{ kind: 'reconcile', status: 'succeeded' }]);
  });

  it('run again, finds nothing new and keeps the first deletion instants', async () => {
    const before = await rows();
    const run = await reconcile();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/invoices\s+\|\s+2497 \|\s+2497 \|\s+0 \|\s+0 \|\s+0 \|/);
    expect(await rows()).toEqual(before);
  });

  it('refuses (exit 2, nothing changed) when the settings name another company than the table holds', async () => {
    const other = path.join(h.dir, 'tap-other-realm.json');
    await writeFile(other, JSON.stringify({ ...JSON.parse(readFileSync(h.tapConfig, 'utf8')), realm_id: '4620816365000000000' }));
    const before = await rows();
    const run = await reconcile([], other);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `FATAL qbo-pipeline: schema ${schema} belongs to company ${h.emulator.realmId} \\(recorded in ${schema}\\._company\\), but the tap settings name company 4620816365000000000`,
      ),
    );
    expect(await rows()).toEqual(before);
    const failed = readdirSync(path.join(stateDir(), 'runs'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(path.join(stateDir(), 'runs', f), 'utf8')))
      .filter((r) => r.status === 'failed');
    // Refused before QBO was asked anything: it did not start, as a backfill refused before its tap started.
    expect(failed).toEqual([expect.objectContaining({ kind: 'reconcile', exitCode: 2, notStarted: true, fix: expect.stringContaining('belongs to company') })]);
  });

  it('refuses (exit 2, nothing changed) a damaged token store before QBO is asked anything: it did not start, as a backfill refused by the same check', async () => {
    const store = path.join(h.dir, 'tokens-damaged.json');
    await writeFile(store, '{"refresh_token": ');
    const damaged = path.join(h.dir, 'tap-damaged-store.json');
    await writeFile(damaged, JSON.stringify({ ...JSON.parse(readFileSync(h.tapConfig, 'utf8')), token_store: store }));
    const before = await rows();
    const requests = h.emulator.requestLog().length;
    const run = await reconcile([], damaged);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`FATAL qbo-pipeline: token store ${store} is damaged \\(not valid JSON`));
    expect(h.emulator.requestLog().length).toBe(requests);
    expect(await rows()).toEqual(before);
    const [latest] = readdirSync(path.join(stateDir(), 'runs'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(path.join(stateDir(), 'runs', f), 'utf8')))
      .filter((r) => r.status === 'failed' && String(r.fix).includes('token store'));
    expect(latest).toMatchObject({ kind: 'reconcile', exitCode: 2, notStarted: true });
  });
});

describe('qbo-pipeline reconcile on a table from before deletions were tracked', () => {
  const schema = scratchSchema('recon_old');

  it('says to run a sync first (exit 2) and changes nothing', async () => {
    await q(`CREATE SCHEMA "${schema}"`);
    await q(`CREATE TABLE "${schema}".invoices (id text PRIMARY KEY, payload jsonb NOT NULL, realm_id text)`);
    await q(`INSERT INTO "${schema}".invoices VALUES ('1', '{}', $1)`, [h.emulator.realmId]);
    const run = await runCliProcess(
      runnerArgs('reconcile', {
        streams: 'invoices',
        tapConfig: h.tapConfig,
        targetConfig: await h.targetConfig(schema),
        stateDir: path.join(h.dir, 'state-old'),
      }),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`FATAL qbo-pipeline: ${schema}\\.invoices has no deleted_at_utc column .* run a sync or backfill of invoices once`));
  });

  it('without _company (a schema loaded before the rule), a table holding rows of another company is refused too', async () => {
    await q(`CREATE TABLE "${schema}".bills (id text PRIMARY KEY, payload jsonb NOT NULL, realm_id text, deleted_at_utc timestamptz)`);
    await q(`INSERT INTO "${schema}".bills VALUES ('1', '{}', '555')`);
    const run = await runCliProcess(
      runnerArgs('reconcile', {
        streams: 'bills',
        tapConfig: h.tapConfig,
        targetConfig: await h.targetConfig(schema),
        stateDir: path.join(h.dir, 'state-old'),
      }),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(`FATAL qbo-pipeline: ${schema}\\.bills holds rows of company 555, but the tap settings name company ${h.emulator.realmId}`),
    );
    expect(await q(`SELECT count(*)::int AS n FROM "${schema}".bills WHERE deleted_at_utc IS NULL`)).toEqual([{ n: 1 }]);
  });
});
