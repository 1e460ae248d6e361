import { formatDuration } from '../formatTable.js';
import { dueSlot, type CronSchedule, type DueSlot } from '../schedules/cronSlots.js';
import type { Schedule } from '../schedules/Schedule.js';
import { FINAL_STATUSES, triggerJob, type Lease, type Trigger } from '../triggers/Trigger.js';

export interface ScheduleInput {
  readonly schedule: Schedule;
  readonly cron: CronSchedule;
}

/** Everything one scheduler pass decides from; no I/O, no clock but `now`. */
export interface PassInput {
  readonly now: Date;
  readonly schedules: readonly ScheduleInput[];
  readonly triggers: readonly Trigger[];
  /** The newest lease of each trigger that is not finished (absent: never claimed, or given up). */
  readonly leases: ReadonlyMap<string, Lease>;
  /** Jobs this scheduler process is running right now. */
  readonly runningHere: ReadonlySet<string>;
  /** Jobs whose lock another runner holds (a backfill by hand, a killed runner's lock not yet stale): who holds it, and until when. */
  readonly lockedJobs?: ReadonlyMap<string, string>;
  /** How many more runs this scheduler may start now. */
  readonly capacity: number;
  /** A run that starts more than this after its instant is marked late. */
  readonly lateAfterMs: number;
  /**
   * When `scheduler --once` began: slots and triggers due after it are left to a later scheduler, so
   * that its passes, which go on while its runs free room, end (a schedule every second would
   * otherwise always have a slot due).
   */
  readonly dueBy?: Date;
}

export type PassAction =
  /** A schedule slot came: record it as a trigger (`pending`, or `skipped` when its job still runs). */
  | { readonly kind: 'slot'; readonly trigger: Trigger; readonly due: DueSlot; readonly skipped?: string }
  /** Claim attempt `attempt` of a due trigger and run it; `takeover` is the expired lease of the attempt before. */
  | { readonly kind: 'start'; readonly trigger: Trigger; readonly attempt: number; readonly takeover?: Lease }
  /** A due trigger left for a later pass, without an attempt: another runner holds its job's lock (`lock`: who, until when). */
  | { readonly kind: 'wait'; readonly trigger: Trigger; readonly lock: string };

const compact = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** The id of a schedule slot's trigger: the same in every scheduler, so only one can create it. */
export function slotTriggerId(name: string, slot: Date): string {
  return `sch-${name}-${compact(slot)}`;
}

/** The schedule and slot a `slotTriggerId` names; undefined for any other trigger id. */
export function slotOfTriggerId(id: string): { readonly schedule: string; readonly slot: Date } | undefined {
  const m = /^sch-(.+)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  if (!m) return undefined;
  const [, schedule = '', y, mo, d, h, mi, s] = m;
  const slot = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(slot.getTime()) ? undefined : { schedule, slot };
}

/** The latest slot of `name` that has a trigger (run, running or skipped). */
export function lastSlotOf(name: string, triggers: readonly Trigger[]): Date | undefined {
  let last: number | undefined;
  for (const t of triggers) {
    if (t.schedule?.name !== name) continue;
    const at = Date.parse(t.schedule.slot);
    if (last === undefined || at > last) last = at;
  }
  return last === undefined ? undefined : new Date(last);
}

const live = (lease: Lease | undefined, now: Date) => lease !== undefined && Date.parse(lease.expiresAt) > now.getTime();

/**
 * One pass of the scheduler as a pure function: which schedule slots are due (each once; slots
 * missed while no scheduler ran collapse into one, marked late), which are skipped because their
 * job still runs (a job never overlaps itself), and which due triggers to start or take over (a
 * lease that expired means its scheduler died). A slot is skipped too when a due sync of its job
 * waits to start: a second sync up to now would repeat the first (behind a waiting backfill, the
 * slot waits its turn). Triggers start earliest first, one per job, up to `capacity`; a trigger
 * whose job is busy waits for a later pass, and is said to wait (`wait`) when another runner
 * holds its job's lock: starting it would only find the job busy.
 */
export function planPass(input: PassInput): PassAction[] {
  const { now } = input;
  const dueUntil = Math.min(now.getTime(), input.dueBy?.getTime() ?? Number.POSITIVE_INFINITY);
  const actions: PassAction[] = [];
  const busy = new Map<string, string>();
  for (const job of input.runningHere) busy.set(job, 'running in this scheduler');
  for (const [job, lock] of input.lockedJobs ?? []) if (!busy.has(job)) busy.set(job, `its state file is locked by ${lock}`);
  for (const t of input.triggers) {
    const lease = input.leases.get(t.id);
    if (!FINAL_STATUSES.includes(t.status) && live(lease, now) && !busy.has(triggerJob(t))) {
      busy.set(triggerJob(t), `trigger ${t.id} attempt ${lease!.attempt} on ${lease!.host} pid ${lease!.pid}, since ${lease!.claimedAt}`);
    }
  }

  // Due syncs that wait to start (capacity, a stopped run to resume): a new slot of their job would only repeat them.
  // A waiting backfill reads its own range only: the slot's sync queues behind it instead of being lost.
  const queued = new Map<string, string>();
  for (const t of input.triggers) {
    if (t.sync === undefined || FINAL_STATUSES.includes(t.status) || !t.enabled || Date.parse(t.at) > dueUntil || live(input.leases.get(t.id), now)) continue;
    if (!queued.has(triggerJob(t))) queued.set(triggerJob(t), t.id);
  }

  const created: Trigger[] = [];
  for (const { schedule, cron } of input.schedules) {
    if (schedule.paused) continue;
    const last = lastSlotOf(schedule.name, input.triggers);
    const since = new Date(Math.max(Date.parse(schedule.activeSince), last?.getTime() ?? 0));
    const due = dueSlot(cron, since, new Date(dueUntil), input.lateAfterMs);
    if (!due) continue;
    const slot = due.slot.toISOString().replace(/\.\d+Z$/, 'Z');
    const job = schedule.sync.job ?? '';
    const waiting = queued.get(job);
    const running = busy.has(job)
      ? `was still running (${busy.get(job)})`
      : waiting !== undefined
        ? `has an earlier run waiting to start (trigger ${waiting})`
        : undefined;
    const base: Trigger = {
      id: slotTriggerId(schedule.name, due.slot),
      at: slot,
      atGiven: `${slot} (schedule ${schedule.name}: ${schedule.cron}${schedule.tz === 'UTC' ? '' : ` ${schedule.tz}`})`,
      createdAt: now.toISOString(),
      sync: schedule.sync,
      schedule: { name: schedule.name, slot, slots: due.slots, ...(due.slots > 1 ? { firstSlot: due.firstMissed.toISOString().replace(/\.\d+Z$/, 'Z') } : {}) },
      status: 'pending',
      enabled: true,
    };
    if (running !== undefined) {
      const skipped = `skipped: job ${job} ${running}`;
      actions.push({
        kind: 'slot',
        trigger: { ...base, status: 'skipped', enabled: false, finishedAt: now.toISOString(), result: { exitCode: 0, message: skipped, runIds: [] } },
        due,
        skipped,
      });
      continue;
    }
    actions.push({ kind: 'slot', trigger: base, due });
    created.push(base);
    queued.set(job, base.id);
  }

  let capacity = input.capacity;
  const candidates = [...input.triggers, ...created]
    .filter((t) => !FINAL_STATUSES.includes(t.status) && t.enabled && Date.parse(t.at) <= dueUntil)
    .sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  for (const trigger of candidates) {
    const lease = input.leases.get(trigger.id);
    if (live(lease, now)) continue;
    const lock = input.lockedJobs?.get(triggerJob(trigger));
    if (lock !== undefined && !input.runningHere.has(triggerJob(trigger))) {
      actions.push({ kind: 'wait', trigger, lock });
      continue;
    }
    if (capacity <= 0 || busy.has(triggerJob(trigger))) continue;
    const attempt = Math.max(lease?.attempt ?? 0, trigger.attempts?.length ?? 0) + 1;
    actions.push({ kind: 'start', trigger, attempt, ...(lease ? { takeover: lease } : {}) });
    busy.set(triggerJob(trigger), `trigger ${trigger.id}`);
    capacity--;
  }
  return actions;
}

/** `late by 5 min, 5 slots run once`: how a late start reads in logs and lists. */
export function lateness(lateByMs: number, slots = 1): string {
  return `late by ${formatDuration(lateByMs)}${slots > 1 ? `, ${slots >= 1000 ? 'at least 1000' : slots} slots run once` : ''}`;
}
