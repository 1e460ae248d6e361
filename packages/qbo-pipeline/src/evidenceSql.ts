import { escapeIdentifier, escapeLiteral } from 'pg';

/**
 * The `evidence` view: one row per tap run × stream × extract window (a UTC day by default),
 * joining what the tap saw (`_volumetry`, written through the target like any stream) with what
 * the target did (`_load_stats`, summed over the commits that carried the window).
 * `loaded` = received − rejected; `extracted_equals_loaded` is the "nothing lost" check.
 * `deleted` (last, so an older view can be replaced in place) counts the deletion records of the
 * run, stream and window holding the deletion (they come from CDC, not from the window's query, so
 * they are not part of `extracted`/`loaded`); deletions of a window the run did not reach (it
 * stopped first) get a row of their own, with no volumetry and `extracted_equals_loaded` null.
 * Its two parts are `NOT MATERIALIZED` (each is read twice, which would make PostgreSQL compute
 * them whole first), and a window's loads are summed for its volumetry row (`_load_stats`'
 * `(tap_run_id, stream, extract_window_start_utc)` index; a join with every window's sums would
 * sum all of them first): a query for some runs or days reads only their rows (with
 * `evidenceIndexesSql`, through an index), not every run of every hour since the first, which a
 * year of hourly syncs makes ~90,000 rows per company, read at the end of every run and on every run page.
 * This is the one place the SQL lives; README quotes it.
 */
export function evidenceViewSql(schema: string): string {
  const s = escapeIdentifier(schema);
  return `CREATE OR REPLACE VIEW ${s}.evidence AS
WITH volumetry AS NOT MATERIALIZED (
  SELECT payload->>'run_id' AS run_id,
         payload->>'stream' AS stream,
         (payload->>'window_start_utc')::timestamptz AS window_start_utc,
         (payload->>'window_end_utc')::timestamptz AS window_end_utc,
         (payload->>'qbo_count')::bigint AS qbo_count,
         (payload->>'extracted')::bigint AS extracted,
         (payload->>'pages')::integer AS pages,
         (payload->>'requests')::integer AS requests,
         (payload->>'retries')::integer AS retries,
         (payload->>'rereads')::integer AS rereads,
         (payload->>'duration_ms')::bigint AS duration_ms,
         (payload->>'empty')::boolean AS empty,
         (payload->>'extracted_at')::timestamptz AS extracted_at_utc
  FROM ${s}._volumetry
), loads AS NOT MATERIALIZED (
  SELECT tap_run_id AS run_id, stream, extract_window_start_utc AS window_start_utc,
         sum(received) AS received, sum(deleted) AS deleted
  FROM ${s}._load_stats
  GROUP BY 1, 2, 3
)
SELECT v.run_id, v.stream,
       (v.window_start_utc AT TIME ZONE 'UTC')::date AS day_utc,
       v.window_start_utc, v.window_end_utc,
       v.qbo_count, v.extracted,
       coalesce(l.received, 0) - coalesce(l.rejected, 0) AS loaded,
       coalesce(l.inserted, 0) AS inserted, coalesce(l.updated, 0) AS updated,
       coalesce(l.unchanged, 0) AS unchanged, coalesce(l.skipped_older, 0) AS skipped_older,
       coalesce(l.deduplicated, 0) AS deduplicated, coalesce(l.rejected, 0) AS rejected,
       v.pages, v.requests, v.retries, v.rereads, v.duration_ms, v.empty,
       v.extracted = coalesce(l.received, 0) - coalesce(l.rejected, 0) AS extracted_equals_loaded,
       v.extracted_at_utc,
       coalesce(l.deleted, 0) AS deleted
FROM volumetry v
CROSS JOIN LATERAL (
  SELECT sum(received) AS received, sum(inserted) AS inserted, sum(updated) AS updated,
         sum(unchanged) AS unchanged, sum(skipped_older) AS skipped_older,
         sum(deduplicated) AS deduplicated, sum(rejected) AS rejected, sum(deleted) AS deleted
  FROM ${s}._load_stats
  WHERE tap_run_id = v.run_id AND stream = v.stream AND extract_window_start_utc = v.window_start_utc
) l
UNION ALL
SELECT l.run_id, l.stream, (l.window_start_utc AT TIME ZONE 'UTC')::date, l.window_start_utc, NULL::timestamptz,
       NULL::bigint, NULL::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
       NULL::integer, NULL::integer, NULL::integer, NULL::integer, NULL::bigint, NULL::boolean, NULL::boolean, NULL::timestamptz,
       l.deleted
FROM loads l
WHERE l.deleted > 0 AND l.received = 0
  AND NOT EXISTS (SELECT 1 FROM volumetry v WHERE v.run_id = l.run_id AND v.stream = l.stream AND v.window_start_utc = l.window_start_utc)`;
}

/**
 * The indexes the runner keeps for the evidence (made once each, when missing): `_volumetry` by tap
 * run (the view's queries by run), by extraction time (the runs of one runner invocation, the
 * console's newest runs) and by window start (a range of days), all on the payload's text, and
 * `_load_stats` by window start (the days of deletions a run left no volumetry for).
 */
export function evidenceIndexesSql(schema: string): ReadonlyArray<{ readonly name: string; readonly create: string }> {
  const s = escapeIdentifier(schema);
  const index = (name: string, table: string, on: string) => ({
    name: `${s}."${name}"`,
    create: `CREATE INDEX IF NOT EXISTS "${name}" ON ${s}.${table} (${on})`,
  });
  return [
    index('_volumetry_run_id', '_volumetry', "(payload->>'run_id')"),
    index('_volumetry_extracted_at', '_volumetry', "(payload->>'extracted_at')"),
    index('_volumetry_window_start', '_volumetry', "(payload->>'window_start_utc')"),
    index('_load_stats_window_start', '_load_stats', 'extract_window_start_utc'),
  ];
}

/**
 * A text below the RFC 3339 text of every instant at or after `since`, so `payload->>'…' >= floor`
 * lets an index find a superset of the rows, which their instants then decide (a cast to
 * timestamptz cannot be indexed). The tap writes `extracted_at` and `window_start_utc` as
 * `toISOString()`; any RFC 3339 text starts with its local date, never more than a day from its
 * UTC date, and a text that starts with a date sorts at or after that date alone.
 */
export function instantTextFloor(since: Date | number): string {
  return new Date(new Date(since).getTime() - 86_400_000).toISOString().slice(0, 10);
}

/** A text above the RFC 3339 text of every instant before `until` (see `instantTextFloor`). */
export function instantTextCeiling(until: Date | number): string {
  return new Date(new Date(until).getTime() + 86_400_000).toISOString().slice(0, 10);
}

/** Per stream totals of the evidence rows of some tap runs: what the runner's summary prints. */
export function evidenceTotalsSql(schema: string): string {
  return `SELECT stream, count(*)::int AS windows,
       sum(qbo_count)::bigint AS qbo_count, sum(extracted)::bigint AS extracted, sum(loaded)::bigint AS loaded,
       sum(inserted)::bigint AS inserted, sum(updated)::bigint AS updated, sum(unchanged)::bigint AS unchanged,
       sum(pages)::bigint AS pages, sum(duration_ms)::bigint AS duration_ms,
       count(*) FILTER (WHERE empty)::int AS empty_windows,
       count(*) FILTER (WHERE window_end_utc IS NOT NULL)::int AS volumetry_rows,
       bool_and(extracted_equals_loaded) AS extracted_equals_loaded,
       sum(deleted)::bigint AS deleted
FROM ${escapeIdentifier(schema)}.evidence
WHERE run_id = ANY($1)
GROUP BY stream
ORDER BY stream`;
}

/** The tap runs whose evidence was written since an instant (`$1`, `$3` its `instantTextFloor`): the runs of one runner invocation. */
export function runsSinceSql(schema: string): string {
  return `SELECT DISTINCT payload->>'run_id' AS run_id FROM ${escapeIdentifier(schema)}._volumetry
WHERE payload->>'extracted_at' >= $3 AND (payload->>'extracted_at')::timestamptz >= $1 AND payload->>'stream' = ANY($2)`;
}

/**
 * Evidence rows of some tap runs, one per stream and UTC day, with the span whose query read the
 * day (from `_volumetry`: the view leaves it out): the demo's volumetry table.
 */
export function evidenceRowsSql(schema: string): string {
  const s = escapeIdentifier(schema);
  return `SELECT e.day_utc::text AS day_utc, e.stream, e.qbo_count, e.extracted, e.loaded, e.inserted, e.updated, e.unchanged,
       e.pages, e.requests, e.duration_ms, e.extracted_equals_loaded,
       v.payload->>'span_start_utc' AS span_start_utc, v.payload->>'span_end_utc' AS span_end_utc, (v.payload->>'spans')::integer AS spans
FROM ${s}.evidence e
LEFT JOIN ${s}._volumetry v
  ON v.payload->>'run_id' = e.run_id AND v.payload->>'stream' = e.stream AND (v.payload->>'window_start_utc')::timestamptz = e.window_start_utc
WHERE e.run_id = ANY($1)
ORDER BY e.day_utc, e.stream`;
}

/** The query a person pastes to see a run's evidence (identifiers quoted only when they must be). */
export function evidenceQueryText(schema: string, runIds: readonly string[]): string {
  const name = /^[a-z_][a-z0-9_]*$/.test(schema) ? schema : escapeIdentifier(schema);
  // A run that failed before its first window has no run id of its own: show the newest evidence.
  if (runIds.length === 0) return `SELECT * FROM ${name}.evidence ORDER BY extracted_at_utc DESC, stream LIMIT 100;`;
  const list = runIds.map((id) => escapeLiteral(id)).join(', ');
  return `SELECT * FROM ${name}.evidence WHERE run_id IN (${list}) ORDER BY stream, window_start_utc;`;
}

/**
 * Per stream and UTC day, the newest run's evidence: its windows of that day summed (a window
 * shorter than a day gives several), the span they cover (`read_from_utc`, `read_until_utc`: a
 * sync reads only the part of a day since the run before it), and how many runs read the day. `where` (on the evidence
 * view's columns, with parameters of the caller's) narrows the rows before the newest is chosen:
 * the console's filter by run; a run that stopped before the day's window (only deletions, no
 * extraction time) never hides one that read it. Without it the text has no parameters, so a person can paste it.
 * The company's name and realm lead each row when given, so companies' rows can be put side by
 * side (`companiesEvidenceQueryText` unions them). `qbo-pipeline evidence` and the console read it.
 */
export function newestEvidenceSql(
  schema: string,
  options: { readonly company?: { readonly name: string; readonly realmId: string }; readonly where?: string } = {},
): string {
  const { company, where } = options;
  const lead = company ? `${escapeLiteral(company.name)} AS company, ${escapeLiteral(company.realmId)} AS realm_id, ` : '';
  return `SELECT ${lead}stream, day_utc::text AS day_utc, qbo_count, extracted, loaded, inserted, updated, unchanged, deleted, rejected,
       windows, empty, runs, extracted_equals_loaded, run_id, extracted_at_utc, read_from_utc, read_until_utc
FROM (
  SELECT per_run.*, count(*) OVER (PARTITION BY stream, day_utc)::int AS runs,
         row_number() OVER (PARTITION BY stream, day_utc ORDER BY extracted_at_utc DESC NULLS LAST) AS newest
  FROM (
    SELECT run_id, stream, day_utc,
           sum(qbo_count)::bigint AS qbo_count, sum(extracted)::bigint AS extracted, sum(loaded)::bigint AS loaded,
           sum(inserted)::bigint AS inserted, sum(updated)::bigint AS updated, sum(unchanged)::bigint AS unchanged,
           sum(deleted)::bigint AS deleted, sum(rejected)::bigint AS rejected, count(*)::int AS windows,
           bool_and(empty) AS empty, bool_and(extracted_equals_loaded) AS extracted_equals_loaded,
           max(extracted_at_utc) AS extracted_at_utc,
           min(window_start_utc) AS read_from_utc, max(window_end_utc) AS read_until_utc
    FROM ${escapeIdentifier(schema)}.evidence${where ? `\n    WHERE ${where}` : ''}
    GROUP BY run_id, stream, day_utc
  ) per_run
) per_day
WHERE newest = 1`;
}

/** The one query a person pastes to see every company's evidence per stream and UTC day (newest run each). */
export function companiesEvidenceQueryText(companies: ReadonlyArray<{ readonly name: string; readonly realmId: string; readonly schema: string }>): string {
  return `${companies.map((c) => `(${newestEvidenceSql(c.schema, { company: c })})`).join('\nUNION ALL\n')}\nORDER BY company, stream, day_utc;`;
}

/**
 * The console's evidence filter: every part optional. `$1` streams, `$2` tap run ids, `$3`/`$4`
 * first and last UTC day (inclusive), as `evidenceFilterWhere` and `evidenceNewestDaySql` take them.
 */
export interface EvidenceFilter {
  readonly streams?: readonly string[];
  readonly runIds?: readonly string[];
  /** `YYYY-MM-DD`, inclusive. */
  readonly from?: string;
  /** `YYYY-MM-DD`, inclusive. */
  readonly to?: string;
}

/** The console's filter as a condition on the evidence view, `$1`…`$4` from `evidenceFilterParams`. */
export const EVIDENCE_FILTER_WHERE = `($1::text[] IS NULL OR stream = ANY($1)) AND ($2::text[] IS NULL OR run_id = ANY($2))
      AND ($3::date IS NULL OR day_utc >= $3::date) AND ($4::date IS NULL OR day_utc <= $4::date)`;

export function evidenceFilterParams(filter: EvidenceFilter): unknown[] {
  const list = (v: readonly string[] | undefined) => (v === undefined || v.length === 0 ? null : [...v]);
  return [list(filter.streams), list(filter.runIds), filter.from ?? null, filter.to ?? null];
}

/** The newest UTC day with evidence under a filter (NULL when there is none). */
export function evidenceNewestDaySql(schema: string): string {
  return `SELECT max(day_utc)::text AS day_utc FROM ${escapeIdentifier(schema)}.evidence WHERE ${EVIDENCE_FILTER_WHERE}`;
}

/**
 * The tap runs with evidence of a window starting in `[$3, $4)`, the volumetry's found through its
 * index with `$1`, `$2` their `instantTextFloor` and `instantTextCeiling`: the runs of some days.
 */
export function runsOfWindowsSql(schema: string): string {
  const s = escapeIdentifier(schema);
  return `SELECT payload->>'run_id' AS run_id FROM ${s}._volumetry
WHERE payload->>'window_start_utc' >= $1 AND payload->>'window_start_utc' < $2
  AND (payload->>'window_start_utc')::timestamptz >= $3 AND (payload->>'window_start_utc')::timestamptz < $4
UNION
SELECT tap_run_id FROM ${s}._load_stats WHERE extract_window_start_utc >= $3 AND extract_window_start_utc < $4`;
}

/** The first and last window starts of the evidence: `_volumetry`'s texts and `_load_stats`' instants (each an end of an index). */
export function windowStartEndsSql(schema: string): string {
  const s = escapeIdentifier(schema);
  const v = `${s}._volumetry`;
  return `SELECT (SELECT min(payload->>'window_start_utc') FROM ${v}) AS oldest_text, (SELECT max(payload->>'window_start_utc') FROM ${v}) AS newest_text,
       (SELECT min(extract_window_start_utc) FROM ${s}._load_stats) AS oldest_load, (SELECT max(extract_window_start_utc) FROM ${s}._load_stats) AS newest_load`;
}

/** The first and last `extracted_at` texts of `_volumetry` (each an end of its index). */
export function extractedAtEndsSql(schema: string): string {
  const v = `${escapeIdentifier(schema)}._volumetry`;
  return `SELECT (SELECT min(payload->>'extracted_at') FROM ${v}) AS oldest, (SELECT max(payload->>'extracted_at') FROM ${v}) AS newest`;
}

/**
 * Of the tap runs with evidence extracted at or after a floor (`$1`, an `instantTextFloor`), the
 * `$2` newest by their last extraction among those rows: exact for a run whose last extraction is
 * a day past the floor or later (all its rows from then on are read).
 */
export function newestRunsSinceSql(schema: string): string {
  return `SELECT payload->>'run_id' AS run_id, max((payload->>'extracted_at')::timestamptz) AS last_at
FROM ${escapeIdentifier(schema)}._volumetry
WHERE payload->>'extracted_at' >= $1
GROUP BY 1
ORDER BY 2 DESC
LIMIT $2`;
}

/** Some tap runs' evidence in short (`$1` their ids), newest first: what the console's run filter offers besides the runs journal. */
export function evidenceRunsSql(schema: string): string {
  return `SELECT run_id, min(extracted_at_utc) AS first_at, max(extracted_at_utc) AS last_at,
       array_agg(DISTINCT stream ORDER BY stream) AS streams, count(*)::int AS windows
FROM ${escapeIdentifier(schema)}.evidence
WHERE run_id = ANY($1)
GROUP BY run_id
ORDER BY max(extracted_at_utc) DESC NULLS LAST`;
}

/**
 * `evidence prune`, in one transaction, `$1` the cut-off instant: first the evidence of a tap run,
 * stream and UTC day that is older than the cut-off (its last extraction; the commit for a day of
 * deletions only) and is not the day's newest run (as `newestEvidenceSql` picks it: that one
 * stays, however old, so every day keeps its evidence), from `_volumetry` and `_load_stats`, and
 * the older `_load_stats` rows of no tap run (the `_volumetry` stream's own commits: no day's
 * evidence); then the runner runs older than the cut-off whose tap runs have no evidence left,
 * and the target runs older than it that no `_load_stats` row or runner run left names. A row
 * still running stays; the stream tables are never read or changed.
 */
export function pruneEvidenceSql(schema: string): {
  readonly evidence: string;
  readonly loadRuns: (withPipelineRuns: boolean) => string;
  readonly pipelineRuns: string;
} {
  const s = escapeIdentifier(schema);
  return {
    evidence: `WITH per_run AS (
  SELECT e.run_id, e.stream, e.day_utc, max(e.extracted_at_utc) AS extracted_at,
         coalesce(max(e.extracted_at_utc), (SELECT max(c.committed_at_utc) FROM ${s}._load_stats c
           WHERE c.tap_run_id = e.run_id AND c.stream = e.stream AND (c.extract_window_start_utc AT TIME ZONE 'UTC')::date = e.day_utc)) AS at
  FROM ${s}.evidence e
  WHERE e.run_id IS NOT NULL
  GROUP BY 1, 2, 3
), doomed AS (
  SELECT run_id, stream, day_utc FROM (
    SELECT per_run.*, row_number() OVER (PARTITION BY stream, day_utc ORDER BY extracted_at DESC NULLS LAST) AS newest FROM per_run
  ) ranked
  WHERE newest > 1 AND at < $1
), volumetry AS (
  DELETE FROM ${s}._volumetry v USING doomed d
  WHERE v.payload->>'run_id' = d.run_id AND v.payload->>'stream' = d.stream
    AND ((v.payload->>'window_start_utc')::timestamptz AT TIME ZONE 'UTC')::date = d.day_utc
  RETURNING 1
), loads AS (
  DELETE FROM ${s}._load_stats l USING doomed d
  WHERE l.tap_run_id = d.run_id AND l.stream = d.stream AND (l.extract_window_start_utc AT TIME ZONE 'UTC')::date = d.day_utc
  RETURNING 1
), runless AS (
  DELETE FROM ${s}._load_stats l WHERE l.tap_run_id IS NULL AND l.deleted = 0 AND l.committed_at_utc < $1
  RETURNING 1
)
SELECT (SELECT count(*) FROM volumetry)::int AS volumetry, ((SELECT count(*) FROM loads) + (SELECT count(*) FROM runless))::int AS load_stats`,
    loadRuns: (withPipelineRuns: boolean) => `WITH gone AS (
  DELETE FROM ${s}._load_runs r
  WHERE r.status <> 'running' AND r.started_at_utc < $1 AND NOT EXISTS (SELECT 1 FROM ${s}._load_stats l WHERE l.load_run_id = r.load_run_id)${
    withPipelineRuns
      ? `
    AND NOT EXISTS (SELECT 1 FROM ${s}._pipeline_runs p WHERE r.load_run_id = ANY (p.load_run_ids))`
      : ''
  }
  RETURNING 1
) SELECT count(*)::int AS deleted FROM gone`,
    pipelineRuns: `WITH gone AS (
  DELETE FROM ${s}._pipeline_runs p
  WHERE p.status <> 'running' AND p.started_at_utc < $1
    AND NOT EXISTS (SELECT 1 FROM ${s}._volumetry v WHERE v.payload->>'run_id' = ANY (p.tap_run_ids))
    AND NOT EXISTS (SELECT 1 FROM ${s}._load_stats l WHERE l.tap_run_id = ANY (p.tap_run_ids))
  RETURNING 1
) SELECT count(*)::int AS deleted FROM gone`,
  };
}
