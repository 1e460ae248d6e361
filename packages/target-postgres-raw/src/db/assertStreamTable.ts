import type pg from 'pg';
import { UsageError } from 'singer-kit';
import { STREAM_TABLE_COLUMNS } from '../sql/ddl.js';
import { qualified } from '../sql/tableName.js';

/** pg_class.relkind of what may already hold a stream's name, in words; tables ('r', 'p') may be ours. */
const RELATION_KINDS: Readonly<Record<string, string>> = {
  v: 'a view',
  m: 'a materialized view',
  i: 'an index',
  I: 'an index',
  S: 'a sequence',
  f: 'a foreign table',
  c: 'a composite type',
  t: 'a TOAST table',
};

/**
 * Refuses (UsageError, exit 2) a relation that holds the stream's table name but is not a stream
 * table: a view or an index (ours too: `<table>_pkey`), or a table another loader or a person
 * made (without `payload` and the other columns of STREAM_TABLE_COLUMNS, or without a unique `id`). Writing into it could only
 * fail later with PostgreSQL's own words ("column new.payload does not exist") or, worse, fill
 * someone else's table. Nothing to say when the name is free or the table is one of ours; says
 * whether it is there.
 */
export async function assertStreamTable(client: pg.Client, schema: string, table: string, stream: string): Promise<boolean> {
  const found = await client.query<{ kind: string; columns: string[]; id_unique: boolean }>(
    `SELECT c.relkind::text AS kind,
            ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) AS columns,
            EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = c.oid AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL AND a.attname = 'id') AS id_unique
     FROM pg_class c WHERE c.oid = to_regclass($1)`,
    [qualified(schema, table)],
  );
  const relation = found.rows[0];
  if (relation === undefined) return false;
  const missing = STREAM_TABLE_COLUMNS.filter((column) => !relation.columns.includes(column));
  const elsewhere = 'load into another schema (setting schema, TARGET_POSTGRES_RAW_SCHEMA) or move that relation away';
  const problem =
    relation.kind in RELATION_KINDS
      ? `is taken by ${RELATION_KINDS[relation.kind]}; ${elsewhere}`
      : missing.length > 0
        ? `exists but is not a target-postgres-raw table (no column ${missing.join(', ')}); ${elsewhere}`
        : relation.id_unique
          ? undefined
          : // All our columns: most likely ours, its primary key dropped by someone.
            `exists but its id is not unique (no primary key on id); if it is this target's table, put its key back (ALTER TABLE ${qualified(schema, table)} ADD PRIMARY KEY (id)), else ${elsewhere}`;
  if (problem === undefined) return true;
  throw new UsageError(`stream ${JSON.stringify(stream)} cannot be loaded: its table ${qualified(schema, table)} ${problem}`);
}
