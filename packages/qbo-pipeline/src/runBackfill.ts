import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
import { Duration } from 'luxon';
import { lock } from 'proper-lockfile';
import { discoverCatalog } from 'qbo-catalog';
import { createLogger, loadSettings, RunError, EXIT, type Logger } from 'singer-kit';
import { parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS } from 'target-postgres-raw';
import { resolveBackfill, resumeCommand, type BackfillRequest, type ResolvedBackfill } from './BackfillRequest.js';
import { childEnv, writeChildConfigs } from './childConfigs.js';
import { evidenceQueryText } from './evidenceSql.js';
import { formatInstant } from 'singer-kit';
import { selectCatalog } from './selectCatalog.js';
import { PIPELINE_ROLES, spawnPipeline, type PipelineOutcome, type PipelineRole, type PipelineSpec } from './spawnPipeline.js';
import { backupStateFile, readStateFile, type StateValue } from './stateFile.js';
import { StateRecorder } from './StateRecorder.js';
import { nextWindow, streamProgress, type StreamProgress } from './streamProgress.js';
import { Warehouse, type EvidenceTotals } from './Warehouse.js';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
/** The built CLIs of the sibling packages (same depth from src/ and dist/). */
export const DEFAULT_TAP_CLI = here('../../tap-quickbooks/dist/cli.js');
export const DEFAULT_TARGET_CLI = here('../../target-postgres-raw/dist/cli.js');
export const RUNNER_CLI = here('../dist/cli.js');

export interface BackfillHooks {
  readonly tapCli?: string;
  readonly targetCli?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly logger?: Logger;
  /** Each stderr line of the tap and target; default: forwarded to the logger with a prefix. */
  readonly onChildLog?: (role: PipelineRole, line: string) => void;
  /** After each committed state: how far every stream is. */
  readonly onProgress?: (progress: readonly StreamProgress[]) => void;
  readonly onSpawn?: PipelineSpec['onSpawn'];
  /** Stops the run early (SIGTERM to both); what was committed stays in the state file. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export interface FailedWindow {
  readonly stream: string;
  readonly start: string;
  readonly end: string;
}

export interface BackfillResult {
  readonly ok: boolean;
  readonly exitCode: number;
  readonly job: string;
  readonly stateFile: string;
  readonly backupFile: string | undefined;
  readonly start: string;
  readonly end: string;
  readonly durationMs: number;
  readonly progress: readonly StreamProgress[];
  /** Tap runs of this invocation, and per stream what they did (from the evidence view). */
  readonly runIds: readonly string[];
  readonly totals: readonly EvidenceTotals[];
  readonly evidence: { readonly query: string } | { readonly unavailable: string };
  /** Present when the run did not finish: why, and the window each unfinished stream stopped at. */
  readonly failure: { readonly reason: string; readonly windows: readonly FailedWindow[] } | undefined;
  readonly resumeCommand: string;
}

function describeExit(name: string, outcome: PipelineOutcome[PipelineRole]): string {
  if (outcome.fatal) return outcome.fatal.replace(/^FATAL /, '');
  if (outcome.signal) return `${name} was killed by ${outcome.signal}`;
  return `${name} exited with status ${outcome.code}`;
}

/**
 * Why a run failed: each failed process's own error, the first to exit first, since that is
 * usually the cause (a dead target makes the tap fail with EPIPE; a killed tap can leave the
 * target a cut line).
 */
export function failureReason(outcome: PipelineOutcome): string | undefined {
  const names: Record<PipelineRole, string> = { tap: 'tap-quickbooks', target: 'target-postgres-raw' };
  const failed = PIPELINE_ROLES.filter((role) => outcome[role].code !== 0 && !outcome[role].stoppedByRunner).sort((a, b) => outcome[a].exitOrder - outcome[b].exitOrder);
  return failed.length === 0 ? undefined : failed.map((role) => describeExit(names[role], outcome[role])).join('; then ');
}

function exitCodeOf(outcome: PipelineOutcome): number {
  return outcome.tap.code === EXIT.usage || outcome.target.code === EXIT.usage ? EXIT.usage : EXIT.runFailed;
}

/**
 * One backfill: `tap-quickbooks | target-postgres-raw` over `[start, end)` resuming from the
 * job's state file, which receives each committed state as it arrives. Never throws for a
 * failed run (the result says what failed and how to resume); throws CliError for bad usage.
 */
export async function runBackfill(request: BackfillRequest, hooks: BackfillHooks = {}): Promise<BackfillResult> {
  const cwd = hooks.cwd ?? process.cwd();
  const job = resolveBackfill(request, cwd);
  const env = hooks.env ?? process.env;
  const now = hooks.now ?? (() => new Date());
  const logger = hooks.logger ?? createLogger('qbo-pipeline');
  await mkdir(job.stateDir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lock(job.stateFile, {
      realpath: false,
      lockfilePath: job.stateFile.replace(/\.json$/, '.lock'),
      stale: 30_000,
      onCompromised: (error) => logger.warn(`lock of job ${job.job} lost: ${error.message}`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') throw new RunError(`job ${job.job} is already running: its state file ${job.stateFile} is locked by another runner (a lock left by a killed runner expires after 30 s)`);
    throw error;
  }
  try {
    return await runLocked(job, { ...hooks, env, now, logger, cwd });
  } finally {
    await release();
  }
}

async function runLocked(
  job: ResolvedBackfill,
  hooks: BackfillHooks & Required<Pick<BackfillHooks, 'env' | 'now' | 'logger' | 'cwd'>>,
): Promise<BackfillResult> {
  const { env, now, logger } = hooks;
  const startedAt = now();
  const backupFile = job.fresh ? await backupStateFile(job.stateFile, startedAt) : undefined;
  const initial = job.fresh ? undefined : await readStateFile(job.stateFile);
  const progressOf = (state: StateValue | undefined) => streamProgress(state, job.streams, job.start, job.end);
  const children = childEnv(env);
  const configs = await writeChildConfigs({
    tapConfig: job.tapConfig,
    targetConfig: job.targetConfig,
    tapOverrides: { start_date: formatInstant(job.start), end_date: formatInstant(job.end) },
    env,
  });
  try {
    // The warehouse as the target will see it; bad settings stop us before anything runs.
    const target = parseTargetSettings(loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, configFile: configs.target, env: children }));
    // The tap's `window` as the tap reads it (file, env), to name the window a failure stopped at.
    const window = Duration.fromISO(String(loadSettings({ specs: [{ name: 'window', kind: 'string', default: 'P1D', description: '' }], envPrefix: 'TAP_QUICKBOOKS', configFile: configs.tap, env: children }).window));
    const tapCli = hooks.tapCli ?? DEFAULT_TAP_CLI;
    const catalog = await configs.write('catalog.json', selectCatalog(discoverCatalog(), job.streams));
    const stateArgs = initial ? ['--state', await configs.write('state.json', initial)] : [];

    let running: Readonly<Record<PipelineRole, ChildProcess>> | undefined;
    const recorder = new StateRecorder(job.stateFile, initial, logger, (state) => hooks.onProgress?.(progressOf(state)));
    hooks.onProgress?.(progressOf(initial));
    const outcome = await spawnPipeline({
      tap: { command: process.execPath, args: [tapCli, '--config', configs.tap, '--catalog', catalog, ...stateArgs] },
      target: { command: process.execPath, args: [hooks.targetCli ?? DEFAULT_TARGET_CLI, '--config', configs.target] },
      env: children,
      cwd: hooks.cwd,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      onSpawn: (spawned) => {
        running = spawned;
        hooks.onSpawn?.(spawned);
      },
      onLog: hooks.onChildLog ?? ((role, line) => process.stderr.write(`[${role}] ${line}\n`)),
      onTargetLine: async (line) => {
        if (!(await recorder.record(line))) {
          running?.tap.kill('SIGTERM');
          running?.target.kill('SIGTERM');
        }
      },
    });
    if (recorder.failure) throw new RunError(`cannot write state file ${job.stateFile}: ${recorder.failure.message}`);

    const progress = progressOf(recorder.latest);
    const incomplete = progress.filter((p) => !p.complete);
    const processFailure = failureReason(outcome);
    const reason =
      processFailure ??
      (incomplete.length > 0 ? `tap and target finished but ${incomplete.map((p) => p.stream).join(', ')} committed only up to ${incomplete.map((p) => formatInstant(p.doneUntil)).join(', ')}` : undefined);
    const evidence = await collectEvidence(target.connection, target.schema, startedAt, job.streams, logger);
    return {
      ok: reason === undefined,
      exitCode: reason === undefined ? EXIT.ok : processFailure ? exitCodeOf(outcome) : EXIT.runFailed,
      job: job.job,
      stateFile: job.stateFile,
      backupFile,
      start: formatInstant(job.start),
      end: formatInstant(job.end),
      durationMs: now().getTime() - startedAt.getTime(),
      progress,
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
      resumeCommand: resumeCommand(job, RUNNER_CLI, hooks.cwd),
    };
  } finally {
    await configs.remove();
  }
}

async function collectEvidence(
  connection: Parameters<typeof Warehouse.connect>[0],
  schema: string,
  since: Date,
  streams: readonly string[],
  logger: Logger,
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
    const message = error instanceof Error ? error.message : String(error);
    logger.warn(`could not read the evidence from the warehouse: ${message}`);
    return { runIds: [], totals: [], evidence: { unavailable: `warehouse not reachable after the run: ${message}` } };
  } finally {
    await warehouse?.close().catch(() => undefined);
  }
}
