import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, createLogger, EXIT, type Logger } from 'singer-kit';
import { DEFAULT_LOCK_STALE_MS, jobLockedUntil } from '../jobLock.js';
import { jobFolder, type CompanyRef } from '../BackfillRequest.js';
import { runBackfill, JobBusyError, type BackfillHooks, type BackfillResult } from '../runBackfill.js';
import { doneDetail, formatDoneLine } from '../formatSummary.js';
import { runSync } from '../runSync.js';
import { nextSlot, parseCron } from '../schedules/cronSlots.js';
import type { ScheduleStore } from '../schedules/ScheduleStore.js';
import { FINAL_STATUSES, triggerJob, type Attempt, type Lease, type Trigger } from '../triggers/Trigger.js';
import { DEFAULT_LEASE_MS, type TriggerStore } from '../triggers/TriggerStore.js';
import { afterBusyStart, lateness, neverRan, planPass, type PassAction, type ScheduleInput } from './planPass.js';
import type { RunSweeper } from '../runs/RunSweeper.js';
import { RunJournal } from '../runs/RunJournal.js';
import type { RunRecord } from '../runs/RunRecord.js';
import { QUEUED_POLL_MS, runDueOnce } from './runDueOnce.js';

/** A run that starts more than this after its instant is marked late (the scheduler polls every few seconds). */
const LATE_AFTER_MS = 60_000;
/** Finished triggers kept per schedule (older slots' triggers are deleted). */
const KEEP_PER_SCHEDULE = 100;

/** How long after a run's end its runner may still hold the job's lock (it records the end in the warehouse, then lets go), looked at this many times. */
const ENDING_RUN_MS = 5_000;
const ENDING_RUN_LOOKS = 50;

/** Runs one trigger's backfill or sync; the scheduler passes the stop signal and its lease as the job lock's staleness. */
export type TriggerRunner = (trigger: Trigger, hooks: Pick<BackfillHooks, 'signal' | 'lockStaleMs' | 'run'>) => Promise<BackfillResult>;

export const runTrigger: TriggerRunner = (trigger, hooks) => (trigger.sync ? runSync(trigger.sync, hooks) : runBackfill(trigger.backfill!, hooks));

export interface SchedulerOptions {
  readonly triggers: TriggerStore;
  /** Without it, only one-time triggers run. */
  readonly schedules?: Pick<ScheduleStore, 'list'>;
  readonly run?: TriggerRunner;
  readonly now?: () => Date;
  readonly logger?: Logger;
  /** Once aborted, nothing new is claimed; running runs are asked to stop, and their triggers wait for the next scheduler. */
  readonly signal?: AbortSignal;
  /** How long a claim holds without a heartbeat (renewed every third of it); default 60 s. */
  readonly leaseMs?: number;
  readonly lateAfterMs?: number;
  /** Runs at once (different jobs); default 1. A job never runs twice at once whatever this says. */
  readonly concurrency?: number;
  /** Runs this scheduler may start now under a limit it shares with others in the process (one scheduler per company). */
  readonly sharedCapacity?: () => number;
  /** Closes the state folder's runs whose runner is gone, first thing at each pass (`RunSweeper`). */
  readonly sweeper?: Pick<RunSweeper, 'sweep'>;
  /**
   * Hears each trigger this scheduler finished (completed or failed) and its run's outcome; not an
   * attempt that found its job busy or was stopped with the scheduler: that trigger waits for a later pass.
   */
  readonly onFinished?: (trigger: Trigger, outcome: BackfillResult | Error) => void;
}

interface Held {
  readonly trigger: Trigger;
  lease: Lease;
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

function resultOf(outcome: BackfillResult | Error): NonNullable<Trigger['result']> {
  if (outcome instanceof Error) {
    const exitCode = outcome instanceof CliError ? outcome.exitCode : EXIT.runFailed;
    return { exitCode, message: outcome.message, runIds: [], ...(exitCode === EXIT.usage ? { fix: outcome.message } : {}) };
  }
  const detail = outcome.failure ? undefined : doneDetail(outcome);
  return {
    exitCode: outcome.exitCode,
    message: outcome.failure ? outcome.failure.reason : formatDoneLine(outcome),
    ...(detail !== undefined ? { detail } : {}),
    runId: outcome.runId,
    runIds: outcome.runIds,
    ...(outcome.resumeCommand !== undefined ? { resumeCommand: outcome.resumeCommand } : {}),
    ...(outcome.fix !== undefined ? { fix: outcome.fix } : {}),
    ...(outcome.reconcileCommand !== undefined ? { reconcileCommand: outcome.reconcileCommand } : {}),
  };
}

/** Who holds a job's lock (`run … (sync, pid … on …, last sign of life …)`) and until when. */
interface JobLock {
  readonly holder: string;
  /** The holder as it stays while it runs (`run …`, without its last sign of life): what a line about it is said once for. */
  readonly who: string;
  readonly until: Date;
}

/** A job's lock as a slot queued behind it names it. */
const lockText = (lock: JobLock) => `${lock.holder}, until ${lock.until.toISOString()} unless its runner refreshes it`;

/** The state file and folder of a trigger's or schedule's job. */
function jobFiles(request: { readonly job?: string; readonly stateDir?: string; readonly company?: CompanyRef } | undefined) {
  if (!request?.job || !request.stateDir) return undefined;
  const folder = jobFolder(request.stateDir, request.company);
  return { job: request.job, stateFile: path.join(folder, `${request.job}.json`), folder };
}

const withAttempt = (trigger: Trigger, attempt: Attempt): Trigger => ({
  ...trigger,
  attempts: [...(trigger.attempts ?? []).filter((a) => a.attempt !== attempt.attempt), attempt].sort((a, b) => a.attempt - b.attempt),
});

/**
 * The scheduler: each pass asks `planPass` what is due and does it — records schedule slots as
 * triggers, claims due triggers with a lease and runs them in the background, takes over those
 * whose lease expired (their scheduler died: the run resumes from the job's state file), and
 * renews its own leases; before it starts anything, its `sweeper` closes the runs whose runner
 * died between runs of their job. `companies` and the console build on `pass`, `idle` and `planPass`.
 */
export class Scheduler {
  readonly owner = randomUUID();
  readonly #o: Required<Omit<SchedulerOptions, 'schedules' | 'signal' | 'sharedCapacity' | 'sweeper' | 'onFinished'>> &
    Pick<SchedulerOptions, 'schedules' | 'signal' | 'sharedCapacity' | 'sweeper' | 'onFinished'>;
  readonly #held = new Map<string, Held>();
  readonly #host = hostname();
  #heartbeat: NodeJS.Timeout | undefined;
  /** `<trigger>#<attempt>` of the leases of other schedulers, and `<trigger> <holder>` of the job locks, already logged: each is said once. */
  readonly #toldHeld = new Set<string>();
  #heldElsewhere: readonly string[] = [];
  /** Under `scheduler --once`: the slots it recorded, and each one's next slot (see `queuedWaiting`). */
  readonly #slotsHere = new Map<string, string>();
  /**
   * Of those, the ones whose start found their job taken and whose job's lock was seen held since: started
   * again once it is free. One whose holder was never seen (gone at once) is left to a later scheduler,
   * rather than started at every pass while something this scheduler cannot see holds the job.
   */
  readonly #lockSeen = new Set<string>();
  /**
   * Slots recorded while their job was free that then waited for a runner elsewhere (a run by hand took
   * the job while the slot waited for room): what held the job, first seen; their run says so, as a queued slot's does.
   */
  readonly #waitedBehind = new Map<string, NonNullable<Trigger['queued']>>();

  constructor(options: SchedulerOptions) {
    this.#o = {
      run: runTrigger,
      now: () => new Date(),
      logger: createLogger('qbo-pipeline scheduler'),
      leaseMs: DEFAULT_LEASE_MS,
      lateAfterMs: LATE_AFTER_MS,
      concurrency: 1,
      ...options,
    };
  }

  /** Jobs running in this process now. */
  get runningJobs(): ReadonlySet<string> {
    return new Set([...this.#held.values()].map((h) => triggerJob(h.trigger)));
  }

  /**
   * Due triggers that, at the last pass, were left to another runner: held by another scheduler's
   * live lease (it may have died: see `pass`), or waiting for the lock of their job another runner holds.
   */
  get heldElsewhere(): readonly string[] {
    return this.#heldElsewhere;
  }

  /**
   * One pass: what is due now is recorded, claimed and started (runs go on in the background; see `idle`).
   * A trigger another scheduler holds by a live lease is left to it, and said once per attempt, with when
   * its lease expires: a scheduler killed a moment ago holds it until then, and only a pass after then takes it over.
   * Triggers in `skip` are not started (`scheduler --once` attempts each trigger once: one whose job was busy waits),
   * but for a slot this `--once` recorded that is queued (one whose start found its job taken runs when the job frees);
   * with `dueBy`, neither are slots and triggers due after it (planPass).
   */
  async pass(skip: ReadonlySet<string> = new Set(), dueBy?: Date): Promise<PassAction[]> {
    const { triggers: store, logger } = this.#o;
    const scan = await store.scan();
    for (const aside of scan.setAside.filter((a) => a.when === 'now')) {
      logger.error(`trigger file set aside as ${aside.file}: ${aside.problem}; the other triggers still run`);
    }
    const schedules: ScheduleInput[] = [];
    for (const schedule of (await this.#o.schedules?.list()) ?? []) {
      try {
        schedules.push({ schedule, cron: parseCron(schedule.cron, schedule.tz) });
      } catch (error) {
        logger.error(`schedule ${schedule.name} is not run: ${(error as Error).message}`);
      }
    }
    const leases = new Map<string, Lease>();
    for (const t of scan.triggers.filter((t) => !FINAL_STATUSES.includes(t.status))) {
      const lease = await store.latestLease(t.id);
      if (lease) leases.set(t.id, lease);
    }
    const now = this.#o.now();
    this.#heldElsewhere = scan.triggers.flatMap((t) => {
      const lease = leases.get(t.id);
      return lease && !this.#held.has(t.id) && Date.parse(lease.expiresAt) > now.getTime() ? [t.id] : [];
    });
    for (const id of this.#heldElsewhere) {
      const lease = leases.get(id)!;
      if (this.#toldHeld.has(`${id}#${lease.attempt}`)) continue;
      this.#toldHeld.add(`${id}#${lease.attempt}`);
      logger.info(
        `trigger ${id}: attempt ${lease.attempt} is held by the scheduler on ${lease.host} pid ${lease.pid} (last heartbeat ${lease.heartbeatAt}), whose lease expires at ${lease.expiresAt} unless renewed; if that scheduler is gone, a pass after then takes the trigger over and resumes its run`,
      );
    }
    const locks = await this.#lockedJobs(schedules, scan.triggers, leases);
    const planned = this.#o.signal?.aborted
      ? []
      : planPass({
          now,
          schedules,
          triggers: scan.triggers,
          leases,
          runningHere: this.runningJobs,
          lockedJobs: new Map([...locks].map(([job, lock]) => [job, lockText(lock)])),
          capacity: Math.min(this.#o.concurrency - this.#held.size, this.#o.sharedCapacity?.() ?? Number.POSITIVE_INFINITY),
          lateAfterMs: this.#o.lateAfterMs,
          ...(dueBy ? { dueBy } : {}),
        });
    // A slot this `--once` queued is run when its job frees, though an attempt of it found the job taken as it started.
    const actions = planned.filter((a) => a.kind !== 'start' || !skip.has(a.trigger.id) || this.#lockSeen.has(a.trigger.id));
    // A run whose runner died says failed within a lease of its death, not at its job's next run; the
    // jobs this pass starts are left to their run, which closes them as it starts and says it went on.
    const starting = new Set(actions.flatMap((a) => (a.kind === 'start' ? [triggerJob(a.trigger)] : [])));
    await this.#o.sweeper?.sweep(starting).catch((error: unknown) => logger.warn(`could not close the runs whose runner is gone: ${(error as Error).message}`));
    for (const action of actions) {
      if (action.kind === 'slot') {
        if (!(await store.create(action.trigger))) continue; // another scheduler recorded this slot
        const { trigger, due, replaces } = action;
        if (dueBy && action.nextSlot) this.#slotsHere.set(trigger.id, action.nextSlot);
        const replaced = replaces !== undefined && (await this.#replace(replaces));
        const why = replaced
          ? ` (it replaces slot ${replaces.at}, still queued: ${trigger.schedule?.slots ?? 1} slots run once)`
          : due.slots > 1
            ? ` (${due.slots} slots missed while no scheduler ran; run once)`
            : '';
        if (trigger.queued) {
          const lock = locks.get(triggerJob(trigger));
          if (lock) this.#toldHeld.add(`${trigger.id} ${lock.who}`); // this line says who holds the job: no second `waits` line for it
          logger.warn(
            `schedule ${trigger.schedule?.name} slot ${trigger.at} is due${why}; queued: job ${triggerJob(trigger)} is busy (${trigger.queued.behind}), the slot runs when that ends${trigger.queued.until ? ` (its next slot, ${trigger.queued.until}, replaces it if it still waits then)` : ''}`,
          );
        } else logger.info(`schedule ${trigger.schedule?.name} slot ${trigger.at} is due${why}`);
      } else if (action.kind === 'wait') {
        // Starting it would only find the job busy: no attempt, one line per trigger and holder.
        this.#heldElsewhere = [...this.#heldElsewhere, action.trigger.id];
        if (this.#slotsHere.has(action.trigger.id)) this.#lockSeen.add(action.trigger.id);
        if (action.trigger.schedule && !action.trigger.queued && !this.#waitedBehind.has(action.trigger.id))
          this.#waitedBehind.set(action.trigger.id, { behind: action.lock, at: now.toISOString() });
        const told = `${action.trigger.id} ${locks.get(triggerJob(action.trigger))?.who ?? ''}`;
        if (this.#toldHeld.has(told)) continue;
        this.#toldHeld.add(told);
        logger.warn(
          `trigger ${action.trigger.id} (due ${action.trigger.at}) waits: job ${triggerJob(action.trigger)} is locked by ${action.lock}; a scheduler pass after then runs it`,
        );
      } else {
        this.#lockSeen.delete(action.trigger.id);
        await this.#start(action.trigger.id, action.attempt, action.takeover);
      }
    }
    if (this.#o.schedules) await this.#prune(scan.triggers);
    return actions;
  }

  /**
   * Takes a queued slot's place by its next slot: claims its first attempt (so no scheduler starts it
   * meanwhile) and deletes it; the next slot's trigger stands for both. False when another scheduler
   * claimed it first: it runs, and the next slot waits behind it.
   */
  async #replace(queued: Trigger): Promise<boolean> {
    const now = this.#o.now();
    const at = now.toISOString();
    const lease: Lease = {
      owner: this.owner,
      host: this.#host,
      pid: process.pid,
      // The attempt a scheduler starting it would claim: after those that found its job busy.
      attempt: (queued.attempts?.length ?? 0) + 1,
      claimedAt: at,
      heartbeatAt: at,
      expiresAt: new Date(now.getTime() + this.#o.leaseMs).toISOString(),
    };
    if (!(await this.#o.triggers.claim(queued.id, lease))) return false;
    await this.#o.triggers.remove(queued.id);
    return true;
  }

  /**
   * Jobs of the schedules and waiting triggers whose lock a runner we hold no live lease for has:
   * a backfill by hand (its lock goes stale after 30 s), or a dead scheduler's run (stale after
   * that scheduler's lease length, which may end a little after its lease: we wait for both) —
   * with who holds it (the job's running run in its runs journal) and until when.
   */
  async #lockedJobs(schedules: readonly ScheduleInput[], triggers: readonly Trigger[], leases: ReadonlyMap<string, Lease>): Promise<Map<string, JobLock>> {
    const now = this.#o.now().getTime();
    const files = new Map<string, NonNullable<ReturnType<typeof jobFiles>> & { staleMs: number }>();
    const add = (request: Parameters<typeof jobFiles>[0], staleMs = DEFAULT_LOCK_STALE_MS) => {
      const job = jobFiles(request);
      if (job) files.set(job.job, { ...job, staleMs });
    };
    for (const { schedule } of schedules) if (!schedule.paused) add(schedule.sync);
    for (const t of triggers) {
      const lease = leases.get(t.id);
      if (FINAL_STATUSES.includes(t.status) || (lease && Date.parse(lease.expiresAt) > now)) continue;
      add(t.sync ?? t.backfill, lease ? Date.parse(lease.expiresAt) - Date.parse(lease.heartbeatAt) : DEFAULT_LOCK_STALE_MS);
    }
    const locked = new Map<string, JobLock>();
    for (const [job, jobFile] of files) {
      if (this.runningJobs.has(job)) continue;
      const lock = await this.#lockOf(jobFile);
      if (lock) locked.set(job, lock);
    }
    return locked;
  }

  /** Who holds a job's lock, named by the job's running run in its runs journal, and until when; undefined when free. */
  async #lockOf({ job, stateFile, folder, staleMs }: NonNullable<ReturnType<typeof jobFiles>> & { readonly staleMs: number }): Promise<JobLock | undefined> {
    // The run this pass would start takes the lock only once it is stale by this scheduler's lease (its
    // lockStaleMs): a lock judged free by less would start a run that only finds the job busy.
    const staleBy = Math.max(staleMs, this.#o.leaseMs);
    let until = await jobLockedUntil(stateFile, staleBy);
    if (!until) return undefined;
    const latest = async () =>
      (
        await RunJournal.of(folder)
          .list({ job, limit: 1 })
          .catch(() => [])
      )[0];
    let run = await latest();
    // A run that has just ended still holds the lock while it records its end in the warehouse and
    // lets go: look again until it does, rather than call its lock a stranger's and wait a pass.
    for (let look = 0; look < ENDING_RUN_LOOKS && this.#justEnded(run); look++) {
      await sleep(ENDING_RUN_MS / ENDING_RUN_LOOKS);
      until = await jobLockedUntil(stateFile, staleBy);
      if (!until) return undefined;
      run = await latest();
    }
    const unnamed = 'a runner its runs journal does not name';
    if (run?.status !== 'running') return { holder: unnamed, who: unnamed, until };
    return { holder: `run ${run.id} (${run.kind}, pid ${run.pid} on ${run.host}, last sign of life ${run.updatedAt})`, who: `run ${run.id}`, until };
  }

  /** Whether `run` ended less than ENDING_RUN_MS ago by this scheduler's clock (an end it reads as later than now, another host's clock ahead, is not waited for). */
  #justEnded(run: RunRecord | undefined): boolean {
    const age = run?.finishedAt === undefined ? NaN : this.#o.now().getTime() - Date.parse(run.finishedAt);
    return age >= 0 && age < ENDING_RUN_MS;
  }

  /** The slot after a schedule slot trigger's, from its schedule as it is now; undefined for a one-time trigger. */
  async #nextSlotOf(trigger: Trigger): Promise<string | undefined> {
    const origin = trigger.schedule;
    if (!origin) return undefined;
    const schedule = ((await this.#o.schedules?.list()) ?? []).find((s) => s.name === origin.name);
    if (!schedule) return undefined;
    try {
      return nextSlot(parseCron(schedule.cron, schedule.tz), new Date(origin.slot))
        ?.toISOString()
        .replace(/\.\d+Z$/, 'Z');
    } catch {
      return undefined; // a cron it cannot read is said at every pass
    }
  }

  /**
   * How many slots this `scheduler --once` recorded still wait for their job: pending, never run,
   * and before their next slot — queued behind a busy job as the slot came, or as its start found
   * the job taken by a run by hand (whose lock it saw held: `#lockSeen`), or behind a run by hand
   * that took the job while the slot waited for room (`max_parallel`). One that reaches its next slot still waiting
   * is left, said once: the next scheduler's pass replaces it by that slot.
   */
  async queuedWaiting(): Promise<number> {
    if (this.#slotsHere.size === 0) return 0;
    const now = this.#o.now().getTime();
    const triggers = await this.#o.triggers.list();
    for (const [id, until] of this.#slotsHere) {
      const trigger = triggers.find((t) => t.id === id);
      const waits = trigger?.status === 'pending' && neverRan(trigger) && ((trigger.attempts ?? []).length === 0 || this.#lockSeen.has(id));
      if (waits && Date.parse(until) > now) continue;
      this.#slotsHere.delete(id);
      this.#lockSeen.delete(id);
      if (trigger?.status === 'pending' && Date.parse(until) <= now)
        this.#o.logger.warn(
          `trigger ${id} (due ${trigger.at}) still waits for job ${triggerJob(trigger)} (${trigger.queued?.behind ?? this.#waitedBehind.get(id)?.behind ?? 'busy'}) at its schedule's next slot, ${until}: it is left to the next scheduler, whose pass replaces it by that slot`,
        );
    }
    return this.#slotsHere.size;
  }

  /** `scheduler --once` (runDueOnce): every trigger due now, within `concurrency`, and the slots it queued (`queuedWaiting`); waits for them and returns the ids started. */
  runOnce(pollMs = 200, queuedPollMs = QUEUED_POLL_MS): Promise<string[]> {
    const dueBy = this.#o.now();
    return runDueOnce(
      {
        pass: async (skip) => (await this.pass(skip, dueBy)).flatMap((a) => (a.kind === 'start' ? [a.trigger.id] : [])),
        running: () => this.#held.size,
        queued: () => this.queuedWaiting(),
        idle: () => this.idle(),
      },
      pollMs,
      this.#o.signal,
      queuedPollMs,
    );
  }

  /** Resolves when every run this scheduler started has finished. */
  async idle(): Promise<void> {
    while (this.#held.size > 0) await Promise.all([...this.#held.values()].map((h) => h.done));
  }

  /** The `scheduler` service: a pass every `intervalMs` until the signal aborts, then waits for the runs it started. */
  async runUntilStopped(intervalMs: number): Promise<void> {
    const { logger, signal } = this.#o;
    while (!signal?.aborted) {
      await this.pass().catch((error: unknown) => logger.error(`scheduler pass failed (next pass in ${intervalMs / 1000} s): ${(error as Error).message}`));
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
    await this.idle();
  }

  async #start(id: string, attempt: number, takeover: Lease | undefined): Promise<void> {
    const { triggers: store, logger, leaseMs } = this.#o;
    const now = this.#o.now();
    const lease: Lease = {
      owner: this.owner,
      host: this.#host,
      pid: process.pid,
      attempt,
      claimedAt: now.toISOString(),
      heartbeatAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + leaseMs).toISOString(),
    };
    if (!(await store.claim(id, lease))) return; // another scheduler was first
    // Read again now that it is ours: the pass's copy may be older than another scheduler's last write.
    let trigger = await store.get(id);
    if (takeover) {
      const previous = trigger.attempts?.find((a) => a.attempt === takeover.attempt);
      trigger = withAttempt(trigger, {
        attempt: takeover.attempt,
        owner: takeover.owner,
        host: takeover.host,
        pid: takeover.pid,
        startedAt: previous?.startedAt ?? takeover.claimedAt,
        finishedAt: takeover.expiresAt,
        outcome: 'lease expired',
        message: `the scheduler on ${takeover.host} pid ${takeover.pid} stopped renewing its lease (last heartbeat ${takeover.heartbeatAt}); taken over by ${this.#host} pid ${process.pid}, resuming from the job's state file`,
      });
      logger.warn(
        `trigger ${id}: lease of attempt ${takeover.attempt} (${takeover.host} pid ${takeover.pid}) expired at ${takeover.expiresAt}; taking it over as attempt ${attempt}`,
      );
      // The dead attempt's run is closed in the journal and the warehouse by the new attempt's run as it
      // starts, holding the job's lock (RunJournal.closeGone), as any run of a job closes those whose runner is gone.
    }
    const waited = this.#waitedBehind.get(id);
    this.#waitedBehind.delete(id);
    if (!trigger.queued && waited) trigger = { ...trigger, queued: waited };
    const lateByMs = now.getTime() - Date.parse(trigger.schedule?.firstSlot ?? trigger.at);
    // A queued slot is late whatever the wait: it says so, and why, wherever its run is shown.
    const late = lateByMs > this.#o.lateAfterMs || (trigger.schedule?.slots ?? 1) > 1 || trigger.queued !== undefined;
    const running: Trigger = withAttempt(
      {
        ...trigger,
        status: 'running',
        claimedBy: { pid: process.pid, host: this.#host, owner: this.owner },
        startedAt: trigger.startedAt ?? now.toISOString(),
        lateByMs: trigger.lateByMs ?? lateByMs,
        late: trigger.late ?? late,
      },
      { attempt, owner: this.owner, host: this.#host, pid: process.pid, startedAt: now.toISOString(), outcome: 'running' },
    );
    await store.save(running);
    const what = running.sync ? `sync ${running.sync.job ?? ''}` : `backfill ${running.backfill?.job ?? ''}`;
    const lateNote = running.late ? lateness(running.lateByMs ?? 0, running.schedule?.slots, running.queued) : undefined;
    logger.info(`trigger ${id} (due ${running.at}${lateNote ? `, ${lateNote}` : ''}): ${what} starts, attempt ${attempt}`);
    const stop = new AbortController();
    // The scheduler's own stop (its SIGINT, SIGTERM) is the reason its run names.
    const onStop = () => stop.abort(this.#o.signal?.reason);
    this.#o.signal?.addEventListener('abort', onStop, { once: true });
    const held: Held = {
      trigger: running,
      lease,
      stop,
      done: this.#o
        .run(running, {
          signal: stop.signal,
          lockStaleMs: leaseMs,
          run: { triggerId: id, attempt, ...(running.schedule ? { scheduleId: running.schedule.name } : {}), ...(lateNote ? { late: lateNote } : {}) },
        })
        .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
        .then((outcome) => this.#finish(held, outcome))
        .catch((error: unknown) => logger.error(`trigger ${id}: could not record the end of attempt ${attempt}: ${(error as Error).message}`))
        .finally(() => {
          this.#o.signal?.removeEventListener('abort', onStop);
          this.#held.delete(id);
          if (this.#held.size === 0) this.#stopHeartbeat();
        }),
    };
    this.#held.set(id, held);
    this.#startHeartbeat();
  }

  async #finish(held: Held, outcome: BackfillResult | Error): Promise<void> {
    const { triggers: store, logger } = this.#o;
    const id = held.trigger.id;
    const latest = await store.latestLease(id);
    if (latest && latest.owner !== this.owner) {
      logger.error(
        `trigger ${id}: attempt ${held.lease.attempt} ended, but ${latest.host} pid ${latest.pid} took the trigger over (attempt ${latest.attempt}); leaving the record to it`,
      );
      return;
    }
    const now = this.#o.now().toISOString();
    const trigger = await store.get(id);
    const attempt = { attempt: held.lease.attempt, owner: this.owner, host: this.#host, pid: process.pid, startedAt: held.lease.claimedAt, finishedAt: now };
    if (outcome instanceof JobBusyError) {
      // A run by hand took the job after the pass saw it free: a slot is queued behind it (it runs when
      // the job frees); a one-time trigger waits for a later pass.
      const job = jobFiles(trigger.sync ?? trigger.backfill);
      const lock = job && (await this.#lockOf({ ...job, staleMs: DEFAULT_LOCK_STALE_MS }));
      const holder = lock ? lockText(lock) : `the runner that took job ${triggerJob(trigger)} as this attempt started`;
      const waiting = afterBusyStart(trigger, holder, this.#o.now(), await this.#nextSlotOf(trigger));
      await store.save(withAttempt(waiting, { ...attempt, outcome: 'job busy', message: outcome.message }));
      await store.release(id, held.lease.attempt);
      if (!waiting.queued) {
        logger.warn(`trigger ${id}: ${outcome.message}; it waits for a later pass`);
        return;
      }
      if (lock) this.#toldHeld.add(`${id} ${lock.who}`); // this line says who holds the job: no second `waits` line for it
      if (lock && this.#slotsHere.has(id)) this.#lockSeen.add(id);
      logger.warn(
        `trigger ${id}: ${outcome.message}; queued: job ${triggerJob(trigger)} is busy (${waiting.queued.behind}), the slot runs when that ends${waiting.queued.until ? ` (its next slot, ${waiting.queued.until}, replaces it if it still waits then)` : ''}`,
      );
      return;
    }
    const result = resultOf(outcome);
    if (held.stop.signal.aborted && result.exitCode !== EXIT.ok) {
      // Stopped with the scheduler (docker stop, Ctrl-C): not a failure; the next scheduler resumes it.
      await store.save(
        withAttempt(
          { ...trigger, status: 'pending' },
          { ...attempt, outcome: 'stopped', message: "the scheduler was stopped; the next one resumes this trigger from the job's state file" },
        ),
      );
      await store.release(id, held.lease.attempt);
      logger.info(`trigger ${id}: stopped with the scheduler; the next scheduler resumes it`);
      return;
    }
    const status = result.exitCode === EXIT.ok ? 'completed' : 'failed';
    try {
      await store.save(
        withAttempt(
          { ...trigger, status, enabled: false, finishedAt: now, result },
          { ...attempt, outcome: status, message: result.message, ...(result.runId ? { runId: result.runId } : {}) },
        ),
      );
      // A failure is an ERROR line, so a log alert or `grep ERROR` hears last night's failed slot.
      if (status === 'failed') logger.error(`trigger ${id} failed: ${result.message}`);
      else logger.info(`trigger ${id} completed: ${result.message}`);
    } finally {
      // Heard even when the trigger file could not take its end (a full state folder): the run ended so all the same, and its exit code stands.
      this.#o.onFinished?.(trigger, outcome);
    }
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => void this.#renew(), Math.max(100, Math.floor(this.#o.leaseMs / 3)));
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** Renews every lease held; a run whose trigger another scheduler took over (we were too slow) is stopped. */
  async #renew(): Promise<void> {
    const { triggers: store, logger, leaseMs } = this.#o;
    for (const [id, held] of this.#held) {
      try {
        const latest = await store.latestLease(id);
        if (latest && latest.owner !== this.owner) {
          logger.error(
            `trigger ${id}: ${latest.host} pid ${latest.pid} took it over (attempt ${latest.attempt}) while this scheduler still ran it; stopping this run`,
          );
          held.stop.abort();
          continue;
        }
        const now = this.#o.now();
        held.lease = { ...held.lease, heartbeatAt: now.toISOString(), expiresAt: new Date(now.getTime() + leaseMs).toISOString() };
        await store.renew(id, held.lease);
      } catch (error) {
        logger.warn(`trigger ${id}: could not renew its lease: ${(error as Error).message}`);
      }
    }
  }

  /** Deletes the oldest finished slot triggers of each schedule beyond KEEP_PER_SCHEDULE. */
  async #prune(triggers: readonly Trigger[]): Promise<void> {
    const bySchedule = new Map<string, Trigger[]>();
    for (const t of triggers) {
      if (!t.schedule || !FINAL_STATUSES.includes(t.status)) continue;
      bySchedule.set(t.schedule.name, [...(bySchedule.get(t.schedule.name) ?? []), t]);
    }
    for (const list of bySchedule.values()) {
      const old = list.sort((a, b) => b.at.localeCompare(a.at)).slice(KEEP_PER_SCHEDULE);
      for (const t of old) await this.#o.triggers.remove(t.id);
    }
  }
}
