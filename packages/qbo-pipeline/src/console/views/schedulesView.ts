import { plural } from 'singer-kit';
import type { Schedule } from '../../schedules/Schedule.js';
import { triggerJob, type Trigger } from '../../triggers/Trigger.js';
import { triggerStatus } from '../../triggers/formatTriggers.js';
import { lateness } from '../../scheduler/planPass.js';
import type { SetAside } from '../../triggers/TriggerStore.js';
import { html, type SafeHtml } from '../html.js';
import type { ZonedInstant } from '../zonedInstant.js';
import { count, option, pill, range, slotsHref, streamsCell, time } from './format.js';
import { inZone, utc } from '../../formatTime.js';

/** The trigger form as the person filled it (echoed back on a preview or an error). */
export interface TriggerForm {
  readonly company: string;
  readonly at: string;
  readonly zone: string;
  readonly streams: readonly string[];
  readonly start: string;
  readonly end: string;
  readonly job: string;
  readonly fresh: boolean;
}

/** A recurring sync as listed: its last slot (and how that went) and its next one. */
export interface ScheduleRow {
  readonly company: string;
  readonly schedule: Schedule;
  /** The streams its sync runs (`scheduledStreams`: a company's own schedule runs the company's). */
  readonly streams: readonly string[];
  readonly last?: { readonly slot: string; readonly trigger?: Trigger; readonly runId?: string };
  /** The next slot (UTC), or why there is none. */
  readonly next: { readonly at: string } | { readonly none: string };
  /** How many of its slot triggers are kept, per status. */
  readonly slots: Readonly<Record<string, number>>;
  /** Set for a company's `schedule:` in the companies file (where): changed by editing the file, not here. */
  readonly fromFile?: string;
}

/** A schedule whose slot triggers the page lists. */
export interface SlotsOf {
  readonly company: string;
  readonly schedule: string;
}

export interface SchedulesPage {
  readonly companies: readonly string[];
  /** The companies come from a companies file (a company may run its own streams). */
  readonly companiesFile: boolean;
  readonly schedules: readonly ScheduleRow[];
  /** Why some schedules could not be read. */
  readonly scheduleProblems: readonly string[];
  /** Triggers left out of the list (only the newest are shown). */
  readonly hiddenTriggers: number;
  /** The triggers listed are this schedule's slots; else the one-time triggers and the slots pending or running. */
  readonly slotsOf?: SlotsOf;
  /** Slot triggers not listed (each schedule's row counts its own and links to them). */
  readonly foldedSlots?: number;
  readonly triggers: ReadonlyArray<{
    readonly company: string;
    readonly trigger: Trigger;
    /** The streams it runs (`triggerStreams`: with none named, its company's). */
    readonly streams: readonly string[];
    readonly runId?: string;
  }>;
  /** Trigger files that cannot be read: set aside by the scheduler (`<file>.unreadable`), or to be at its next pass. */
  readonly unreadableTriggers: ReadonlyArray<{
    readonly company: string;
    readonly file: string;
    readonly folder: string;
    readonly problem: string;
    readonly when: SetAside['when'];
  }>;
  readonly allStreams: readonly string[];
  readonly zones: readonly string[];
  /** Zone of the second time column and the form's default. */
  readonly zone: string;
  readonly form: TriggerForm;
  /** The form's instant, when it reads (preview). */
  readonly preview?: ZonedInstant;
  /** What was wrong with the form (nothing was saved). */
  readonly formError?: string;
  readonly csrfToken: string;
  readonly now: Date;
}

/** UTC and the chosen zone side by side: the one thing a person must not get wrong. */
function instantPair(preview: ZonedInstant | undefined, zone: string): SafeHtml {
  return html`<output class="instant-pair" id="at-preview" for="at zone" aria-live="polite">
<span><b>UTC</b> <span data-utc>${preview ? preview.utc.replace('T', ' ') : '–'}</span></span>
<span><b data-zone-name>${preview?.zone ?? zone}</b> <span data-zoned>${preview ? `${preview.wallClock} (UTC${preview.offset})` : '–'}</span></span>
</output>`;
}

function triggerForm(p: SchedulesPage): SafeHtml {
  const f = p.form;
  return html`<form method="post" action="/triggers" class="trigger-form" novalidate>
<input type="hidden" name="_csrf" value="${p.csrfToken}">
${p.formError ? html`<p class="notice error" role="alert" id="form-error">${sentence(p.formError)} Nothing was saved.</p>` : ''}
${p.companies.length > 1 ? html`<label>Company <select name="company">${p.companies.map((c) => option(c, c, f.company))}</select></label>` : html`<input type="hidden" name="company" value="${f.company}">`}
<fieldset><legend>When</legend>
<div class="row">
<label>Date and time <input type="datetime-local" name="at" id="at" step="1" value="${f.at}" required></label>
<label>in time zone <select name="zone" id="zone">${p.zones.map((z) => option(z, z, f.zone))}</select></label>
</div>
${instantPair(p.preview, f.zone)}
</fieldset>
<fieldset><legend>What: a backfill of these streams over [start, end)</legend>
${p.companiesFile ? html`<p class="muted">Tick none to run the company's own streams (its <code>streams:</code> in the companies file).</p>` : ''}
<div class="streams">${p.allStreams.map((s) => html`<label class="check"><input type="checkbox" name="streams" value="${s}"${f.streams.includes(s) ? html` checked` : ''}> ${s}</label>`)}</div>
<div class="row">
<label>Start (UTC day, inclusive) <input type="date" name="start" value="${f.start}" required></label>
<label>End (UTC day, exclusive) <input type="date" name="end" value="${f.end}" required></label>
<label>Job <input type="text" name="job" value="${f.job}" placeholder="qb_&lt;streams, sorted&gt;" pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]*"></label>
<label class="check"><input type="checkbox" name="fresh" value="1"${f.fresh ? html` checked` : ''}> fresh (ignore the job's bookmarks)</label>
</div>
</fieldset>
<div class="actions">
<button type="submit" name="action" value="preview" class="secondary">Preview the time</button>
<button type="submit" name="action" value="add">Add trigger</button>
</div>
</form>`;
}

/** A trigger's result line; one that counts its streams (`done: all 28 streams …`) names each in its tooltip, as the run's page does. */
function resultText(result: Trigger['result']): SafeHtml {
  return result?.detail ? html`<small title="${result.detail}">${result.message}</small>` : html`<small>${result?.message ?? ''}</small>`;
}

function triggersTable(p: SchedulesPage): SafeHtml {
  if (p.triggers.length === 0) return html`<p class="muted">${p.slotsOf ? 'No slot trigger of this schedule is kept.' : 'No trigger yet.'}</p>`;
  // In UTC the second column would repeat the first (and push the result off a laptop's table).
  const alsoInZone = p.zone !== 'UTC';
  return html`<div class="table-scroll"><table class="data triggers">
<thead><tr>${p.companies.length > 1 ? html`<th scope="col">company</th>` : ''}<th scope="col">trigger</th><th scope="col">at (UTC)</th>${alsoInZone ? html`<th scope="col">at (${p.zone})</th>` : ''}<th scope="col">status</th><th scope="col">job</th><th scope="col">streams</th><th scope="col">range</th><th scope="col">result</th></tr></thead>
<tbody>${p.triggers.map(({ company, trigger: t, streams, runId }) => {
    const status = triggerStatus(t, p.now);
    return html`<tr data-trigger="${t.id}">
${p.companies.length > 1 ? html`<td>${company}</td>` : ''}
<th scope="row"><code>${t.id}</code></th>
<td><span title="given as ${t.atGiven}">${time(t.at, p.now)}</span></td>
${alsoInZone ? html`<td>${inZone(t.at, p.zone)}</td>` : ''}
<td>${pill(t.status)}${t.status === 'running' && t.startedAt ? html` <small>since ${utc(t.startedAt)} on ${t.claimedBy?.host ?? '?'}</small>` : status !== t.status ? html` <small>${status.slice(t.status.length).trim()}</small>` : ''}</td>
<td>${triggerJob(t)}</td>
<td>${streamsCell(streams)}</td>
<td class="when">${t.backfill ? range(t.backfill.start, t.backfill.end) : html`sync to its start${t.schedule ? html`<br><small class="muted">slot of schedule ${t.schedule.name}</small>` : ''}`}</td>
<td>${runId ? html`<a href="/runs/${runId}">${t.status === 'running' ? 'follow the run' : 'the run'}</a>${t.result?.message ? html`<br>` : ''}` : ''}${resultText(t.result)}${
      t.result?.reconcileCommand && runId ? html`<br><small>deletions may be missing: <a href="/runs/${runId}#reconcile">reconcile</a></small>` : ''
    }</td>
</tr>`;
  })}</tbody></table></div>${p.hiddenTriggers > 0 ? html`<p class="muted">${p.hiddenTriggers} older triggers are not shown (<code>qbo-pipeline trigger list</code> lists them all).</p>` : ''}`;
}

/** A slot on its schedule's wall clock, under its UTC instant (nothing more to say for a schedule in UTC). */
const onWallClock = (iso: string, tz: string) => (tz === 'UTC' ? '' : html`<br><small>${inZone(iso, tz)} ${tz}</small>`);

/** How many slot triggers of the schedule are kept, how they went, and the link to them. */
function slotCounts(row: ScheduleRow, zone: string): SafeHtml | string {
  const kept = Object.values(row.slots).reduce((a, b) => a + b, 0);
  if (kept === 0) return '';
  const statuses = Object.entries(row.slots).sort(([a], [b]) => a.localeCompare(b));
  return html`<br><small class="slot-counts"><a href="${slotsHref({ company: row.company, schedule: row.schedule.name }, zone)}">${plural(kept, 'slot', count)} kept</a>: ${statuses.map(
    ([status, n], i) => html`${i > 0 ? ', ' : ''}${count(n)} ${status}`,
  )}</small>`;
}

/** A button that changes a schedule: its own small form, with the CSRF token. */
function scheduleAction(p: SchedulesPage, row: ScheduleRow, action: 'pause' | 'resume' | 'remove', label: string, cls = 'secondary'): SafeHtml {
  return html`<form method="post" action="/schedules/${row.schedule.name}/${action}" class="inline-action">
<input type="hidden" name="_csrf" value="${p.csrfToken}"><input type="hidden" name="company" value="${row.company}">
<button type="submit" class="${cls}">${label}</button></form>`;
}

function schedulesTable(p: SchedulesPage): SafeHtml {
  const problems = p.scheduleProblems.map((problem) => html`<p class="notice error" role="alert">${problem}</p>`);
  if (p.schedules.length === 0)
    return html`${problems}<p class="muted">No recurring schedule. Add one with <code>qbo-pipeline schedule add --cron "15 3 * * *" --tz America/Guayaquil --streams invoices,customers</code>.</p>`;
  const many = p.companies.length > 1;
  return html`${problems}<div class="table-scroll"><table class="data schedules">
<thead><tr>${many ? html`<th scope="col">company</th>` : ''}<th scope="col">schedule</th><th scope="col">when</th><th scope="col">state</th><th scope="col">job · streams</th><th scope="col">last slot</th><th scope="col">next slot</th><th scope="col">change</th></tr></thead>
<tbody>${p.schedules.map((row) => {
    const s = row.schedule;
    const last = row.last;
    return html`<tr data-schedule="${s.name}">
${many ? html`<td>${row.company}</td>` : ''}
<th scope="row">${s.name}</th>
<td><code>${s.cron}</code> <small class="muted">${s.tz}</small></td>
<td>${s.paused ? html`${pill('paused')} <small>since ${utc(s.pausedAt)}</small>` : pill('active', 'ok')}</td>
<td>${s.sync.job ?? ''}<br><small class="muted">${streamsCell(row.streams)}</small></td>
<td>${
      last
        ? html`${utc(last.slot)}${onWallClock(last.slot, s.tz)}<br>${last.trigger ? pill(last.trigger.status) : ''} ${
            // A slot that started no run (queued behind a busy job, refused before it could, skipped by an older version) says why here: there is no run to open.
            last.runId
              ? html`<a href="/runs/${last.runId}">the run</a>${last.trigger?.late && last.trigger.lateByMs !== undefined ? html` <small>${lateness(last.trigger.lateByMs, last.trigger.schedule?.slots, last.trigger.queued)}</small>` : ''}`
              : last.trigger?.result?.message
                ? resultText(last.trigger.result)
                : last.trigger?.queued
                  ? html`<small>queued behind ${last.trigger.queued.behind}</small>`
                  : ''
          }`
        : html`<span class="muted">none yet</span>`
    }${slotCounts(row, p.zone)}</td>
<td>${'at' in row.next ? html`${utc(row.next.at)}${onWallClock(row.next.at, s.tz)}` : html`<span class="muted">${row.next.none}</span>`}</td>
<td class="actions">${
      row.fromFile !== undefined
        ? html`<small class="muted">set in the companies file (${row.fromFile}); edit it there</small>`
        : html`${s.paused ? scheduleAction(p, row, 'resume', 'Resume', '') : scheduleAction(p, row, 'pause', 'Pause')}
<details class="remove"><summary>Remove…</summary><p><small>The schedule stops for good; its past triggers and runs stay.</small></p>${scheduleAction(p, row, 'remove', `Remove ${s.name}`, 'danger')}</details>`
    }</td>
</tr>`;
  })}</tbody></table></div>`;
}

/** Trigger files the scheduler cannot read, as `trigger list` shows them: the file's name and why, never its text. */
function unreadableTriggers(p: SchedulesPage): SafeHtml {
  if (p.unreadableTriggers.length === 0) return html``;
  const folders = [...new Set(p.unreadableTriggers.map((u) => u.folder))];
  return html`<section aria-labelledby="unreadable-h">
<h2 id="unreadable-h">Unreadable trigger files</h2>
<p class="notice error" role="alert">The scheduler does not run these (the other triggers still run). Look at each file in ${folders.map((f, i) => html`${i > 0 ? ', ' : ''}<code>${f}</code>`)}: delete it, or repair it and rename it back without <code>.unreadable</code>.</p>
<ul class="unreadable">${p.unreadableTriggers.map(
    (u) =>
      html`<li data-file="${u.file}">${p.companies.length > 1 ? html`${u.company}: ` : ''}<code>${u.file}</code>: ${u.when === 'next pass' ? html`${u.problem} (the scheduler sets it aside at its next pass)` : html`set aside: ${u.problem}`}</li>`,
  )}</ul>
</section>`;
}

/** A message as a sentence of its own: ends with a full stop, so what follows reads apart. */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

export function schedulesView(p: SchedulesPage): SafeHtml {
  return html`<h1>Schedules &amp; triggers</h1>
<section aria-labelledby="schedules-h">
<h2 id="schedules-h">Recurring schedules</h2>
${schedulesTable(p)}
</section>
<section aria-labelledby="triggers-h">
${
  p.slotsOf
    ? html`<h2 id="triggers-h">Slot triggers of schedule ${p.slotsOf.schedule}${p.companies.length > 1 ? html` <small>${p.slotsOf.company}</small>` : ''}</h2>
<p class="lead">Running, pending and failed slots first, then the others, newest first. <a href="/schedules?zone=${encodeURIComponent(p.zone)}">Back to the one-time triggers</a></p>`
    : html`<h2 id="triggers-h">One-time triggers</h2>
<p class="lead">Running, pending and failed first, then the others, newest first${
        p.foldedSlots
          ? html`; a schedule's slots only while pending or running (${count(p.foldedSlots)} other slot trigger${p.foldedSlots === 1 ? ' is' : 's are'} counted in their schedule's row above, which links to them)`
          : ''
      }.</p>`
}
<form method="get" action="/schedules" class="inline">${p.slotsOf ? html`<input type="hidden" name="company" value="${p.slotsOf.company}"><input type="hidden" name="slots" value="${p.slotsOf.schedule}">` : ''}<label>Show times also in <select name="zone">${p.zones.map((z) => option(z, z, p.zone))}</select></label> <button type="submit" class="secondary">Show</button></form>
${triggersTable(p)}
</section>
${unreadableTriggers(p)}
<section aria-labelledby="add-h">
<h2 id="add-h">Add a one-time trigger</h2>
<p class="lead">The scheduler runs it once, at the instant shown in UTC below (it must be running: <code>qbo-pipeline scheduler</code>).</p>
${triggerForm(p)}
</section>`;
}
