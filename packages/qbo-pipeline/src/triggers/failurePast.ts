import type { RunRecord } from '../runs/RunRecord.js';
import { triggerJob, type Trigger } from './Trigger.js';

/** What the rule needs of a run (a runs-journal record has it). */
export type CoveringRunFacts = Pick<RunRecord, 'id' | 'job' | 'startedAt' | 'streams' | 'range'> & {
  /** A RunStatus, or what the console makes of one (a running run whose runner is gone shows failed). */
  readonly status: string;
};

/**
 * Pure: whether a failed trigger's failure is past, so that it no longer needs a person (it stays,
 * failed, in `trigger list` and on the Schedules page). One rule, a later success that did what the
 * trigger was for:
 * - a schedule's slot: a later slot of the same schedule completed (an hourly schedule keeps 100);
 * - a one-time trigger: a later run of its job (its state file: backfill and sync of a company share
 *   it) succeeded, took every stream the trigger's run took, and read its range: for a backfill,
 *   from at most its start to at least its end; for a sync, to at least the end its run had (a sync
 *   goes on from the bookmarks, so a later one that ends past that end brought them past it).
 *
 * A later run that failed too does not count: the trigger keeps needing you until one succeeds.
 */
export function isFailurePast(trigger: Trigger, triggers: readonly Trigger[], runs: readonly CoveringRunFacts[]): boolean {
  const { schedule } = trigger;
  if (schedule) return triggers.some((t) => t.schedule?.name === schedule.name && t.status === 'completed' && t.at > trigger.at);
  const failedRun = runs.find((r) => r.id === trigger.result?.runId);
  const streams = failedRun?.streams ?? (trigger.backfill ?? trigger.sync)?.streams ?? [];
  const start = trigger.backfill ? Date.parse(trigger.backfill.start) : undefined;
  const end = Date.parse(trigger.backfill?.end ?? failedRun?.range.end ?? trigger.at);
  const failedAt = Date.parse(trigger.finishedAt ?? failedRun?.startedAt ?? trigger.at);
  return runs.some(
    (r) =>
      r.job === triggerJob(trigger) &&
      r.status === 'succeeded' &&
      Date.parse(r.startedAt) >= failedAt &&
      streams.every((s) => r.streams.includes(s)) &&
      (start === undefined || Date.parse(r.range.start) <= start) &&
      Date.parse(r.range.end) >= end,
  );
}
