import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startFirm, type Firm } from './companiesHarness.js';
import { codeBlocks } from './docsHarness.js';
import { databaseUrl, scratchRole, withClient } from './support/db.js';

/**
 * `qbo-pipeline views` without a companies file: one company loaded the README way (`backfill`
 * with --tap-config and --target-config), then `views --target-config` over its schema, as
 * docs/querying.md says. The views must hold exactly the schema's rows, named after the
 * company's CompanyName, answer the page's first query as written, write nothing when nothing
 * changed, and refuse the company's own schema and a role without the rights in one line.
 */
const tag = randomBytes(3).toString('hex');
const SCHEMA = `one_${tag}`;
const VIEWS = `qbo_all_${tag}`;
const NAME = `Acme ${tag} Ltd`;
const COLUMNS = ['realm_id', 'id', 'payload', 'last_updated_utc', 'deleted_at_utc'];
const asText = COLUMNS.map((c) => `${c}::text AS ${c}`).join(', ');

let firm: Firm;
/** A loader that may not create the views' schema. */
const loader = scratchRole('one_views_loader');
const rowsOf = async (sql: string): Promise<string[]> =>
  withClient(async (c) => (await c.query<Record<string, unknown>>(sql)).rows.map((r) => JSON.stringify(r)).sort());
const viewXmin = () =>
  withClient(
    async (c) =>
      (await c.query<{ xmin: string }>(`SELECT xmin::text AS xmin FROM pg_class WHERE oid = to_regclass($1)`, [`"${VIEWS}".invoices`])).rows[0]?.xmin,
  );

beforeAll(async () => {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  firm = await startFirm({ names: ['acme'], databaseUrl: databaseUrl(), seed: 57, now, days: 2, counts: { invoices: 6, customers: 3 } });
  const acme = firm.company('acme');
  acme.update('CompanyInfo', '1', { CompanyName: JSON.stringify(NAME) });
  await writeFile(
    path.join(firm.dir, 'tap.json'),
    JSON.stringify({
      client_id: firm.emulator.clientId,
      client_secret: firm.emulator.clientSecret,
      refresh_token: acme.currentRefreshToken(),
      realm_id: acme.realmId,
      base_url: firm.emulator.baseUrl,
      token_url: firm.emulator.tokenUrl,
    }),
  );
  await writeFile(path.join(firm.dir, 'target.json'), JSON.stringify({ database_url: databaseUrl(), schema: SCHEMA }));
  const end = new Date(Math.ceil((firm.emulator.now().getTime() + 1) / 1000) * 1000).toISOString();
  // A future end is the tap's run start: a backfill started before `end` passed would stop short of it and fail.
  while (firm.emulator.now().toISOString() <= end) await new Promise((r) => setTimeout(r, 100));
  const start = new Date(now.getTime() - 3 * 86_400_000).toISOString().slice(0, 10);
  const backfill = await firm.cli([
    'backfill',
    '--tap-config',
    'tap.json',
    '--target-config',
    'target.json',
    '--streams',
    'invoices,customers,company_info',
    '--start',
    start,
    '--end',
    end,
  ]);
  expect(backfill.code, backfill.stderr + backfill.stdout).toBe(0);
}, 120_000);

afterAll(async () => {
  await withClient((c) =>
    c.query(`DROP SCHEMA IF EXISTS "${VIEWS}" CASCADE; DROP SCHEMA IF EXISTS "${VIEWS}_new" CASCADE; DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`),
  );
  await firm?.close();
});

describe('views --target-config: the qbo_all views over the one schema loaded without a companies file', () => {
  it("makes a view per stream with the schema's rows, named after the company, and the page's first query answers as written", async () => {
    const run = await firm.cli(['views', '--target-config', 'target.json', '--schema', VIEWS]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      `views in schema ${VIEWS} at ${new URL(databaseUrl()).host}${new URL(databaseUrl()).pathname}, over 1 company (${NAME}): 3 created, 0 replaced, 0 unchanged`,
    );
    for (const stream of ['invoices', 'customers', 'company_info']) {
      expect(await rowsOf(`SELECT company, company_schema, ${asText} FROM "${VIEWS}"."${stream}"`)).toEqual(
        await rowsOf(`SELECT '${NAME}'::text AS company, '${SCHEMA}'::text AS company_schema, ${asText} FROM "${SCHEMA}"."${stream}"`),
      );
    }
    expect((await rowsOf(`SELECT 1 FROM "${SCHEMA}".invoices`)).length).toBe(6);
    const first = codeBlocks('docs/querying.md').find((b) => b.lang === 'sql');
    const answer = await withClient(
      async (c) => (await c.query<{ company_schema: string; company_name: string }>(first!.text.replaceAll('qbo_all.', `${VIEWS}.`))).rows,
    );
    expect(answer.map((r) => [r.company_schema, r.company_name])).toEqual([[SCHEMA, NAME]]);
  });

  it('writes nothing when nothing changed; --sql prints the same transaction and changes nothing', async () => {
    const before = await viewXmin();
    const again = await firm.cli(['views', '--target-config', 'target.json', '--schema', VIEWS]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 created, 0 replaced, 3 unchanged');
    await withClient((c) => c.query(`DROP VIEW "${VIEWS}".customers`));
    const sql = await firm.cli(['views', '--target-config', 'target.json', '--schema', VIEWS, '--sql']);
    expect(sql.code, sql.stderr).toBe(0);
    expect(sql.stdout).toContain(`CREATE OR REPLACE VIEW "${VIEWS}"."customers" AS`);
    expect(sql.stdout).toContain(`for target schema ${SCHEMA}`);
    expect(await viewXmin()).toBe(before);
    expect(await rowsOf(`SELECT to_regclass('"${VIEWS}".customers') AS r`)).toEqual(['{"r":null}']);
    const made = await firm.cli(['views', '--target-config', 'target.json', '--schema', VIEWS]);
    expect(made.stdout).toContain('1 created, 0 replaced, 2 unchanged');
  });

  it("refuses the company's own schema, and a role without the rights, in one line", async () => {
    const own = await firm.cli(['views', '--target-config', 'target.json', '--schema', SCHEMA]);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain(`--schema ${SCHEMA}: it is the target settings' schema, where the company is loaded`);
    await writeFile(path.join(firm.dir, 'loader.json'), JSON.stringify({ database_url: loader.url(), schema: SCHEMA }));
    const database = new URL(databaseUrl()).pathname.slice(1) || 'postgres';
    await withClient((c) => c.query(`REVOKE CREATE ON DATABASE "${database}" FROM ${loader.name}`));
    const refused = await firm.cli(['views', '--target-config', 'loader.json', '--schema', `${VIEWS}_l`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringContaining(`views in schema ${VIEWS}_l at `) as unknown as string]);
    expect(refused.stderr).toContain(`schema ${VIEWS}_l does not exist, and role ${loader.name} may not create it: that needs CREATE on database ${database}`);
    expect(refused.stderr).not.toContain(`pw-${loader.name}`);
  });

  it('--schema holding the views of a companies file is refused, naming both', async () => {
    await withClient((c) =>
      c.query(
        `COMMENT ON VIEW "${VIEWS}".invoices IS 'qbo-pipeline views: invoices of acme (definition 0); made by qbo-pipeline views, replaced at each change, for companies file /srv/companies.yaml'`,
      ),
    );
    const run = await firm.cli(['views', '--target-config', 'target.json', '--schema', VIEWS]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `schema ${VIEWS} holds the views of companies file /srv/companies.yaml: the views of target schema ${SCHEMA} would replace them; give these views a schema of their own (--schema), or, to hand schema ${VIEWS} over to target schema ${SCHEMA}, run views with --take-over once`,
    );
    const taken = await firm.cli(['views', '--target-config', 'target.json', '--schema', VIEWS, '--take-over']);
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toContain('0 created, 1 replaced, 2 unchanged');
  });

  it('after --schema changes, names its views left in the old schema as its own, and drops them with --drop-stale', async () => {
    const moved = await firm.cli(['views', '--target-config', 'target.json', '--schema', `${VIEWS}_new`]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(
      `the views for target schema ${SCHEMA} in another schema, no longer kept current and left as they were (something may still read them): ${VIEWS}.company_info, ${VIEWS}.customers, ${VIEWS}.invoices; views --drop-stale drops them`,
    );
    const dropped = await firm.cli(['views', '--target-config', 'target.json', '--schema', `${VIEWS}_new`, '--drop-stale']);
    expect(dropped.stdout).toContain(`dropped the views for target schema ${SCHEMA} in another schema, no longer kept current: ${VIEWS}.company_info`);
    expect(await rowsOf(`SELECT to_regclass('"${VIEWS}".invoices') AS r`)).toEqual(['{"r":null}']);
    await withClient((c) => c.query(`DROP SCHEMA "${VIEWS}_new" CASCADE`));
  });
});
