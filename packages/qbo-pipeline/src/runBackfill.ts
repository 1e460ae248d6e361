import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { mkdir, readFile } from 'node:fs/promises';
import { discoverCatalog } from 'qbo-catalog';
import { createLogger, diskFullText, EXIT, OutputClosedError, teeLogger, type Logger } from 'singer-kit';
import type { ConnectionSettings } from 'target-postgres-raw';
import { findReconcileAdvice } from 'tap-quickbooks';
import { reconcileCommand, resolveBackfill, resumeCommand, type BackfillRequest, type ResolvedBackfill } from './BackfillRequest.js';
import { childOptionsFor, writeChildConfigs } from './childConfigs.js';
import { lockJob } from './jobLock.js';
import { adoptLegacyTokenStore } from './companies/adoptLegacyTokenStore.js';
import { holdRealm } from './companies/realmLock.js';
import { withCompanyTokenAdvice } from './companies/companyRun.js';
import { evidenceQueryText } from './evidenceSql.js';
import { formatInstant } from 'singer-kit';
import { daysOf } from './formatSpan.js';
import { selectCatalog } from './selectCatalog.js';
import { PIPELINE_ROLES, spawnPipeline, type PipelineOutcome, type PipelineRole, type PipelineSpec } from './spawnPipeline.js';
import { backupStateFile, type StateValue } from './stateFile.js';
import { checkResolvedBackfill } from './checkBackfill.js';
import { StateRecorder } from './StateRecorder.js';
import { nextWindow, streamProgress, type StreamProgress } from './streamProgress.js';
import { Warehouse, type EvidenceTotals } from './Warehouse.js';
import { RunJournal, type RunEnd, type RunHandle } from './runs/RunJournal.js';
import { runWarehouse, shellExit, type RunKind, type RunMoved, type RunStreamProgress } from './runs/RunRecord.js';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
/** The built CLIs of the sibling packages (same depth from src/ and dist/). */
const TAP_CLI = here('../../tap-quickbooks/dist/cli.js');
const TARGET_CLI = here('../../target-postgres-raw/dist/cli.js');
const RUNNER_CLI = here('../dist/cli.js');

/** Who started a run and why, as the runs journal records it. */
interface RunContext {
  /** Default `backfill`. */
  readonly kind?: RunKind;
  readonly triggerId?: string;
  readonly scheduleId?: string;
  /** A slot's run that starts late: how late, and why (`RunRecord.late`). */
  readonly late?: string;
  /** 1 unless the run takes over from a runner that died. */
  readonly attempt?: number;
}

export interface BackfillHooks {
  readonly run?: RunContext;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly logger?: Logger;
  /** Each stderr line of the tap and target; default: forwarded to the logger with a prefix. */
  readonly onChildLog?: (role: PipelineRole, line: string) => void;
  /** After each committed state: how far every stream is. */
  readonly onProgress?: (progress: readonly StreamProgress[]) => void;
  readonly onSpawn?: PipelineSpec['onSpawn'];
  /**
   * Stops the run early (SIGTERM to the tap); what was committed stays in the state file. Its
   * reason, when it is the name of the signal the runner received (`SIGINT`), is the one the run's
   * reason names, not the SIGTERM the runner passed on.
   */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** How long the job's lock outlives a runner that stopped renewing it (killed); default 30 s. The scheduler passes its lease. */
  readonly lockStaleMs?: number;
}

export { JobBusyError } from './jobLock.js';

interface FailedWindow {
  readonly stream: string;
  readonly start: string;
  readonly end: string;
}

export interface BackfillResult {
  readonly kind: RunKind;
  readonly ok: boolean;
  readonly exitCode: number;
  /** The run's id in the runs journal (`<state-dir>/runs/<runId>.json` and `.log`). */
  readonly runId: string;
  readonly logFile: string;
  readonly stopped: boolean;
  readonly job: string;
  readonly stateFile: string;
  readonly backupFile: string | undefined;
  readonly start: string;
  readonly end: string;
  readonly durationMs: number;
  readonly progress: readonly StreamProgress[];
  /** Per stream, wall time from the run's start to its last commit in this run (absent when it committed nothing). */
  readonly wallMs: Readonly<Record<string, number>>;
  /** Tap runs of this invocation, and per stream what they did (from the evidence view). */
  readonly runIds: readonly string[];
  readonly totals: readonly EvidenceTotals[];
  readonly evidence: { readonly query: string } | { readonly unavailable: string };
  /** Present when the run did not finish: why, and the window each unfinished stream stopped at. */
  readonly failure: { readonly reason: string; readonly windows: readonly FailedWindow[] } | undefined;
  /** Why the runner itself stopped the run (its state file could not be written): its FATAL line; the children's failures are theirs. */
  readonly runnerFailure?: string | undefined;
  /** The command that resumes the job: only when running again can work (exit 1). */
  readonly resumeCommand: string | undefined;
  /** What the user must fix before running again (exit 2): the refusing program's own words. */
  readonly fix: string | undefined;
  /** The trigger that ran it (and the schedule whose slot that trigger is): absent for a run by hand. */
  readonly startedBy?: { readonly triggerId: string; readonly scheduleId?: string };
  /**
   * When the tap warned that deletions could not be read from QBO's CDC (a gap older than its 30
   * days, or past its cap), or a stream's table was loaded by an earlier version before deletions
   * were tracked: the exact command that finds them, for every stream concerned.
   */
  readonly reconcileCommand: string | undefined;
}

/** Exit statuses the tap and target give when a signal asked them to stop (128 + its number). */
const STOPPED_BY: Readonly<Record<number, string>> = { 130: 'SIGINT', 143: 'SIGTERM' };

/** The signal that stopped the runner, when `signal` was aborted with its name (the CLI's stop). */
function runnerStopSignal(signal: AbortSignal | undefined): string | undefined {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return typeof reason === 'string' && /^SIG[A-Z]+$/.test(reason) ? reason : undefined;
}

function describeExit(name: string, outcome: PipelineOutcome[PipelineRole], runnerStop?: string): string {
  if (outcome.fatal) return outcome.fatal.replace(/^FATAL /, '');
  if (outcome.signal) return `${name} was killed by ${outcome.signal}`;
  const stoppedBy = outcome.code === null ? undefined : STOPPED_BY[outcome.code];
  // The runner passes whatever stopped it on as SIGTERM: the run stopped on the runner's signal.
  if (stoppedBy) return `${name} stopped on ${stoppedBy === 'SIGTERM' ? (runnerStop ?? stoppedBy) : stoppedBy}`;
  return `${name} exited with status ${outcome.code}`;
}

/** The tap's FATAL line when the target stopped reading (EPIPE): always a consequence of the target's end. */
const OUTPUT_CLOSED = new OutputClosedError().message;

/**
 * Why a run failed: each failed process's own error, the first to exit first, since that is
 * usually the cause (a killed tap can leave the target a cut line). A tap that failed because the
 * target stopped reading comes after the target whatever the order the two exits were seen in: on
 * a busy machine both may have exited before the runner looked, and then the order is the runner's.
 * `runnerStop`: the signal that stopped the runner, which it passed on to the tap as SIGTERM.
 */
export function failureReason(outcome: PipelineOutcome, runnerStop?: string): string | undefined {
  const names = ROLE_NAMES;
  const afterReader = (role: PipelineRole) => (outcome[role].fatal?.endsWith(OUTPUT_CLOSED) ? 1 : 0);
  const failed = PIPELINE_ROLES.filter((role) => outcome[role].code !== 0 && !outcome[role].stoppedByRunner).sort(
    (a, b) => afterReader(a) - afterReader(b) || outcome[a].exitOrder - outcome[b].exitOrder,
  );
  return failed.length === 0 ? undefined : failed.map((role) => describeExit(names[role], outcome[role], runnerStop)).join('; then ');
}

const ROLE_NAMES: Record<PipelineRole, string> = { tap: 'tap-quickbooks', target: 'target-postgres-raw' };

function exitCodeOf(outcome: PipelineOutcome): number {
  return outcome.tap.code === EXIT.usage || outcome.target.code === EXIT.usage ? EXIT.usage : EXIT.runFailed;
}

/** For exit 2: the words of the process that refused, which say what to fix. */
function fixOf(outcome: PipelineOutcome): string | undefined {
  const role = PIPELINE_ROLES.find((r) => outcome[r].code === EXIT.usage);
  return role === undefined ? undefined : describeExit(ROLE_NAMES[role], outcome[role]);
}

const exitOf = (p: PipelineOutcome[PipelineRole]) => shellExit(p.code, p.signal, constants.signals);

/**
 * One backfill: `tap-quickbooks | target-postgres-raw` over `[start, end)` resuming from the
 * job's state file, which receives each committed state as it arrives. The run is recorded in
 * the runs journal (`<state-dir>/runs/`) and in `<schema>._pipeline_runs`. Never throws for a
 * failed run (the result says what failed and how to go on); throws CliError for bad usage,
 * after recording it in the journal.
 */
export async function runBackfill(request: BackfillRequest, hooks: BackfillHooks = {}): Promise<BackfillResult> {
  const cwd = hooks.cwd ?? process.cwd();
  const job = resolveBackfill(
    request,
    cwd,
    request.company ? await (await import('./companies/loadCompanies.js')).loadCompany(request.company, cwd) : undefined,
  );
  const env = hooks.env ?? process.env;
  const now = hooks.now ?? (() => new Date());
  const baseLogger = hooks.logger ?? createLogger('qbo-pipeline');
  await mkdir(job.stateDir, { recursive: true });
  const command = resumeCommand(job, RUNNER_CLI, cwd);
  // The job's lock first: a run refused because the job is busy never started, and is no run of the journal.
  const release = await lockJob(job.stateFile, job.job, { logger: baseLogger, ...(hooks.lockStaleMs !== undefined ? { staleMs: hooks.lockStaleMs } : {}) });
  try {
    return await journaledRun(job, { ...hooks, env, now, cwd }, baseLogger, command);
  } finally {
    await release();
  }
}

/** The run proper, recorded in the runs journal from its start (the job's lock held). */
async function journaledRun(
  job: ResolvedBackfill,
  hooks: BackfillHooks & Required<Pick<BackfillHooks, 'env' | 'now' | 'cwd'>>,
  baseLogger: Logger,
  command: string,
): Promise<BackfillResult> {
  const { env, now, cwd } = hooks;
  let journalWarned = false;
  const journal = RunJournal.of(job.stateDir, {
    now,
    onError: (error) => {
      if (!journalWarned) baseLogger.warn(`runs journal ${RunJournal.of(job.stateDir).dir}: ${error.message}; the run goes on without it`);
      journalWarned = true;
    },
    onNotice: (line) => baseLogger.warn(line),
  });
  const context = hooks.run ?? {};
  const run = await journal.start({
    kind: context.kind ?? job.kind,
    job: job.job,
    ...(job.company ? { company: job.company.ref.name } : {}),
    streams: job.streams,
    range: { start: formatInstant(job.start), end: formatInstant(job.end) },
    ...(context.triggerId !== undefined ? { triggerId: context.triggerId } : {}),
    ...(context.scheduleId !== undefined ? { scheduleId: context.scheduleId } : {}),
    ...(job.fresh ? { fresh: true } : {}),
    ...(context.late !== undefined ? { late: context.late } : {}),
    ...(context.attempt !== undefined ? { attempt: context.attempt } : {}),
    stateFile: job.stateFile,
    progress: runProgress(streamProgress(undefined, job.streams, job.start, job.end), {}),
  });
  const logger = teeLogger(baseLogger, createLogger('qbo-pipeline', { sink: (line) => run.log(line) }));
  const onChildLog = hooks.onChildLog ?? ((role: PipelineRole, line: string) => process.stderr.write(`[${role}] ${line}\n`));
  let tapStarted = false;
  const onSpawn = (spawned: Readonly<Record<PipelineRole, ChildProcess>>) => {
    tapStarted = true;
    hooks.onSpawn?.(spawned);
  };
  try {
    const releaseRealm = job.company
      ? await holdRealm(job.stateDir, job.company.settings, { logger, ...(hooks.signal ? { signal: hooks.signal } : {}) })
      : undefined;
    try {
      return await runLocked(job, { ...hooks, env, now, logger, cwd, onChildLog, onSpawn }, run, command);
    } finally {
      await releaseRealm?.();
    }
  } catch (error) {
    // Refused before or outside the pipeline (bad settings, damaged state file, the company's realm busy):
    // the journal says so too, and, when its tap never started, that the run did not start (it loaded
    // nothing because nothing ran); then the caller prints the one line.
    await run.failWith(error, command, !tapStarted);
    throw error;
  }
}

/** The journal's view of progress: instants as text, plus each stream's wall time so far. */
function runProgress(progress: readonly StreamProgress[], wallMs: Readonly<Record<string, number>>): RunStreamProgress[] {
  return progress.map((p) => ({
    stream: p.stream,
    doneUntil: formatInstant(p.doneUntil),
    daysDone: daysOf(p.doneMs),
    totalDays: daysOf(p.totalMs),
    complete: p.complete,
    ...(wallMs[p.stream] !== undefined ? { wallMs: wallMs[p.stream] } : {}),
  }));
}

async function runLocked(
  job: ResolvedBackfill,
  hooks: BackfillHooks & Required<Pick<BackfillHooks, 'env' | 'now' | 'logger' | 'cwd' | 'onChildLog'>>,
  run: RunHandle,
  command: string,
): Promise<BackfillResult> {
  const { env, now, logger, run: context } = hooks;
  const startedAt = now();
  // A company that ran before it was in a companies file: its token store comes to its folder.
  if (job.company) await adoptLegacyTokenStore(job.stateRoot, job.stateDir, job.company.settings, logger);
  // Every setting, the token store and the state file, before anything is moved or started.
  const checked = await checkResolvedBackfill(job, { env, cwd: hooks.cwd, at: startedAt });
  const initial = checked.state;
  const progressOf = (state: StateValue | undefined) => streamProgress(state, job.streams, job.start, job.end);
  // Wall time from the run's start to each stream's last commit: what a person waited for it.
  const wallMs: Record<string, number> = {};
  let previous = progressOf(initial);
  // Whether its tap reads QBO's CDC: the console and `company list` warn of a closing CDC window only for a job that does.
  // Its end_lag: they say how far behind its start a run's bookmarks are by design.
  // Where its _pipeline_runs row goes: a scheduler's sweep closes it there if its runner dies.
  await run.update({
    progress: runProgress(previous, wallMs),
    readsDeletions: checked.tap.includeDeleted,
    endLag: checked.tap.endLag.toISO() ?? 'PT0S',
    warehouse: runWarehouse(checked.target, job.targetConfig),
  });
  // A company's run: its realm, schema, token store, settings and secret files win over the environment.
  const childOptions = childOptionsFor(job, env);
  const children = childOptions.childEnv;
  const configs = await writeChildConfigs(childOptions, logger);
  try {
    const target = checked.target;
    const window = checked.tap.window;
    const catalog = await configs.write('catalog.json', selectCatalog(discoverCatalog(), job.streams));
    // The state file's own text (the job's lock is held, so it is the one checked): JSON.stringify
    // of its parsed value would round numbers in keys the runner and tap do not own.
    const stateArgs = initial ? ['--state', await configs.writeText('state.json', await readFile(job.stateFile, 'utf8'))] : [];
    // The run is in the warehouse from its start: a runner killed mid-run leaves a row saying `running`,
    // which the job's next run closes here (it holds the job's lock), as its journal record was as it started.
    // Tables an earlier version loaded before deletions reached them (no deleted_at_utc) lack the deletions of that time.
    // Why the row could not be written is said after the run, and only if the run did not fail on it (a wrong
    // password refuses the target in the same words, which its FATAL line and the summary's FAILED line say).
    const started = await recordInWarehouse(target.connection, target.schema, run, logger, {
      journal: RunJournal.of(job.stateDir),
      stateFile: job.stateFile,
      state: initial,
      streams: job.streams,
    });
    const { beforeDeletions } = started;
    if (beforeDeletions.length > 0) {
      logger.warn(
        `${beforeDeletions.join(', ')}: loaded by an earlier version, before deletions were tracked (the table had no deleted_at_utc), so deletions QBO made then are not marked, and no sync can read them; to find them, run once: ${reconcileCommand(job, beforeDeletions, RUNNER_CLI, hooks.cwd)}`,
      );
    }

    let running: Readonly<Record<PipelineRole, ChildProcess>> | undefined;
    const recorder = new StateRecorder(job.stateFile, initial, logger, (state) => {
      const progress = progressOf(state);
      const at = now().getTime() - startedAt.getTime();
      for (const p of progress) {
        if (p.doneUntil > (previous.find((q) => q.stream === p.stream)?.doneUntil ?? p.doneUntil)) wallMs[p.stream] = at;
      }
      previous = progress;
      void run.update({ progress: runProgress(progress, wallMs) });
      hooks.onProgress?.(progress);
    });
    hooks.onProgress?.(previous);
    // The tap's advice to reconcile knows no company, job or settings file: the run's exact command replaces it.
    // Nor does it know where a company's new refresh token goes: its refresh_token_file does.
    const forJob = (text: string) => (job.company ? withCompanyTokenAdvice(text, job.company.settings) : text);
    const unreconciled = new Set(beforeDeletions);
    // A process's lines from its FATAL line on wait for the run's end: the run's FAILED line (the
    // summary, a scheduler's ERROR line) gives that line's reason, which is then not said twice.
    const fromFatal: Partial<Record<PipelineRole, string[]>> = {};
    const forward = (role: PipelineRole, line: string) => {
      run.log(`[${role}] ${line}`);
      const held = fromFatal[role] ?? (line.startsWith('FATAL ') ? (fromFatal[role] = []) : undefined);
      if (held) held.push(line);
      else hooks.onChildLog(role, line);
    };
    const onLog = (role: PipelineRole, line: string) => {
      const advice = role === 'tap' ? findReconcileAdvice(line) : undefined;
      if (!advice) return forward(role, role === 'tap' ? forJob(line) : line);
      for (const stream of advice.streams) unreconciled.add(stream);
      forward(role, line.replace(advice.text, `\`${reconcileCommand(job, advice.streams, RUNNER_CLI, hooks.cwd)}\``));
    };
    // --fresh sets the state file aside only now, as the tap starts: a run refused before keeps it (it did not start).
    const backupFile = job.fresh ? await backupStateFile(job.stateFile, startedAt) : undefined;
    const outcome = await spawnPipeline({
      tap: { command: process.execPath, args: [TAP_CLI, '--config', configs.tap, '--catalog', catalog, ...stateArgs] },
      target: { command: process.execPath, args: [TARGET_CLI, '--config', configs.target] },
      env: children,
      cwd: hooks.cwd,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onSpawn: (spawned) => {
        running = spawned;
        hooks.onSpawn?.(spawned);
      },
      onLog,
      onTargetLine: async (line) => {
        if (!(await recorder.record(line))) {
          running?.tap.kill('SIGTERM');
          running?.target.kill('SIGTERM');
        }
      },
    });
    // A state file that cannot be written (a full disk, a folder made read-only) stopped the run
    // (the runner ended tap and target): a failure like any other, resumable once the disk is fixed.
    // The state file keeps the last state written, behind what was committed, never ahead of it.
    const stateFailure = recorder.failure
      ? `cannot write state file ${job.stateFile}: ${diskFullText(recorder.failure, job.stateDir) ?? `${recorder.failure.message}; make ${job.stateDir} writable`}, then run again: it resumes from the last state written (rows committed since are read again and left unchanged)`
      : undefined;
    if (stateFailure) run.log(`FATAL qbo-pipeline: ${stateFailure}`);

    const progress = progressOf(recorder.latest);
    const incomplete = progress.filter((p) => !p.complete);
    const failed = failureReason(outcome, runnerStopSignal(hooks.signal));
    const processFailure = stateFailure ?? (failed === undefined ? undefined : forJob(failed));
    const reason =
      processFailure ??
      (incomplete.length > 0
        ? `tap and target finished but ${incomplete.map((p) => p.stream).join(', ')} committed only up to ${incomplete.map((p) => formatInstant(p.doneUntil)).join(', ')}`
        : undefined);
    for (const role of PIPELINE_ROLES) {
      for (const line of fromFatal[role] ?? []) if (!(line.startsWith('FATAL ') && reason?.includes(line.slice('FATAL '.length)))) hooks.onChildLog(role, line);
    }
    if (started.notRecorded !== undefined && !reason?.includes(started.notRecorded)) {
      logger.warn(`could not record run ${run.id} in ${target.schema}._pipeline_runs as it started: ${started.notRecorded}`);
    }
    const exitCode = reason === undefined ? EXIT.ok : stateFailure === undefined && processFailure ? exitCodeOf(outcome) : EXIT.runFailed;
    const stopped = reason !== undefined && hooks.signal?.aborted === true;
    const refused = exitCode === EXIT.usage ? fixOf(outcome) : undefined;
    const fix = refused === undefined ? undefined : forJob(refused);
    const resume = exitCode === EXIT.runFailed ? command : undefined;

    const evidence = await collectEvidence(target.connection, target.schema, startedAt, job.streams, logger, reason);
    const reconcileStreams = [...unreconciled].sort();
    const reconcile = unreconciled.size > 0 ? reconcileCommand(job, reconcileStreams, RUNNER_CLI, hooks.cwd) : undefined;
    const sum = (count: 'extracted' | 'loaded' | 'inserted' | 'updated' | 'unchanged' | 'deleted') => evidence.totals.reduce((n, t) => n + t[count], 0);
    const moved: RunMoved | undefined =
      'query' in evidence.evidence
        ? {
            loaded: sum('loaded'),
            deleted: sum('deleted'),
            read: sum('extracted'),
            inserted: sum('inserted'),
            updated: sum('updated'),
            unchanged: sum('unchanged'),
          }
        : undefined;
    const end: RunEnd = {
      status: reason === undefined ? 'succeeded' : stopped ? 'stopped' : 'failed',
      exitCode,
      ...(exitOf(outcome.tap) !== undefined ? { tapExit: exitOf(outcome.tap) } : {}),
      ...(exitOf(outcome.target) !== undefined ? { targetExit: exitOf(outcome.target) } : {}),
      ...(reason !== undefined ? { reason } : {}),
      progress: runProgress(progress, wallMs),
      tapRunIds: evidence.runIds,
      ...(resume !== undefined ? { resumeCommand: resume } : {}),
      ...(fix !== undefined ? { fix } : {}),
      ...(moved !== undefined ? { moved } : {}),
      ...(reconcile !== undefined ? { reconcileCommand: reconcile, reconcileStreams } : {}),
    };
    await run.finish(end);
    // A row written as the run started but not as it ended (a warehouse gone then, a restart that failed
    // the run): the record says the row is behind, for a scheduler's next pass to copy it in. A row never
    // written (the warehouse refused the run from its start: a wrong password) is none to mend.
    const ended = await recordInWarehouse(target.connection, target.schema, run, logger);
    if (started.recorded && !ended.recorded) await run.update({ rowBehind: true });
    return {
      kind: job.kind,
      ok: reason === undefined,
      exitCode,
      runId: run.id,
      logFile: run.record.logFile,
      stopped,
      job: job.job,
      stateFile: job.stateFile,
      backupFile,
      start: formatInstant(job.start),
      end: formatInstant(job.end),
      durationMs: now().getTime() - startedAt.getTime(),
      progress,
      wallMs: { ...wallMs },
      runIds: evidence.runIds,
      totals: evidence.totals,
      evidence: evidence.evidence,
      failure:
        reason === undefined
          ? undefined
          : {
              reason,
              windows: incomplete.map((p) => {
                const w = nextWindow(p, window, job.end);
                return { stream: p.stream, start: formatInstant(w.start), end: formatInstant(w.end) };
              }),
            },
      runnerFailure: stateFailure,
      resumeCommand: resume,
      fix,
      reconcileCommand: reconcile,
      ...(context?.triggerId !== undefined
        ? { startedBy: { triggerId: context.triggerId, ...(context.scheduleId !== undefined ? { scheduleId: context.scheduleId } : {}) } }
        : {}),
    };
  } finally {
    await configs.remove();
  }
}

/**
 * Writes the run's row in `<schema>._pipeline_runs`. At its start (`start` given), over the same
 * session, it also closes the job's rows whose runner is gone (`Warehouse.closeGoneRuns`); warns
 * when the schema had to be made though the state file holds bookmarks: someone dropped or renamed
 * it (or the settings name a new one), so the rows before those bookmarks are not there and only
 * --fresh brings them; and returns the streams whose tables an earlier version loaded before
 * deletions were tracked (`Warehouse.loadedBeforeDeletions`). A warehouse that cannot be reached,
 * or a step that fails, is a warning (the target reports why), and then no stream is returned;
 * `recorded` says whether the row was written; at the start, `notRecorded` says why not, for the
 * caller to warn of after the run unless the run failed on it.
 */
/**
 * An error of the runner's own work in the warehouse after a run, in full unless the run's failure
 * already says it: a warehouse that refused the target (a wrong password) refuses the runner in the
 * same words, which the target's FATAL line and the summary's FAILED line say.
 */
function unlessSaid(error: unknown, reason: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  return reason?.includes(message) ? 'the same error the run failed on' : message;
}

async function recordInWarehouse(
  connection: ConnectionSettings,
  schema: string,
  run: RunHandle,
  logger: Logger,
  start?: { readonly journal: RunJournal; readonly stateFile: string; readonly state: StateValue | undefined; readonly streams: readonly string[] },
): Promise<{ readonly recorded: boolean; readonly beforeDeletions: string[]; readonly notRecorded?: string }> {
  let warehouse: Warehouse | undefined;
  let recorded = false;
  let notRecorded: string | undefined;
  try {
    warehouse = await Warehouse.connect(connection, schema);
    const { schemaCreated } = await warehouse.recordRun(run.record);
    recorded = true;
    const bookmarks = Object.entries(start?.state?.bookmarks ?? {}).flatMap(([stream, b]) =>
      typeof b?.replication_key_value === 'string' ? [`${stream} ${b.replication_key_value}`] : [],
    );
    if (start && schemaCreated && bookmarks.length > 0) {
      logger.warn(
        `schema ${schema} did not exist (dropped or renamed, or a new one in the settings), though state file ${start.stateFile} says this job loaded up to ${bookmarks.join(', ')}: it is made anew and holds only what is loaded from those bookmarks on; if it was dropped or renamed by mistake, stop and restore it; otherwise load everything again with --fresh`,
      );
    }
    if (start) await warehouse.closeGoneRuns(run.record, run.record, start.journal);
  } catch (error) {
    notRecorded = error instanceof Error ? error.message : String(error);
    if (!start) logger.warn(`could not record run ${run.id} in ${schema}._pipeline_runs: ${unlessSaid(error, run.record.reason)}`);
  }
  try {
    return { recorded, notRecorded, beforeDeletions: start && warehouse ? await warehouse.loadedBeforeDeletions(start.streams) : [] };
  } catch (error) {
    logger.warn(`could not check ${schema}'s tables for deletions an earlier version did not track: ${error instanceof Error ? error.message : String(error)}`);
    return { recorded, notRecorded, beforeDeletions: [] };
  } finally {
    await warehouse?.close().catch(() => undefined);
  }
}

async function collectEvidence(
  connection: ConnectionSettings,
  schema: string,
  since: Date,
  streams: readonly string[],
  logger: Logger,
  reason: string | undefined,
): Promise<Pick<BackfillResult, 'runIds' | 'totals' | 'evidence'>> {
  let warehouse: Warehouse | undefined;
  try {
    warehouse = await Warehouse.connect(connection, schema);
    if (!(await warehouse.ensureEvidenceView())) {
      return { runIds: [], totals: [], evidence: { unavailable: `no evidence yet: ${schema}._volumetry or ${schema}._load_stats does not exist` } };
    }
    const runIds = await warehouse.runsSince(since, streams);
    return {
      runIds,
      totals: runIds.length > 0 ? await warehouse.totals(runIds) : [],
      evidence: { query: evidenceQueryText(schema, runIds) },
    };
  } catch (error) {
    const message = unlessSaid(error, reason);
    logger.warn(`could not read the evidence from the warehouse: ${message}`);
    return { runIds: [], totals: [], evidence: { unavailable: `could not read it from the warehouse after the run: ${message}` } };
  } finally {
    await warehouse?.close().catch(() => undefined);
  }
}
