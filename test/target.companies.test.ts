import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITIES } from 'qbo-catalog';
import { startEmulator, type EmulatedCompany, type Emulator } from 'qbo-emulator';
import { databaseUrl, scratchSchema } from './support/db.js';
import { diffWithTruth } from './pipelineHarness.js';
import { runTapCli, tapSettings, tempDir, writeJson } from './tapHarness.js';
import { query, R, runTargetCli, S, singer, ST } from './targetHarness.js';
import { fatalLine } from './support/runProcess.js';

const NOW = '2025-03-10T12:00:00Z';
const START = '2025-03-07T00:00:00Z';
const url = () => databaseUrl();

/** Every row of every table of a schema, with xmin: a second company must change and hide none of it. */
async function snapshot(schema: string): Promise<unknown[]> {
  const tables = await query<{ t: string }>(url(), `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
  const out: unknown[] = [];
  for (const { t } of tables) out.push(t, await query(url(), `SELECT xmin::text, * FROM "${schema}"."${t}" ORDER BY 2`));
  return out;
}

describe('target-postgres-raw: one company per schema (issue 10, PLAN contract 2)', () => {
  let emulator: Emulator;
  let a: EmulatedCompany;
  let b: EmulatedCompany;
  const output = new Map<string, string>();
  const dir = tempDir('companies-');

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 21, now: new Date(NOW), days: 3, counts: { invoices: 80, customers: 25, items: 10 }, companies: [{}, {}] });
    [a, b] = emulator.companies as [EmulatedCompany, EmulatedCompany];
    for (const company of [a, b]) {
      const config = writeJson(
        dir,
        `tap-${company.realmId}.json`,
        tapSettings(emulator, dir, {
          realm_id: company.realmId,
          refresh_token: company.currentRefreshToken(),
          token_store: `${dir}/tokens-${company.realmId}.json`,
          start_date: START,
          end_date: NOW,
        }),
      );
      const run = await runTapCli(['--config', config]);
      expect(run.code, run.stderr).toBe(0);
      output.set(company.realmId, run.stdout);
    }
  });
  afterAll(() => emulator?.close());

  const schemaA = scratchSchema('co_a');
  const schemaB = scratchSchema('co_b');

  it('two companies whose entities share Ids, each loaded into its own schema as README says: both complete and exact', async () => {
    const shared = a
      .truth('invoices')
      .map((r) => r.id)
      .filter((id) => b.truth('invoices').some((r) => r.id === id));
    expect(shared.length).toBeGreaterThan(10); // the collision is real: QBO Ids are per company
    for (const [company, schema] of [
      [a, schemaA],
      [b, schemaB],
    ] as const) {
      const result = await runTargetCli({ database_url: url(), schema }, output.get(company.realmId) as string);
      expect(result.code, result.stderr).toBe(0);
      for (const { stream, replication } of ENTITIES) {
        if (replication === 'FULL_TABLE') continue;
        const diff = await diffWithTruth(url(), schema, company, stream, START, NOW);
        expect({ stream, missing: diff.missing, extra: diff.extra, different: diff.different }).toEqual({ stream, missing: [], extra: [], different: [] });
      }
      expect(await query(url(), `SELECT realm_id, recorded_by FROM "${schema}"._company`)).toEqual([{ realm_id: company.realmId, recorded_by: 'first load' }]);
    }
  });

  it("the second company loaded into the first one's schema: exit 2, one line naming both realms, the schema and the setting; nothing changed or hidden", async () => {
    const before = await snapshot(schemaA);
    const result = await runTargetCli({ database_url: url(), schema: schemaA }, output.get(b.realmId) as string);
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL target-postgres-raw: line \\d+: stream "\\w+" record id "[^"]+" is of company \\(realm\\) ${b.realmId}, but schema "${schemaA}" holds company \\(realm\\) ${a.realmId} \\(recorded in ${schemaA}\\._company\\); one schema holds one company, so nothing of this batch was written; load each company into its own schema: set the target setting schema \\(TARGET_POSTGRES_RAW_SCHEMA\\), or the company's schema: in the companies file$`,
      ),
    );
    expect(result.stdout).toBe('');
    const after = await snapshot(schemaA);
    // Only the failed run's own bookkeeping row is new.
    const runs = (rows: unknown) => (rows as Array<{ status: string }>).filter((r) => r.status !== 'failed');
    const i = after.indexOf('_load_runs');
    expect(runs(after[i + 1])).toEqual(runs(before[i + 1]));
    expect(after.filter((_, k) => k !== i + 1)).toEqual(before.filter((_, k) => k !== i + 1));
    expect(await query(url(), `SELECT status, commits FROM "${schemaA}"._load_runs WHERE status = 'failed'`)).toEqual([{ status: 'failed', commits: 0 }]);
  });
});

describe('target-postgres-raw: the realm rule with records built by hand', () => {
  const rec = (id: string, realm?: string, extra: object = {}) => R('invoices', { Id: id, ...(realm ? { _sdc_realm_id: realm } : {}), ...extra });

  it('a batch of another company is refused before any of it commits, even a record that a newer one of the right company would replace', async () => {
    const schema = scratchSchema();
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), rec('1', '111'), rec('2', '111'), ST({ n: 2 })))).code).toBe(0);
    const input = singer(
      S('invoices'),
      rec('3', '111', { MetaData: { LastUpdatedTime: '2024-01-02T00:00:00Z' } }),
      rec('3', '222', { MetaData: { LastUpdatedTime: '2024-01-01T00:00:00Z' } }), // older: the buffer keeps the 111 record
      rec('4', '111'),
      ST({ n: 4 }),
    );
    const result = await runTargetCli({ database_url: url(), schema }, input);
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(`line 3: stream "invoices" record id "3" is of company \\(realm\\) 222, but schema "${schema}" holds company \\(realm\\) 111`),
    );
    expect(result.stdout).toBe('');
    expect(await query(url(), `SELECT id FROM "${schema}".invoices ORDER BY id`)).toEqual([{ id: '1' }, { id: '2' }]);
  });

  it('two companies in the first batch of an empty schema: refused, nothing recorded; records without _sdc_realm_id are not checked', async () => {
    const schema = scratchSchema();
    const mixed = await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), rec('1', '111'), rec('1', '222')));
    expect(mixed.code).toBe(2);
    expect(fatalLine(mixed.stderr)).toMatch(
      /line 3: .* is of company \(realm\) 222, but the same input also has company \(realm\) 111 \(line 2: stream "invoices" record id "1"/,
    );
    expect(await query(url(), `SELECT realm_id FROM "${schema}"._company`)).toEqual([{ realm_id: null }]);
    const other = await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), rec('9'), rec('1', '222')));
    expect(other.code).toBe(0);
    expect(await query(url(), `SELECT realm_id, recorded_by FROM "${schema}"._company`)).toEqual([{ realm_id: '222', recorded_by: 'first load' }]);
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), rec('10')))).code).toBe(0);
  });

  it('a schema loaded before the rule: its company is taken from its rows; several companies already there are named, and nothing loads until they are separated', async () => {
    const schema = scratchSchema();
    expect(
      (
        await runTargetCli(
          { database_url: url(), schema },
          singer(S('invoices'), S('customers'), rec('1', '111'), R('customers', { Id: '5', _sdc_realm_id: '111' })),
        )
      ).code,
    ).toBe(0);
    await query(url(), `DROP TABLE "${schema}"._company`); // as a version without the rule left it
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), rec('2', '111')))).code).toBe(0);
    expect(await query(url(), `SELECT realm_id, recorded_by FROM "${schema}"._company`)).toEqual([{ realm_id: '111', recorded_by: 'existing rows' }]);

    await query(url(), `DROP TABLE "${schema}"._company; UPDATE "${schema}".customers SET realm_id = '222'`); // an old collision
    const result = await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), rec('3', '111')));
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL .*schema "${schema}" already holds rows of 2 companies \\(realms 111 \\(2 rows in invoices\\), 222 \\(1 row in customers\\)\\); one schema holds one company`,
      ),
    );
    expect(await query(url(), `SELECT count(*)::int AS n FROM "${schema}".invoices`)).toEqual([{ n: 2 }]);
  });
});
