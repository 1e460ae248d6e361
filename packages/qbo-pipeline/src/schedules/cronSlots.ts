import { Cron } from 'croner';
import { IANAZone } from 'luxon';
import { UsageError } from 'singer-kit';

/** `@daily` and friends, as cron (and Meltano) know them; `@once` is a one-time trigger, not a schedule. */
const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Slots counted one by one when telling how many were missed; beyond this the count says "at least". */
export const MISSED_COUNT_CAP = 1000;

/**
 * A checked cron expression in a time zone. Five fields (minute hour day month weekday), or six
 * with seconds first; day-of-month and weekday combine with OR, as in Vixie cron.
 */
export interface CronSchedule {
  readonly cron: string;
  readonly tz: string;
  readonly job: Cron;
}

/** Parses and checks `cron` in `tz`; every problem is a one-line UsageError naming the option. */
export function parseCron(cron: string, tz: string): CronSchedule {
  const text = cron.trim().replace(/\s+/g, ' ');
  if (!IANAZone.isValidZone(tz)) {
    throw new UsageError(`--tz: ${JSON.stringify(tz)} is not an IANA time zone; use a name such as UTC, America/Guayaquil or Europe/Madrid`);
  }
  const pattern = NICKNAMES[text.toLowerCase()] ?? text;
  const fields = pattern.split(' ').length;
  if (!(fields === 5 || fields === 6) || pattern.startsWith('@')) {
    throw new UsageError(
      `--cron: ${JSON.stringify(cron)} is not a cron expression; give 5 fields "minute hour day month weekday" (e.g. "15 3 * * *" for 03:15 every day), 6 with seconds first, or @hourly/@daily/@weekly/@monthly/@yearly`,
    );
  }
  let job: Cron;
  try {
    job = new Cron(pattern, { paused: true, timezone: tz, mode: '5-or-6-parts' });
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, '');
    throw new UsageError(`--cron: ${JSON.stringify(cron)} is not a valid cron expression: ${reason}`);
  }
  if (job.nextRun(new Date()) === null) throw new UsageError(`--cron: ${JSON.stringify(cron)} never comes (no such date), e.g. the 30th of February`);
  return Object.freeze({ cron: text, tz, job });
}

/** The first slot strictly after `after`, or null when the expression never comes again. */
export function nextSlot(schedule: CronSchedule, after: Date): Date | null {
  return schedule.job.nextRun(after);
}

export interface DueSlot {
  /** The slot to run now: the latest one at or before `now`. */
  readonly slot: Date;
  /** The earliest slot not yet run (equal to `slot` when only one is due). */
  readonly firstMissed: Date;
  /** Slots in (since, now], all replaced by this one run; capped at MISSED_COUNT_CAP. */
  readonly slots: number;
  /** now − firstMissed. */
  readonly lateByMs: number;
  /** More than one slot was due, or the slot is older than `lateAfterMs`: the scheduler was down or busy. */
  readonly late: boolean;
}

/**
 * What is due, as a pure function of the schedule, the instant since which slots count (the last
 * slot run, or when the schedule was added or resumed) and now. Slots missed while no scheduler
 * ran collapse into one run of the latest, marked late: a sync covers everything up to its start,
 * so running each missed slot would only repeat it.
 */
export function dueSlot(schedule: CronSchedule, since: Date, now: Date, lateAfterMs: number): DueSlot | undefined {
  const first = schedule.job.nextRun(since);
  if (first === null || first.getTime() > now.getTime()) return undefined;
  // Slots are whole seconds: the latest slot at or before now is the latest before now's next second.
  const latest = schedule.job.previousRuns(1, new Date(Math.floor(now.getTime() / 1000) * 1000 + 1000))[0] ?? first;
  let slots = 1;
  for (let at = first; slots < MISSED_COUNT_CAP; slots++) {
    const next = schedule.job.nextRun(at);
    if (next === null || next.getTime() > latest.getTime()) break;
    at = next;
  }
  const lateByMs = now.getTime() - first.getTime();
  return { slot: latest, firstMissed: first, slots, lateByMs, late: slots > 1 || now.getTime() - latest.getTime() > lateAfterMs };
}
