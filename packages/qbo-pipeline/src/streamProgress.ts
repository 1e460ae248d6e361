import { DateTime, Duration } from 'luxon';
import { entityByStream } from 'qbo-catalog';
import type { StateValue } from './stateFile.js';

export interface StreamProgress {
  readonly stream: string;
  /** Everything before this instant is committed (start when nothing is). */
  readonly doneUntil: DateTime;
  /** From the range's start to `doneUntil`, and the whole range (`formatDone` words them). */
  readonly doneMs: number;
  readonly totalMs: number;
  readonly complete: boolean;
}

/**
 * How far each stream of a backfill `[start, end)` has committed, read from a state value's
 * bookmarks. A FULL_TABLE stream (CompanyInfo, one row) has no bookmark and no range: every run
 * reads it whole, so it never holds a run back (a run that fails says so by its exit).
 */
export function streamProgress(state: StateValue | undefined, streams: readonly string[], start: DateTime, end: DateTime): StreamProgress[] {
  return streams.map((stream) => {
    const mark = state?.bookmarks?.[stream]?.replication_key_value;
    const bookmark = typeof mark === 'string' ? DateTime.fromISO(mark, { zone: 'utc' }) : undefined;
    const fullTable = entityByStream(stream)?.replication === 'FULL_TABLE';
    const at = fullTable ? end : bookmark?.isValid ? bookmark : start;
    const doneUntil = DateTime.min(DateTime.max(at, start), end);
    return {
      stream,
      doneUntil,
      doneMs: doneUntil.toMillis() - start.toMillis(),
      totalMs: end.toMillis() - start.toMillis(),
      complete: doneUntil.toMillis() >= end.toMillis(),
    };
  });
}

/** The window a stream works on next: `[doneUntil, doneUntil + window)`, cut at the end. */
export function nextWindow(progress: StreamProgress, window: Duration, end: DateTime): { start: DateTime; end: DateTime } {
  return { start: progress.doneUntil, end: DateTime.min(progress.doneUntil.plus(window), end) };
}
