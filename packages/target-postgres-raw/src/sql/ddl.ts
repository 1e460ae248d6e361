import pg from 'pg';
import { qualified, quoteIdent } from './tableName.js';

/**
 * A DDL statement and, when it may have nothing to do, a SQL condition that is true then. The
 * statement is skipped when the condition holds: `CREATE … IF NOT EXISTS` checks privileges
 * (CREATE on the database or schema, ownership for an index) before it looks whether the object
 * exists, so a loader that an administrator set up with narrower rights would fail on it.
 */
export interface DdlStatement {
  readonly sql: string;
  readonly skipIf?: string;
}

const relationExists = (schema: string, name: string) => `to_regclass(${pg.escapeLiteral(qualified(schema, name))}) IS NOT NULL`;
/**
 * A column added after the table's first version: a table made by an older target gains it. Skipped
 * when the table does not exist yet (its CREATE, in the same list, has the column) or has it.
 */
function addColumn(schema: string, table: string, column: string, type: string): DdlStatement {
  const t = pg.escapeLiteral(qualified(schema, table));
  return {
    sql: `ALTER TABLE ${qualified(schema, table)} ADD COLUMN IF NOT EXISTS ${quoteIdent(column)} ${type}`,
    skipIf: `to_regclass(${t}) IS NULL OR EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(${t}) AND attname = ${pg.escapeLiteral(column)} AND NOT attisdropped)`,
  };
}

/** The metadata columns a row carries besides id and payload, with their types; the stream and staging tables share them. */
const METADATA_COLUMN_TYPES = {
  extract_window_start_utc: 'timestamptz',
  extract_window_end_utc: 'timestamptz',
  page_number: 'integer',
  page_size: 'integer',
  request_payload: 'jsonb',
  realm_id: 'text',
  extracted_at_utc: 'timestamptz',
  last_updated_utc: 'timestamptz',
  deleted_at_utc: 'timestamptz',
  payload_sha256: 'bytea',
} as const;
const METADATA_COLUMNS = Object.entries(METADATA_COLUMN_TYPES)
  .map(([name, type]) => `${name} ${type}`)
  .join(',\n  ');

/** Columns added after the stream table's first version: a table made by an older target gains them. */
const ADDED_COLUMNS = ['payload_sha256', 'deleted_at_utc'] as const;

/**
 * Every column of a stream table the target makes now, in its order, with its type: what a view
 * over stream tables of several schemas names one by one (a table upgraded in place has the
 * added columns at its end, so `*` differs between tables).
 */
export const STREAM_TABLE_COLUMN_TYPES: ReadonlyArray<readonly [name: string, type: string]> = [
  ['id', 'text'],
  ['payload', 'jsonb'],
  ['ingested_at_utc', 'timestamptz'],
  ...Object.entries(METADATA_COLUMN_TYPES),
];

/**
 * The columns of a stream table made by any version of the target: a relation of the stream's
 * name without one of them was made by something else (another loader, a person), and the
 * target must not write into it.
 */
export const STREAM_TABLE_COLUMNS: readonly string[] = [
  'id',
  'payload',
  'ingested_at_utc',
  ...Object.keys(METADATA_COLUMN_TYPES).filter((name) => !(ADDED_COLUMNS as readonly string[]).includes(name)),
];

/**
 * Rows up to a page are stored as they are: by default PostgreSQL compresses a row's jsonb once
 * the row passes 2 kB, which a 1.5 kB invoice with our metadata columns does. Compressing took a
 * third of the database's time to write such rows (and every read decompresses); the row then
 * takes about 1.4 times the space.
 */
const STORAGE = 'WITH (toast_tuple_target = 8160)';

/** Resets `payload_sha256` when any writer but the target changes `payload` without it (see streamTableDdl). */
const HASH_RESET_FUNCTION = '_target_postgres_raw_payload_changed';
const HASH_RESET_TRIGGER = 'target_postgres_raw_payload_sha256';

/**
 * The stream table (DESIGN §5): the eight contract columns, then ours. `deleted_at_utc` is null
 * while the entity is alive (PLAN contract 1). `payload_sha256` is the
 * SHA-256 of the payload text the target stored: a record with the same hash needs no write
 * (the target compares hashes before sending anything). A table from an older version gets the
 * column (empty: its rows are compared in the database until they change), and every table a
 * trigger that clears the hash when another writer (an older target, a hand-made UPDATE)
 * changes the payload but not the hash, so a stale hash can never hide a change.
 */
export function streamTableDdl(schema: string, table: string): DdlStatement[] {
  const t = qualified(schema, table);
  const fn = qualified(schema, HASH_RESET_FUNCTION);
  return [
    {
      sql: `CREATE TABLE IF NOT EXISTS ${t} (
  id text PRIMARY KEY,
  payload jsonb NOT NULL,
  ingested_at_utc timestamptz NOT NULL,
  ${METADATA_COLUMNS}
) ${STORAGE}`,
      skipIf: relationExists(schema, table),
    },
    ...ADDED_COLUMNS.map((column) => addColumn(schema, table, column, METADATA_COLUMN_TYPES[column])),
    {
      sql: `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.payload_sha256 := NULL; RETURN NEW; END$$`,
      skipIf: `to_regprocedure(${pg.escapeLiteral(`${fn}()`)}) IS NOT NULL`,
    },
    {
      sql: `CREATE TRIGGER ${quoteIdent(HASH_RESET_TRIGGER)} BEFORE UPDATE OF payload ON ${t} FOR EACH ROW
  WHEN (NEW.payload_sha256 IS NOT DISTINCT FROM OLD.payload_sha256 AND NEW.payload IS DISTINCT FROM OLD.payload)
  EXECUTE FUNCTION ${fn}()`,
      skipIf: `EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(${pg.escapeLiteral(t)}) AND tgname = ${pg.escapeLiteral(HASH_RESET_TRIGGER)})`,
    },
  ];
}

export function schemaDdl(schema: string): DdlStatement[] {
  return [{ sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`, skipIf: `to_regnamespace(${pg.escapeLiteral(quoteIdent(schema))}) IS NOT NULL` }];
}

/** One row per target run, and one per commit × stream × tap run × extract window. */
export function loadTablesDdl(schema: string): DdlStatement[] {
  return [
    {
      skipIf: relationExists(schema, '_load_runs'),
      sql: `CREATE TABLE IF NOT EXISTS ${qualified(schema, '_load_runs')} (
  load_run_id uuid PRIMARY KEY,
  started_at_utc timestamptz NOT NULL,
  finished_at_utc timestamptz,
  status text NOT NULL,
  exit_reason text,
  commits integer NOT NULL DEFAULT 0,
  received bigint NOT NULL DEFAULT 0,
  inserted bigint NOT NULL DEFAULT 0,
  updated bigint NOT NULL DEFAULT 0,
  unchanged bigint NOT NULL DEFAULT 0,
  skipped_older bigint NOT NULL DEFAULT 0,
  deduplicated bigint NOT NULL DEFAULT 0,
  rejected bigint NOT NULL DEFAULT 0,
  deleted bigint NOT NULL DEFAULT 0
)`,
    },
    addColumn(schema, '_load_runs', 'deleted', 'bigint NOT NULL DEFAULT 0'),
    {
      skipIf: relationExists(schema, '_load_stats'),
      sql: `CREATE TABLE IF NOT EXISTS ${qualified(schema, '_load_stats')} (
  load_run_id uuid NOT NULL,
  commit_number integer NOT NULL,
  committed_at_utc timestamptz NOT NULL,
  stream text NOT NULL,
  tap_run_id text,
  extract_window_start_utc timestamptz,
  received integer NOT NULL,
  inserted integer NOT NULL,
  updated integer NOT NULL,
  unchanged integer NOT NULL,
  skipped_older integer NOT NULL,
  deduplicated integer NOT NULL,
  rejected integer NOT NULL,
  deleted integer NOT NULL DEFAULT 0
)`,
    },
    addColumn(schema, '_load_stats', 'deleted', 'integer NOT NULL DEFAULT 0'),
    {
      skipIf: relationExists(schema, '_load_stats_window'),
      sql: `CREATE INDEX IF NOT EXISTS ${quoteIdent('_load_stats_window')} ON ${qualified(schema, '_load_stats')} (tap_run_id, stream, extract_window_start_utc)`,
    },
    // What one commit wrote, read back when its COMMIT reply was lost (RawTableWriter.commit).
    {
      skipIf: relationExists(schema, '_load_stats_commit'),
      sql: `CREATE INDEX IF NOT EXISTS ${quoteIdent('_load_stats_commit')} ON ${qualified(schema, '_load_stats')} (load_run_id, commit_number)`,
    },
  ];
}

/**
 * The schema's company (PLAN contract 2): at most one row; `realm_id` null until the first record
 * that carries one. `recorded_by`: 'first load' or 'existing rows' (a schema loaded before the rule).
 */
export function companyTableDdl(schema: string): DdlStatement[] {
  return [
    {
      skipIf: relationExists(schema, '_company'),
      sql: `CREATE TABLE IF NOT EXISTS ${qualified(schema, '_company')} (
  one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row),
  realm_id text,
  recorded_at_utc timestamptz,
  recorded_by text,
  load_run_id uuid
)`,
    },
  ];
}

/** Per-connection staging table; rows vanish at COMMIT, and between streams it is truncated. */
export const STAGE_TABLE = 'target_postgres_raw_stage';
export const CREATE_STAGE_SQL = `CREATE TEMP TABLE IF NOT EXISTS ${quoteIdent(STAGE_TABLE)} (
  id text,
  payload jsonb,
  ${METADATA_COLUMNS},
  run_id text
) ${STORAGE} ON COMMIT DELETE ROWS`;
