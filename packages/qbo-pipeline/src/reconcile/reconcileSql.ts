import { escapeIdentifier } from 'pg';

/** The evidence of every reconcile: one row per run and stream. */
export const RECONCILIATIONS_TABLE = '_reconciliations';

const table = (schema: string, name: string) => `${escapeIdentifier(schema)}.${escapeIdentifier(name)}`;

export function createReconciliationsSql(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table(schema, RECONCILIATIONS_TABLE)} (
  run_id             text        NOT NULL,  -- the runner's run (runs journal, _pipeline_runs)
  stream             text        NOT NULL,
  realm_id           text        NOT NULL,
  started_at_utc     timestamptz NOT NULL,
  finished_at_utc    timestamptz NOT NULL,
  qbo_records        integer     NOT NULL,  -- Ids QBO returned when every record was paged
  live_rows          integer     NOT NULL,  -- table rows not marked deleted before this run
  candidates         integer     NOT NULL,  -- live rows the paging did not return
  missing_ids        text[]      NOT NULL,  -- candidates QBO did not return when asked by Id either
  marked             integer     NOT NULL,  -- rows this run gave deleted_at_utc (0 in a dry run)
  deleted_at_utc     timestamptz,           -- the instant it set (null in a dry run)
  dry_run            boolean     NOT NULL,
  requests           integer     NOT NULL,
  PRIMARY KEY (run_id, stream)
)`;
}

/** Whether the stream's table exists, and has the deletion column (tables written before deletions were tracked do not). */
export const tableColumnsSql = `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`;

/** Whether the stream's table holds any row. */
export function hasRowsSql(schema: string, stream: string): string {
  return `SELECT EXISTS (SELECT 1 FROM ${table(schema, stream)}) AS found`;
}

/** The company the target recorded for the schema (`_company`, one row), when it did. */
export function recordedCompanySql(schema: string): string {
  return `SELECT realm_id FROM ${table(schema, '_company')} WHERE realm_id IS NOT NULL`;
}

/** Realms other than $1 among the table's rows: a schema holds one company. */
export function otherRealmsSql(schema: string, stream: string): string {
  return `SELECT DISTINCT realm_id FROM ${table(schema, stream)} WHERE realm_id IS NOT NULL AND realm_id <> $1 ORDER BY realm_id LIMIT 5`;
}

export function liveIdsSql(schema: string, stream: string): string {
  return `SELECT id FROM ${table(schema, stream)} WHERE deleted_at_utc IS NULL`;
}

/**
 * Marks rows deleted as the target marks a CDC deletion (the payload stays; the row was written
 * now); a row already marked (by CDC or an earlier reconcile) keeps its instant and its xmin.
 */
export function markDeletedSql(schema: string, stream: string): string {
  return `UPDATE ${table(schema, stream)} SET deleted_at_utc = $2, ingested_at_utc = $2 WHERE id = ANY($1::text[]) AND deleted_at_utc IS NULL RETURNING id`;
}

export function insertReconciliationSql(schema: string): string {
  return `INSERT INTO ${table(schema, RECONCILIATIONS_TABLE)}
  (run_id, stream, realm_id, started_at_utc, finished_at_utc, qbo_records, live_rows, candidates, missing_ids, marked, deleted_at_utc, dry_run, requests)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`;
}
