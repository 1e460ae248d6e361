import { DAY_STATUS_MEANING, DAY_STATUSES, type DayStatus, type StreamEvidence } from '../evidenceModel.js';
import { html, jsonForScript, type SafeHtml } from '../html.js';
import { count, option, pill, runIdText } from './format.js';
import { utc, utcClock } from '../../formatTime.js';
import { plural } from 'singer-kit';

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

/** A stream's days by status, worst first: `29 ok` `2 empty`. */
const daysByStatus = (s: StreamEvidence): SafeHtml[] =>
  DAY_STATUSES.filter((st) => s.counts[st] > 0).map((st) => html`${pill(`${s.counts[st]} ${st}`, STATUS_LEVEL[st])} `);

function streamTotals(series: readonly StreamEvidence[]): SafeHtml {
  const sum = (s: StreamEvidence, key: 'qboCount' | 'extracted' | 'loaded' | 'deleted') => s.days.reduce((n, d) => n + (d.evidence?.[key] ?? 0), 0);
  return html`<div class="table-scroll"><table class="data totals">
<thead><tr><th scope="col">stream</th><th scope="col" class="num">UTC days</th><th scope="col" class="num">QBO count</th><th scope="col" class="num">extracted</th><th scope="col" class="num">loaded</th>${DELETED_TH}<th scope="col">days by status</th></tr></thead>
<tbody>${series.map(
    (
      s,
    ) => html`<tr><th scope="row"><a href="#day-${s.stream}">${s.stream}</a></th><td class="num">${s.days.length}</td><td class="num">${count(sum(s, 'qboCount'))}</td><td class="num">${count(sum(s, 'extracted'))}</td><td class="num">${count(sum(s, 'loaded'))}</td><td class="num">${count(sum(s, 'deleted'))}</td>
<td>${daysByStatus(s)}</td></tr>`,
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
 * The run that read a day, or consecutive days of one stream (a backfill reads them all): the
 * runner's run as the Runs page names it, linked to its page, while the runs journal keeps it; after
 * that only the tap's own run id is known, named as the run filter names it. The tap run id and
 * when it read the days stay in the tooltip, as they are in the warehouse's evidence rows.
 */
function readBy(tapRunId: string, readAt: readonly string[], runnerRun: string | undefined): SafeHtml {
  const first = readAt.reduce((a, b) => (b < a ? b : a));
  const last = readAt.reduce((a, b) => (b > a ? b : a));
  const title = `tap run ${tapRunId}, read ${utc(first)}${last === first ? '' : ` to ${utc(last)}`}`;
  return runnerRun
    ? html`<a href="/runs/${runnerRun}" title="${title}">${runIdText(runnerRun)}</a>`
    : html`<span title="${title}">tap run <code>${tapRunId.slice(0, 8)}</code></span>`;
}

const needsALook = (status: DayStatus) => status === 'lost' || status === 'missing' || status === 'count differs';

type DayRow = StreamEvidence['days'][number];

/** Pure: a stream's rows in runs of consecutive rows read by one tap run (a missing day, read by none, alone). */
export function byTapRun(rows: readonly DayRow[]): DayRow[][] {
  const out: DayRow[][] = [];
  for (const row of rows) {
    const group = out.at(-1);
    if (group && row.evidence && group[0]!.evidence?.runId === row.evidence.runId) group.push(row);
    else out.push([row]);
  }
  return out;
}

/** The run cell of a group of days one tap run read, over them all (empty for a missing day). */
function runCell(group: readonly DayRow[], runnerRuns: ReadonlyMap<string, string>): SafeHtml {
  const e = group[0]?.evidence;
  const read = e
    ? readBy(
        e.runId,
        group.map((g) => g.evidence?.extractedAt ?? e.extractedAt),
        runnerRuns.get(e.runId),
      )
    : '';
  return html`<td class="run"${group.length > 1 ? html` rowspan="${group.length}"` : ''}>${read}</td>`;
}

/** The per-day table's header, said once per stream. */
const DAY_HEAD = html`<thead><tr><th scope="col">UTC day</th>${['QBO count', 'extracted', 'loaded', 'inserted', 'updated', 'unchanged'].map((h) => html`<th scope="col" class="num">${h}</th>`)}${DELETED_TH}<th scope="col" class="num">rejected</th><th scope="col">status</th><th scope="col">run</th></tr></thead>`;

/**
 * One stream's days: a row per day, its numbers (right-aligned by the stylesheet, not a class on
 * each of a month of 28 streams' 7,000 cells) and status, and the run that read it in one cell
 * over the days it read.
 */
function streamDays(s: StreamEvidence, rows: readonly DayRow[], runnerRuns: ReadonlyMap<string, string>): SafeHtml {
  return html`<table class="data evidence">${DAY_HEAD}<tbody>${byTapRun(rows).map((group) =>
    group.map((r, i) => {
      const e = r.evidence;
      const run = i > 0 ? '' : runCell(group, runnerRuns);
      return html`<tr class="status-${r.status.replace(' ', '-')}"${r === rows[0] ? html` id="day-${s.stream}"` : ''}>
<th scope="row">${r.day}${e ? partOfDay(r.day, e) : ''}</th>${
        e
          ? html`<td>${count(e.qboCount)}</td><td>${count(e.extracted)}</td><td>${count(e.loaded)}</td><td>${count(e.inserted)}</td><td>${count(e.updated)}</td><td>${count(e.unchanged)}</td><td>${count(e.deleted)}</td><td>${count(e.rejected)}</td>`
          : html`<td colspan="8" class="muted">no evidence</td>`
      }<td class="status">${pill(r.status, STATUS_LEVEL[r.status])}</td>${run}</tr>`;
    }),
  )}</tbody></table>`;
}

/**
 * Per stream, its days, each stream folded to one line (its days by status) unless it has a day
 * that needs a look, or it is the only one shown: a month of 28 streams is 900 rows, which took
 * seconds to lay out, and nobody reads the ok ones whole; a folded stream opens in place, and the
 * totals table's link to it opens it.
 */
function table(series: readonly StreamEvidence[], problemsOnly: boolean, runnerRuns: ReadonlyMap<string, string>): SafeHtml {
  const shown = series.map((s) => ({ s, rows: s.days.filter((d) => !problemsOnly || needsALook(d.status)) })).filter(({ rows }) => rows.length > 0);
  if (shown.length === 0) return html`<p class="allgood">${pill('ok')} No day needs a look in this selection.</p>`;
  return html`${shown.map(
    ({ s, rows }) =>
      html`<details class="stream-days"${shown.length === 1 || problemsOnly || s.days.some((d) => needsALook(d.status)) ? html` open` : ''}><summary><strong>${s.stream}</strong> · ${plural(s.days.length, 'UTC day')} ${daysByStatus(s)}</summary>
<div class="table-scroll">${streamDays(s, rows, runnerRuns)}</div></details>
`,
  )}`;
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
