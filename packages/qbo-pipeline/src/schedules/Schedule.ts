import type { SyncRequest } from '../runSync.js';

/**
 * A recurring sync: `schedules/<name>.json`, written only by the `schedule` commands (add, pause,
 * resume, remove), never by the scheduler, so a pause can never be lost to a scheduler's write.
 * Which slots ran is told by the triggers the scheduler makes for them (`sch-<name>-<slot>`).
 */
export interface Schedule {
  readonly name: string;
  /** As given (5 fields, or 6 with seconds first, or @daily…). */
  readonly cron: string;
  /** IANA time zone the cron expression is read in; default UTC. */
  readonly tz: string;
  readonly sync: SyncRequest;
  readonly paused: boolean;
  readonly createdAt: string;
  /** Slots count from here: when it was added or last resumed (slots while paused are not owed). */
  readonly activeSince: string;
  readonly pausedAt?: string;
}

/**
 * The streams a schedule's sync runs: its own, or, for a company's schedule that names none (its
 * `schedule:` in the companies file), the company's streams as its file says now.
 */
export function scheduledStreams(schedule: Schedule, companyStreams: readonly string[] | undefined): readonly string[] {
  return streamsRun(schedule.sync.streams, companyStreams);
}

/**
 * The streams a run of a request runs: those it names, or, when it names none (a company's
 * schedule, a trigger added for a company with no --streams), the company's as its file says now.
 */
export function streamsRun(requested: readonly string[], companyStreams: readonly string[] | undefined): readonly string[] {
  return requested.length > 0 ? requested : (companyStreams ?? []);
}
