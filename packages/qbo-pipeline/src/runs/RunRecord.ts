import { randomBytes } from 'node:crypto';
import type { TargetSettings } from 'target-postgres-raw';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'stopped';

/** What started a run: the command a person typed, or the scheduler acting for a trigger or a schedule. */
export type RunKind = 'backfill' | 'sync' | 'reconcile';

/** How far one stream got, as its committed state says. */
export interface RunStreamProgress {
  readonly stream: string;
  /** Everything before this instant is committed. */
  readonly doneUntil: string;
  readonly daysDone: number;
  readonly totalDays: number;
  readonly complete: boolean;
  /** Wall time from the run's start to this stream's last commit in this run (absent before its first). */
  readonly wallMs?: number;
}

/**
 * Where a run's row in `<schema>._pipeline_runs` goes: its target's PostgreSQL and schema, never a
 * user or a secret, and the `--target-config` file the run was given (a path; absent without one).
 */
export interface RunWarehouse {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly schema: string;
  readonly targetConfig?: string;
}

/** A run's `RunWarehouse`, from its target's checked settings and its `--target-config` (absolute). */
export function runWarehouse(target: TargetSettings, targetConfig: string | undefined): RunWarehouse {
  const { host, port, database } = target.connection;
  return { host, port, database, schema: target.schema, ...(targetConfig !== undefined ? { targetConfig } : {}) };
}

/** `host:port/database schema`: a `RunWarehouse` as messages name it. */
export function warehouseText(w: Omit<RunWarehouse, 'targetConfig'>): string {
  return `${w.host}:${w.port}/${w.database} schema ${w.schema}`;
}

/**
 * What a finished run did, from the evidence of its tap runs. `loaded` counts every record the
 * target took, unchanged ones included; a backfill or sync also says how many records it read
 * from QBO and which of them were new, changed or unchanged rows (absent in a reconcile's record,
 * which reads no records, and in records of older runners).
 */
export interface RunMoved {
  readonly loaded: number;
  readonly deleted: number;
  readonly read?: number;
  readonly inserted?: number;
  readonly updated?: number;
  readonly unchanged?: number;
}

/**
 * One runner run, as `<state-dir>/runs/<id>.json` holds it (rewritten atomically as it goes).
 * Exit codes follow the shell: a process killed by a signal counts 128 + the signal's number.
 */
export interface RunRecord {
  readonly id: string;
  readonly kind: RunKind;
  readonly job: string;
  /** The company (companies file) the run belongs to, when there is one. */
  readonly company?: string;
  readonly streams: readonly string[];
  readonly range: { readonly start: string; readonly end: string };
  readonly triggerId?: string;
  readonly scheduleId?: string;
  /**
   * Set when the run started its job over (`--fresh`): it set the state file aside and read its
   * whole range from QBO, where a run without it goes on from the bookmarks. Absent otherwise, and
   * in records of older runners.
   */
  readonly fresh?: true;
  /** A schedule slot's run that started late: how late and why (`late by 3 h, queued behind run … (backfill, …)`: its job was busy at the slot). */
  readonly late?: string;
  /** 1 for a first run; more when a run is taken over after its runner died. */
  readonly attempt: number;
  readonly pid: number;
  /**
   * When the runner's process started on its host (`processOnThisHost`: clock ticks since boot on
   * Linux; absent where the host does not say, and in records of older runners): a process that
   * has its pid but another start is not the runner (`processGone`).
   */
  readonly pidStart?: string;
  readonly host: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  readonly status: RunStatus;
  /** The runner's exit code, once finished. */
  readonly exitCode?: number;
  readonly tapExit?: number;
  readonly targetExit?: number;
  /** Why it failed or stopped: the first failing process's own one-line error. */
  readonly reason?: string;
  /**
   * Set when it failed before its tap started (its settings, state file or token store refused, a
   * file it could not write; a reconcile: before it asked QBO anything): a failure, since the job
   * did not run, but one that read and loaded nothing and left its state file as it was. Said
   * `did not start`, not `nothing loaded`.
   */
  readonly notStarted?: true;
  readonly progress: readonly RunStreamProgress[];
  /** `_sdc_run_id` of each tap run, the key of the evidence. */
  readonly tapRunIds: readonly string[];
  readonly stateFile: string;
  readonly logFile: string;
  /** Runs the job again from its state file: set when a failed or stopped run can be resumed (exit 1). */
  readonly resumeCommand?: string;
  /** What the user must fix before running again (exit 2). */
  readonly fix?: string;
  /**
   * What the run did, once finished, when the warehouse could say: rows loaded, and rows marked
   * deleted (QBO's change data capture, or a reconcile), which are not part of `loaded`.
   */
  readonly moved?: RunMoved;
  /**
   * When the tap could not read some deletions from QBO's CDC (older than 30 days, past its cap), or
   * a table was loaded before deletions were tracked (an earlier version): the exact command that finds them.
   */
  readonly reconcileCommand?: string;
  /** The streams that command reconciles (the ones the tap named, and those tables). */
  readonly reconcileStreams?: readonly string[];
  /**
   * Where its `_pipeline_runs` row goes, once its settings were checked (absent before that, and in
   * records of older runners): a scheduler's sweep closes the row there (`RunSweeper`).
   */
  readonly warehouse?: RunWarehouse;
  /**
   * Set when the run ended but its `_pipeline_runs` row could not be written then (the warehouse
   * was unreachable as it ended, a PostgreSQL restart that failed the run, say), so the row still
   * says less than this record: a scheduler's next pass copies this record in (`RunSweeper`, as the
   * job's next run would) and removes the mark.
   */
  readonly rowBehind?: boolean;
  /**
   * Whether its tap reads deletions from QBO's change data capture (its `include_deleted` setting,
   * as its --tap-config, environment and companies file gave it), once its settings were checked;
   * absent before that, for a reconcile (it reads no CDC), and in records of older runners.
   */
  readonly readsDeletions?: boolean;
  /**
   * Its tap's `end_lag` (ISO 8601, `PT5M`), as its --tap-config, environment and companies file
   * gave it, once its settings were checked: a sync reads up to that long before it starts, so the
   * console says its bookmarks are that far behind by design (`endLagOf`). Absent before that, and
   * in records of older runners.
   */
  readonly endLag?: string;
  /** A reconcile run with --dry-run: it found what is missing and marked nothing. */
  readonly dryRun?: boolean;
  /**
   * Set when the run's runner died before finishing it (killed, out of memory, its machine
   * restarted) and, holding the job's lock, a later run of the job (`byRun`) or a scheduler's sweep
   * between runs (`bySweeper`: which scheduler) closed it: when it was found so, by whom, and the
   * run's last sign of life (its `updatedAt` then). The run is then `failed` with no `exitCode` and
   * no `finishedAt`: when it stopped is unknown, somewhere between its last sign of life and `foundAt`.
   */
  readonly runnerGone?: { readonly foundAt: string; readonly byRun?: string; readonly bySweeper?: string; readonly lastSignOfLife: string };
}

/**
 * `run-20250912T034554.123Z-1a2b3c`: sorts by start time, to the millisecond (two runs of one
 * second, a dry run then the real one, list in the order they started), unique across processes.
 */
export function newRunId(at: Date): string {
  return `run-${at.toISOString().replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** Also the ids of runs recorded before they had milliseconds (`run-20250912T034554Z-1a2b3c`). */
export const RUN_ID = /^run-\d{8}T\d{6}(\.\d{3})?Z-[0-9a-f]{6}$/;

/** What a run id looks like, for error messages. */
export const RUN_ID_EXAMPLE = 'run-20250912T034554.123Z-1a2b3c';

/** An exit as a shell reports it: the code, or 128 + the signal's number for a killed process. */
export function shellExit(code: number | null, signal: NodeJS.Signals | null, signals: Readonly<Record<string, number>>): number | undefined {
  if (code !== null) return code;
  if (signal !== null) return 128 + (signals[signal] ?? 0);
  return undefined;
}

/** The runs to delete so that each job keeps its newest `keep` finished runs; running ones are never deleted. */
export function runsToPrune(records: readonly Pick<RunRecord, 'id' | 'job' | 'status'>[], keep: number): string[] {
  const byJob = new Map<string, Array<Pick<RunRecord, 'id' | 'status'>>>();
  for (const r of records) byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
  const out: string[] = [];
  for (const runs of byJob.values()) {
    const finished = runs.filter((r) => r.status !== 'running').sort((a, b) => b.id.localeCompare(a.id));
    out.push(...finished.slice(keep).map((r) => r.id));
  }
  return out.sort();
}
