import { createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { CliError, EXIT, isTempOf, redact, reserveFileAtomic, RunError, writeFileAtomic, type ReservedFileWrite } from 'singer-kit';
import { newRunId, RUN_ID, RUN_ID_EXAMPLE, runsToPrune, type RunKind, type RunRecord, type RunStatus } from './RunRecord.js';
import { ifExists, readdirIfExists } from '../ifExists.js';
import { DEFAULT_LOCK_STALE_MS, isJobLocked } from '../jobLock.js';
import { utc } from '../formatTime.js';
import { outstandingReconciles } from '../reconcile/outstandingReconciles.js';
import { ownStart, processGone } from '../processOnHost.js';
import { runsKeepingFailuresPast } from '../triggers/failurePast.js';
import { triggerStore } from '../triggers/TriggerStore.js';

/** Disk space held from a run's start for its record's last write: a record is a few kB (its progress, one line per stream). */
const RESERVED_FOR_END = 32 * 1024;

/** Finished runs kept per job; older ones (record and log) are deleted when a new run of the job starts. */
const DEFAULT_RUNS_KEPT_PER_JOB = 100;

/** What a run is, as known when it starts (a first attempt unless `attempt` says otherwise). */
export type RunStart = Pick<RunRecord, 'kind' | 'job' | 'company' | 'streams' | 'range' | 'triggerId' | 'scheduleId' | 'late' | 'stateFile' | 'progress'> &
  Partial<Pick<RunRecord, 'attempt' | 'fresh'>>;

/** How a run ended. `resumeCommand` only when running again can work; `fix` when the user must change something first. */
export type RunEnd = { readonly status: Exclude<RunStatus, 'running'>; readonly exitCode: number } & Pick<
  RunRecord,
  'tapExit' | 'targetExit' | 'reason' | 'notStarted' | 'resumeCommand' | 'fix' | 'moved' | 'reconcileCommand' | 'reconcileStreams' | 'dryRun'
> &
  Partial<Pick<RunRecord, 'progress' | 'tapRunIds'>>;

export interface RunJournalOptions {
  readonly keepPerJob?: number;
  readonly now?: () => Date;
  /** Where a failure to write the journal is reported; the run itself goes on. */
  readonly onError?: (error: Error) => void;
  /** Where a new run tells what it found of the job's earlier runs (closed as their runner was gone, or left running); also in its log. */
  readonly onNotice?: (line: string) => void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Who finds a run's runner gone and closes the run, holding the job's lock: a run of the job as
 * it starts (its id and kind), or a scheduler's sweep between runs (`sweeper`: which scheduler).
 */
export type GoneFinder = { readonly id: string; readonly kind: RunKind } | { readonly sweeper: string };

/**
 * Why a run that says running has no runner: `gone` when it ran on this host and its process no
 * longer exists; `silent` when its job's lock has gone unrefreshed (every runner refreshes it every
 * second while it runs), so nothing shows it alive, wherever it ran.
 */
export type RunnerMissing = 'gone' | 'silent';

/**
 * What a run that says running shows when its runner is missing: `runner pid 12 on h is gone`,
 * `runner gone? no sign of life since 2025-09-12 03:45:54Z` (its last sign of life as every
 * instant reads in the console and `company list`).
 */
export function missingRunnerText(record: Pick<RunRecord, 'pid' | 'host' | 'updatedAt'>, missing: RunnerMissing): string {
  return missing === 'gone' ? `runner pid ${record.pid} on ${record.host} is gone` : `runner gone? no sign of life since ${utc(record.updatedAt)}`;
}

/** The same, with what to do: the job's next run resumes from its state file and closes this one. */
export function missingRunnerAdvice(record: Pick<RunRecord, 'pid' | 'host' | 'updatedAt'>, missing: RunnerMissing): string {
  return `${missingRunnerText(record, missing)}: run it again to resume`;
}

/**
 * The runs journal: `<state-dir>/runs/<run-id>.json` (the run, rewritten atomically as its
 * states commit) and `<run-id>.log` (the runner's and the children's stderr lines, secrets
 * redacted). Every runner run writes one; the console and `runs` read them. Each job keeps its
 * newest `keepPerJob` finished runs.
 */
export class RunJournal {
  readonly dir: string;
  readonly #keep: number;
  readonly #now: () => Date;
  readonly #onError: (error: Error) => void;
  readonly #onNotice: (line: string) => void;

  constructor(dir: string, options: RunJournalOptions = {}) {
    this.dir = dir;
    this.#keep = options.keepPerJob ?? DEFAULT_RUNS_KEPT_PER_JOB;
    this.#now = options.now ?? (() => new Date());
    this.#onError = options.onError ?? (() => undefined);
    this.#onNotice = options.onNotice ?? (() => undefined);
  }

  /** The journal of a state folder (a company's folder when there are companies). */
  static of(stateDir: string, options: RunJournalOptions = {}): RunJournal {
    return new RunJournal(path.join(stateDir, 'runs'), options);
  }

  recordFile(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  logFile(id: string): string {
    return path.join(this.dir, `${id}.log`);
  }

  /** A job's state file, whose lock its runner holds: `<state-dir>/<job>.json` beside this journal (`<state-dir>/runs/`). */
  jobStateFile(job: string): string {
    return path.join(path.dirname(this.dir), `${job}.json`);
  }

  /**
   * Records a new run (status running), after closing the job's runs whose runner is gone
   * (`closeGone`) and pruning the job's old runs. The caller holds the job's lock (`lockJob`), as
   * `runBackfill` and `runReconcile` do: that is what proves those runners gone.
   */
  async start(start: RunStart): Promise<RunHandle> {
    await mkdir(this.dir, { recursive: true });
    const at = this.#now();
    const id = newRunId(at);
    const gone = await this.closeGone(start.job, { id, kind: start.kind }).catch((error: unknown) => {
      this.#onError(error as Error);
      return { closed: [], alive: [] };
    });
    await this.prune().catch((error: unknown) => this.#onError(error as Error));
    const record: RunRecord = {
      id,
      kind: start.kind,
      job: start.job,
      ...(start.company !== undefined ? { company: start.company } : {}),
      streams: [...start.streams],
      range: start.range,
      ...(start.triggerId !== undefined ? { triggerId: start.triggerId } : {}),
      ...(start.scheduleId !== undefined ? { scheduleId: start.scheduleId } : {}),
      ...(start.fresh ? { fresh: true } : {}),
      ...(start.late !== undefined ? { late: start.late } : {}),
      attempt: start.attempt ?? 1,
      pid: process.pid,
      ...(ownStart() !== undefined ? { pidStart: ownStart() } : {}),
      host: hostname(),
      startedAt: at.toISOString(),
      updatedAt: at.toISOString(),
      status: 'running',
      progress: start.progress,
      tapRunIds: [],
      stateFile: start.stateFile,
      logFile: this.logFile(id),
    };
    // The disk space of the record's last write, taken while there is some: a run stopped by a full
    // disk still ends its record with why, not `running` until a later run calls its runner gone.
    const ending = await reserveFileAtomic(this.recordFile(id), RESERVED_FOR_END, 0o644).catch((error: unknown) => {
      this.#onError(error as Error);
      return undefined;
    });
    const handle = new RunHandle(this.recordFile(id), record, createWriteStream(this.logFile(id), { flags: 'a', mode: 0o600 }), {
      now: this.#now,
      onError: this.#onError,
      ending,
    });
    for (const line of goneLines(gone)) {
      handle.log(`WARN qbo-pipeline: ${line}`);
      this.#onNotice(line);
    }
    await handle.flush();
    return handle;
  }

  async read(id: string): Promise<RunRecord> {
    if (!RUN_ID.test(id)) throw new RunError(`no run ${JSON.stringify(id)}: run ids look like ${RUN_ID_EXAMPLE}`);
    try {
      return JSON.parse(await readFile(this.recordFile(id), 'utf8')) as RunRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RunError(`no run ${id} in ${this.dir}`);
      throw new RunError(`cannot read run ${this.recordFile(id)}: ${(error as Error).message}`);
    }
  }

  /** Runs, newest first; a record that cannot be read (being replaced, damaged) is left out. */
  async list(filter: { readonly job?: string; readonly limit?: number } = {}): Promise<RunRecord[]> {
    const ids = (await this.#ids()).sort().reverse();
    const out: RunRecord[] = [];
    for (const id of ids) {
      if (filter.limit !== undefined && out.length >= filter.limit) break;
      const record = await this.read(id).catch(() => undefined);
      if (record && (filter.job === undefined || record.job === filter.job)) out.push(record);
    }
    return out;
  }

  /** The last `lines` lines of a run's log. */
  async tail(id: string, lines = 50): Promise<string[]> {
    const { text } = await this.readLog(id);
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
  }

  /** A run's log from a byte offset (0: all of it) and the offset to continue from: poll it to follow a live run. */
  async readLog(id: string, offset = 0): Promise<{ readonly text: string; readonly offset: number }> {
    await this.read(id);
    const handle = await ifExists(() => open(this.logFile(id), 'r'));
    if (handle === undefined) return { text: '', offset };
    try {
      const size = (await handle.stat()).size;
      if (size <= offset) return { text: '', offset };
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      // Only whole lines: a line being appended right now is returned by the next call.
      const end = buffer.lastIndexOf(0x0a) + 1;
      return { text: buffer.subarray(0, end).toString('utf8'), offset: offset + end };
    } finally {
      await handle.close();
    }
  }

  /**
   * True when a run says `running` but its runner is gone (killed, machine restarted): a runner on
   * this host whose process no longer exists, or whose pid another process has now (its start
   * differs from the record's `pidStart`: `processGone`). Runs of other hosts cannot be told.
   */
  static orphaned(record: RunRecord, host = hostname()): boolean {
    return record.status === 'running' && record.host === host && processGone(record.pid, record.pidStart);
  }

  /**
   * True when a run's runner is alive on this host: its process still exists (`processGone`: the
   * same pid and, when the record says, the same start), and it is not this process (which,
   * holding the job's lock, runs no other run of the job: a record of its pid is one of an earlier
   * process that had the same pid, as a container's pid 1 after a restart).
   */
  static runnerAliveHere(record: Pick<RunRecord, 'host' | 'pid' | 'pidStart'>, host = hostname()): boolean {
    return record.host === host && record.pid !== process.pid && !processGone(record.pid, record.pidStart);
  }

  /**
   * Whether a run that says running has lost its runner (`RunnerMissing`), or undefined (it has
   * one, or it is not running). The job's lock is judged with `staleMs` (default 30 s, as a
   * runner by hand judges it). A run found so is read again, since a run that ends writes its
   * record before it lets go of the lock and before its runner exits: a `backfill` by hand that
   * ended and exited since `record` was read (the console reads every record first) is no gone runner.
   */
  async runnerMissing(record: RunRecord, staleMs = DEFAULT_LOCK_STALE_MS): Promise<RunnerMissing | undefined> {
    if (record.status !== 'running') return undefined;
    const missing = RunJournal.orphaned(record) ? 'gone' : (await isJobLocked(this.jobStateFile(record.job), staleMs)) ? undefined : 'silent';
    if (missing === undefined) return undefined;
    return (await this.read(record.id).catch(() => undefined))?.status === 'running' ? missing : undefined;
  }

  /**
   * Closes every run of `job` the journal still says is running, as run `by` of the job starts
   * (or as a scheduler sweeps, `RunSweeper`).
   * Only for a caller holding the job's lock: every runner of the job holds it while it runs and
   * refreshes it every second, so a run still `running` is one whose runner died without ending it
   * (kill -9, out of memory, a lost machine), on this host or on another sharing the state folder.
   * It becomes `failed` with why, no exit code and no `finishedAt` (when it stopped is unknown:
   * after `updatedAt`, its last sign of life), and `runnerGone`; its log says so; the temporary
   * files its runner left beside its record (the space held for its end) are removed. A runner on this
   * host whose process still exists (the same pid and start) is left running all the same (it lost
   * the lock by stalling past its staleness): `alive`. Returns the runs closed and those left.
   */
  async closeGone(job: string, by: GoneFinder): Promise<{ closed: RunRecord[]; alive: RunRecord[] }> {
    const closed: RunRecord[] = [];
    const alive: RunRecord[] = [];
    for (const record of await this.list({ job })) {
      if (record.status !== 'running' || ('id' in by && record.id === by.id)) continue;
      if (RunJournal.runnerAliveHere(record)) {
        alive.push(record);
        continue;
      }
      const now = this.#now().toISOString();
      const { finishedAt: _unknown, exitCode: _none, ...rest } = record;
      const end: RunRecord = {
        ...rest,
        status: 'failed',
        reason: goneReason(record, by),
        updatedAt: now,
        runnerGone: { foundAt: now, ...('id' in by ? { byRun: by.id } : { bySweeper: by.sweeper }), lastSignOfLife: record.updatedAt },
      };
      await writeFileAtomic(this.recordFile(record.id), redact(JSON.stringify(end, null, 2)) + '\n', 0o644);
      await appendFile(this.logFile(record.id), `${now} ${redact(`ERROR qbo-pipeline: ${end.reason ?? ''}`)}\n`, { mode: 0o600 });
      await this.#removeLeftBehind(record);
      closed.push(end);
    }
    return { closed, alive };
  }

  /**
   * Removes the temporary files a gone run's runner left beside its record: the space it held for
   * its last write (`RESERVED_FOR_END`), or a write it was killed in. Only its process's (the
   * record's pid): a file of any other process, such as a runner still writing, is not its to lose.
   */
  async #removeLeftBehind(record: Pick<RunRecord, 'id' | 'pid'>): Promise<void> {
    const file = this.recordFile(record.id);
    for (const name of await readdirIfExists(this.dir)) if (isTempOf(name, file, record.pid)) await rm(path.join(this.dir, name), { force: true });
  }

  /** A finished run's `_pipeline_runs` row was brought up to this record (`RunSweeper`): it no longer says `rowBehind`. */
  async rowCaughtUp(id: string): Promise<void> {
    const { rowBehind, ...rest } = await this.read(id);
    if (rowBehind) await writeFileAtomic(this.recordFile(id), redact(JSON.stringify(rest, null, 2)) + '\n', 0o644);
  }

  /**
   * Deletes each job's finished runs beyond the newest `keepPerJob`, but never one the console
   * still reads a verdict from: a run whose advised reconcile is still to do (it lists it from here
   * until it is done), nor the runs that show a failed one-time trigger of this state folder past
   * (`runsKeepingFailuresPast`: it would need you again without them). Returns the ids deleted.
   */
  async prune(): Promise<string[]> {
    const records = await this.list();
    const { triggers } = await triggerStore(path.dirname(this.dir)).scan({ setAside: false });
    const kept = new Set([...outstandingReconciles(records).map((o) => o.runId), ...runsKeepingFailuresPast(triggers, records)]);
    const doomed = runsToPrune(records, this.#keep).filter((id) => !kept.has(id));
    for (const id of doomed) {
      await rm(this.recordFile(id), { force: true });
      await rm(this.logFile(id), { force: true });
    }
    return doomed;
  }

  async #ids(): Promise<string[]> {
    const names = await readdirIfExists(this.dir);
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter((id) => RUN_ID.test(id));
  }
}

/** One run being recorded: its record (rewritten atomically, in order) and its log (appended). */
export class RunHandle {
  readonly id: string;
  readonly #file: string;
  readonly #log: WriteStream;
  readonly #now: () => Date;
  readonly #onError: (error: Error) => void;
  #record: Mutable<RunRecord>;
  #writes: Promise<void> = Promise.resolve();
  #logFailed = false;
  /** The space reserved for the record's last write (`finish`), if it could be taken. */
  readonly #ending: ReservedFileWrite | undefined;

  constructor(
    file: string,
    record: RunRecord,
    log: WriteStream,
    options: { readonly now: () => Date; readonly onError: (error: Error) => void; readonly ending?: ReservedFileWrite | undefined },
  ) {
    const { now, onError } = options;
    this.id = record.id;
    this.#file = file;
    this.#record = { ...record };
    this.#log = log;
    this.#now = now;
    this.#onError = onError;
    this.#ending = options.ending;
    log.on('error', (error) => {
      if (!this.#logFailed) onError(error);
      this.#logFailed = true;
    });
  }

  get record(): RunRecord {
    return this.#record;
  }

  /** Appends one line to the run's log, secrets redacted, with the time it was written. */
  log(line: string): void {
    if (!this.#logFailed) this.#log.write(`${this.#now().toISOString()} ${redact(line)}\n`);
  }

  /** Progress, tap run ids and settings as they become known; the file is rewritten (atomically) in order. */
  update(patch: Partial<Pick<RunRecord, 'progress' | 'tapRunIds' | 'reason' | 'readsDeletions' | 'endLag' | 'warehouse' | 'rowBehind'>>): Promise<void> {
    Object.assign(this.#record, patch, { updatedAt: this.#now().toISOString() });
    return this.flush();
  }

  /** The record as it ends; closes the log. */
  async finish(end: RunEnd): Promise<RunRecord> {
    const now = this.#now().toISOString();
    const { progress, tapRunIds, ...rest } = end;
    Object.assign(this.#record, rest, { finishedAt: now, updatedAt: now }, progress ? { progress } : {}, tapRunIds ? { tapRunIds } : {});
    await this.flush(this.#ending);
    await new Promise<void>((resolve) => this.#log.end(resolve));
    return this.#record;
  }

  /**
   * Ends the run as failed because `error` stopped it: its one line goes to the run's log and
   * becomes the reason. Exit 2 (the user must fix something) records the fix; otherwise
   * `resumeCommand`, when given, says how to run again. `notStarted`: it stopped before its tap started.
   */
  failWith(error: unknown, resumeCommand?: string, notStarted = false): Promise<RunRecord> {
    const exitCode = error instanceof CliError ? error.exitCode : EXIT.runFailed;
    const reason = error instanceof Error ? error.message : String(error);
    this.log(`FATAL qbo-pipeline: ${reason}`);
    return this.finish({
      status: 'failed',
      exitCode,
      reason,
      ...(notStarted ? { notStarted: true } : {}),
      ...(exitCode === EXIT.usage ? { fix: reason } : resumeCommand !== undefined ? { resumeCommand } : {}),
    });
  }

  /**
   * Writes the record as it is now (after every earlier write), into `reserved` space when given
   * (a record larger than it is written as any other). Never throws: a journal problem is
   * reported, the run goes on.
   */
  flush(reserved?: ReservedFileWrite): Promise<void> {
    const text = redact(JSON.stringify(this.#record, null, 2)) + '\n';
    const write = () => writeFileAtomic(this.#file, text, 0o644);
    this.#writes = this.#writes
      .then(() => (reserved && Buffer.byteLength(text) <= RESERVED_FOR_END ? reserved.write(text) : write()))
      .catch((error: unknown) => this.#onError(error as Error))
      .finally(() => reserved?.discard());
    return this.#writes;
  }
}

/** Why a run whose runner is gone was closed, and how its job goes on. */
export function goneReason(record: Pick<RunRecord, 'pid' | 'host' | 'kind'> & Partial<Pick<RunRecord, 'updatedAt'>>, by: GoneFinder): string {
  const again = record.kind === 'reconcile' ? 'run the reconcile again' : 'run the job again: it resumes from its state file';
  return (
    `its runner (pid ${record.pid} on ${record.host}) was gone (killed, or its machine restarted) before the run ended; ` +
    `when it stopped is unknown${record.updatedAt ? ` (last sign of life ${record.updatedAt})` : ''}; ` +
    ('sweeper' in by
      ? `found by ${by.sweeper} while no runner held the job's lock; ${again}`
      : by.kind !== 'reconcile' && record.kind !== 'reconcile'
        ? `run ${by.id} went on from the job's state file`
        : `found by run ${by.id} (${by.kind}) of the job; ${again}`)
  );
}

/** What a new run says of the job's earlier runs it found running. */
function goneLines(gone: { readonly closed: readonly RunRecord[]; readonly alive: readonly RunRecord[] }): string[] {
  return [
    ...gone.closed.map(
      (r) =>
        `run ${r.id} of job ${r.job} (started ${r.startedAt}) still said running, but its runner (pid ${r.pid} on ${r.host}) was gone; closed it as failed`,
    ),
    ...gone.alive.map(
      (r) =>
        `run ${r.id} of job ${r.job} says running and its runner (pid ${r.pid}) still exists on this host, though this run holds the job's lock; left as it is (it ends its own record)`,
    ),
  ];
}
