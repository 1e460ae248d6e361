import { reconcileLine } from '../formatSummary.js';
import { cellText, formatAge, formatTable, isCut } from '../formatTable.js';
import { lateness } from '../scheduler/planPass.js';
import { triggerJob, triggerRange, type Trigger } from './Trigger.js';
import type { SetAside } from './TriggerStore.js';

/** An instant as lists show it: UTC, to the second. */
const shown = (iso: string | undefined) => (iso ?? '?').replace(/\.\d+Z$/, 'Z');

/**
 * `trigger trg-…: backfill qb_items [2025-02-23T00:00:00Z, 2025-03-01T00:00:00Z) at 2099-09-12T03:45:54Z (given as …)`:
 * what `trigger add` prints. Instants in UTC with their Z, as `trigger list` and every range show them.
 */
export function triggerAdded(trigger: Trigger): string {
  const given = trigger.atGiven === trigger.at ? '' : ` (given as ${trigger.atGiven})`;
  return `trigger ${trigger.id}: backfill ${trigger.backfill?.job ?? ''} [${trigger.backfill?.start ?? ''}, ${trigger.backfill?.end ?? ''}) at ${trigger.at}${given}`;
}

/** `pending`, `pending (due 2 min ago, queued behind …)`, `completed (late by 3 h 12 min, queued behind …)`, …: what `trigger list` shows per trigger. */
export function triggerStatus(trigger: Trigger, now: Date): string {
  const late = trigger.late && trigger.lateByMs !== undefined ? ` (${lateness(trigger.lateByMs, trigger.schedule?.slots, trigger.queued)})` : '';
  if (trigger.status === 'pending' && Date.parse(trigger.at) <= now.getTime())
    return `pending (due ${formatAge(now.getTime() - Date.parse(trigger.at))} ago${trigger.queued ? `, queued behind ${trigger.queued.behind}` : ''})`;
  if (trigger.status === 'running')
    return `running since ${shown(trigger.startedAt)} on ${trigger.claimedBy?.host ?? '?'} pid ${trigger.claimedBy?.pid ?? '?'}${late}`;
  return `${trigger.status}${late}`;
}

/**
 * Every trigger, one row each, and under it one row per attempt when there was more than one
 * (a scheduler died and another took over, a job was busy, a scheduler was stopped); a result too
 * long for its cell is cut there and said in full under the table.
 */
export function formatTriggers(triggers: readonly Trigger[], now: Date, setAside: readonly SetAside[] = []): string {
  const rows = triggers.flatMap((t) => {
    const main = [
      t.id,
      t.at,
      triggerStatus(t, now),
      triggerJob(t),
      t.schedule ? `schedule ${t.schedule.name}: ${triggerRange(t)}` : triggerRange(t),
      cellText(t.result?.message ?? ''),
    ];
    const attempts =
      (t.attempts ?? []).length > 1 || (t.attempts ?? []).some((a) => a.outcome !== 'running' && a.outcome !== t.status)
        ? (t.attempts ?? []).map((a) => [
            `  attempt ${a.attempt}`,
            shown(a.startedAt),
            `${a.outcome}${a.finishedAt ? ` at ${shown(a.finishedAt)}` : ''}`,
            `${a.host} pid ${a.pid}`,
            '',
            cellText(a.message ?? ''),
          ])
        : [];
    return [main, ...attempts];
  });
  const table = triggers.length === 0 ? 'no triggers' : formatTable(['id', 'at (UTC)', 'status', 'job', 'range', 'result'], rows);
  // A command is too wide for the table: under it, as the table over companies ends with it.
  const reconcile = triggers.flatMap((t) => (t.result?.reconcileCommand !== undefined ? [`${t.id}: ${reconcileLine(t.result.reconcileCommand)}`] : []));
  // A result too long for its cell (an invalid_grant's advice): in full once, here; an attempt's only when it says something else.
  const cut = triggers.flatMap((t) => [
    ...(t.result !== undefined && isCut(t.result.message) ? [`${t.id}: ${t.result.message}`] : []),
    ...(t.attempts ?? [])
      .filter((a) => a.message !== undefined && isCut(a.message) && a.message !== t.result?.message)
      .map((a) => `${t.id} attempt ${a.attempt}: ${a.message}`),
  ]);
  const unreadable = setAside.map((a) =>
    a.when === 'next pass'
      ? `unreadable: ${a.file}: ${a.problem} (the scheduler sets it aside at its next pass)`
      : `set aside (unreadable): ${a.file}: ${a.problem}`,
  );
  return [table, ...cut, ...reconcile, ...unreadable].join('\n');
}
