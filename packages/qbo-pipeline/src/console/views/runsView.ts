import { constants } from 'node:os';
import { formatDone, formatSpan } from '../../formatSpan.js';
import type { RunRecord } from '../../runs/RunRecord.js';
import { missingRunnerText, type RunnerMissing } from '../../runs/RunJournal.js';
import type { EvidenceTotals } from '../../Warehouse.js';
import { RECONCILE_WHY, volumetryLine } from '../../formatSummary.js';
import { endLagOf, endLagText } from '../freshness.js';
import { html, type SafeHtml } from '../html.js';
import { formatDuration } from '../../formatTable.js';
import { count, option, pill, range, runIdText, startedBy, streamsCell, time } from './format.js';
import { relative } from '../../formatTime.js';

/** A run as listed: the record, its company, and, while it says running, whether its runner is missing (`RunJournal.runnerMissing`). */
export interface ListedRun {
  readonly company: string;
  readonly record: RunRecord;
  readonly orphaned: RunnerMissing | undefined;
}

export interface RunsFilter {
  readonly company: string;
  readonly job: string;
  readonly status: string;
}

/** How long a run took, or has been running; unknown for one whose runner is gone (it ended without saying when), closed or not yet. */
function durationOf(run: ListedRun, now: Date): SafeHtml | string {
  const r = run.record;
  if (run.orphaned || r.runnerGone) return html`<span class="muted" title="its runner is gone: it ended without saying when">unknown</span>`;
  return formatDuration((r.finishedAt ? Date.parse(r.finishedAt) : now.getTime()) - Date.parse(r.startedAt));
}

function statusPill(run: ListedRun): SafeHtml {
  if (run.orphaned === 'gone') return html`${pill('running', 'warn')} <small>runner gone</small>`;
  if (run.orphaned === 'silent') return html`${pill('running', 'warn')} <small>${missingRunnerText(run.record, 'silent')}</small>`;
  return run.record.runnerGone ? html`${pill(run.record.status)} <small>runner gone</small>` : pill(run.record.status);
}

/** What started it, short, over a detail (a schedule's slot, a trigger's id); the whole of it in its tooltip (`startedBy`). */
function origin(r: RunRecord): SafeHtml | string {
  const by = startedBy(r);
  return by.detail
    ? html`<span title="${by.full}${by.slotTrigger ? ` (trigger ${by.slotTrigger})` : ''}">${by.short}<br><small class="muted">${by.detail}</small></span>`
    : by.short;
}

/** What started it, in full, for the run's page: a schedule slot's trigger by its whole id too. */
function startedByFacts(r: RunRecord): SafeHtml {
  const by = startedBy(r);
  return html`${by.full}${by.slotTrigger ? html` · trigger <code>${by.slotTrigger}</code>` : ''}`;
}

/**
 * Pure: what a run did to the warehouse, in words a person reads right, from its record only:
 * `2 new · 1 changed · 1 deleted` over `read 3,420 · 3,417 unchanged`; a sync that read rows it
 * already had says `nothing changed` over `read 3,420`, never that it loaded them. Records it read but did not load
 * are said in red. A record of an older runner knows only rows taken in and deleted, and says so.
 */
export function runOutcome(r: RunRecord): SafeHtml {
  const m = r.moved;
  if (r.notStarted) return html`<span title="${NOT_STARTED}">did not start</span>`;
  if (!m) {
    const why = r.status === 'running' ? 'counted when it ends' : 'the warehouse could not say after the run';
    return html`<span class="muted" title="${why}">–</span>`;
  }
  const n = (value: number, what: string) => (value > 0 ? [`${count(value)} ${what}`] : []);
  if (r.kind === 'reconcile')
    return r.dryRun ? html`<span class="muted">dry run: nothing marked</span>` : html`${n(m.deleted, 'marked deleted')[0] ?? 'nothing to mark'}`;
  if (m.read === undefined) {
    return html`<span title="rows taken in, new, changed or unchanged: this run's runner did not record which">${count(m.loaded)} taken in</span>${m.deleted > 0 ? html` · ${count(m.deleted)} deleted` : ''}`;
  }
  const done = [...n(m.inserted ?? 0, 'new'), ...n(m.updated ?? 0, 'changed'), ...n(m.deleted, 'deleted')];
  const main = done.length > 0 ? done : [m.read > 0 ? 'nothing changed' : r.status === 'succeeded' ? 'nothing new' : 'nothing loaded'];
  // Beside `nothing changed`, what it read was all unchanged: saying so again would only make the line longer.
  const detail = m.read > 0 ? [`read ${count(m.read)}`, ...(done.length > 0 ? n(m.unchanged ?? 0, 'unchanged') : [])] : [];
  const parts = (list: readonly string[]) => list.map((part, i) => html`${i > 0 ? ' · ' : ''}<span class="part">${part}</span>`);
  const lost = m.read - m.loaded;
  return html`${parts(main)}${detail.length > 0 ? html`<br><small class="muted">${parts(detail)}</small>` : ''}${
    lost > 0 ? html`<br>${pill(`${count(lost)} read, not loaded`, 'error')}` : ''
  }`;
}

/** What a run that did not start did: nothing, since nothing ran (`RunRecord.notStarted`). */
const NOT_STARTED = 'refused before its tap started: nothing was read or loaded, and its state file is as it was';

/** Where a page of runs lies among those the filter matches: `skipped` newer ones before it, and the last run shown when there are older ones. */
export interface RunsPage {
  readonly total: number;
  readonly skipped: number;
  readonly olderThan?: string;
}

/** The runs page's address for the filter, from `before` (a run id) when given. */
function runsHref(filter: RunsFilter, before?: string): string {
  const query = new URLSearchParams(Object.entries({ ...filter, ...(before ? { before } : {}) }).filter(([, v]) => v !== '')).toString();
  return query ? `/runs?${query}` : '/runs';
}

/** Which runs of how many the page shows, and the links to older and to the newest ones. */
function pager(p: { readonly runs: readonly ListedRun[]; readonly page: RunsPage; readonly filter: RunsFilter }): SafeHtml | string {
  const { total, skipped, olderThan } = p.page;
  if (skipped === 0 && total <= p.runs.length) return '';
  if (p.runs.length === 0)
    return html`<nav class="pager" aria-label="More runs"><p>No run older than that · <a href="${runsHref(p.filter)}">newest runs</a></p></nav>`;
  return html`<nav class="pager" aria-label="More runs"><p>Runs ${count(skipped + 1)}–${count(skipped + p.runs.length)} of ${count(total)}, newest first${
    olderThan ? html` · <a href="${runsHref(p.filter, olderThan)}" rel="next">older runs</a>` : ''
  }${skipped > 0 ? html` · <a href="${runsHref(p.filter)}">newest runs</a>` : ''}${
    skipped === 0
      ? html` <small class="muted">(a company, job or status above narrows them: <a href="${runsHref({ ...p.filter, status: 'failed' })}">failed runs only</a>)</small>`
      : ''
  }</p></nav>`;
}

export function runsView(p: {
  readonly runs: readonly ListedRun[];
  readonly companies: readonly string[];
  readonly jobs: readonly string[];
  readonly filter: RunsFilter;
  readonly page: RunsPage;
  readonly problems: readonly string[];
  readonly now: Date;
}): SafeHtml {
  const many = p.companies.length > 1;
  const running = p.runs.filter((r) => r.record.status === 'running' && !r.orphaned).length;
  return html`<h1>Runs</h1>
<p class="lead">Every backfill, sync and reconcile the runner did, newest first${running ? html` · ${pill(`${running} running`, 'info')}` : ''}.</p>
<form method="get" action="/runs" class="filters" aria-label="Filter the runs">
${many ? html`<label>Company <select name="company">${option('', 'all companies', p.filter.company)}${p.companies.map((c) => option(c, c, p.filter.company))}</select></label>` : ''}
<label>Job <select name="job">${option('', 'all jobs', p.filter.job)}${p.jobs.map((j) => option(j, j, p.filter.job))}</select></label>
<label>Status <select name="status">${option('', 'any status', p.filter.status)}${['running', 'succeeded', 'failed', 'stopped'].map((s) => option(s, s, p.filter.status))}</select></label>
<button type="submit">Show</button>
</form>
${p.problems.map((problem) => html`<p class="notice error" role="alert">${problem}</p>`)}
${pager(p)}
${
  p.runs.length === 0
    ? p.problems.length > 0
      ? ''
      : html`<p class="muted">No run here yet. Runs appear as soon as a backfill starts, by hand, from a trigger or from a schedule.</p>`
    : html`<div class="table-scroll"><table class="data runs">
<thead><tr><th scope="col">run</th>${many ? html`<th scope="col">company</th>` : ''}<th scope="col">status</th><th scope="col">kind · job</th><th scope="col">streams</th><th scope="col">started</th><th scope="col" class="num">took</th><th scope="col">started by</th><th scope="col">what it did</th></tr></thead>
<tbody>${p.runs.map((run) => {
        const r = run.record;
        // Why it failed, and a reconcile to run, take the row's whole width under it: squeezed into a last column they were off the screen.
        const note =
          r.reason || r.reconcileCommand
            ? html`<tr class="run-note" data-run-note="${r.id}"><td colspan="${many ? 9 : 8}">${r.reason ? html`<small>${r.notStarted ? 'why it did not start' : r.status === 'failed' || r.status === 'running' ? 'why it failed' : `why it ${r.status}`}: ${r.reason}</small>` : ''}${
                r.reconcileCommand
                  ? html`${r.reason ? html`<br>` : ''}<small>deletions may be missing: <a href="/runs/${r.id}#reconcile">reconcile</a></small>`
                  : ''
              }</td></tr>`
            : '';
        return html`<tr data-run="${r.id}"${note ? html` class="has-note"` : ''}>
<th scope="row"><a href="/runs/${r.id}">${runIdText(r.id)}</a>${r.attempt > 1 ? html` <small>attempt ${r.attempt}</small>` : ''}</th>
${many ? html`<td>${run.company}</td>` : ''}
<td>${statusPill(run)}</td>
<td>${r.kind}<br><span class="muted job">${r.job}</span></td>
<td>${streamsCell(r.streams)}</td>
<td class="when">${time(r.startedAt, p.now)} <small class="muted">${relative(r.startedAt, p.now)}</small></td>
<td class="num">${durationOf(run, p.now)}</td>
<td class="by">${origin(r)}</td>
<td class="outcome">${runOutcome(r)}</td>
</tr>${note}`;
      })}</tbody></table></div>
${pager(p)}`
}`;
}

// ---- one run --------------------------------------------------------------------------------

/** A child's exit code, with the signal a code past 128 stands for: `143 (SIGTERM)`, the tap the runner stopped as the target failed. */
function exitText(code: number | undefined): string {
  if (code === undefined) return '–';
  const signal = code > 128 ? Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] : undefined;
  return signal ? `${code} (${signal})` : String(code);
}

/** The parts of a run page that change while it runs; each has an id the live updates replace. */
export function runFacts(run: ListedRun, now: Date): SafeHtml {
  const r = run.record;
  const exits = r.tapExit !== undefined || r.targetExit !== undefined ? `tap ${exitText(r.tapExit)}, target ${exitText(r.targetExit)}` : undefined;
  return html`<dl class="facts" id="run-facts">
<dt>status</dt><dd data-status="${r.status}">${statusPill(run)}${r.exitCode !== undefined ? html` exit ${r.exitCode}` : ''}${exits ? html` <small class="muted">(${exits})</small>` : ''}</dd>
<dt>kind · job</dt><dd>${r.kind} · ${r.job}${r.company ? html` · company ${r.company}` : ''}</dd>
<dt>range</dt><dd>${range(r.range.start, r.range.end)}${r.kind === 'sync' && r.endLag !== undefined ? html` <small class="end-lag">· ${endLagText(endLagOf(undefined, [r]))}</small>` : ''}${r.fresh ? html` <small>· started over (--fresh): its state file set aside, the whole range read anew</small>` : ''}</dd>
<dt>started by</dt><dd>${startedByFacts(r)}${r.attempt > 1 ? html` · attempt ${r.attempt}` : ''}</dd>
${r.moved || r.notStarted ? html`<dt>what it did</dt><dd>${r.notStarted ? `did not start: ${NOT_STARTED}` : runOutcome(r)}</dd>` : ''}
<dt>where</dt><dd>pid ${r.pid} on ${r.host}</dd>
<dt>started</dt><dd>${time(r.startedAt, now)}</dd>
<dt>${r.finishedAt ? 'finished' : r.runnerGone || run.orphaned ? 'last sign of life' : 'last update'}</dt><dd>${time(r.runnerGone ? r.runnerGone.lastSignOfLife : (r.finishedAt ?? r.updatedAt), now)} · ${run.orphaned || r.runnerGone ? 'how long it ran is unknown (its runner is gone)' : html`${r.finishedAt ? 'took' : 'running for'} ${durationOf(run, now)}`}</dd>
${r.reason && r.reason !== r.fix ? html`<dt>why</dt><dd>${r.reason}</dd>` : ''}
${r.fix ? html`<dt>${r.fix === r.reason ? 'why · fix this first' : 'fix first'}</dt><dd>${r.fix}</dd>` : ''}
${r.resumeCommand ? html`<dt>resume with</dt><dd><pre class="command"><code>${r.resumeCommand}</code></pre></dd>` : ''}
${r.reconcileCommand ? html`<dt id="reconcile">reconcile</dt><dd>${RECONCILE_WHY}:<pre class="command"><code>${r.reconcileCommand}</code></pre></dd>` : ''}
${r.runnerGone ? html`<dt>note</dt><dd>Its runner (pid ${r.pid} on ${r.host}) was gone, killed or its machine restarted, before the run ended; ${r.runnerGone.byRun ? html`run <a href="/runs/${r.runnerGone.byRun}">${r.runnerGone.byRun}</a> of the job` : (r.runnerGone.bySweeper ?? 'a scheduler')} found it so ${time(r.runnerGone.foundAt, now)} and closed it.</dd>` : ''}
${run.orphaned === 'gone' ? html`<dt>note</dt><dd>This run says running, but its runner (pid ${r.pid}) is gone: it was killed or the machine restarted. Run the job again to resume from its state file.</dd>` : ''}
${run.orphaned === 'silent' ? html`<dt>note</dt><dd>This run says running, but no runner holds its job's lock (a runner refreshes it every second): its runner (pid ${r.pid} on ${r.host}) was probably killed, or its machine restarted. A running scheduler closes it as failed; so does the job's next run, which resumes from its state file.</dd>` : ''}
</dl>`;
}

/** Each stream's bar and how much of the run's range it committed, in the range's own unit (a sync of minutes in minutes). */
export function runProgress(run: ListedRun): SafeHtml {
  const r = run.record;
  const start = Date.parse(r.range.start);
  const totalMs = Date.parse(r.range.end) - start;
  return html`<div class="progress-list" id="run-progress">${r.progress.map((p) => {
    const done = formatDone(Date.parse(p.doneUntil) - start, totalMs);
    return html`<div class="progress-row" data-stream="${p.stream}" data-complete="${p.complete ? 'yes' : 'no'}">
<span><b>${p.stream}</b></span>
<progress max="${totalMs}" value="${Date.parse(p.doneUntil) - start}" aria-label="${p.stream}: ${done} committed">${done}</progress>
<span>${p.complete ? html`${pill('done', 'ok')} ${formatSpan(totalMs)}` : done} <small class="muted">${Date.parse(p.doneUntil) > start ? html`committed up to <time datetime="${p.doneUntil}">${p.doneUntil.replace('T', ' ')}</time>` : 'nothing committed'}</small></span>
</div>`;
  })}</div>`;
}

export function runLog(lines: readonly string[]): SafeHtml {
  return html`<pre class="log" id="run-log" tabindex="0" aria-label="log tail">${lines.length === 0 ? '(nothing logged yet)' : lines.join('\n')}</pre>`;
}

/** What the run moved per stream, from the evidence; or why that cannot be shown. */
export function runTotals(totals: readonly EvidenceTotals[] | string): SafeHtml {
  if (typeof totals === 'string') return html`<div id="run-totals"><p class="muted">${totals}</p></div>`;
  return html`<div id="run-totals"><div class="table-scroll"><table class="data totals">
<thead><tr><th scope="col">stream</th><th scope="col" class="num">windows</th><th scope="col" class="num">QBO count</th><th scope="col" class="num">extracted</th><th scope="col" class="num">loaded</th><th scope="col" class="num">inserted</th><th scope="col" class="num">updated</th><th scope="col" class="num">unchanged</th><th scope="col" class="num" title="deletions from QBO's change data capture the target marked: not part of extracted and loaded">deleted</th><th scope="col" class="num">empty windows</th><th scope="col">extracted = loaded</th></tr></thead>
<tbody>${totals.map(
    (t) =>
      html`<tr><th scope="row">${t.stream}</th><td class="num">${t.windows}</td><td class="num">${count(t.qboCount)}</td><td class="num">${count(t.extracted)}</td><td class="num">${count(t.loaded)}</td><td class="num">${count(t.inserted)}</td><td class="num">${count(t.updated)}</td><td class="num">${count(t.unchanged)}</td><td class="num">${count(t.deleted)}</td><td class="num">${t.emptyWindows}</td><td>${t.extractedEqualsLoaded ? pill('yes', 'ok') : pill('no', 'error')}</td></tr>`,
  )}</tbody></table></div>${volumetryNote(volumetryLine(totals))}</div>`;
}

/** The target's log tail counts the tap's evidence rows too: said under the totals (`volumetryLine`). */
const volumetryNote = (line: string | undefined) => (line === undefined ? '' : html`<p class="muted">${line}</p>`);

/** Links from a run: to the list, and to its evidence once it has some. */
export function runLinks(run: ListedRun): SafeHtml {
  const r = run.record;
  const evidence =
    r.tapRunIds.length > 0
      ? html`<a href="/evidence?company=${encodeURIComponent(run.company)}&amp;run=${encodeURIComponent(r.id)}">this run's evidence per UTC day</a>`
      : html`<span class="muted">${r.status === 'running' ? 'its evidence per UTC day is linked here when it ends' : 'it left no evidence'}</span>`;
  return html`<p id="run-links"><a href="/runs">All runs</a> · ${evidence}</p>`;
}

export function runLogHeading(run: ListedRun, logLines: number): SafeHtml {
  const live = run.record.status === 'running' && !run.orphaned;
  return html`<h2 id="run-log-heading">Log <small>last ${logLines} lines, secrets redacted${live ? ' · live' : ''}</small></h2>`;
}

export function runView(run: ListedRun, totals: readonly EvidenceTotals[] | string, log: readonly string[], logLines: number, now: Date): SafeHtml {
  const r = run.record;
  return html`<div data-run-events="/runs/${r.id}/events" data-status="${r.status}">
<h1>Run <code>${r.id}</code></h1>
${runLinks(run)}
${runFacts(run, now)}
<h2>Progress per stream</h2>
${runProgress(run)}
<h2>What it moved <small>from the evidence in the warehouse</small></h2>
${runTotals(totals)}
${runLogHeading(run, logLines)}
${runLog(log)}
</div>`;
}
