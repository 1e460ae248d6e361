import type { JobState } from '../stateFile.js';

const HOUR_MS = 3_600_000;
/** A daily sync keeps every bookmark within a day and a bit; past this a stream is called stale. */
export const STALE_AFTER_MS = 36 * HOUR_MS;

/** How fresh one stream's data is: its newest bookmark over every job of the state folder. */
export interface StreamFreshness {
  readonly stream: string;
  /** The end of the last committed window (UTC, ISO). */
  readonly bookmark: string;
  /** The job whose state file holds that bookmark. */
  readonly job: string;
  /** now − bookmark. */
  readonly ageMs: number;
  readonly stale: boolean;
}

/** Pure: per stream, the newest bookmark of all job states, newest data first within the stream list order (alphabetical). */
export function streamFreshness(jobs: readonly JobState[], now: Date): StreamFreshness[] {
  const newest = new Map<string, { bookmark: string; at: number; job: string }>();
  for (const { job, state } of jobs) {
    for (const [stream, mark] of Object.entries(state?.bookmarks ?? {})) {
      const bookmark = mark.replication_key_value;
      const at = bookmark === undefined ? NaN : Date.parse(bookmark);
      if (bookmark === undefined || Number.isNaN(at)) continue;
      const known = newest.get(stream);
      if (!known || at > known.at) newest.set(stream, { bookmark: new Date(at).toISOString().replace(/\.000Z$/, 'Z'), at, job });
    }
  }
  return [...newest.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stream, { bookmark, at, job }]) => {
      const ageMs = now.getTime() - at;
      return { stream, bookmark, job, ageMs, stale: ageMs > STALE_AFTER_MS };
    });
}
