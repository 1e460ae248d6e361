import type { BackfillRequest } from '../BackfillRequest.js';
import type { SyncRequest } from '../runSync.js';
import { streamsRun } from '../schedules/Schedule.js';

/**
 * `pending` until due and claimed (a schedule slot that came while its job was busy waits `queued`);
 * `running` while a scheduler holds its lease; then `completed` or `failed`. `skipped` is only read:
 * versions before queued slots recorded a slot that came while its job was busy as skipped.
 */
export const TRIGGER_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped'] as const;
export type TriggerStatus = (typeof TRIGGER_STATUSES)[number];

/** Who runs a trigger, and until when that claim holds unless renewed (a heartbeat). */
export interface Lease {
  /** One id per scheduler process. */
  readonly owner: string;
  readonly host: string;
  readonly pid: number;
  readonly attempt: number;
  readonly claimedAt: string;
  readonly heartbeatAt: string;
  /** heartbeatAt + the lease's length: past this, another scheduler takes the trigger over. */
  readonly expiresAt: string;
}

type AttemptOutcome = 'running' | 'completed' | 'failed' | 'lease expired' | 'job busy' | 'stopped';

/** One scheduler's go at a trigger; a trigger taken over after a crash has two or more. */
export interface Attempt {
  readonly attempt: number;
  readonly owner: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly outcome: AttemptOutcome;
  /** What happened, in a line: the run's result, or how the attempt ended (last heartbeat, who took over). */
  readonly message?: string;
  /** The attempt's run in the runs journal. */
  readonly runId?: string;
}

/** The schedule slot a trigger was made for. */
interface SlotOrigin {
  readonly name: string;
  /** The slot's instant, UTC. */
  readonly slot: string;
  /** Slots this one run stands for (more than 1 when the scheduler was down, or a queued slot was replaced by the next). */
  readonly slots: number;
  /** The oldest of them, when more than one: lateness counts from it. */
  readonly firstSlot?: string;
}

/** Why a schedule slot waited past its instant: its job was busy when the slot came. */
interface Queued {
  /** What held the job: a run of this scheduler or another's (its lease), a run by hand (the job's lock), an earlier run waiting to start. */
  readonly behind: string;
  /** When the slot was queued, UTC. */
  readonly at: string;
  /** The schedule's next slot: a slot still waiting then is replaced by it (one run for both); `scheduler --once` waits for the slots it queued until then. */
  readonly until?: string;
}

/**
 * A one-time trigger: run this backfill (or sync) once at `at` (UTC), then stay disabled with its
 * result. Schedules make one per slot (`schedule` says which). Exactly one of `backfill`, `sync`.
 */
export interface Trigger {
  readonly id: string;
  /** When to run, UTC (`…Z`). */
  readonly at: string;
  /** `--at` as the person typed it (an offset such as -05:00 is kept here only). */
  readonly atGiven: string;
  readonly createdAt: string;
  readonly backfill?: BackfillRequest;
  readonly sync?: SyncRequest;
  readonly schedule?: SlotOrigin;
  /** Present when the slot came while its job was busy: it ran (or runs) when the job freed, late, and this says why. */
  readonly queued?: Queued;
  readonly status: TriggerStatus;
  /** False once it has run (completed, failed or skipped): a one-time trigger never runs twice. */
  readonly enabled: boolean;
  /** The lease of the attempt running now (or last). */
  readonly claimedBy?: { readonly pid: number; readonly host: string; readonly owner?: string };
  readonly startedAt?: string;
  /** startedAt − at, in ms; `late` when over the scheduler's tolerance (it was down, or busy). */
  readonly lateByMs?: number;
  readonly late?: boolean;
  readonly finishedAt?: string;
  readonly attempts?: readonly Attempt[];
  readonly result?: {
    readonly exitCode: number;
    readonly message: string;
    /** What a message over more than three streams counts rather than names (`done: all 28 streams …`): each stream's span and records. */
    readonly detail?: string;
    /** The run in the runs journal (`<state-dir>/runs/<runId>.json`). */
    readonly runId?: string;
    readonly runIds: readonly string[];
    /** Present when running again can work (exit 1). */
    readonly resumeCommand?: string;
    /** Present when the user must fix something first (exit 2). */
    readonly fix?: string;
    /** Present when the run's tap could not read some deletions from QBO's CDC: the exact command that finds them. */
    readonly reconcileCommand?: string;
  };
}

/** The job a trigger runs (its state file's name). */
export function triggerJob(trigger: Trigger): string {
  return trigger.backfill?.job ?? trigger.sync?.job ?? '';
}

/** The streams a trigger's run runs: its own, or its company's when it names none (`streamsRun`). */
export function triggerStreams(trigger: Trigger, companyStreams: readonly string[] | undefined): readonly string[] {
  return streamsRun((trigger.backfill ?? trigger.sync)?.streams ?? [], companyStreams);
}

/** `backfill [start, end)` or `sync from the bookmarks`: what `trigger list` shows as the range. */
export function triggerRange(trigger: Trigger): string {
  if (trigger.backfill) return `[${trigger.backfill.start}, ${trigger.backfill.end})`;
  return `sync to run start${trigger.sync?.start ? ` (first from ${trigger.sync.start})` : ''}`;
}

export const FINAL_STATUSES: readonly TriggerStatus[] = ['completed', 'failed', 'skipped'];
