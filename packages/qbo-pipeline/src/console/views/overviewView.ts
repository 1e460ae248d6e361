import path from 'node:path';
import { entityByStream } from 'qbo-catalog';
import { plural } from 'singer-kit';
import { RECONCILE_WHY } from '../../formatSummary.js';
import { outstandingReconciles, type ReconcileRunFacts } from '../../reconcile/outstandingReconciles.js';
import { isFailurePast, type CoveringRunFacts } from '../../triggers/failurePast.js';
import { triggerJob, type Trigger } from '../../triggers/Trigger.js';
import type { SetAside } from '../../triggers/TriggerStore.js';
import { cdcWindowText, endLagText, type CdcWindow, type EndLag, type StreamFreshness } from '../freshness.js';
import { html, type SafeHtml } from '../html.js';
import type { TokenHealth, TokenProblem } from '../tokenHealth.js';
import { pill, slotsHref, startedBy, time } from './format.js';
import { age, relative, utc } from '../../formatTime.js';

/** What the overview needs of a run (a runs-journal record has it). */
interface RunGlance extends ReconcileRunFacts, CoveringRunFacts {
  readonly finishedAt?: string;
  readonly reason?: string;
  /** It failed before its tap started (`RunRecord.notStarted`). */
  readonly notStarted?: true;
  /** The trigger (or schedule slot) that started it. */
  readonly triggerId?: string;
  readonly scheduleId?: string;
}

export interface CompanyOverview {
  readonly name: string;
  /** From the companies file (without one, the token stores name the realms). */
  readonly realmId?: string;
  readonly schema: string | undefined;
  readonly stateDir: string;
  readonly streams: readonly StreamFreshness[];
  /** The end_lag its runs use (`endLagOf`): every bookmark is that far behind its run by design. */
  readonly endLag: EndLag;
  /** Its streams whose deletions QBO's change data capture soon stops reaching, or no longer reaches, for jobs whose runs read it (`cdcWindows`). */
  readonly cdc: readonly CdcWindow[];
  /** Secret files of its companies-file entry that cannot be used (missing, empty, unreadable): its runs fail until they can. */
  readonly secretProblems?: readonly string[];
  /** State files that could not be read: the file and why. */
  readonly stateProblems: ReadonlyArray<{ readonly file: string; readonly problem: string }>;
  readonly tokens: ReadonlyArray<TokenHealth | TokenProblem>;
  readonly triggers: readonly Trigger[];
  /** Trigger files the scheduler set aside as unreadable, or will at its next pass. */
  readonly unreadableTriggers: readonly SetAside[];
  /** Newest first. */
  readonly runs: readonly RunGlance[];
  /** Why runs could not be read, if they could not. */
  readonly runsProblem?: string;
}

/** The items a scheduler also pushes to its webhook (`notify/`): each once, while it lasts. */
export type NotifiedKind = 'run-failed' | 'token' | 'reconcile' | 'overdue';

export interface Attention {
  readonly level: 'warn' | 'error';
  readonly text: string;
  readonly href?: string;
  /** A command to paste, shown whole under the text. */
  readonly command?: string;
  /**
   * What the item is about, the same from one look to the next (its text tells times relative to
   * now): a failing job, a token past a threshold, a reconcile advised, an overdue trigger.
   */
  readonly about?: {
    readonly kind: NotifiedKind;
    readonly key: string;
    readonly job?: string;
    readonly runId?: string;
    /** The key of another item this one also tells (a failed run the token's rejection failed): told here, it is not told again alone. */
    readonly covers?: string;
  };
}

/** A token item's identity: each threshold (under 30 days, under 7 or expired, rejected) is its own. */
const tokenKey = (t: TokenHealth) => `token ${t.realmId} ${t.rejected ? 'rejected' : t.level}`;

const isProblem = (t: TokenHealth | TokenProblem): t is TokenProblem => 'problem' in t;

/**
 * The token store whose recorded rejection is the one a failed run's reason tells of: the same
 * QuickBooks answer (its intuit_tid), or, without one, an invalid_grant recorded while the run ran.
 */
function rejectionOf(run: RunGlance, tokens: CompanyOverview['tokens']): TokenHealth | undefined {
  const reason = run.reason ?? '';
  if (!reason.includes('invalid_grant')) return undefined;
  return tokens.find((t): t is TokenHealth => {
    if (isProblem(t) || !t.rejected) return false;
    if (t.rejected.tid !== undefined) return reason.includes(`intuit_tid ${t.rejected.tid}`);
    const at = Date.parse(t.rejected.at);
    return at >= Date.parse(run.startedAt) && at <= Date.parse(run.finishedAt ?? t.rejected.at);
  });
}

/** Whether a run still going on started before the token store recorded QuickBooks' rejection: its failure will tell it. */
function rejectedDuringRun(t: TokenHealth, runs: readonly RunGlance[]): boolean {
  const at = t.rejected ? Date.parse(t.rejected.at) : NaN;
  return runs.some((run) => run.status === 'running' && Date.parse(run.startedAt) <= at);
}

/** How long a due trigger may wait to start before the overview asks whether a scheduler runs it. */
const OVERDUE_MS = 15 * 60_000;

/**
 * Why a pending trigger is overdue at `now` (the end of the overview's line), or undefined while it
 * is not. A trigger is overdue once due for OVERDUE_MS without starting. A schedule slot queued
 * behind a busy job (`queued`) is not, while the job's newest run (`newest`) is alive — it runs when
 * that ends, however long a backfill takes — and until its bound: once its schedule's next slot came
 * (`until` passed, or it was replaced by that slot: it stands for more than one), a night went by
 * without its sync. Once the run it waited for died (its runner gone), it is at once; once that run
 * ended, OVERDUE_MS after its end (the next scheduler pass starts it).
 */
function overdueWhy(t: Trigger, newest: RunGlance | undefined, now: Date): string | undefined {
  const stalled = `has not started: is a scheduler running for this state folder? (A due trigger also waits while another run holds its job or company, or while max_parallel runs are busy.)`;
  if (!t.queued) return now.getTime() - Date.parse(t.at) < OVERDUE_MS ? undefined : stalled;
  const behind = `is queued behind ${t.queued.behind}`;
  if ((t.schedule?.slots ?? 1) > 1 || (t.queued.until !== undefined && now.getTime() >= Date.parse(t.queued.until)))
    return `${behind}: its schedule's next slot came and it has not run${(t.schedule?.slots ?? 1) > 1 ? ` (${t.schedule!.slots} slots wait as one)` : ''}; the run it waits for outlasts the schedule's interval`;
  if (newest?.status === 'running') return undefined;
  // Closed as runner gone (or running with no runner): no end time.
  if (newest !== undefined && newest.finishedAt === undefined)
    return `${behind}, but the job's run ${newest.id} lost its runner (killed, or its machine restarted): a scheduler pass runs the slot once the job's lock is stale; is a scheduler running for this state folder?`;
  const ended = newest?.finishedAt !== undefined && Date.parse(newest.finishedAt) > Date.parse(t.at) ? newest.finishedAt : undefined;
  if (now.getTime() - Date.parse(ended ?? t.at) < OVERDUE_MS) return undefined;
  return `${behind}${ended ? `; the job's run ${newest!.id} ended ${relative(ended, now)}, and the slot` : ' and'} ${stalled}`;
}

/** Pure: what needs a person at `now`, most urgent first. Empty means all is well. */
export function attentionOf(c: CompanyOverview, now: Date): Attention[] {
  const out: Attention[] = [];
  const lastPerJob = new Map<string, RunGlance>();
  for (const run of c.runs) if (!lastPerJob.has(run.job)) lastPerJob.set(run.job, run);
  const failedRuns = [...lastPerJob.values()].filter((run) => run.status === 'failed');
  // A run that failed because QuickBooks rejected the refresh token, and the token store that recorded it, are one
  // event: one line, saying what failed and where the new token goes (the token store knows the company's file).
  const told = new Set<TokenHealth>();
  for (const run of failedRuns) {
    const by = run.triggerId ? ` (started by ${startedBy(run).full})` : '';
    const rejection = rejectionOf(run, c.tokens);
    if (rejection) told.add(rejection);
    out.push({
      level: 'error',
      text: `last run of job ${run.job} ${run.notStarted ? 'did not start' : 'failed'}${by}: ${rejection?.advice ?? run.reason ?? 'see its log'}`,
      href: `/runs/${run.id}`,
      // One item per job while its newest run failed: an hourly schedule failing all night is one failure.
      about: { kind: 'run-failed', key: `run-failed ${run.job}`, job: run.job, runId: run.id, ...(rejection ? { covers: tokenKey(rejection) } : {}) },
    });
  }
  // Rows QBO deleted may still be live in the warehouse until the reconcile a run advised is done.
  for (const o of outstandingReconciles(c.runs)) {
    out.push({
      level: 'error',
      text: `${o.streams.join(', ')} of job ${o.job} (run ${o.runId}): ${RECONCILE_WHY}`,
      href: `/runs/${o.runId}#reconcile`,
      command: o.command,
      about: { kind: 'reconcile', key: `reconcile ${o.runId}`, job: o.job, runId: o.runId },
    });
  }
  for (const problem of c.secretProblems ?? []) out.push({ level: 'error', text: `${problem}: its runs fail until this is fixed` });
  for (const t of c.tokens) {
    if (isProblem(t)) out.push({ level: 'error', text: `token store of realm ${t.realmId}: ${t.problem}` });
    else if (t.newToken && !told.has(t))
      // The person's own reconnect, waiting for the next run: shown, and no news to notify.
      out.push({ level: 'warn', text: `realm ${t.realmId}: ${t.advice}` });
    else if (t.level !== 'ok' && !told.has(t))
      // Under 30 days, under 7 (or expired), rejected: each threshold is its own item. A rejection recorded while a
      // run goes on is shown, and told by that run's failure when it ends (covers): a look in between (another
      // company's run ended) would otherwise send it alone, and the failure's own message would be the second.
      out.push({
        level: t.level,
        text: `realm ${t.realmId}: ${t.advice}`,
        ...(rejectedDuringRun(t, c.runs) ? {} : { about: { kind: 'token' as const, key: tokenKey(t) } }),
      });
  }
  for (const p of c.stateProblems) out.push({ level: 'error', text: p.problem });
  for (const a of c.unreadableTriggers) {
    out.push({
      level: 'error',
      text: `trigger file ${path.basename(a.file)} ${a.when === 'next pass' ? 'cannot be read' : 'was set aside as unreadable'}: ${a.problem}`,
      href: '/schedules',
    });
  }
  // A trigger whose run is named above failed for the reason said there: once is enough.
  const named = (t: Trigger) => failedRuns.some((run) => run.id === t.result?.runId || run.triggerId === t.id);
  // A schedule's failed slots are one item: a night of hourly slots failing for one reason is one line, not a screen of them.
  const failedSlots = new Map<string, Trigger[]>();
  for (const t of c.triggers) {
    // Past once a later success did what it was for (a later slot of its schedule, a later run covering it).
    if (t.status !== 'failed' || !t.result || isFailurePast(t, c.triggers, c.runs)) continue;
    if (!t.schedule) {
      // A plain run over its range does not end a --fresh trigger's item (`coveringRun`): say what does.
      const fresh = t.backfill?.fresh
        ? `; it asked to read its range anew: a backfill --fresh over [${t.backfill.start}, ${t.backfill.end}) does its work`
        : '';
      if (!named(t)) out.push({ level: 'warn', text: `trigger ${t.id} failed: ${t.result.message}${fresh}`, href: '/schedules' });
    } else failedSlots.set(t.schedule.name, [...(failedSlots.get(t.schedule.name) ?? []), t]);
  }
  for (const [schedule, slots] of failedSlots) {
    const sorted = [...slots].sort((a, b) => a.at.localeCompare(b.at));
    const newest = sorted.at(-1)!;
    const why = named(newest) ? ' (its run, above, says why)' : `: ${newest.result?.message ?? ''}`;
    if (sorted.length === 1 && named(newest)) continue;
    out.push({
      level: 'warn',
      text:
        sorted.length === 1
          ? `trigger ${newest.id} failed${why}`
          : `schedule ${schedule}: ${sorted.length} slots failed since ${utc(sorted[0]!.at)}, the newest at ${utc(newest.at)}${why}`,
      href: slotsHref({ company: c.name, schedule }),
    });
  }
  // A trigger long due that no scheduler started: last night's slot did not run, though nothing failed.
  for (const t of c.triggers) {
    if (t.status !== 'pending' || !t.enabled) continue;
    const why = overdueWhy(t, lastPerJob.get(triggerJob(t)), now);
    if (why === undefined) continue;
    const what = t.schedule ? `schedule ${t.schedule.name}'s ${utc(t.schedule.slot)} slot` : `trigger ${t.id}`;
    out.push({
      level: 'warn',
      text: `${what} was due ${relative(t.at, now)} and ${why}`,
      href: t.schedule ? slotsHref({ company: c.name, schedule: t.schedule.name }) : '/schedules',
      about: { kind: 'overdue', key: `overdue ${t.id}` },
    });
  }
  if (c.runsProblem) out.push({ level: 'warn', text: `runs journal: ${c.runsProblem}` });
  // Before the reconcile is advised: while QBO's change data capture still reaches the bookmarks, a sync is enough.
  for (const w of c.cdc) out.push({ level: w.closed ? 'error' : 'warn', text: cdcWindowText(w) });
  const stale = c.streams.filter((s) => s.stale);
  if (stale.length > 0)
    out.push({
      level: 'warn',
      text: `${plural(stale.length, 'stream')} not refreshed for over a day and a half beyond end_lag ${c.endLag.iso}: ${stale.map((s) => s.stream).join(', ')}`,
    });
  return out.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
}

function attentionList(items: readonly Attention[]): SafeHtml {
  if (items.length === 0)
    return html`<p class="allgood">${pill('ok')} Nothing needs you: no failed run, no reconcile to run, no token near expiry, no stale stream.</p>`;
  return html`<ul class="attention">${items.map(
    (a) =>
      html`<li class="${a.level}">${pill(a.level === 'error' ? 'needs action' : 'check', a.level)} ${a.href ? html`<a href="${a.href}">${a.text}</a>` : a.text}${a.command ? html`<pre class="command"><code>${a.command}</code></pre>` : ''}</li>`,
  )}</ul>`;
}

/**
 * Pure: the streams the overview lists: those with a bookmark, and those the newest run of a job
 * covers that have none yet (a first run, or one that started its job over with --fresh, which
 * sets the old state file aside): that run says where they stand, where a missing row said nothing.
 */
export function streamRows(c: CompanyOverview): Array<{ readonly stream: string; readonly freshness?: StreamFreshness; readonly job?: string }> {
  const rows = new Map<string, { stream: string; freshness?: StreamFreshness; job?: string }>(
    c.streams.map((s) => [s.stream, { stream: s.stream, freshness: s, job: s.job }]),
  );
  const newestPerJob = new Map<string, RunGlance>();
  for (const run of c.runs) if (!newestPerJob.has(run.job)) newestPerJob.set(run.job, run);
  for (const run of newestPerJob.values()) for (const stream of run.streams) if (!rows.has(stream)) rows.set(stream, { stream, job: run.job });
  return [...rows.values()].sort((a, b) => a.stream.localeCompare(b.stream));
}

/** What a stream without a bookmark says instead: company_info, one row read whole at every run, never has one to wait for. */
function noBookmark(stream: string, run: RunGlance | undefined): string {
  if (entityByStream(stream)?.replication === 'FULL_TABLE') return 'none: read whole at every run';
  return `none yet${run?.status === 'running' ? ': this run commits it' : ''}`;
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function streamsTable(c: CompanyOverview, now: Date): SafeHtml {
  const rows = streamRows(c);
  if (rows.length === 0)
    return html`<p class="muted">Nothing loaded yet: no run of this ${c.realmId ? 'company' : 'state folder'} is in its runs journal and no job has a bookmark. Add a trigger under <a href="/schedules">Schedules &amp; triggers</a>, or run <code>qbo-pipeline backfill</code>.</p>`;
  // The row's own job's last run: another job's run of the stream (a failed one-stream backfill) is not this job's, nor its bookmark's.
  const lastRun = (stream: string, job: string | undefined) => c.runs.find((r) => r.streams.includes(stream) && (job === undefined || r.job === job));
  const cdc = new Map(c.cdc.flatMap((w) => w.streams.map((stream) => [stream, w] as const)));
  const cdcNote = (stream: string) => {
    const w = cdc.get(stream);
    if (!w) return '';
    return html`<br><small class="cdc">${w.closed ? 'deletions past change data capture: the next sync advises a reconcile' : html`deletions via change data capture until ${time(w.until, now)}`}</small>`;
  };
  return html`<p class="end-lag">Each bookmark is what the warehouse is complete up to. ${capitalized(endLagText(c.endLag))}, since QBO shows a change a little after it is made: right after a sync a bookmark is that far behind, which is on time.</p>
<div class="table-scroll"><table class="data">
<thead><tr><th scope="col">stream</th><th scope="col">bookmark (committed up to)</th><th scope="col" class="num">freshness</th><th scope="col">job</th><th scope="col">last run</th><th scope="col">outcome</th></tr></thead>
<tbody>${rows.map(({ stream, freshness: s, job }) => {
    const run = lastRun(stream, job);
    return html`<tr data-stream="${stream}">
<th scope="row">${stream}</th>
<td>${s ? time(s.bookmark, now) : html`<span class="muted">${noBookmark(stream, run)}</span>`}</td>
<td class="num">${s ? (s.stale ? pill(age(s.ageMs), 'warn') : age(s.ageMs)) : html`<span class="muted">–</span>`}${cdcNote(stream)}</td>
<td>${job ?? ''}</td>
<td>${run ? html`<a href="/runs/${run.id}">${run.status === 'running' ? `started ${relative(run.startedAt, now)}` : relative(run.finishedAt ?? run.startedAt, now)}</a>` : html`<span class="muted">–</span>`}</td>
<td>${run ? pill(run.status) : html`<span class="muted">–</span>`}</td>
</tr>`;
  })}</tbody></table></div>`;
}

function days(n: number | undefined): SafeHtml | string {
  if (n === undefined) return html`<span class="muted">not reported</span>`;
  return `${n} days`;
}

function tokensTable(c: CompanyOverview, now: Date): SafeHtml {
  if (c.tokens.length === 0)
    return html`<p class="muted">No token store in <code>${c.stateDir}/tokens</code> yet: the tap writes one at its first refresh.</p>`;
  return html`<div class="table-scroll"><table class="data">
<thead><tr><th scope="col">realm</th><th scope="col">last refresh (rotation)</th><th scope="col">access token until</th><th scope="col" class="num">rolling expiry in</th><th scope="col" class="num">5-year limit in</th><th scope="col">health</th></tr></thead>
<tbody>${c.tokens.map((t) =>
    isProblem(t)
      ? html`<tr><th scope="row">${t.realmId}</th><td colspan="4">${t.problem}</td><td>${pill('error')}</td></tr>`
      : html`<tr>
<th scope="row">${t.realmId}</th>
<td>${time(t.lastRefreshAt, now)}</td>
<td>${time(t.accessTokenExpiresAt, now)}</td>
<td class="num" title="${t.refreshTokenExpiresAt ?? ''}">${days(t.daysToRefreshExpiry)}</td>
<td class="num" title="${t.hardExpiresAt ?? ''}">${days(t.daysToHardExpiry)}</td>
<td>${pill(t.newToken ? 'new token' : t.level === 'ok' ? 'ok' : t.level === 'warn' ? 'expires soon' : 'reconnect', t.level)} <span class="advice">${t.advice}</span></td>
</tr>`,
  )}</tbody></table></div>`;
}

function triggersLine(c: CompanyOverview, now: Date): SafeHtml {
  const pending = c.triggers.filter((t) => t.status === 'pending' && t.enabled);
  const running = c.triggers.filter((t) => t.status === 'running');
  const next = pending[0];
  // The first one may be past its time (no scheduler ran it yet): then it is not what comes next, but what is late.
  const late = next !== undefined && Date.parse(next.at) <= now.getTime();
  return html`<p>${plural(pending.length, 'pending trigger')}${next ? html`, ${late ? 'the first due' : 'next'} ${time(next.at, now)} (${relative(next.at, now)}${late ? ', not started yet' : ''})` : ''}; ${running.length} running. <a href="/schedules">Schedules &amp; triggers</a></p>`;
}

/** How far back the overview's summary counts failed runs: last night, whatever the runs after them did. */
const RECENT_FAILURES_MS = 86_400_000;

/** Pure: a company's line in the summary: what needs action, what to check, and its runs that failed in the last 24 h. */
function companyGlance(
  c: CompanyOverview,
  now: Date,
): { readonly company: CompanyOverview; readonly name: string; readonly errors: number; readonly warnings: number; readonly failed: number } {
  const items = attentionOf(c, now);
  const since = now.getTime() - RECENT_FAILURES_MS;
  return {
    company: c,
    name: c.name,
    errors: items.filter((a) => a.level === 'error').length,
    warnings: items.filter((a) => a.level === 'warn').length,
    failed: c.runs.filter((r) => r.status === 'failed' && Date.parse(r.startedAt) >= since).length,
  };
}

/** The runs page's list of a company's failed runs. */
const failedRunsHref = (company: string) => `/runs?${new URLSearchParams({ company, status: 'failed' }).toString()}`;

/** Pure: the companies with something to look at, most urgent first. */
const toLook = (glances: ReadonlyArray<ReturnType<typeof companyGlance>>) =>
  glances.filter((g) => g.errors + g.warnings + g.failed > 0).sort((a, b) => b.errors - a.errors || b.failed - a.failed || b.warnings - a.warnings);

/**
 * With several companies, one table first: the companies with something to look at (most urgent
 * first, each linked to its section and its failed runs), and how many others are all well (linked
 * to their folded sections). This is what finds last night's failures in one look.
 */
function companiesSummary(look: ReturnType<typeof toLook>, companies: number): SafeHtml {
  const well = companies - look.length;
  const wellText = html`<a href="#all-well">${well} ${look.length > 0 ? 'other ' : ''}compan${well === 1 ? 'y' : 'ies'}</a>: nothing needs you, no run failed in the last 24 h`;
  if (look.length === 0) return html`<p class="allgood">${pill('ok')} ${wellText}.</p>`;
  return html`<section class="panel" aria-labelledby="at-a-glance"><h2 id="at-a-glance">${look.length} of ${companies} companies to look at</h2>
<div class="table-scroll"><table class="data">
<thead><tr><th scope="col">company</th><th scope="col" class="num">needs action</th><th scope="col" class="num">check</th><th scope="col" class="num">runs failed in the last 24 h</th></tr></thead>
<tbody>${look.map(
    (g) => html`<tr data-company="${g.name}"><th scope="row"><a href="#company-${g.name}">${g.name}</a></th>
<td class="num">${g.errors ? pill(String(g.errors), 'error') : '0'}</td>
<td class="num">${g.warnings ? pill(String(g.warnings), 'warn') : '0'}</td>
<td class="num">${g.failed ? html`<a href="${failedRunsHref(g.name)}">${g.failed}</a>` : '0'}</td></tr>`,
  )}</tbody></table></div>
${well > 0 ? html`<p class="muted">${wellText}.</p>` : ''}</section>`;
}

function companyHeading(c: CompanyOverview, extra: SafeHtml | string = ''): SafeHtml {
  return html`<h2 id="company-${c.name}">${c.name} <small>${c.realmId ? html`realm <code>${c.realmId}</code> · ` : ''}${c.schema ? html`schema <code>${c.schema}</code> · ` : ''}state <code>${c.stateDir}</code></small>${extra}</h2>`;
}

/** What the overview says of a company below its heading: what needs you, its streams, token health and triggers. */
function companyDetails(c: CompanyOverview, now: Date): SafeHtml {
  return html`${attentionList(attentionOf(c, now))}
<h3>Streams</h3>
${streamsTable(c, now)}
<h3>Token health</h3>
${tokensTable(c, now)}
<h3>Triggers</h3>
${triggersLine(c, now)}`;
}

const companySection = (c: CompanyOverview, now: Date) =>
  html`<section class="company" aria-labelledby="company-${c.name}">
${companyHeading(c)}
${companyDetails(c, now)}
</section>`;

/**
 * Pure: the folded line's streams: as many as its section lists (`company list`'s `all 28` counts
 * company_info too, which keeps no bookmark), the oldest bookmark's age, and how many still wait for
 * their first bookmark (`28 streams (3 with no bookmark yet), oldest bookmark 2 h old; …`).
 */
export function streamsGlance(c: CompanyOverview): string {
  const rows = streamRows(c);
  if (rows.length === 0) return 'no stream yet';
  const waiting = rows.filter((r) => r.freshness === undefined && entityByStream(r.stream)?.replication !== 'FULL_TABLE').length;
  const counted = `${plural(rows.length, 'stream')}${waiting > 0 && c.streams.length > 0 ? ` (${waiting} with no bookmark yet)` : ''}`;
  if (c.streams.length === 0) return `${counted}, no bookmark yet`;
  return `${counted}, oldest bookmark ${age(Math.max(...c.streams.map((s) => s.ageMs)))} old; ${endLagText(c.endLag)}`;
}

/**
 * A company among several that needs nothing of you: one line (`streamsGlance`, runs that failed
 * in the last 24 h though a later one went through) that opens to its whole section, without JavaScript.
 */
function foldedCompany(g: ReturnType<typeof companyGlance>, now: Date): SafeHtml {
  const c = g.company;
  const streams = streamsGlance(c);
  const failed = g.failed ? html` · <a href="${failedRunsHref(c.name)}">${plural(g.failed, 'run')} failed in the last 24 h</a>` : '';
  return html`<section class="company folded" aria-labelledby="company-${c.name}"><details><summary>${companyHeading(c, html` <small class="glance">${pill('ok')} ${streams}${failed}</small>`)}</summary>
${companyDetails(c, now)}
</details></section>`;
}

/**
 * One company: its section. Several: the summary table, then the sections of the companies that
 * need you (in its order, open), then one line for each of the others, opening to its section:
 * thirty companies' open sections ran to 28 screens and buried the few that need you.
 */
export function overviewView(companies: readonly CompanyOverview[], now: Date): SafeHtml {
  if (companies.length < 2)
    return html`<h1>Overview</h1>
${companies.map((c) => companySection(c, now))}`;
  const glances = companies.map((c) => companyGlance(c, now));
  const needsYou = (g: ReturnType<typeof companyGlance>) => g.errors + g.warnings > 0;
  return html`<h1>Overview</h1>
${companiesSummary(toLook(glances), companies.length)}
${toLook(glances.filter(needsYou)).map((g) => companySection(g.company, now))}
<div id="all-well">${glances.filter((g) => !needsYou(g)).map((g) => foldedCompany(g, now))}</div>`;
}
