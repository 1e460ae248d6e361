import { escapeIdentifier, escapeLiteral } from 'pg';

/**
 * The `evidence` view: one row per tap run × stream × extract window (a UTC day by default),
 * joining what the tap saw (`_volumetry`, written through the target like any stream) with what
 * the target did (`_load_stats`, summed over the commits that carried the window).
 * `loaded` = received − rejected; `extracted_equals_loaded` is the "nothing lost" check.
 * This is the one place the SQL lives; README quotes it.
 */
export function evidenceViewSql(schema: string): string {
  const s = escapeIdentifier(schema);
  return `CREATE OR REPLACE VIEW ${s}.evidence AS
WITH volumetry AS (
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
), loads AS (
  SELECT tap_run_id AS run_id, stream, extract_window_start_utc AS window_start_utc,
         sum(received) AS received, sum(inserted) AS inserted, sum(updated) AS updated,
         sum(unchanged) AS unchanged, sum(skipped_older) AS skipped_older,
         sum(deduplicated) AS deduplicated, sum(rejected) AS rejected
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
       v.extracted_at_utc
FROM volumetry v
LEFT JOIN loads l USING (run_id, stream, window_start_utc)`;
}

/** Per stream totals of the evidence rows of some tap runs: what the runner's summary prints. */
export function evidenceTotalsSql(schema: string): string {
  return `SELECT stream, count(*)::int AS windows,
       sum(qbo_count)::bigint AS qbo_count, sum(extracted)::bigint AS extracted, sum(loaded)::bigint AS loaded,
       sum(inserted)::bigint AS inserted, sum(updated)::bigint AS updated, sum(unchanged)::bigint AS unchanged,
       sum(pages)::bigint AS pages, sum(duration_ms)::bigint AS duration_ms,
       count(*) FILTER (WHERE empty)::int AS empty_windows,
       bool_and(extracted_equals_loaded) AS extracted_equals_loaded
FROM ${escapeIdentifier(schema)}.evidence
WHERE run_id = ANY($1)
GROUP BY stream
ORDER BY stream`;
}

/** The tap runs whose evidence was written since an instant: the runs of one runner invocation. */
export function runsSinceSql(schema: string): string {
  return `SELECT DISTINCT payload->>'run_id' AS run_id FROM ${escapeIdentifier(schema)}._volumetry
WHERE (payload->>'extracted_at')::timestamptz >= $1 AND payload->>'stream' = ANY($2)`;
}

/** Evidence rows of some tap runs, one per stream and UTC day: the demo's volumetry table. */
export function evidenceRowsSql(schema: string): string {
  return `SELECT day_utc::text AS day_utc, stream, qbo_count, extracted, loaded, inserted, updated, unchanged, pages, duration_ms, empty, extracted_equals_loaded
FROM ${escapeIdentifier(schema)}.evidence
WHERE run_id = ANY($1)
ORDER BY day_utc, stream`;
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
 * Per stream and UTC day, the newest run's evidence (and how many runs read that day), for days in
 * `[$1, $2)` and, when `$3` is not null, those streams only: what `qbo-pipeline evidence` shows
 * for each company. The company's name and realm lead each row, so one company's rows and another's
 * can be put side by side (`companiesEvidenceQueryText` unions them).
 */
export function newestEvidenceSql(schema: string, company?: { readonly name: string; readonly realmId: string }): string {
  const lead = company ? `${escapeLiteral(company.name)} AS company, ${escapeLiteral(company.realmId)} AS realm_id, ` : '';
  return `SELECT ${lead}stream, day_utc::text AS day_utc, qbo_count, extracted, loaded, inserted, updated, unchanged, runs, extracted_equals_loaded, run_id, extracted_at_utc
FROM (
  SELECT e.*, count(*) OVER (PARTITION BY stream, day_utc)::int AS runs,
         row_number() OVER (PARTITION BY stream, day_utc ORDER BY extracted_at_utc DESC) AS newest
  FROM ${escapeIdentifier(schema)}.evidence e
) per_day
WHERE newest = 1`;
}

/** The one query a person pastes to see every company's evidence per stream and UTC day (newest run each). */
export function companiesEvidenceQueryText(companies: ReadonlyArray<{ readonly name: string; readonly realmId: string; readonly schema: string }>): string {
  return `${companies.map((c) => `(${newestEvidenceSql(c.schema, c)})`).join('\nUNION ALL\n')}\nORDER BY company, stream, day_utc;`;
}
