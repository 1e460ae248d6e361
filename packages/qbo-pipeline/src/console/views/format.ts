import { DateTime } from 'luxon';
import { relative, utc } from '../../formatTime.js';
import { html, type SafeHtml } from '../html.js';
import { isEveryStream } from '../../streamsText.js';
import { slotOfTriggerId } from '../../scheduler/planPass.js';
import type { RunRecord } from '../../runs/RunRecord.js';

/** An instant in a `<time>` element: UTC text, relative time as its tooltip. */
export function time(iso: string | undefined, now: Date): SafeHtml {
  if (iso === undefined) return html`<span class="muted">–</span>`;
  return html`<time datetime="${iso}" title="${relative(iso, now)}">${utc(iso)}</time>`;
}

const STATUS_LEVEL: Readonly<Record<string, 'ok' | 'warn' | 'error' | 'info' | 'muted'>> = {
  succeeded: 'ok',
  completed: 'ok',
  ok: 'ok',
  running: 'info',
  pending: 'muted',
  paused: 'muted',
  stopped: 'warn',
  warn: 'warn',
  failed: 'error',
  error: 'error',
};

/** A coloured label whose text says it all (colour is never the only signal). */
export function pill(text: string, level = STATUS_LEVEL[text] ?? 'muted'): SafeHtml {
  return html`<span class="pill ${level}">${text}</span>`;
}

export const count = (n: number) => n.toLocaleString('en-US');

/** `[2025-01-01, 2025-02-01)` when both ends are UTC midnights (whole days), the instants otherwise. */
export function range(start: string, end: string): string {
  const midnight = (iso: string) => /^\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?Z$/.test(iso);
  return midnight(start) && midnight(end) ? `[${start.slice(0, 10)}, ${end.slice(0, 10)})` : `[${utc(start)}, ${utc(end)})`;
}

/** A `<select>`'s option, selected when its value is the one chosen. */
export const option = (value: string, label: string, selected: string): SafeHtml =>
  html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

/** Streams in one short line of a table: up to 3 names, else `10 streams` (`all 28`: every one) with every name in its tooltip. */
export function streamsCell(streams: readonly string[]): SafeHtml | string {
  if (streams.length <= 3) return streams.join(', ');
  return html`<span class="streams-brief" title="${streams.join(', ')}">${isEveryStream(streams) ? `all ${streams.length}` : `${streams.length} streams`}</span>`;
}

/** The schedules page listing one schedule's slot triggers (times also in `zone`). */
export function slotsHref(of: { readonly company: string; readonly schedule: string }, zone?: string): string {
  return `/schedules?${new URLSearchParams({ company: of.company, slots: of.schedule, ...(zone ? { zone } : {}) }).toString()}#triggers-h`;
}

/**
 * What started a run, short enough for a table cell: `schedule nightly` over its slot, `02:00 UTC
 * slot` (with the day when the run started on another UTC day); `trigger` over its id; `by hand`.
 * `full` says it in one line, for a tooltip, the run's page and the overview (with the slot's trigger id beside it).
 */
export function startedBy(r: Pick<RunRecord, 'triggerId' | 'scheduleId' | 'startedAt' | 'late'>): {
  readonly short: string;
  readonly detail?: string;
  readonly full: string;
  /** A schedule slot's trigger id, which `full` leaves out. */
  readonly slotTrigger?: string;
} {
  if (r.triggerId === undefined)
    return r.scheduleId ? { short: `schedule ${r.scheduleId}`, full: `schedule ${r.scheduleId}` } : { short: 'by hand', full: 'by hand' };
  const slot = slotOfTriggerId(r.triggerId);
  if (!slot) return { short: 'trigger', detail: r.triggerId, full: `trigger ${r.triggerId}` };
  const at = DateTime.fromJSDate(slot.slot, { zone: 'utc' });
  const schedule = r.scheduleId ?? slot.schedule;
  return {
    short: `schedule ${schedule}`,
    detail: `${at.toFormat(at.toISODate() === r.startedAt.slice(0, 10) ? 'HH:mm' : 'yyyy-LL-dd HH:mm')} UTC slot`,
    full: `schedule ${schedule}, its ${utc(at.toISO() ?? '')} slot${r.late ? `, ${r.late}` : ''}`,
    slotTrigger: r.triggerId,
  };
}

/**
 * A run id that may break after its start time, where a narrow table needs it to:
 * `run-20250912T034554.123Z-` `1a2b3c`, and before its time of day when narrower still
 * (`run-20250912` `T034554.123Z-` `1a2b3c`): the runs table of a laptop's window has no room for 25 characters that never break.
 */
export function runIdText(id: string): SafeHtml {
  const at = id.lastIndexOf('-') + 1;
  const time = id.indexOf('T');
  const start =
    time > 0 && time < at
      ? html`<span class="run-id">${id.slice(0, time)}</span><wbr><span class="run-id">${id.slice(time, at)}</span>`
      : html`<span class="run-id">${id.slice(0, at)}</span>`;
  return html`${start}<wbr><span class="run-id">${id.slice(at)}</span>`;
}
