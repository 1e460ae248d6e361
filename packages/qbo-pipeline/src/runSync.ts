import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DateTime, type Duration } from 'luxon';
import { entityByStream } from 'qbo-catalog';
import { bookmarkInstant, defaultRangeEnd } from 'tap-quickbooks';
import { formatInstant, parseInstant, UsageError } from 'singer-kit';
import { resolveScope, type JobRequest, type JobScope } from './BackfillRequest.js';
import { runEndLag } from './checkBackfill.js';
import type { Company } from './companies/parseCompanies.js';
import { runBackfill, type BackfillHooks, type BackfillResult } from './runBackfill.js';
import { readStateFile, type StateValue } from './stateFile.js';

/** What `sync` takes, also what a schedule stores (JSON): no end, the run's start is the end. */
/** A sync: for a company, also its `start` when the request gives none. */
export interface SyncRequest extends JobRequest {
  /** Only for streams the job has no bookmark for yet (its first sync); ISO 8601. */
  readonly start?: string;
}

export interface ResolvedSync extends JobScope {
  readonly start: DateTime<true> | undefined;
  /** False when the start is the company's (its file says it, and a stored request should not). */
  readonly startGiven: boolean;
  readonly tapConfig: string | undefined;
  readonly targetConfig: string | undefined;
}

/** Checks a sync request and makes its paths absolute; every problem is a UsageError naming the argument. A company request needs its company. */
export function resolveSync(request: SyncRequest, cwd = process.cwd(), company?: Company): ResolvedSync {
  const scope = resolveScope(request, cwd, company);
  const startText = request.start ?? (request.company ? company?.start : undefined);
  const start =
    startText === undefined
      ? undefined
      : parseInstant(startText, request.start === undefined ? `start of company ${company?.name ?? ''} (${company?.where ?? ''})` : '--start');
  const file = (f: string | undefined) => (f === undefined ? undefined : path.resolve(cwd, f));
  return Object.freeze({
    ...scope,
    start,
    startGiven: request.start !== undefined,
    tapConfig: file(request.tapConfig),
    targetConfig: file(request.targetConfig),
  });
}

/** The request again, paths absolute and dates in UTC: what a schedule records. */
export function normaliseSync(resolved: ResolvedSync): SyncRequest {
  return {
    streams: resolved.streamsGiven ? resolved.streams : [],
    // A company's own start stays in its file, where a person changes it.
    ...(resolved.start && resolved.startGiven ? { start: formatInstant(resolved.start) } : {}),
    job: resolved.job,
    ...(resolved.tapConfig ? { tapConfig: resolved.tapConfig } : {}),
    ...(resolved.targetConfig ? { targetConfig: resolved.targetConfig } : {}),
    stateDir: resolved.stateRoot,
    ...(resolved.company ? { company: resolved.company.ref } : {}),
  };
}

/** A stream's bookmark as an instant, when the state has a usable one: as the tap reads it (`bookmarkInstant`). */
function bookmarkOf(state: StateValue | undefined, stream: string): DateTime<true> | undefined {
  const mark = state?.bookmarks?.[stream]?.replication_key_value;
  const at = typeof mark === 'string' ? bookmarkInstant(mark) : undefined;
  return at === undefined ? undefined : (DateTime.fromMillis(at, { zone: 'utc' }) as DateTime<true>);
}

/**
 * The streams of a sync that go on from a bookmark: all but FULL_TABLE ones (CompanyInfo, one
 * row), which every run reads whole and which therefore never have a bookmark.
 */
function incrementalStreams(streams: readonly string[]): string[] {
  return streams.filter((s) => entityByStream(s)?.replication !== 'FULL_TABLE');
}

/** The streams a sync cannot start without `--start`: incremental ones the job has no bookmark for yet. */
export function streamsWithoutBookmark(state: StateValue | undefined, streams: readonly string[]): string[] {
  return incrementalStreams(streams).filter((s) => bookmarkOf(state, s) === undefined);
}

/**
 * The range of one sync, a pure function of the job's state, now and the tap's `end_lag`: from the
 * earliest stream bookmark (a stream without one starts at `start`) up to now minus the lag, to
 * the second (`defaultRangeEnd`, as the tap's own default end), so a change QBO shows a little
 * after its LastUpdatedTime is read by a later run rather than left behind the bookmark. The tap
 * starts each stream at max(range start, its bookmark), so every stream goes on from its own
 * bookmark. A stream with neither is a UsageError naming it (`hint` says where a bookmark may be).
 */
export function planSync(
  state: StateValue | undefined,
  sync: Pick<ResolvedSync, 'streams' | 'start' | 'job' | 'stateFile'>,
  now: Date,
  endLag: Duration,
  hint = '',
): { readonly start: DateTime<true>; readonly end: DateTime<true> } {
  const incremental = incrementalStreams(sync.streams);
  const missing = streamsWithoutBookmark(state, sync.streams);
  if (missing.length > 0 && sync.start === undefined) {
    const which = missing.length === 1 ? `stream ${missing[0]} has` : `streams ${missing.join(', ')} have`;
    throw new UsageError(`sync ${sync.job}: ${which} no bookmark in ${sync.stateFile}; give --start for the first sync (e.g. --start 2025-01-01)${hint}`);
  }
  const nowSecond = DateTime.fromMillis(Math.floor(now.getTime() / 1000) * 1000, { zone: 'utc' }) as DateTime<true>;
  const end = defaultRangeEnd(nowSecond, endLag) as DateTime<true>;
  const starts = incremental.map((s) => bookmarkOf(state, s) ?? (sync.start as DateTime<true>));
  // Only FULL_TABLE streams: read whole whatever the range, so a second's range does.
  const start = starts.length > 0 ? (DateTime.min(...starts) as DateTime<true>) : (sync.start ?? end.minus({ seconds: 1 }));
  if (start < end) return { start, end };
  // A --start after now, for a stream that needs it, is a mistake the tap names (start_date in the future), not a range to skip.
  const givenStart = sync.start !== undefined && (missing.length > 0 || incremental.length === 0) ? sync.start : undefined;
  if (givenStart !== undefined && givenStart > nowSecond) return { start: givenStart, end: givenStart.plus({ seconds: 1 }) };
  // Every bookmark at or after the end: a second sync within the lag, a lag raised or a backfill's
  // --end closer to now since, a clock set back since they were written. A one-second range
  // ending there: the tap refuses a start_date after its own start, and each stream starts at its
  // own bookmark, so it reads nothing new and moves no bookmark back.
  return { start: end.minus({ seconds: 1 }), end };
}

/** Other jobs in the state folder whose bookmarks cover `streams`: where a sync without --start may belong. */
async function jobsWithBookmarks(stateDir: string, streams: readonly string[], except: string): Promise<string[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  const found: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.endsWith('.bak.json') && n !== `${except}.json`)) {
    try {
      const value = JSON.parse(await readFile(path.join(stateDir, name), 'utf8')) as StateValue;
      if (streams.every((s) => bookmarkOf(value, s) !== undefined)) found.push(name.slice(0, -'.json'.length));
    } catch {
      // not a state file
    }
  }
  return found;
}

/**
 * One sync: everything changed since the job's bookmarks, up to the start of this run, through the
 * same machinery (state file, evidence, summary) as a backfill. Throws UsageError when a stream has
 * no bookmark and no --start was given.
 */
export async function runSync(request: SyncRequest, hooks: BackfillHooks = {}): Promise<BackfillResult> {
  const sync = resolveSync(
    request,
    hooks.cwd,
    request.company ? await (await import('./companies/loadCompanies.js')).loadCompany(request.company, hooks.cwd) : undefined,
  );
  const state = await readStateFile(sync.stateFile);
  const missing = streamsWithoutBookmark(state, sync.streams);
  const candidates = missing.length > 0 && !sync.start ? await jobsWithBookmarks(sync.stateDir, missing, sync.job) : [];
  const hint =
    (candidates.length > 0 ? `, or --job ${candidates[0]} (its state file has bookmarks for ${missing.join(', ')})` : '') +
    (sync.company ? `, or give the company a start: in ${sync.company.settings.where}` : '');
  const range = planSync(state, sync, (hooks.now ?? (() => new Date()))(), runEndLag(sync, hooks), hint);
  return runBackfill(
    {
      kind: 'sync',
      streams: sync.streamsGiven ? sync.streams : [],
      start: formatInstant(range.start),
      end: formatInstant(range.end),
      job: sync.job,
      stateDir: sync.stateRoot,
      ...(sync.company ? { company: sync.company.ref } : {}),
      ...(sync.tapConfig ? { tapConfig: sync.tapConfig } : {}),
      ...(sync.targetConfig ? { targetConfig: sync.targetConfig } : {}),
    },
    hooks,
  );
}
