import { plural } from 'singer-kit';
import { VOLUMETRY_STREAM } from 'tap-quickbooks';
import { formatDone, formatSpan } from './formatSpan.js';
import { formatDuration, formatTable } from './formatTable.js';
import type { BackfillResult } from './runBackfill.js';
import type { EvidenceTotals } from './Warehouse.js';
import { isEveryStream } from './streamsText.js';

/**
 * A sync that succeeded and found nothing: every stream's evidence says QBO had no changed and no
 * deleted record since the run's start (the earliest bookmark). False when the evidence is missing.
 */
function upToDate(result: BackfillResult): boolean {
  const totals = new Map(result.totals.map((t) => [t.stream, t]));
  return (
    result.kind === 'sync' &&
    result.ok &&
    result.progress.every((p) => {
      const t = totals.get(p.stream);
      return t !== undefined && t.extracted === 0 && t.deleted === 0;
    })
  );
}

const upToDateLine = (result: BackfillResult) =>
  `up to date: nothing changed in QBO since ${result.start} (${formatSpan(Date.parse(result.end) - Date.parse(result.start))} read)`;

/** Up to this many streams a done line names each; past it, it counts them (as the Runs page and `company list` do). */
const NAMED_STREAMS = 3;

/** `, 3 records and 1 deleted`: what the evidence says was found; nothing without evidence. */
const found = (totals: ReadonlyArray<Pick<BackfillResult['totals'][number], 'extracted' | 'deleted'>>) => {
  if (totals.length === 0) return '';
  const deleted = totals.reduce((n, t) => n + t.deleted, 0);
  return `, ${plural(
    totals.reduce((n, t) => n + t.extracted, 0),
    'record',
  )}${deleted > 0 ? ` and ${deleted} deleted` : ''}`;
};

/** Per stream, the span read and the records found: `invoices 4.17 min, 3 records; customers 4.17 min, 0 records and 2 deleted`. */
function perStream(result: BackfillResult): string {
  const totals = new Map(result.totals.map((t) => [t.stream, t]));
  return result.progress.map((p) => `${p.stream} ${formatSpan(p.totalMs)}${found([totals.get(p.stream)].filter((t) => t !== undefined))}`).join('; ');
}

/** `all 28 streams` or `10 streams`. */
const countedStreams = (streams: readonly string[]) => `${isEveryStream(streams) ? 'all ' : ''}${streams.length} streams`;

/** `all 28 streams over 2 days` or `10 streams over 4.17 min to 2 days` (a sync reads each stream from its own bookmark). */
function streamsOver(result: BackfillResult): string {
  const spans = result.progress.map((p) => p.totalMs);
  const [shortest, longest] = [Math.min(...spans), Math.max(...spans)];
  const over = shortest === longest ? formatSpan(longest) : `${formatSpan(shortest)} to ${formatSpan(longest)}`;
  return `${countedStreams(result.progress.map((p) => p.stream))} over ${over}`;
}

/**
 * The windows a failed or stopped run did not commit, one line per window: the streams that stopped
 * at it named up to three, else counted (`  27 streams: window [...) not committed`; the table above
 * shows each), so a stopped run of every stream is one line, not 27 of the same window.
 */
function notCommittedLines(windows: NonNullable<BackfillResult['failure']>['windows']): string[] {
  const byWindow = new Map<string, string[]>();
  for (const w of windows) {
    const window = `window [${w.start}, ${w.end}) not committed`;
    byWindow.set(window, [...(byWindow.get(window) ?? []), w.stream]);
  }
  return [...byWindow].map(([window, streams]) => `  ${streams.length <= NAMED_STREAMS ? streams.join(', ') : countedStreams(streams)}: ${window}`);
}

/**
 * One line for a run that succeeded, as `trigger list` and the console show a trigger's result:
 * per stream the span read and the records found (`done: invoices 4.17 min, 3 records`); over more
 * than three streams, counted, not named, so that a run of all 28 is one short line
 * (`done: all 28 streams over 2 days, 120 records`: `doneDetail` names them); or, for a sync that
 * found nothing, that it is up to date since its start.
 */
export function formatDoneLine(result: BackfillResult): string {
  if (upToDate(result)) return upToDateLine(result);
  if (result.progress.length <= NAMED_STREAMS) return `done: ${perStream(result)}`;
  return `done: ${streamsOver(result)}${found(result.totals)}`;
}

/** What a done line that counts its streams leaves out: each stream's span and records (undefined when the line names them). */
export function doneDetail(result: BackfillResult): string | undefined {
  return upToDate(result) || result.progress.length <= NAMED_STREAMS ? undefined : perStream(result);
}

/** Why a run advises a reconcile, as every place that shows its command says it (the summaries, `trigger list`, the console). */
export const RECONCILE_WHY =
  "deletions QBO's change data capture could not give (older than 30 days, past its cap, or from before the table tracked deletions) may be missing; to mark the rows QBO no longer has, run";

/** After a run whose tap could not read some deletions from QBO's CDC: the command that finds them. */
export const reconcileLine = (command: string) => `WARNING: ${RECONCILE_WHY}: ${command}`;

/**
 * What runs the job again once the fix is made: the command by hand; a schedule's next slot; a
 * one-time trigger does not run again (running the scheduler again would start nothing).
 */
function afterTheFix(startedBy: BackfillResult['startedBy']): string {
  if (startedBy?.scheduleId !== undefined) return `then the next slot of schedule ${startedBy.scheduleId} runs it: it resumes from the state file`;
  if (startedBy !== undefined)
    return `then run the job again, by hand or with a new trigger (trigger ${startedBy.triggerId} ran once and does not run again): it resumes from the state file`;
  return 'then run the same command again: it resumes from the state file';
}

/**
 * The runner's own failure (`runnerFailure`: a state file it could not write) as the one FATAL
 * line on stderr, said as its summary is printed: `FATAL qbo-pipeline: …`, or, for one company
 * among many run side by side, with its name as its other lines have it (`FATAL qbo-pipeline
 * acme: …`). The tap's and target's failures they say themselves.
 */
export function printRunnerFailure(result: Pick<BackfillResult, 'runnerFailure'>, company?: string): void {
  if (result.runnerFailure !== undefined) process.stderr.write(`FATAL qbo-pipeline${company !== undefined ? ` ${company}` : ''}: ${result.runnerFailure}\n`);
}

/**
 * What the target's commit lines count that a run's per-stream totals do not: the tap's evidence
 * rows, written through the target as stream `_volumetry`. Without it a sync that changed nothing
 * read `inserted 0` here beside the target's own `inserted 21`.
 */
export function volumetryLine(totals: readonly Pick<EvidenceTotals, 'volumetryRows'>[]): string | undefined {
  const rows = totals.reduce((n, t) => n + t.volumetryRows, 0);
  if (rows === 0) return undefined;
  return `inserted counts each stream's own rows; the target's commit lines also count the tap's ${plural(rows, `${VOLUMETRY_STREAM} row`)} (the evidence: one per stream and day read, new at every run)`;
}

/**
 * The final summary a person reads after `backfill`: per stream (`deleted`: the deletions from
 * QBO's CDC it marked, which are not part of extracted and loaded), where the evidence is, and on
 * failure either the command that resumes (exit 1) or what to fix first (exit 2).
 * `wall time` is from the run's start to the stream's last commit: streams run side by side,
 * so each is at most the run's own duration.
 */
export function formatSummary(result: BackfillResult): string {
  const totals = new Map(result.totals.map((t) => [t.stream, t]));
  const rows = result.progress.map((p) => {
    const t = totals.get(p.stream);
    const wall = result.wallMs[p.stream];
    return [
      p.stream,
      formatDone(p.doneMs, p.totalMs),
      t?.windows ?? 0,
      t?.qboCount ?? 0,
      t?.extracted ?? 0,
      t?.loaded ?? 0,
      t?.inserted ?? 0,
      t?.updated ?? 0,
      t?.unchanged ?? 0,
      t?.deleted ?? 0,
      t?.pages ?? 0,
      wall === undefined ? '-' : formatDuration(wall),
    ];
  });
  const verb = result.ok ? 'done in' : result.stopped ? 'stopped after' : 'FAILED after';
  const lines = [
    `${result.kind} ${result.job}: ${verb} ${formatDuration(result.durationMs)} (run ${result.runId})`,
    `range [${result.start}, ${result.end}); state file ${result.stateFile}${result.backupFile ? ` (previous state kept as ${result.backupFile})` : ''}`,
    '',
    formatTable(['stream', 'done', 'windows', 'qbo count', 'extracted', 'loaded', 'inserted', 'updated', 'unchanged', 'deleted', 'pages', 'wall time'], rows),
    '',
    'query' in result.evidence ? `evidence: ${result.evidence.query}` : `evidence: ${result.evidence.unavailable}`,
  ];
  const volumetry = volumetryLine(result.totals);
  if (volumetry !== undefined) lines.push(volumetry);
  const mismatched = result.totals.filter((t) => !t.extractedEqualsLoaded).map((t) => t.stream);
  if (mismatched.length > 0) lines.push(`WARNING: extracted ≠ loaded for ${mismatched.join(', ')}; see the evidence query`);
  // Loaded = new + changed + unchanged + these two, which the table has no column for: without this
  // line 25 loaded over 0 new, 0 changed and 0 unchanged read as 25 records lost.
  const notWritten = result.totals.filter((t) => t.loaded > t.inserted + t.updated + t.unchanged);
  if (notWritten.length > 0)
    lines.push(
      `loaded but not written: ${notWritten.map((t) => `${t.stream} ${t.loaded - t.inserted - t.updated - t.unchanged}`).join(', ')} (the table holds a newer version of each, skipped_older, or the run read it twice, deduplicated: the evidence query counts both per day)`,
    );
  if (result.reconcileCommand !== undefined) lines.push(reconcileLine(result.reconcileCommand));
  if (result.failure) {
    lines.push('', `${result.stopped ? 'STOPPED' : 'FAILED'}: ${result.failure.reason}`);
    lines.push(...notCommittedLines(result.failure.windows));
    if (result.fix === result.failure.reason) {
      // The FAILED line above is what to fix: said once, where a run that can resume says its reason too.
      lines.push(`fix that first (exit ${result.exitCode}; running again unchanged fails the same way), ${afterTheFix(result.startedBy)}`);
    } else if (result.fix !== undefined) {
      lines.push(`fix this first (exit ${result.exitCode}; running again unchanged fails the same way): ${result.fix}`);
      lines.push(afterTheFix(result.startedBy));
    } else if (result.resumeCommand !== undefined) {
      lines.push('resume with:', `  ${result.resumeCommand}`);
    }
    lines.push(`log: ${result.logFile}`);
  } else if (upToDate(result)) {
    lines.push(upToDateLine(result));
  } else if (result.runIds.length === 0 && result.progress.every((p) => p.complete)) {
    lines.push(
      result.kind === 'sync'
        ? 'nothing to do: the bookmarks are already at the start of this run'
        : 'nothing to do: the state file says the whole range is done; add --fresh to extract it again',
    );
  }
  return lines.join('\n');
}
