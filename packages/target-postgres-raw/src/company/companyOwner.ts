import type pg from 'pg';
import { qualified } from '../sql/tableName.js';
import { checkBatchRealms, severalRealmsError, type RealmSighting } from './realmRule.js';

/**
 * Makes sure `<schema>._company` has its row, once: for a schema loaded before the rule, the
 * company is taken from the realm ids of its rows (several: a UsageError naming them). Runs under
 * the DDL lock, after `_company` was created; reads the stream tables only while the row is missing.
 */
export async function recordCompanyOfExistingRows(client: pg.Client, schema: string, loadRunId: string): Promise<void> {
  const company = qualified(schema, '_company');
  if (((await client.query(`SELECT 1 FROM ${company}`)).rowCount ?? 0) > 0) return;
  // The target's stream tables: those with payload and realm_id columns.
  const tables = await client.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
       AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('payload', 'realm_id') AND NOT a.attisdropped) = 2
     ORDER BY 1`,
    [schema],
  );
  const found = new Map<string, { realm: string; rows: number; tables: string[] }>();
  for (const { table } of tables.rows) {
    const realms = await client.query<{ realm: string; rows: number }>(
      `SELECT realm_id AS realm, count(*)::int AS rows FROM ${qualified(schema, table)} WHERE realm_id IS NOT NULL GROUP BY realm_id`,
    );
    for (const { realm, rows } of realms.rows) {
      const entry = found.get(realm) ?? { realm, rows: 0, tables: [] };
      entry.rows += rows;
      entry.tables.push(table);
      found.set(realm, entry);
    }
  }
  if (found.size > 1)
    throw severalRealmsError(
      schema,
      [...found.values()].sort((a, b) => a.realm.localeCompare(b.realm)),
    );
  const realm = [...found.keys()][0] ?? null;
  await client.query(
    `INSERT INTO ${company} (realm_id, recorded_at_utc, recorded_by, load_run_id) VALUES ($1, CASE WHEN $1::text IS NULL THEN NULL ELSE now() END, $2, $3)`,
    [realm, realm === null ? null : 'existing rows', realm === null ? null : loadRunId],
  );
}

/**
 * Inside a commit's transaction, before anything is written: the batch's records must be of the
 * schema's company; the first company is recorded by the first batch that names one. Throws the
 * realm rule's UsageError otherwise (the caller rolls back).
 */
export async function claimBatchRealms(client: pg.Client, schema: string, loadRunId: string, realms: ReadonlyMap<string, RealmSighting>): Promise<void> {
  if (realms.size === 0) return;
  const company = qualified(schema, '_company');
  const owner = async () => (await client.query<{ realm_id: string | null }>(`SELECT realm_id FROM ${company}`)).rows[0]?.realm_id ?? null;
  const known = await owner();
  const realm = checkBatchRealms(realms, known, schema);
  if (known !== null || realm === undefined) return;
  // A concurrent first load of another company waits here on the row and then finds it taken.
  await client.query(
    `INSERT INTO ${company} AS c (realm_id, recorded_at_utc, recorded_by, load_run_id) VALUES ($1, now(), 'first load', $2)
     ON CONFLICT (one_row) DO UPDATE SET realm_id = EXCLUDED.realm_id, recorded_at_utc = EXCLUDED.recorded_at_utc,
       recorded_by = EXCLUDED.recorded_by, load_run_id = EXCLUDED.load_run_id
     WHERE c.realm_id IS NULL`,
    [realm, loadRunId],
  );
  checkBatchRealms(realms, await owner(), schema);
}
