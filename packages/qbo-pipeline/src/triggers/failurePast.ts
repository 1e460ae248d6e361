import type { RunRecord } from '../runs/RunRecord.js';
import { triggerJob, type Trigger } from './Trigger.js';

/** What the rule needs of a run (a runs-journal record has it). */
export type CoveringRunFacts = Pick<RunRecord, 'id' | 'job' | 'startedAt' | 'streams' | 'range'> &
  Partial<Pick<RunRecord, 'fresh'>> & {
    /** A RunStatus, or what the console makes of one (a running run whose runner is gone shows failed). */
    readonly status: string;
  };

/**
 * Pure: the run that did what a failed one-time trigger was for, after it failed (the earliest, so
 * that it stays the same as newer runs come), or undefined while none did: a later run of its job
 * (its state file: backfill and sync of a company share it) that succeeded, took every stream the
 * trigger's run took, and read its range: for a backfill, from at most its start to at least its
 * end; for a sync, to at least the end its run had (a sync goes on from the bookmarks, so a later
 * one that ends past that end brought them past it). A `--fresh` trigger asked for its range to be
 * read anew from QBO, its state file set aside: only a run that started over too (`fresh`) did
 * that, where a plain run goes on from the bookmarks and may read none of the range.
 *
 * A later run that failed too does not count: the trigger keeps needing you until one succeeds.
 */
export function coveringRun<Run extends CoveringRunFacts>(trigger: Trigger, runs: readonly Run[]): Run | undefined {
  const failedRun = runs.find((r) => r.id === trigger.result?.runId);
  const streams = failedRun?.streams ?? (trigger.backfill ?? trigger.sync)?.streams ?? [];
  const start = trigger.backfill ? Date.parse(trigger.backfill.start) : undefined;
  const end = Date.parse(trigger.backfill?.end ?? failedRun?.range.end ?? trigger.at);
  const failedAt = Date.parse(trigger.finishedAt ?? failedRun?.startedAt ?? trigger.at);
  const covering = runs.filter(
    (r) =>
      r.job === triggerJob(trigger) &&
      r.status === 'succeeded' &&
      Date.parse(r.startedAt) >= failedAt &&
      (trigger.backfill?.fresh !== true || r.fresh === true) &&
      streams.every((s) => r.streams.includes(s)) &&
      (start === undefined || Date.parse(r.range.start) <= start) &&
      Date.parse(r.range.end) >= end,
  );
  return covering.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || a.id.localeCompare(b.id))[0];
}

/**
 * Pure: whether a failed trigger's failure is past, so that it no longer needs a person (it stays,
 * failed, in `trigger list` and on the Schedules page). One rule, a later success that did what the
 * trigger was for: for a schedule's slot, a later slot of the same schedule completed (an hourly
 * schedule keeps 100); for a one-time trigger, a later run covered it (`coveringRun`).
 */
export function isFailurePast(trigger: Trigger, triggers: readonly Trigger[], runs: readonly CoveringRunFacts[]): boolean {
  const { schedule } = trigger;
  if (schedule) return triggers.some((t) => t.schedule?.name === schedule.name && t.status === 'completed' && t.at > trigger.at);
  return coveringRun(trigger, runs) !== undefined;
}

/**
 * Pure: the runs the journal keeps past its pruning so that a failed one-time trigger's failure
 * stays past: the run that covered it (`coveringRun`) and the trigger's own failed run, whose
 * streams and range the rule reads. Without them the trigger would need you again once its job
 * ran `keepPerJob` more times.
 */
export function runsKeepingFailuresPast(triggers: readonly Trigger[], runs: readonly CoveringRunFacts[]): string[] {
  return triggers.flatMap((t) => {
    if (t.schedule || t.status !== 'failed') return [];
    const covering = coveringRun(t, runs);
    return covering ? [covering.id, ...(t.result?.runId !== undefined ? [t.result.runId] : [])] : [];
  });
}
