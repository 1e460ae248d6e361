import { STAGE_TABLE } from './ddl.js';
import { ROW_COLUMN_NAMES, STAGE_COLUMNS } from '../rows/rowColumns.js';
import { qualified, quoteIdent } from './tableName.js';

/** `COPY` of rows into the staging table (binary, STAGE_COLUMNS order). */
export const COPY_STAGE_SQL = `COPY ${quoteIdent(STAGE_TABLE)} (${STAGE_COLUMNS.map((c) => c.name).join(', ')}) FROM STDIN (FORMAT binary)`;

/** `COPY` of new rows straight into the stream table (binary, tableColumns order). */
export function copyTableSql(schema: string, table: string): string {
  return `COPY ${qualified(schema, table)} (${ROW_COLUMN_NAMES.join(', ')}, ingested_at_utc) FROM STDIN (FORMAT binary)`;
}

/**
 * The stored payload hash of each id in $1 (text[]), in the order asked, as one text: hex hashes
 * separated by commas, `~` for a row without a hash, `-` for no row. One result row for a whole
 * lookup (parsing a row per id cost the target more than the lookup cost PostgreSQL); each id is
 * found by the primary key, whatever the planner thinks of the table.
 */
export function storedHashListSql(schema: string, table: string): string {
  const hashOf = `SELECT coalesce(encode(t.payload_sha256, 'hex'), '~') FROM ${qualified(schema, table)} AS t WHERE t.id = u.id`;
  return `SELECT string_agg(coalesce((${hashOf}), '-'), ',' ORDER BY u.ord) AS found FROM unnest($1::text[]) WITH ORDINALITY AS u(id, ord)`;
}

/**
 * One statement per stream and commit: upsert the staged entity records, then write the load
 * statistics of the whole batch (rows copied straight in and rows skipped by hash come in $4 as
 * counts; deletion records, applied next by deletionSql, only add their count in `deleted`).
 * With `hashesUnread` (the batch was staged without reading the stored hashes first, because the
 * stream's previous batch had every id stored with another payload: writeStreamBatch), a staged row
 * whose stored row has the same payload hash is left out before the conflict check, so that row is
 * not even locked; otherwise the target already left such rows out.
 * A stored row changes only when the payload differs and the incoming record is not older (by
 * last_updated_utc), or when the stored payload is a deletion stub (the row was deleted before its
 * full version was ever stored: any full version is better); an unchanged record leaves the row,
 * ingested_at_utc included, untouched. A different last_updated_utc settles "the payload differs"
 * without comparing the payloads: the target derives it from the payload (MetaData.LastUpdatedTime),
 * so equal payloads have equal times, and comparing two invoices that differ only there walked
 * their whole Line array (a tenth of the database's time when every record changed). A row whose
 * time another writer set apart from its payload is written again, which corrects the time, when it
 * gets here: with no stored hash, or one of another text (a time changed alone keeps the hash, so
 * an equal record is left out before this statement).
 * A deleted row stays deleted when the record is not newer than the deletion; a newer one (or one
 * without a time: the later in the input) is alive again.
 * Every part of the statement sees the table as it was before it: a staged row whose stored
 * payload equals it was unchanged (a written row was new, had a different payload, or had its time
 * corrected as above), and the other rows the upsert left alone were older.
 * With one statistics group in the batch (`singleGroup`, the usual case) the RETURNING rows are
 * counted as they are, and the staging table is read a second time only if some row was left
 * alone (MATERIALIZED: that count is used twice below and must run once); with several, each
 * staged row is matched to what the upsert did with it.
 * Rows are written in byte order of their ids, as rows copied straight in are (the same lock
 * order for every writer of the table, and no locale-aware sort).
 * Parameters: $1 load run id, $2 commit number, $3 stream, $4 jsonb [{run_id, window_start,
 * received, deduplicated, copied, hash_unchanged, deleted}].
 */
export function upsertSql(schema: string, table: string, singleGroup: boolean, hashesUnread: boolean): string {
  const t = qualified(schema, table);
  const stage = quoteIdent(STAGE_TABLE);
  const set = ROW_COLUMN_NAMES.filter((c) => c !== 'id' && c !== 'deleted_at_utc')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .concat('deleted_at_utc = CASE WHEN EXCLUDED.last_updated_utc <= t.deleted_at_utc THEN t.deleted_at_utc END', 'ingested_at_utc = EXCLUDED.ingested_at_utc')
    .join(', ');
  // A lookup by primary key per staged row: a join could scan the whole stream table.
  const equalHashesLeftOut = hashesUnread
    ? `\n  WHERE (SELECT stored.payload_sha256 FROM ${t} AS stored WHERE stored.id = s.id) IS DISTINCT FROM s.payload_sha256`
    : '';
  const unchanged = `SELECT count(*) FROM ${stage} s WHERE (SELECT old.payload = s.payload FROM ${t} old WHERE old.id = s.id)`;
  const counts = singleGroup
    ? `SELECT r.run_id, r.window_start, w.inserted, w.updated, w.not_written,
    CASE WHEN w.not_written = 0 THEN 0 ELSE (${unchanged}) END AS unchanged
  FROM received r, (SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated,
    (SELECT received - deduplicated - copied - hash_unchanged FROM received) - count(*) AS not_written FROM up) w`
    : `SELECT s.run_id, s.extract_window_start_utc AS window_start,
    count(*) FILTER (WHERE up.inserted) AS inserted,
    count(*) FILTER (WHERE NOT up.inserted) AS updated,
    count(*) FILTER (WHERE up.id IS NULL) AS not_written,
    count(*) FILTER (WHERE up.id IS NULL AND (SELECT old.payload = s.payload FROM ${t} old WHERE old.id = s.id)) AS unchanged
  FROM ${stage} s LEFT JOIN up ON up.id = s.id
  GROUP BY 1, 2`;
  return `WITH up AS (
  INSERT INTO ${t} AS t (${ROW_COLUMN_NAMES.join(', ')}, ingested_at_utc)
  SELECT ${ROW_COLUMN_NAMES.join(', ')}, now() FROM ${stage} s${equalHashesLeftOut}
  ORDER BY id COLLATE "C"
  ON CONFLICT (id) DO UPDATE SET ${set}
  WHERE (t.last_updated_utc IS DISTINCT FROM EXCLUDED.last_updated_utc OR t.payload IS DISTINCT FROM EXCLUDED.payload)
    AND (t.last_updated_utc IS NULL OR EXCLUDED.last_updated_utc IS NULL OR EXCLUDED.last_updated_utc >= t.last_updated_utc
      OR t.last_updated_utc >= t.deleted_at_utc)
  RETURNING id, (xmax = 0) AS inserted
), received AS (
  SELECT * FROM jsonb_to_recordset($4::jsonb) AS r(run_id text, window_start timestamptz, received integer, deduplicated integer, copied integer, hash_unchanged integer, deleted integer)
), counts AS MATERIALIZED (
  ${counts}
)
INSERT INTO ${qualified(schema, '_load_stats')} AS st (load_run_id, commit_number, committed_at_utc, stream, tap_run_id,
  extract_window_start_utc, received, inserted, updated, unchanged, skipped_older, deduplicated, rejected, deleted)
SELECT $1::uuid, $2::integer, now(), $3::text, r.run_id, r.window_start, r.received,
  r.copied + COALESCE(c.inserted, 0), COALESCE(c.updated, 0), r.hash_unchanged + COALESCE(c.unchanged, 0), COALESCE(c.not_written - c.unchanged, 0), r.deduplicated, 0, r.deleted
FROM received r LEFT JOIN counts c ON c.run_id IS NOT DISTINCT FROM r.run_id AND c.window_start IS NOT DISTINCT FROM r.window_start
RETURNING st.tap_run_id, st.received, st.inserted, st.updated, st.unchanged, st.skipped_older, st.deduplicated, st.rejected, st.deleted`;
}

/**
 * Applies the staged deletion records of a stream (PLAN contract 1), after its entity records:
 * a stored row gets `deleted_at_utc` and keeps its payload (a stub never replaces a full payload);
 * with no stored row the stub is stored as the payload, already deleted. A row deleted already, or
 * one whose stored version is newer than the deletion, is left untouched (its xmin too).
 */
export function deletionSql(schema: string, table: string): string {
  const t = qualified(schema, table);
  return `INSERT INTO ${t} AS t (${ROW_COLUMN_NAMES.join(', ')}, ingested_at_utc)
SELECT ${ROW_COLUMN_NAMES.join(', ')}, now() FROM ${quoteIdent(STAGE_TABLE)} ORDER BY id COLLATE "C"
ON CONFLICT (id) DO UPDATE SET deleted_at_utc = EXCLUDED.deleted_at_utc, ingested_at_utc = EXCLUDED.ingested_at_utc
WHERE t.deleted_at_utc IS NULL AND (t.last_updated_utc IS NULL OR EXCLUDED.deleted_at_utc >= t.last_updated_utc)`;
}
