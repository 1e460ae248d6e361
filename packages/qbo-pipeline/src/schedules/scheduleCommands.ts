import path from 'node:path';
import { DateTime } from 'luxon';
import { UsageError } from 'singer-kit';
import { defaultJob } from '../BackfillRequest.js';
import { checkRunSettings } from '../checkBackfill.js';
import { normaliseSync, resolveSync, streamsWithoutBookmark, type SyncRequest } from '../runSync.js';
import { readStateFile, stateJobProblem } from '../stateFile.js';
import { parseCron } from './cronSlots.js';
import type { Schedule } from './Schedule.js';
import { SCHEDULE_NAME, type ScheduleStore } from './ScheduleStore.js';

export interface AddScheduleInput {
  /** Default: the job's name. */
  readonly name?: string;
  readonly cron: string;
  /** IANA time zone; default UTC. */
  readonly tz?: string;
  readonly sync: SyncRequest;
  /** An existing schedule of this name is kept as it is (paused or not) instead of being an error: for start-up scripts. */
  readonly ifMissing?: boolean;
}

export interface AddScheduleResult {
  readonly schedule: Schedule;
  /** False when `ifMissing` found one already. */
  readonly created: boolean;
  /** Things to tell the person, e.g. that the job has no bookmark yet and no --start was given. */
  readonly warnings: readonly string[];
}

/**
 * Adds a recurring sync. Everything is checked first (cron expression, time zone, streams, job,
 * name, every tap and target setting as the children will read them with this environment, the
 * token store, the job's state file); on any problem a UsageError says what, and nothing is written.
 */
export async function addSchedule(
  store: ScheduleStore,
  input: AddScheduleInput,
  options: { readonly now?: Date; readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<AddScheduleResult> {
  const tz = input.tz ?? 'UTC';
  const cron = parseCron(input.cron, tz);
  const sync = resolveSync(input.sync, options.cwd);
  // A sync's range is only known when it fires; the settings are checked with the day before now.
  const at = DateTime.fromJSDate(options.now ?? new Date(), { zone: 'utc' });
  await checkRunSettings(
    { tapConfig: sync.tapConfig, targetConfig: sync.targetConfig, start: at.minus({ days: 1 }), end: at },
    { ...options, at: at.toJSDate() },
  );
  const name = input.name ?? sync.job;
  if (!SCHEDULE_NAME.test(name)) throw new UsageError(`--name: ${JSON.stringify(name)} may hold only letters, digits, _ and -`);
  const existing = await store.find(name);
  if (existing) {
    if (input.ifMissing) return { schedule: existing, created: false, warnings: [] };
    throw new UsageError(
      `schedule ${name} exists (${existing.cron} ${existing.tz}, job ${existing.sync.job ?? '?'}); remove it first (schedule remove ${name}) or give another --name`,
    );
  }
  const now = (options.now ?? new Date()).toISOString();
  const schedule: Schedule = { name, cron: cron.cron, tz, sync: normaliseSync(sync), paused: false, createdAt: now, activeSince: now };
  const state = await readStateFile(sync.stateFile);
  const problem = stateJobProblem(state, { ...sync, defaultStateFile: path.join(sync.stateDir, `${defaultJob(sync.streams, sync.stateDir)}.json`) });
  if (problem) throw new UsageError(problem);
  const missing = streamsWithoutBookmark(state, sync.streams);
  const warnings =
    missing.length > 0 && !sync.start
      ? [
          `job ${sync.job} has no bookmark yet for ${missing.join(', ')} and no --start was given: its slots fail until a backfill of job ${sync.job} has run (or add the schedule again with --start)`,
        ]
      : [];
  await store.save(schedule);
  return { schedule, created: true, warnings };
}

/** Pauses a schedule: no slot runs until it is resumed (a run in progress goes on). */
export async function pauseSchedule(store: ScheduleStore, name: string, options: { readonly now?: Date } = {}): Promise<Schedule> {
  const schedule = await store.get(name);
  if (schedule.paused) return schedule;
  const paused: Schedule = { ...schedule, paused: true, pausedAt: (options.now ?? new Date()).toISOString() };
  await store.save(paused);
  return paused;
}

/** Resumes a paused schedule from its next slot: slots that passed while it was paused are not owed. */
export async function resumeSchedule(store: ScheduleStore, name: string, options: { readonly now?: Date } = {}): Promise<Schedule> {
  const schedule = await store.get(name);
  if (!schedule.paused) return schedule;
  // pausedAt: undefined leaves the key out of the file (JSON drops it).
  const resumed: Schedule = { ...schedule, paused: false, pausedAt: undefined, activeSince: (options.now ?? new Date()).toISOString() };
  await store.save(resumed);
  return resumed;
}

/** Removes a schedule (its past slots' triggers stay in `trigger list`). */
export async function removeSchedule(store: ScheduleStore, name: string): Promise<void> {
  await store.remove(name);
}
