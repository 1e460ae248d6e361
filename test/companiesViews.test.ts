import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { startFirm, type Firm } from './companiesHarness.js';
import { databaseUrl, scratchRole, withClient } from './support/db.js';

/**
 * `qbo-pipeline views`: an accounting firm's three companies loaded from the emulator, one of them
 * with its invoices table upgraded in place (`payload_sha256` and `deleted_at_utc` in the other
 * order than a new table's), payments loaded by one company only. The views must hold exactly the
 * rows of the companies' tables (ids, payload text, metadata, money to the digit), follow the file
 * as companies come and go, write nothing when nothing changed, refuse a role without the rights
 * with one line naming the schema and the grant, and be kept by the scheduler when the file says
 * `views:` — a view that cannot be made never failing the run.
 */
const NAMES = ['acme', 'globex', 'initech'] as const;
const tag = randomBytes(3).toString('hex');
const PREFIX = `vw_${tag}`;
const VIEWS = `qbo_all_${tag}`;
const schemaOf = (name: string) => `${PREFIX}_${name}`;
const BIG = '9876543210987654.31';
/** The stream table's columns the views carry, as text for exact comparison. */
const COLUMNS = [
  'realm_id',
  'id',
  'payload',
  'ingested_at_utc',
  'extract_window_start_utc',
  'extract_window_end_utc',
  'page_number',
  'page_size',
  'request_payload',
  'extracted_at_utc',
  'last_updated_utc',
  'deleted_at_utc',
];
const asText = COLUMNS.map((c) => `${c}::text AS ${c}`).join(', ');

let firm: Firm;
/** The companies file over some of the companies (initech also loads payments), with `extra` at its top level. */
function companiesFile(names: readonly string[], extra = '', url = 'secrets/warehouse_url'): string {
  const all = firm.companiesYaml({ schemaPrefix: PREFIX, streams: ['invoices', 'customers'], extra });
  const [head, entries] = all.split('\ncompanies:\n') as [string, string];
  const kept = entries
    .split(/(?=^ {2}- name: )/m)
    .filter((entry) => names.some((n) => entry.startsWith(`  - name: ${n}\n`)))
    .map((entry) => (entry.startsWith('  - name: initech\n') ? entry.replace(/\n$/, '\n    streams: [invoices, customers, payments]\n') : entry));
  return `${head.replace('secrets/warehouse_url', url)}\ncompanies:\n${kept.join('')}`;
}

const rowsOf = async (sql: string): Promise<string[]> =>
  withClient(async (c) => (await c.query<Record<string, unknown>>(sql)).rows.map((r) => JSON.stringify(r)).sort());
/** The view's rows, as text. */
const viewRows = (schema: string, stream: string) => rowsOf(`SELECT company, company_schema, ${asText} FROM "${schema}"."${stream}"`);
/** The same rows read from each company's own table. */
const unionOf = async (stream: string, names: readonly string[]) =>
  (
    await Promise.all(
      names.map((n) => rowsOf(`SELECT '${n}'::text AS company, '${schemaOf(n)}'::text AS company_schema, ${asText} FROM "${schemaOf(n)}"."${stream}"`)),
    )
  )
    .flat()
    .sort();
const viewXmin = (schema: string, stream: string) =>
  withClient(
    async (c) =>
      (await c.query<{ xmin: string }>(`SELECT xmin::text AS xmin FROM pg_class WHERE oid = to_regclass($1)`, [`"${schema}"."${stream}"`])).rows[0]?.xmin,
  );
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

beforeAll(async () => {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  firm = await startFirm({ names: NAMES, databaseUrl: databaseUrl(), seed: 56, now, days: 3, counts: { invoices: 12, customers: 5, payments: 6 } });
  firm.company('acme').update('Invoice', '5', { TotalAmt: BIG, Balance: BIG });
  await firm.writeCompanies(companiesFile(NAMES));
  const end = new Date(Math.ceil((firm.emulator.now().getTime() + 1) / 1000) * 1000).toISOString();
  // A future end is the tap's run start: a backfill started before `end` passed would stop short of it and fail.
  while (firm.emulator.now().toISOString() <= end) await new Promise((r) => setTimeout(r, 100));
  const start = new Date(now.getTime() - 4 * 86_400_000).toISOString().slice(0, 10);
  const backfill = await firm.cli(['backfill', '--companies', 'companies.yaml', '--start', start, '--end', end]);
  expect(backfill.code, backfill.stderr.slice(-3000)).toBe(0);
  // globex's invoices as an earlier target left them, then upgraded in place: the columns added at the end, in the upgrade's order.
  await withClient(async (c) => {
    const t = `"${schemaOf('globex')}".invoices`;
    await c.query(`DROP TRIGGER target_postgres_raw_payload_sha256 ON ${t}`);
    await c.query(`ALTER TABLE ${t} DROP COLUMN payload_sha256, DROP COLUMN deleted_at_utc`);
    await c.query(`ALTER TABLE ${t} ADD COLUMN payload_sha256 bytea, ADD COLUMN deleted_at_utc timestamptz`);
    await c.query(`UPDATE ${t} SET deleted_at_utc = '2026-12-01T10:11:12.345678Z' WHERE id = '3'`);
  });
}, 300_000);

afterAll(async () => {
  await withClient((c) =>
    c.query(['', '_s', '_t', '_t2', '_d', '_q', '_c', '_o', '_n', '_x', '_y'].map((s) => `DROP SCHEMA IF EXISTS "${VIEWS}${s}" CASCADE`).join('; ')),
  );
  await firm?.close();
});

describe('qbo-pipeline views', () => {
  it('unions exactly the tables of the companies in the file, follows the file, and writes nothing when nothing changed', { timeout: 120_000 }, async () => {
    // The tables really differ in order: SELECT * UNION ALL would pair payload_sha256 with deleted_at_utc.
    const order = async (name: string) =>
      (
        await rowsOf(
          `SELECT string_agg(attname, ',' ORDER BY attnum) AS cols FROM pg_attribute WHERE attrelid = '"${schemaOf(name)}".invoices'::regclass AND attnum > 0 AND NOT attisdropped`,
        )
      )[0];
    expect(await order('globex')).not.toEqual(await order('acme'));
    // A view left by the DO block of an earlier docs/querying.md (other columns) is made again.
    await withClient((c) =>
      c.query(
        `CREATE SCHEMA "${VIEWS}"; CREATE VIEW "${VIEWS}".customers AS SELECT 'x'::text AS company_schema, realm_id, id, payload, deleted_at_utc, last_updated_utc, ingested_at_utc FROM "${schemaOf('acme')}".customers`,
      ),
    );

    // Two companies in the file: initech's tables (its payments too) are not in the views.
    await firm.writeCompanies(companiesFile(['acme', 'globex']));
    // An analyst's view built on the old one: it cannot be dropped, so nothing is changed, and the line says what depends on it.
    await withClient((c) => c.query(`CREATE VIEW "${VIEWS}".my_report AS SELECT company_schema, id FROM "${VIEWS}".customers`));
    const blocked = await firm.cli(['views', '--companies', 'companies.yaml', '--schema', VIEWS]);
    expect(blocked.code, blocked.stderr).toBe(2);
    expect(lines(blocked.stderr)).toHaveLength(1);
    expect(blocked.stderr).toContain(`objects depend on it (view ${VIEWS}.my_report depends on view ${VIEWS}.customers): drop them, run views again`);
    expect(await withClient(async (c) => (await c.query(`SELECT to_regclass('"${VIEWS}".invoices') AS v`)).rows[0].v)).toBeNull();
    await withClient((c) => c.query(`DROP VIEW "${VIEWS}".my_report`));
    const first = await firm.cli(['views', '--companies', 'companies.yaml', '--schema', VIEWS]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`views in schema ${VIEWS} at .*, over 2 companies \\(acme, globex\\): 1 created, 1 replaced, 0 unchanged`));
    expect(await viewRows(VIEWS, 'invoices')).toEqual(await unionOf('invoices', ['acme', 'globex']));
    expect(await viewRows(VIEWS, 'customers')).toEqual(await unionOf('customers', ['acme', 'globex']));
    expect(await withClient(async (c) => (await c.query(`SELECT to_regclass('"${VIEWS}".payments') AS v`)).rows[0].v)).toBeNull();

    // initech added to the file: it gets in, and payments (only initech has it) gets a view.
    await firm.writeCompanies(companiesFile(NAMES));
    const added = await firm.cli(['views', '--companies', 'companies.yaml', '--schema', VIEWS]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/2 replaced, 0 unchanged/);
    expect(added.stdout).toMatch(new RegExp(`${VIEWS}\\.payments +\\| initech +\\| created`));
    for (const stream of ['invoices', 'customers']) expect(await viewRows(VIEWS, stream)).toEqual(await unionOf(stream, NAMES));
    expect(await viewRows(VIEWS, 'payments')).toEqual(await unionOf('payments', ['initech']));
    // The emulator's truth, through the view: every id of every company, money to the digit, the deletion where it was set.
    const ids = await withClient(async (c) =>
      (await c.query<{ company: string; id: string }>(`SELECT company, id FROM "${VIEWS}".invoices`)).rows.map((r) => `${r.company}/${r.id}`).sort(),
    );
    expect(ids).toEqual(
      NAMES.flatMap((n) =>
        firm
          .company(n)
          .truth('invoices')
          .map((t) => `${n}/${t.id}`),
      ).sort(),
    );
    const picked = await withClient(
      async (c) =>
        (
          await c.query(
            `SELECT company, id, payload->>'TotalAmt' AS total, (payload->>'TotalAmt')::numeric = ${BIG} AS exact, deleted_at_utc IS NOT NULL AS deleted
             FROM "${VIEWS}".invoices WHERE (company, id) IN (('acme', '5'), ('globex', '3'), ('globex', '4')) ORDER BY company, id`,
          )
        ).rows,
    );
    expect(picked).toEqual([
      { company: 'acme', id: '5', total: BIG, exact: true, deleted: false },
      expect.objectContaining({ company: 'globex', id: '3', deleted: true }),
      expect.objectContaining({ company: 'globex', id: '4', deleted: false }),
    ]);

    // Nothing changed: nothing written.
    const before = await viewXmin(VIEWS, 'invoices');
    const again = await firm.cli(['views', '--companies', 'companies.yaml', '--schema', VIEWS]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 created, 0 replaced, 3 unchanged/);
    expect(await viewXmin(VIEWS, 'invoices')).toBe(before);

    // globex out of the file: out of the views; initech out too: payments is kept, with no row, for what is built on it.
    await firm.writeCompanies(companiesFile(['acme']));
    const removed = await firm.cli(['views', '--companies', 'companies.yaml', '--schema', VIEWS]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await viewRows(VIEWS, 'invoices')).toEqual(await unionOf('invoices', ['acme']));
    expect(await viewRows(VIEWS, 'payments')).toEqual([]);
    expect(removed.stdout).toMatch(new RegExp(`${VIEWS}\\.payments +\\| \\(none any more: no row\\) +\\| replaced`));
  });

  it('refuses a schema of a company, a bad name and --company, each in one line', async () => {
    await firm.writeCompanies(companiesFile(NAMES));
    for (const [args, message] of [
      [['--schema', schemaOf('acme')], `--schema ${schemaOf('acme')}: it is company acme's schema`],
      [['--schema', 'Qbo-All'], '--schema "Qbo-All": must be a lower-case PostgreSQL name'],
      [['--company', 'acme'], 'views: its views take every company of the file; leave out --company'],
    ] as const) {
      const run = await firm.cli(['views', '--companies', 'companies.yaml', ...args]);
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr)).toHaveLength(1);
      expect(run.stderr).toContain(message);
    }
  });
});

describe('companies in two databases', () => {
  const second = `views_${tag}`;
  const secondUrl = () => {
    const url = new URL(databaseUrl());
    url.pathname = `/${second}`;
    return url.toString();
  };
  afterAll(() => withClient((c) => c.query(`DROP DATABASE IF EXISTS ${second}`)));

  it('each database gets views over its own companies', { timeout: 120_000 }, async () => {
    await withClient((c) => c.query(`CREATE DATABASE ${second}`));
    await writeFile(path.join(firm.dir, 'secrets', 'second_url'), `${secondUrl()}\n`, { mode: 0o600 });
    const file = companiesFile(NAMES).replace(
      '      refresh_token_file: secrets/initech/refresh_token\n',
      '      refresh_token_file: secrets/initech/refresh_token\n      database_url_file: secrets/second_url\n',
    );
    await firm.writeCompanies(file, 'two.yaml');
    // Its own job (state file), the company's token store: initech's tables in the second database.
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const load = await firm.cli([
      'backfill',
      '--companies',
      'two.yaml',
      '--company',
      'initech',
      '--job',
      'second_database',
      '--start',
      day,
      '--end',
      new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
    ]);
    expect(load.code, load.stdout + load.stderr.slice(-500)).toBe(0);
    const run = await firm.cli(['views', '--companies', 'two.yaml', '--schema', `${VIEWS}_d`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`views in schema ${VIEWS}_d at \\S+/postgres, over 2 companies \\(acme, globex\\)`));
    expect(run.stdout).toMatch(new RegExp(`views in schema ${VIEWS}_d at \\S+/${second}, over 1 company \\(initech\\)`));
    expect(await viewRows(`${VIEWS}_d`, 'invoices')).toEqual(await unionOf('invoices', ['acme', 'globex']));
    const client = new pg.Client({ connectionString: secondUrl() });
    await client.connect();
    try {
      const found = await client.query(
        `SELECT (SELECT array_agg(DISTINCT company) FROM "${VIEWS}_d".invoices) AS companies,
                (SELECT array_agg(id ORDER BY id) FROM "${VIEWS}_d".payments) = (SELECT array_agg(id ORDER BY id) FROM "${schemaOf('initech')}".payments) AS same,
                (SELECT count(*)::int FROM "${VIEWS}_d".payments) AS payments`,
      );
      expect(found.rows[0]).toEqual({ companies: ['initech'], same: true, payments: expect.any(Number) });
      expect(found.rows[0].payments).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});

describe('views made by a role with narrower rights', () => {
  const role = scratchRole('views_loader');
  const schema = `${VIEWS}_s`;

  it('says which schema and which grant it needs, in one line, and works once granted', { timeout: 60_000 }, async () => {
    const file = path.join(firm.dir, 'secrets', 'loader_url');
    await writeFile(file, `${role.url()}\n`, { mode: 0o600 });
    await firm.writeCompanies(companiesFile(NAMES, '', 'secrets/loader_url'), 'loader.yaml');
    const views = () => firm.cli(['views', '--companies', 'loader.yaml', '--schema', schema]);
    const database = new URL(databaseUrl()).pathname.slice(1) || 'postgres';
    const refused = async (...texts: string[]) => {
      const run = await views();
      expect(run.code, run.stderr).toBe(2);
      expect(lines(run.stderr)).toHaveLength(1);
      for (const text of texts) expect(run.stderr).toContain(text);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    };

    await withClient((c) => c.query(`REVOKE CREATE ON DATABASE "${database}" FROM ${role.name}`));
    await refused(`schema ${schema} does not exist, and role ${role.name} may not create it: that needs CREATE on database ${database}`);
    await withClient((c) => c.query(`CREATE SCHEMA "${schema}"`));
    await refused(`role ${role.name} may not create views in schema ${schema}: that needs CREATE on it`);
    await withClient((c) => c.query(`GRANT USAGE, CREATE ON SCHEMA "${schema}" TO ${role.name}`));
    await refused(
      `role ${role.name} may not read ${schemaOf('acme')}.customers, and a view reads its tables with its owner's rights: that needs USAGE on schema ${schemaOf('acme')} and SELECT on its tables`,
    );
    await withClient((c) =>
      c.query(
        NAMES.map((n) => `GRANT USAGE ON SCHEMA "${schemaOf(n)}" TO ${role.name}; GRANT SELECT ON ALL TABLES IN SCHEMA "${schemaOf(n)}" TO ${role.name}`).join(
          '; ',
        ),
      ),
    );
    const run = await views();
    expect(run.code, run.stderr).toBe(0);
    // The views belong to the role, and read the companies' tables with its rights.
    expect(await rowsOf(`SELECT viewowner::text AS owner, count(*)::int AS n FROM pg_views WHERE schemaname = '${schema}' GROUP BY 1`)).toEqual([
      JSON.stringify({ owner: role.name, n: 3 }),
    ]);
    expect(await viewRows(schema, 'invoices')).toEqual(await unionOf('invoices', NAMES));

    // Views another role made (the first describe's, over acme alone, for companies.yaml: taken over) are replaced only by their owner.
    await withClient((c) => c.query(`GRANT USAGE, CREATE ON SCHEMA "${VIEWS}" TO ${role.name}`));
    const other = await firm.cli(['views', '--companies', 'loader.yaml', '--schema', VIEWS, '--take-over']);
    expect(other.code, other.stderr).toBe(2);
    expect(lines(other.stderr)).toHaveLength(1);
    expect(other.stderr).toMatch(new RegExp(`view ${VIEWS}\\.customers belongs to role \\w+, and only its owner may replace it`));
  });
});

/**
 * Every row of the catalogs a refresh writes (relations, schemas, comments) in this file's schemas
 * (named with its tag) and public, as one hash: equal when nothing was created, replaced or dropped
 * there. Not the whole database's: other test files, running at the same time, make and drop schemas of their own in it.
 */
const catalogHash = () =>
  withClient(
    async (c) =>
      (
        await c.query<{ hash: string }>(
          `WITH ours AS (SELECT oid, xmin, nspname FROM pg_namespace WHERE nspname = 'public' OR strpos(nspname, $1) > 0),
                relations AS (SELECT c.oid, c.xmin, c.relname FROM pg_class c JOIN ours ON ours.oid = c.relnamespace)
           SELECT md5((SELECT coalesce(string_agg(format('%s:%s:%s', oid, xmin, relname), ',' ORDER BY oid), '') FROM relations)
                   || (SELECT string_agg(format('%s:%s:%s', oid, xmin, nspname), ',' ORDER BY oid) FROM ours)
                   || (SELECT coalesce(string_agg(format('%s:%s', objoid, xmin), ',' ORDER BY objoid, objsubid), '') FROM pg_description
                       WHERE objoid IN (SELECT oid FROM relations UNION ALL SELECT oid FROM ours))) AS hash`,
          [tag],
        )
      ).rows[0]?.hash,
  );
/** Each view of a schema: its definition as PostgreSQL keeps it and its comment, with the companies file it names as FILE. */
const definitions = (schema: string) =>
  rowsOf(
    `SELECT c.relname AS name, pg_get_viewdef(c.oid) AS definition, regexp_replace(obj_description(c.oid, 'pg_class'), 'companies file .*$', 'companies file FILE') AS comment
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${schema}' AND c.relkind = 'v'`,
  );
const exists = (relation: string) => withClient(async (c) => (await c.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [relation])).rows[0].e as boolean);

describe('views --sql, for a DBA who runs the statements himself', () => {
  const reader = scratchRole('views_reader');
  const schema = `${VIEWS}_q`;

  it(
    'prints the transaction the command would run, read with a role that may read nothing but the catalog, and changes nothing',
    { timeout: 60_000 },
    async () => {
      const database = new URL(databaseUrl()).pathname.slice(1) || 'postgres';
      await withClient((c) => c.query(`REVOKE CREATE ON DATABASE "${database}" FROM ${reader.name}`));
      await writeFile(path.join(firm.dir, 'secrets', 'reader_url'), `${reader.url()}\n`, { mode: 0o600 });
      await firm.writeCompanies(companiesFile(NAMES, '', 'secrets/reader_url'), 'reader.yaml');
      const before = await catalogHash();
      const printed = await firm.cli(['views', '--companies', 'reader.yaml', '--schema', schema, '--sql']);
      expect(printed.code, printed.stderr).toBe(0);
      expect(printed.stderr).toBe('');
      expect(await catalogHash()).toBe(before);
      expect(await exists(`"${schema}".invoices`)).toBe(false);
      const statements = lines(printed.stdout).filter((l) => !l.startsWith('-- '));
      expect(printed.stdout).toMatch(
        new RegExp(`^-- views in schema ${schema} at \\S+, over 3 companies \\(acme, globex, initech\\): 3 created, 0 replaced, 0 unchanged\n`),
      );
      expect(statements.slice(0, 4)).toEqual([
        'BEGIN;',
        'SET LOCAL lock_timeout = 10000;',
        `SELECT pg_advisory_xact_lock(hashtext('qbo-pipeline views'), hashtext('${schema}'));`,
        `CREATE SCHEMA "${schema}";`,
      ]);
      expect(statements.at(-1)).toBe('COMMIT;');

      // A superuser runs it as printed: the views are the command's own, to the definition and the comment.
      await withClient((c) => c.query(printed.stdout));
      const made = await firm.cli(['views', '--companies', 'companies.yaml', '--schema', `${VIEWS}_c`]);
      expect(made.code, made.stderr).toBe(0);
      expect(await definitions(schema)).toEqual(await definitions(`${VIEWS}_c`));
      expect(await definitions(schema)).toHaveLength(3);
      for (const stream of ['invoices', 'customers']) expect(await viewRows(schema, stream)).toEqual(await unionOf(stream, NAMES));
      // The role's refresh (the scheduler's) finds them as planned: nothing to write, no right needed; --sql then prints an empty transaction.
      const kept = await firm.cli(['views', '--companies', 'reader.yaml', '--schema', schema]);
      expect(kept.code, kept.stderr).toBe(0);
      expect(kept.stdout).toMatch(/0 created, 0 replaced, 3 unchanged/);
      const none = await firm.cli(['views', '--companies', 'reader.yaml', '--schema', schema, '--sql']);
      expect(lines(none.stdout).filter((l) => !l.startsWith('-- '))).toEqual([
        'BEGIN;',
        'SET LOCAL lock_timeout = 10000;',
        `SELECT pg_advisory_xact_lock(hashtext('qbo-pipeline views'), hashtext('${schema}'));`,
        'COMMIT;',
      ]);
    },
  );
});

describe("views.schema changed: the old schema's views", () => {
  const old = `${VIEWS}_o`;
  const now = `${VIEWS}_n`;

  it('are named, dropped only with --drop-stale, never one something depends on or one the product did not make', { timeout: 60_000 }, async () => {
    // The views companies.yaml made above with --schema would be its views in other schemas too.
    await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${VIEWS}" CASCADE; DROP SCHEMA IF EXISTS "${VIEWS}_c" CASCADE`));
    await firm.writeCompanies(companiesFile(NAMES, `views:\n  schema: ${old}`));
    const first = await firm.cli(['views', '--companies', 'companies.yaml']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/3 created/);
    await withClient((c) =>
      c.query(
        `CREATE VIEW "${old}".my_report AS SELECT company, id FROM "${old}".invoices; CREATE VIEW "${old}".by_hand AS SELECT company, id FROM "${old}".customers`,
      ),
    );
    await withClient((c) => c.query(`DROP VIEW "${old}".by_hand; CREATE VIEW "${old}".by_hand AS SELECT id FROM "${schemaOf('acme')}".customers`));

    await firm.writeCompanies(companiesFile(NAMES, `views:\n  schema: ${now}`));
    const moved = await firm.cli(['views', '--companies', 'companies.yaml']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(new RegExp(`views in schema ${now} at .*: 3 created`));
    expect(moved.stdout).toContain(
      `this companies file's views in another schema, no longer kept current and left as they were (something may still read them): ${old}.customers, ${old}.invoices, ${old}.payments; views --drop-stale drops them`,
    );
    for (const v of ['customers', 'invoices', 'payments']) expect(await exists(`"${old}".${v}`)).toBe(true);

    const pruned = await firm.cli(['views', '--companies', 'companies.yaml', '--drop-stale']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/0 created, 0 replaced, 3 unchanged/);
    expect(pruned.stdout).toContain(`dropped this companies file's views in another schema, no longer kept current: ${old}.customers, ${old}.payments`);
    expect(lines(pruned.stdout).filter((l) => l.startsWith('kept '))).toEqual([
      `kept ${old}.invoices: view ${old}.my_report depends on it: drop or re-point that first, then run views --drop-stale again`,
    ]);
    expect([await exists(`"${old}".invoices`), await exists(`"${old}".my_report`), await exists(`"${old}".by_hand`)]).toEqual([true, true, true]);
    expect([await exists(`"${old}".customers`), await exists(`"${old}".payments`)]).toEqual([false, false]);

    await withClient((c) => c.query(`DROP VIEW "${old}".my_report`));
    const last = await firm.cli(['views', '--companies', 'companies.yaml', '--drop-stale']);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toContain(`dropped this companies file's views in another schema, no longer kept current: ${old}.invoices`);
    expect(await exists(`"${old}".invoices`)).toBe(false);
    // What the product did not make stays, and so does the schema.
    expect(await exists(`"${old}".by_hand`)).toBe(true);
    const again = await firm.cli(['views', '--companies', 'companies.yaml', '--drop-stale']);
    expect(again.stdout).not.toMatch(/dropped|kept|another schema/);
  });
});

describe('two companies files, one views schema', () => {
  const shared = `${VIEWS}_x`;

  it("the second is refused in one line naming the first and the fix, by hand and in its scheduler; the first's views stay", { timeout: 90_000 }, async () => {
    await firm.writeCompanies(companiesFile(['acme', 'globex'], `views:\n  schema: ${shared}`));
    await firm.writeCompanies(companiesFile(['initech'], `views:\n  schema: ${shared}`), 'other.yaml');
    const first = await firm.cli(['views', '--companies', 'companies.yaml']);
    expect(first.code, first.stderr).toBe(0);
    const before = await catalogHash();
    const other = path.join(firm.dir, 'other.yaml');
    const fix = `give each file its own views.schema (views: {schema: …}, or --schema), or, if ${path.join(firm.dir, 'companies.yaml')} is this same file moved`;
    const second = await firm.cli(['views', '--companies', 'other.yaml']);
    expect(second.code, second.stderr).toBe(2);
    expect(lines(second.stderr)).toHaveLength(1);
    expect(second.stderr).toContain(
      `schema ${shared} holds the views of companies file ${path.join(firm.dir, 'companies.yaml')}: this file (${other}) would replace them`,
    );
    expect(second.stderr).toContain(fix);
    expect(await catalogHash()).toBe(before);

    // other.yaml's scheduler: its run stands, the refresh is one warning, acme and globex keep their views.
    const at = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const added = await firm.cli(['trigger', 'add', '--companies', 'other.yaml', '--at', at, '--start', day, '--end', new Date().toISOString().slice(0, 10)]);
    expect(added.code, added.stderr).toBe(0);
    const scheduled = await firm.cli(['scheduler', '--companies', 'other.yaml', '--once']);
    expect(scheduled.code, scheduled.stderr.slice(-3000)).toBe(0);
    const warnings = lines(scheduled.stderr).filter((l) => l.includes('views in schema'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^ ?WARN .*after company initech's run/);
    expect(warnings[0]).toContain(fix);
    expect(await viewRows(shared, 'invoices')).toEqual(await unionOf('invoices', ['acme', 'globex']));

    // The fix: a schema of its own.
    await firm.writeCompanies(companiesFile(['initech'], `views:\n  schema: ${VIEWS}_y`), 'other.yaml');
    const own = await firm.cli(['views', '--companies', 'other.yaml']);
    expect(own.code, own.stderr).toBe(0);
    expect(await viewRows(`${VIEWS}_y`, 'invoices')).toEqual(await unionOf('invoices', ['initech']));
    expect(await viewRows(shared, 'invoices')).toEqual(await unionOf('invoices', ['acme', 'globex']));
  });
});

describe('the scheduler keeps the views when the file says views:', () => {
  const schema = `${VIEWS}_t`;
  const dueTrigger = async (company: string) => {
    const at = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const added = await firm.cli([
      'trigger',
      'add',
      '--companies',
      'companies.yaml',
      '--company',
      company,
      '--at',
      at,
      '--start',
      day,
      '--end',
      new Date().toISOString().slice(0, 10),
    ]);
    expect(added.code, added.stderr).toBe(0);
  };
  const scheduler = () => firm.cli(['scheduler', '--companies', 'companies.yaml', '--once']);

  it('after a run, only when a table or company came or went; a view it cannot make is one warning and the run stands', { timeout: 180_000 }, async () => {
    await firm.writeCompanies(companiesFile(NAMES, `views:\n  schema: ${schema}`));
    await dueTrigger('initech');
    const first = await scheduler();
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    expect(first.stderr).toMatch(
      new RegExp(
        `views in schema ${schema} at \\S+: customers created \\(acme, globex, initech\\), invoices created \\(acme, globex, initech\\), payments created \\(initech\\)`,
      ),
    );
    for (const stream of ['invoices', 'customers']) expect(await viewRows(schema, stream)).toEqual(await unionOf(stream, NAMES));

    // Nothing came or went: the next run leaves the views as they are.
    const before = await viewXmin(schema, 'invoices');
    await dueTrigger('acme');
    const second = await scheduler();
    expect(second.code, second.stderr.slice(-3000)).toBe(0);
    expect(second.stderr).not.toMatch(/views in schema/);
    expect(await viewXmin(schema, 'invoices')).toBe(before);

    // globex leaves the file, and a table stands where the payments view was: the refresh is refused, the run is not.
    await firm.writeCompanies(companiesFile(['acme', 'initech'], `views:\n  schema: ${schema}`));
    await withClient((c) => c.query(`DROP VIEW "${schema}".payments; CREATE TABLE "${schema}".payments (id text)`));
    await dueTrigger('acme');
    const refused = await scheduler();
    expect(refused.code, refused.stderr.slice(-3000)).toBe(0);
    expect(refused.stdout).toMatch(/1 company: 1 ok, 0 failed/);
    const warnings = lines(refused.stderr).filter((l) => l.includes('views in schema'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^ ?WARN .*after company acme's run \\(its data is loaded; the next run tries again.*\\): views in schema ${schema} at \\S+: ${schema}\\.payments is not a view`,
      ),
    );
    expect(await viewRows(schema, 'invoices')).toEqual(await unionOf('invoices', NAMES));

    // Taken away, the next run's refresh drops globex out.
    await withClient((c) => c.query(`DROP TABLE "${schema}".payments`));
    await dueTrigger('initech');
    const fixed = await scheduler();
    expect(fixed.code, fixed.stderr.slice(-3000)).toBe(0);
    expect(fixed.stderr).toMatch(
      new RegExp(
        `views in schema ${schema} at \\S+: customers replaced \\(acme, initech\\), invoices replaced \\(acme, initech\\), payments created \\(initech\\)`,
      ),
    );
    expect(await viewRows(schema, 'invoices')).toEqual(await unionOf('invoices', ['acme', 'initech']));

    // views.schema changed: the next run makes the views there, and names the old ones, dropping none.
    await firm.writeCompanies(companiesFile(['acme', 'initech'], `views:\n  schema: ${schema}2`));
    await dueTrigger('acme');
    const moved = await scheduler();
    expect(moved.code, moved.stderr.slice(-3000)).toBe(0);
    const line = lines(moved.stderr).find((l) => l.includes(`views in schema ${schema}2 `)) ?? '';
    expect(line).toMatch(/customers created \(acme, initech\), invoices created \(acme, initech\), payments created \(initech\)/);
    expect(line).toMatch(
      new RegExp(
        `; this companies file's views in another schema, no longer kept current and left as they were \\(something may still read them\\): .*${schema}\\.customers, ${schema}\\.invoices, ${schema}\\.payments.*; views --drop-stale drops them$`,
      ),
    );
    expect(await viewRows(schema, 'invoices')).toEqual(await unionOf('invoices', ['acme', 'initech']));
  });
});
