import { formatDuration } from '../formatTable.js';
import { dueSlot, nextSlot, type CronSchedule, type DueSlot } from '../schedules/cronSlots.js';
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
  /**
   * A schedule slot came: record it as a `pending` trigger (`queued` when its job was busy: it runs when
   * the job frees). `nextSlot`: the schedule's slot after it, which replaces it if it still waits then.
   * `replaces`: the schedule's earlier slot that still waited, never run; this one runs for both
   * (`schedule.slots`), so that one goes.
   */
  | { readonly kind: 'slot'; readonly trigger: Trigger; readonly due: DueSlot; readonly nextSlot?: string; readonly replaces?: Trigger }
  /** Claim attempt `attempt` of a due trigger and run it; `takeover` is the expired lease of the attempt before. */
  | { readonly kind: 'start'; readonly trigger: Trigger; readonly attempt: number; readonly takeover?: Lease }
  /** A due trigger left for a later pass, without an attempt: another runner holds its job's lock (`lock`: who, until when). */
  | { readonly kind: 'wait'; readonly trigger: Trigger; readonly lock: string };

const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

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

/** The latest slot of `name` that has a trigger (run, running, queued, or skipped by an older version). */
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

/** Whether a trigger never ran: no attempt, or only attempts that found its job busy as they started (they did nothing). */
export function neverRan(trigger: Trigger): boolean {
  return (trigger.attempts ?? []).every((a) => a.outcome === 'job busy');
}

/**
 * What a trigger becomes when its attempt found its job busy as it started (a run by hand took the
 * job's lock after the pass saw the job free): pending again, as if never started, and a schedule
 * slot queued behind `holder` as one that came while its job was busy (see `planPass`) — it runs
 * when the job frees, and `until` (its schedule's next slot) replaces it if it still waits then —
 * instead of waiting for a later scheduler, a night later for a nightly `scheduler --once`. A
 * one-time trigger waits for a later pass.
 */
export function afterBusyStart(trigger: Trigger, holder: string, now: Date, until: string | undefined): Trigger {
  const { claimedBy: _none, startedAt: _notStarted, lateByMs: _notLate, late: _unknown, ...waiting } = trigger;
  if (!trigger.schedule) return { ...waiting, status: 'pending' };
  const bound = until ?? trigger.queued?.until;
  return { ...waiting, status: 'pending', queued: { behind: holder, at: trigger.queued?.at ?? now.toISOString(), ...(bound ? { until: bound } : {}) } };
}

/**
 * One pass of the scheduler as a pure function: which schedule slots are due (each once; slots
 * missed while no scheduler ran collapse into one, marked late), and which due triggers to start
 * or take over (a lease that expired means its scheduler died). A job never overlaps itself: a
 * slot that comes while its job is busy (running here or under another scheduler's lease, its
 * lock held by a run by hand, or an earlier sync of it waiting to start) is recorded `pending`
 * and `queued` behind what holds the job, and starts at the first pass that finds the job free.
 * A slot whose start found its job taken meanwhile is queued the same way (`afterBusyStart`).
 * A queued slot waits until the schedule's next slot at most: that one replaces it (one run for
 * both, as for missed slots; a sync covers everything up to its start). Triggers start earliest
 * first, one per job, up to `capacity` (a waiting trigger takes none of it); a trigger whose job
 * is busy waits for a later pass, and is said to wait (`wait`) when another runner holds its
 * job's lock: starting it would only find the job busy.
 */
export function planPass(input: PassInput): PassAction[] {
  const { now } = input;
  const dueUntil = Math.min(now.getTime(), input.dueBy?.getTime() ?? Number.POSITIVE_INFINITY);
  const actions: PassAction[] = [];
  const busy = new Map<string, string>();
  // What holds each busy job, as a slot queued behind it names it: `queued behind run … (backfill, pid …), until …`.
  for (const job of input.runningHere) busy.set(job, "this scheduler's run of the job");
  for (const [job, lock] of input.lockedJobs ?? []) if (!busy.has(job)) busy.set(job, lock);
  for (const t of input.triggers) {
    const lease = input.leases.get(t.id);
    if (!FINAL_STATUSES.includes(t.status) && live(lease, now) && !busy.has(triggerJob(t))) {
      busy.set(triggerJob(t), `trigger ${t.id} attempt ${lease!.attempt} on ${lease!.host} pid ${lease!.pid}, since ${lease!.claimedAt}`);
    }
  }

  // Due syncs that wait to start (capacity, a stopped run to resume): a new slot of their job queues behind them.
  const waitingSyncs = new Map<string, string[]>();
  for (const t of input.triggers) {
    if (t.sync === undefined || FINAL_STATUSES.includes(t.status) || !t.enabled || Date.parse(t.at) > dueUntil || live(input.leases.get(t.id), now)) continue;
    waitingSyncs.set(triggerJob(t), [...(waitingSyncs.get(triggerJob(t)) ?? []), t.id]);
  }

  const created: Trigger[] = [];
  const replaced = new Set<string>();
  for (const { schedule, cron } of input.schedules) {
    if (schedule.paused) continue;
    const last = lastSlotOf(schedule.name, input.triggers);
    const since = new Date(Math.max(Date.parse(schedule.activeSince), last?.getTime() ?? 0));
    const due = dueSlot(cron, since, new Date(dueUntil), input.lateAfterMs);
    if (!due) continue;
    const slot = iso(due.slot);
    const job = schedule.sync.job ?? '';
    // The schedule's earlier slot still waiting, never run: this slot's sync covers its range too, so it runs once for both.
    const earlier = input.triggers.find(
      (t) => t.schedule?.name === schedule.name && t.status === 'pending' && t.enabled && neverRan(t) && !input.leases.has(t.id),
    );
    const waiting = waitingSyncs.get(job)?.find((id) => id !== earlier?.id);
    const behind = busy.get(job) ?? (waiting !== undefined ? `trigger ${waiting}, due earlier and waiting to start` : undefined);
    const next = nextSlot(cron, due.slot);
    const bound = next ? { until: iso(next) } : {};
    const queued = behind !== undefined ? { behind, at: now.toISOString(), ...bound } : earlier?.queued ? { ...earlier.queued, ...bound } : undefined;
    const firstSlot = earlier ? (earlier.schedule?.firstSlot ?? earlier.at) : due.slots > 1 ? iso(due.firstMissed) : undefined;
    const trigger: Trigger = {
      id: slotTriggerId(schedule.name, due.slot),
      at: slot,
      atGiven: `${slot} (schedule ${schedule.name}: ${schedule.cron}${schedule.tz === 'UTC' ? '' : ` ${schedule.tz}`})`,
      createdAt: now.toISOString(),
      sync: schedule.sync,
      schedule: { name: schedule.name, slot, slots: due.slots + (earlier?.schedule?.slots ?? 0), ...(firstSlot !== undefined ? { firstSlot } : {}) },
      status: 'pending',
      enabled: true,
      ...(queued ? { queued } : {}),
    };
    actions.push({ kind: 'slot', trigger, due, ...(next ? { nextSlot: iso(next) } : {}), ...(earlier ? { replaces: earlier } : {}) });
    if (earlier) replaced.add(earlier.id);
    created.push(trigger);
    waitingSyncs.set(job, [...(waitingSyncs.get(job) ?? []), trigger.id]);
  }

  let capacity = input.capacity;
  const candidates = [...input.triggers, ...created]
    .filter((t) => !FINAL_STATUSES.includes(t.status) && t.enabled && Date.parse(t.at) <= dueUntil && !replaced.has(t.id))
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

/**
 * `late by 5 min, 5 slots run once`, `late by 3 h, queued behind run … (backfill, …)`: how a late
 * start reads in logs, lists, the console and the runs journal — how late, and why.
 */
export function lateness(lateByMs: number, slots = 1, queued?: Trigger['queued']): string {
  const many = slots > 1 ? `, ${slots >= 1000 ? 'at least 1000' : slots} slots run once` : '';
  return `late by ${formatDuration(lateByMs)}${many}${queued ? `, queued behind ${queued.behind}` : ''}`;
}
