import type { RunRecord } from '../runs/RunRecord.js';

/** What the rule needs of a run (a runs-journal record has it). */
export type ReconcileRunFacts = Pick<RunRecord, 'id' | 'job' | 'startedAt' | 'streams'> &
  Partial<Pick<RunRecord, 'kind' | 'company' | 'reconcileCommand' | 'reconcileStreams' | 'dryRun'>> & {
    /** A RunStatus, or what the console makes of one (a running run whose runner is gone shows failed). */
    readonly status: string;
  };

/** A reconcile a run advised that no later reconcile has done yet. */
export interface OutstandingReconcile {
  /** The run that advised it. */
  readonly runId: string;
  readonly job: string;
  readonly company?: string;
  readonly advisedAt: string;
  /** The run's exact command, to paste. */
  readonly command: string;
  /** Of the streams it names, those not reconciled since. */
  readonly streams: readonly string[];
}

const advisedStreams = (run: ReconcileRunFacts) => run.reconcileStreams ?? run.streams;

/**
 * Pure: the reconciles runs advised that are still to do, newest first.
 *
 * A run advises one when its tap could not read some deletions from QBO's CDC (a gap older than
 * 30 days, or past its cap): they all happened before the run started. A reconcile pages every
 * record QBO has at its start and marks the table's rows QBO no longer has, so a stream's advice
 * is done by a later reconcile of the same job and company (the job's lock and settings, the
 * company's schema) that succeeded, was no dry run (which marks nothing) and took that stream. A
 * backfill, even a whole or --fresh one, does not do it: it writes the records QBO still has and
 * leaves the rows of deleted ones as they were. An advice is left out when a newer one of its job
 * names every stream it still needs: that command does both.
 *
 * A record written before `reconcileStreams` existed counts the run's streams as advised.
 */
export function outstandingReconciles(runs: readonly ReconcileRunFacts[]): OutstandingReconcile[] {
  const reconciles = runs.filter((r) => r.kind === 'reconcile' && r.status === 'succeeded' && r.dryRun !== true);
  const open: Array<OutstandingReconcile & { readonly advised: readonly string[] }> = [];
  for (const run of runs) {
    if (run.reconcileCommand === undefined) continue;
    const started = Date.parse(run.startedAt);
    const done = new Set(
      reconciles.filter((r) => r.job === run.job && r.company === run.company && Date.parse(r.startedAt) > started).flatMap((r) => r.streams),
    );
    const streams = advisedStreams(run).filter((s) => !done.has(s));
    if (streams.length === 0) continue;
    open.push({
      runId: run.id,
      job: run.job,
      ...(run.company !== undefined ? { company: run.company } : {}),
      advisedAt: run.startedAt,
      command: run.reconcileCommand,
      streams,
      advised: advisedStreams(run),
    });
  }
  open.sort((a, b) => Date.parse(b.advisedAt) - Date.parse(a.advisedAt) || b.runId.localeCompare(a.runId));
  return open
    .filter(
      (a, i) => !open.slice(0, i).some((newer) => newer.job === a.job && newer.company === a.company && a.streams.every((s) => newer.advised.includes(s))),
    )
    .map(({ advised: _advised, ...outstanding }) => outstanding);
}
