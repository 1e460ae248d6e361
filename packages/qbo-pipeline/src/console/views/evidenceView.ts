import { DAY_STATUS_MEANING, DAY_STATUSES, type DayStatus, type StreamEvidence } from '../evidenceModel.js';
import { html, jsonForScript, type SafeHtml } from '../html.js';
import { count, option, pill, runIdText } from './format.js';
import { utc, utcClock } from '../../formatTime.js';

export interface EvidenceFilterForm {
  readonly company: string;
  readonly stream: string;
  readonly run: string;
  readonly from: string;
  readonly to: string;
  readonly problems: boolean;
}

export interface EvidencePage {
  readonly companies: readonly string[];
  readonly streams: readonly string[];
  /** Choices for the run filter: value and label, newest first. */
  readonly runs: ReadonlyArray<{ readonly value: string; readonly label: string }>;
  /** The runner run (runs journal) of each tap run id it knows, which the table links to. */
  readonly runnerRuns?: ReadonlyMap<string, string>;
  readonly filter: EvidenceFilterForm;
  readonly series: readonly StreamEvidence[];
  /** Why there is nothing to show (no warehouse, no evidence yet). */
  readonly unavailable?: string;
}

const STATUS_LEVEL: Readonly<Record<DayStatus, 'ok' | 'warn' | 'error' | 'muted'>> = {
  lost: 'error',
  missing: 'error',
  'count differs': 'warn',
  empty: 'muted',
  ok: 'ok',
};

function filterForm(p: EvidencePage): SafeHtml {
  const f = p.filter;
  return html`<form method="get" action="/evidence" class="filters" aria-label="Filter the evidence">
<label>Company <select name="company">${p.companies.map((c) => option(c, c, f.company))}</select></label>
<label>Stream <select name="stream">${option('', 'all streams', f.stream)}${p.streams.map((s) => option(s, s, f.stream))}</select></label>
<label>Run <select name="run">${option('', 'newest run of each day', f.run)}${p.runs.map((r) => option(r.value, r.label, f.run))}</select></label>
<label>From (UTC day) <input type="date" name="from" value="${f.from}"></label>
<label>To (UTC day) <input type="date" name="to" value="${f.to}"></label>
<label class="check"><input type="checkbox" name="problems" value="1"${f.problems ? html` checked` : ''}> only days that need a look</label>
<button type="submit">Show</button>
</form>`;
}

function legend(): SafeHtml {
  return html`<dl class="legend">${DAY_STATUSES.map((s) => html`<div><dt>${pill(s, STATUS_LEVEL[s])}</dt><dd>${DAY_STATUS_MEANING[s]}</dd></div>`)}</dl>`;
}

function summary(series: readonly StreamEvidence[]): SafeHtml {
  const total = (s: DayStatus) => series.reduce((n, e) => n + e.counts[s], 0);
  const days = series.reduce((n, e) => n + e.days.length, 0);
  const bad = total('lost') + total('missing');
  return html`<p class="summary">${count(days)} stream-days: ${bad === 0 ? pill('all loaded', 'ok') : pill(`${bad} need a look`, 'error')} ${DAY_STATUSES.filter((s) => total(s) > 0).map((s) => html`${pill(`${total(s)} ${s}`, STATUS_LEVEL[s])} `)}</p>`;
}

/** The chart's data: per stream, one entry per UTC day (what console.js draws with Chart.js). */
function chartData(series: readonly StreamEvidence[]) {
  return series.map((s) => ({
    stream: s.stream,
    days: s.days.map((d) => d.day),
    qbo: s.days.map((d) => d.evidence?.qboCount ?? null),
    extracted: s.days.map((d) => d.evidence?.extracted ?? null),
    loaded: s.days.map((d) => d.evidence?.loaded ?? null),
    status: s.days.map((d) => d.status),
  }));
}

/** Deleted rows' header: they come from QBO's change data capture, not from what the day's query read. */
const DELETED_TH = html`<th scope="col" class="num" title="deletions from QBO's change data capture the target marked: not part of extracted and loaded">deleted</th>`;

function streamTotals(series: readonly StreamEvidence[]): SafeHtml {
  const sum = (s: StreamEvidence, key: 'qboCount' | 'extracted' | 'loaded' | 'deleted') => s.days.reduce((n, d) => n + (d.evidence?.[key] ?? 0), 0);
  return html`<div class="table-scroll"><table class="data totals">
<thead><tr><th scope="col">stream</th><th scope="col" class="num">UTC days</th><th scope="col" class="num">QBO count</th><th scope="col" class="num">extracted</th><th scope="col" class="num">loaded</th>${DELETED_TH}<th scope="col">days by status</th></tr></thead>
<tbody>${series.map(
    (
      s,
    ) => html`<tr><th scope="row"><a href="#day-${s.stream}">${s.stream}</a></th><td class="num">${s.days.length}</td><td class="num">${count(sum(s, 'qboCount'))}</td><td class="num">${count(sum(s, 'extracted'))}</td><td class="num">${count(sum(s, 'loaded'))}</td><td class="num">${count(sum(s, 'deleted'))}</td>
<td>${DAY_STATUSES.filter((st) => s.counts[st] > 0).map((st) => html`${pill(`${s.counts[st]} ${st}`, STATUS_LEVEL[st])} `)}</td></tr>`,
  )}</tbody></table></div>`;
}

function charts(series: readonly StreamEvidence[]): SafeHtml {
  return html`<div class="charts">${series.map(
    (s) => html`<figure class="chart">
<figcaption>${s.stream}: QBO count, extracted and loaded per UTC day</figcaption>
<div class="canvas-box"><canvas data-stream="${s.stream}" role="img" aria-label="${s.stream}: bar chart of QBO count, extracted and loaded for ${s.days.length} UTC days; the table below has the numbers"></canvas></div>
</figure>`,
  )}</div>
<noscript><p class="muted">The charts need JavaScript; the table below has every number.</p></noscript>
<script type="application/json" id="evidence-data">${jsonForScript(chartData(series))}</script>`;
}

/**
 * Under a day that its newest run read only part of (a sync reads the part since the run before
 * it): which part, and how many runs read the day; its numbers are that part's, not the day's.
 * A part that reaches the day's start or end says only its other bound (`only from 06:00:00Z`,
 * `only until 10:03:04Z`), as the day is already said; else both (`only 09:59:03Z–10:03:04Z`).
 */
function partOfDay(day: string, e: NonNullable<StreamEvidence['days'][number]['evidence']>): SafeHtml | string {
  if (e.readFrom === undefined || e.readUntil === undefined) return '';
  const start = Date.parse(`${day}T00:00:00Z`);
  const end = start + 86_400_000;
  const from = Date.parse(e.readFrom);
  const until = Date.parse(e.readUntil);
  if (from <= start && until >= end) return '';
  const part = from <= start ? `until ${utcClock(until)}` : until >= end ? `from ${utcClock(from)}` : `${utcClock(from)}–${utcClock(until)}`;
  const runs = e.runs > 1 ? ` · newest of ${e.runs} runs` : '';
  return html`<small class="muted part-of-day" title="the numbers are what the day's newest run read of it${runs ? `; the run filter shows each of the ${e.runs} runs` : ''}">only ${part}${runs}</small>`;
}

/**
 * The run that read a day: the runner's run as the Runs page names it, linked to its page, while the
 * runs journal keeps it; after that only the tap's own run id is known, named as the run filter
 * names it. The tap run id stays in the tooltip, as it is in the warehouse's evidence rows.
 */
function readBy(tapRunId: string, extractedAt: string, runnerRun: string | undefined): SafeHtml {
  const title = `tap run ${tapRunId}, read ${utc(extractedAt)}`;
  return runnerRun
    ? html`<a href="/runs/${runnerRun}" title="${title}">${runIdText(runnerRun)}</a>`
    : html`<span title="${title}">tap run <code>${tapRunId.slice(0, 8)}</code></span>`;
}

function table(series: readonly StreamEvidence[], problemsOnly: boolean, runnerRuns: ReadonlyMap<string, string>): SafeHtml {
  const rows = series
    .flatMap((s) => s.days.map((d, i) => ({ stream: s.stream, first: i === 0, ...d })))
    .filter((r) => !problemsOnly || r.status === 'lost' || r.status === 'missing' || r.status === 'count differs');
  if (rows.length === 0) return html`<p class="allgood">${pill('ok')} No day needs a look in this selection.</p>`;
  return html`<div class="table-scroll"><table class="data evidence">
<thead><tr><th scope="col">UTC day</th><th scope="col">stream</th><th scope="col" class="num">QBO count</th><th scope="col" class="num">extracted</th><th scope="col" class="num">loaded</th><th scope="col" class="num">inserted</th><th scope="col" class="num">updated</th><th scope="col" class="num">unchanged</th>${DELETED_TH}<th scope="col" class="num">rejected</th><th scope="col">status</th><th scope="col">run</th></tr></thead>
<tbody>${rows.map((r) => {
    const e = r.evidence;
    return html`<tr class="status-${r.status.replace(' ', '-')}"${r.first ? html` id="day-${r.stream}"` : ''}>
<th scope="row">${r.day}${e ? partOfDay(r.day, e) : ''}</th><td>${r.stream}</td>
${
  e
    ? html`<td class="num">${count(e.qboCount)}</td><td class="num">${count(e.extracted)}</td><td class="num">${count(e.loaded)}</td><td class="num">${count(e.inserted)}</td><td class="num">${count(e.updated)}</td><td class="num">${count(e.unchanged)}</td><td class="num">${count(e.deleted)}</td><td class="num">${count(e.rejected)}</td>`
    : html`<td colspan="8" class="muted">no evidence</td>`
}
<td>${pill(r.status, STATUS_LEVEL[r.status])}</td>
<td>${e ? readBy(e.runId, e.extractedAt, runnerRuns.get(e.runId)) : ''}</td>
</tr>`;
  })}</tbody></table></div>`;
}

export function evidenceView(p: EvidencePage): SafeHtml {
  const body = p.unavailable
    ? html`<p class="notice error" role="alert">${p.unavailable}</p>`
    : p.series.length === 0
      ? html`<p class="muted">No evidence in this selection: widen the dates, or pick another stream or run.</p>`
      : html`${summary(p.series)}${streamTotals(p.series)}${charts(p.series)}<h2>Per stream and UTC day</h2>${table(p.series, p.filter.problems, p.runnerRuns ?? new Map())}`;
  return html`<h1>Evidence</h1>
<p class="lead">Per stream and UTC day: QBO's own count, what the tap extracted, and what the target loaded. They must agree.</p>
${filterForm(p)}
${body}
<details><summary>What the marks mean</summary>${legend()}</details>`;
}
