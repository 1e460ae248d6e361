import { escapeIdentifier } from 'pg';
import { redact } from 'singer-kit';
import type { RunRecord } from './RunRecord.js';

/**
 * Columns added to `_pipeline_runs` after its first version. A table made before them gains them
 * in place (`addColumns`); a runner older than them writes its rows and leaves them null, as an
 * unknown, and they are all nullable so that its inserts still work.
 */
const ADDED_COLUMNS = {
  // What the run moved, once finished, when the warehouse could say (the run's `moved`): rows loaded, and rows marked deleted (not part of loaded).
  rows_loaded: 'bigint',
  rows_deleted: 'bigint',
  // The exact command that finds the deletions QBO's CDC could not give this run (`reconcileCommand`).
  reconcile_command: 'text',
  // A schedule slot's run that started late: how late and why (`late`), e.g. queued behind a run by hand that held its job.
  late: 'text',
} as const;
type AddedColumn = keyof typeof ADDED_COLUMNS;

/** The added columns' names, to see whether a table still needs them. */
export const PIPELINE_RUNS_ADDED_COLUMNS = Object.keys(ADDED_COLUMNS) as readonly AddedColumn[];
const added = Object.entries(ADDED_COLUMNS);

/**
 * `<schema>._pipeline_runs`: one row per runner run, next to the target's `_load_runs`. It says
 * what the target alone cannot: whether the tap finished (`tap_exit`), and so whether the run
 * as a whole succeeded. `load_run_ids` links the target runs that committed this run's records.
 */
export function createPipelineRunsSql(schema: string): { readonly schema: string; readonly table: string; readonly addColumns: string } {
  const s = escapeIdentifier(schema);
  return {
    schema: `CREATE SCHEMA IF NOT EXISTS ${s}`,
    table: `CREATE TABLE IF NOT EXISTS ${s}._pipeline_runs (
  run_id text PRIMARY KEY,
  kind text NOT NULL,
  job text NOT NULL,
  company text,
  streams text[] NOT NULL,
  range_start_utc timestamptz NOT NULL,
  range_end_utc timestamptz NOT NULL,
  trigger_id text,
  schedule_id text,
  attempt integer NOT NULL,
  host text NOT NULL,
  pid integer NOT NULL,
  started_at_utc timestamptz NOT NULL,
  finished_at_utc timestamptz,
  status text NOT NULL,
  exit_code integer,
  tap_exit integer,
  target_exit integer,
  reason text,
  tap_run_ids text[] NOT NULL DEFAULT '{}',
  load_run_ids uuid[] NOT NULL DEFAULT '{}',
${added.map(([name, type]) => `  ${name} ${type}`).join(',\n')}
)`,
    // Takes the table's exclusive lock even when there is nothing to add: only for a table that lacks one.
    addColumns: `ALTER TABLE ${s}._pipeline_runs ${added.map(([name, type]) => `ADD COLUMN IF NOT EXISTS ${name} ${type}`).join(', ')}`,
  };
}

const BASE_COLUMNS = [
  'run_id',
  'kind',
  'job',
  'company',
  'streams',
  'range_start_utc',
  'range_end_utc',
  'trigger_id',
  'schedule_id',
  'attempt',
  'host',
  'pid',
  'started_at_utc',
  'finished_at_utc',
  'status',
  'exit_code',
  'tap_exit',
  'target_exit',
  'reason',
  'tap_run_ids',
  'load_run_ids',
] as const;
const COLUMNS: ReadonlyArray<(typeof BASE_COLUMNS)[number] | AddedColumn> = [...BASE_COLUMNS, ...PIPELINE_RUNS_ADDED_COLUMNS];

/** Inserts or replaces a run's row; parameters from `pipelineRunParams`. */
export function upsertPipelineRunSql(schema: string): string {
  const updates = COLUMNS.filter((c) => c !== 'run_id')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ');
  return `INSERT INTO ${escapeIdentifier(schema)}._pipeline_runs (${COLUMNS.join(', ')})
VALUES (${COLUMNS.map((_c, i) => `$${i + 1}`).join(', ')})
ON CONFLICT (run_id) DO UPDATE SET ${updates}`;
}

export function pipelineRunParams(run: RunRecord, loadRunIds: readonly string[]): unknown[] {
  const values: Record<(typeof COLUMNS)[number], unknown> = {
    run_id: run.id,
    kind: run.kind,
    job: run.job,
    company: run.company ?? null,
    streams: run.streams,
    range_start_utc: run.range.start,
    range_end_utc: run.range.end,
    trigger_id: run.triggerId ?? null,
    schedule_id: run.scheduleId ?? null,
    attempt: run.attempt,
    host: run.host,
    pid: run.pid,
    started_at_utc: run.startedAt,
    finished_at_utc: run.finishedAt ?? null,
    status: run.status,
    exit_code: run.exitCode ?? null,
    tap_exit: run.tapExit ?? null,
    target_exit: run.targetExit ?? null,
    reason: run.reason ?? null,
    tap_run_ids: run.tapRunIds,
    load_run_ids: loadRunIds,
    rows_loaded: run.moved?.loaded ?? null,
    rows_deleted: run.moved?.deleted ?? null,
    // Made of the job's names and paths, never a setting's value; redacted as the journal is, all the same.
    reconcile_command: run.reconcileCommand === undefined ? null : redact(run.reconcileCommand),
    late: run.late ?? null,
  };
  return COLUMNS.map((c) => values[c]);
}

/** The target runs that committed records of these tap runs. */
export function loadRunsOfSql(schema: string): string {
  return `SELECT DISTINCT load_run_id::text AS load_run_id FROM ${escapeIdentifier(schema)}._load_stats WHERE tap_run_id = ANY($1) ORDER BY 1`;
}

/** The other rows of a job (and company) that still say running: $1 job, $2 the run starting, $3 company or null. */
export function runningRunsOfJobSql(schema: string): string {
  return `SELECT run_id, kind, host, pid FROM ${escapeIdentifier(schema)}._pipeline_runs
WHERE job = $1 AND status = 'running' AND run_id <> $2 AND company IS NOT DISTINCT FROM $3 ORDER BY run_id`;
}

/** Closes a row whose runner is gone: failed, why ($2), exit code and end unknown. */
export function closeGoneRunSql(schema: string): string {
  return `UPDATE ${escapeIdentifier(schema)}._pipeline_runs SET status = 'failed', reason = $2, exit_code = NULL, finished_at_utc = NULL
WHERE run_id = $1 AND status = 'running'`;
}
