import path from 'node:path';
import { EXIT, plural } from 'singer-kit';
import { cellText, formatDuration, formatTable, isCut } from '../formatTable.js';
import { reconcileLine } from '../formatSummary.js';
import type { RunRecord } from '../runs/RunRecord.js';
import { missingRunnerAdvice, type RunnerMissing } from '../runs/RunJournal.js';
import type { CompanyOutcome } from './runForCompanies.js';
import { isEveryStream, streamsText } from '../streamsText.js';
import type { Company } from './parseCompanies.js';
import { notInFile } from './companyRun.js';
import type { SecretProblem } from './loadCompanies.js';
import { cdcWindowText, endLagWords, type CdcWindow, type EndLag, type StreamFreshness } from '../console/freshness.js';
import { relative, utc } from '../formatTime.js';

/** `all 28`, `invoices, customers`, or, past 3, `5: invoices, customers, items, …` (a column of its own width). */
const companyStreams = (streams: readonly string[]) =>
  isEveryStream(streams) || streams.length <= 3 ? streamsText(streams) : `${streams.length}: ${streams.slice(0, 3).join(', ')}, …`;

/** What went wrong for a company, in its own words; `done` when nothing did. */
function detail(o: CompanyOutcome): string {
  if (o.error !== undefined) return o.error;
  const r = o.result;
  if (!r) return '';
  if (r.ok) return r.runIds.length === 0 && r.progress.every((p) => p.complete) ? 'nothing to do' : `done in ${formatDuration(r.durationMs)}`;
  return r.failure?.reason ?? 'failed';
}

function status(o: CompanyOutcome): string {
  if (o.exitCode === EXIT.ok) return 'ok';
  if (o.result?.stopped) return 'stopped';
  return o.exitCode === EXIT.usage ? 'FIX' : 'FAILED';
}

/**
 * The last lines of a many-companies command: one row per company (status, exit, records loaded, of
 * which new and changed rows (the rest were unchanged: a sync that re-read rows it had loads them
 * all and changes nothing; or not written, as each company's summary says), rows marked deleted, why it failed (cut
 * past a cell's width: `cellText`), then what to do: reconcile (deletions CDC could not give), fix (exit 2, in
 * full) or resume (exit 1, after the reason in full when its cell cut it) per company.
 */
export function formatCompanyOutcomes(outcomes: readonly CompanyOutcome[]): string {
  const rows = outcomes.map((o) => {
    const sum = (count: 'loaded' | 'inserted' | 'updated' | 'deleted') => o.result?.totals.reduce((n, t) => n + t[count], 0) ?? null;
    return [
      o.company.name,
      o.company.realmId,
      o.company.schema,
      status(o),
      o.exitCode,
      sum('loaded'),
      sum('inserted'),
      sum('updated'),
      sum('deleted'),
      cellText(detail(o)),
    ];
  });
  const failed = outcomes.filter((o) => o.exitCode !== EXIT.ok);
  const lines = [
    `${plural(outcomes.length, 'company')}: ${outcomes.length - failed.length} ok, ${failed.length} failed`,
    '',
    formatTable(['company', 'realm id', 'schema', 'status', 'exit', 'loaded', 'new', 'changed', 'deleted', 'detail'], rows),
  ];
  for (const o of outcomes) if (o.result?.reconcileCommand !== undefined) lines.push(`${o.company.name}: ${reconcileLine(o.result.reconcileCommand)}`);
  for (const o of failed) {
    if (o.exitCode === EXIT.usage) {
      lines.push(`${o.company.name}: fix this first, then run again: ${o.result?.fix ?? o.error ?? ''}`);
      continue;
    }
    // The detail cell cut it: said in full once, here.
    if (isCut(detail(o))) lines.push(`${o.company.name}: ${detail(o)}`);
    if (o.result?.resumeCommand !== undefined) lines.push(`${o.company.name}: resume with: ${o.result.resumeCommand}`);
    else lines.push(`${o.company.name}: run the same command again; it resumes from the company's state file`);
  }
  return lines.join('\n');
}

export interface CompanyListing {
  readonly company: Company;
  readonly stateDir: string;
  /** Secret files that cannot be used. */
  readonly problems: readonly SecretProblem[];
  /** The newest run of the company, if any. */
  readonly lastRun: RunRecord | undefined;
  /** It says running, but its runner is missing (killed, or the machine restarted): `RunJournal.runnerMissing`. */
  readonly lastRunMissing: RunnerMissing | undefined;
  /** Each stream's newest bookmark (`streamFreshness`, counting its end_lag as on time). */
  readonly streams: readonly StreamFreshness[];
  /** The end_lag its runs use (`endLagOf`). */
  readonly endLag: EndLag;
  /** Its streams whose deletions QBO's change data capture soon stops reaching, or no longer reaches (`cdcWindows`). */
  readonly cdc: readonly CdcWindow[];
}

/** Said once under the table: what its `complete up to` column means, and why it is end_lag behind right after a sync. */
export const COMPLETE_UP_TO_NOTE =
  "complete up to: the oldest bookmark of the company's streams. Runs read up to end_lag before they start, since QBO shows a change a little after it is made: right after a sync a company is end_lag behind, which is on time; stale: over a day and a half behind beyond its end_lag";

/**
 * The stale streams in a cell: up to 3 by name, else how many (`every stream` when all are) and the
 * first 3, so that a company back after a month does not widen the table by 27 names.
 */
function staleText(stale: readonly string[], bookmarked: number): string {
  if (stale.length <= 3) return stale.join(', ');
  return stale.length === bookmarked ? 'every stream' : `${stale.length} streams: ${stale.slice(0, 3).join(', ')}, …`;
}

/** The `complete up to` column: the bookmark that holds the company back (its oldest), how old, and `stale` when past `STALE_AFTER_MS` beyond its end_lag. */
function completeUpTo(streams: readonly StreamFreshness[], now: Date): string {
  if (streams.length === 0) return 'nothing yet';
  const oldest = streams.reduce((a, b) => (b.ageMs > a.ageMs ? b : a));
  const stale = streams.filter((s) => s.stale).map((s) => s.stream);
  return `${utc(oldest.bookmark)}, ${relative(oldest.bookmark, now)}${stale.length > 0 ? ` (stale: ${staleText(stale, streams.length)})` : ''}`;
}

/** The secrets column: `ok`, or how many files are in each state (`1 missing, 1 empty`); the lines below say which. */
function secretsText(problems: readonly SecretProblem[]): string {
  if (problems.length === 0) return 'ok';
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
}

/**
 * `company list`: every company, where its things are, whether it can run, how its last run went,
 * what it is complete up to and its end_lag; then, under it, once what those two mean, why a last run failed, streams whose deletions QBO's change data capture is about to stop reaching; then what became of each company whose state folder is there but which the file no longer lists (`gone`).
 */
export function formatCompanyList(
  file: string,
  listings: readonly CompanyListing[],
  now: Date,
  gone: ReadonlyArray<{ readonly name: string; readonly stateDir: string }> = [],
  cwd = process.cwd(),
): string {
  const rel = (f: string) => {
    const r = path.relative(cwd, f);
    return r.startsWith('..') ? f : r;
  };
  /** As the `complete up to` column reads an instant: `2025-09-12 03:45:54Z, 14 min 6 s ago`. */
  const at = (iso: string) => `${utc(iso)}, ${relative(iso, now)}`;
  const last = (run: RunRecord | undefined, missing: RunnerMissing | undefined) =>
    run
      ? `${run.status}${run.notStarted ? ' (did not start)' : ''}${run.late ? ` (${run.late})` : ''}${missing ? ` (${missingRunnerAdvice(run, missing)})` : ''}${run.runnerGone ? ` (runner pid ${run.pid} on ${run.host} was gone; closed by ${run.runnerGone.byRun ? `run ${run.runnerGone.byRun}` : (run.runnerGone.bySweeper ?? 'a scheduler')})` : ''}${run.exitCode !== undefined && run.exitCode !== 0 ? ` (exit ${run.exitCode})` : ''} ${run.kind} ${run.job} ${at(run.finishedAt ?? run.startedAt)}`
      : 'never ran';
  const rows = listings.map((l) => [
    l.company.name,
    l.company.realmId,
    l.company.schema,
    companyStreams(l.company.streams),
    secretsText(l.problems),
    rel(l.stateDir),
    last(l.lastRun, l.lastRunMissing),
    completeUpTo(l.streams, now),
    endLagWords(l.endLag),
  ]);
  const lines = [
    `companies file ${file}: ${plural(listings.length, 'company')}`,
    '',
    formatTable(['company', 'realm id', 'schema', 'streams', 'secrets', 'state folder', 'last run', 'complete up to', 'end_lag'], rows),
    COMPLETE_UP_TO_NOTE,
  ];
  for (const l of listings) for (const p of l.problems) lines.push(p.line);
  // The last run column says failed; why, in full (an invalid_grant's advice is ~500 characters), under the table.
  for (const l of listings)
    if (l.lastRun?.status === 'failed' && l.lastRun.reason !== undefined && !l.lastRun.runnerGone)
      lines.push(`${l.company.name}: its last run ${l.lastRun.notStarted ? 'did not start' : 'failed'}: ${l.lastRun.reason}`);
  for (const l of listings) for (const w of l.cdc) lines.push(`${l.company.name}: ${cdcWindowText(w)}`);
  for (const g of gone) lines.push(notInFile(g.name, file, rel(g.stateDir)));
  return lines.join('\n');
}
