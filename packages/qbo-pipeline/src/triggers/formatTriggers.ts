import { formatDuration, formatTable } from '../formatTable.js';
import type { Trigger } from './Trigger.js';

/** `pending`, `completed (late by 3 h 12 min)`, …: what `trigger list` shows per trigger. */
export function triggerStatus(trigger: Trigger, now: Date): string {
  const late = trigger.late && trigger.lateByMs !== undefined ? ` (late by ${formatDuration(trigger.lateByMs)})` : '';
  if (trigger.status === 'pending' && Date.parse(trigger.at) <= now.getTime()) return `pending (due ${formatDuration(now.getTime() - Date.parse(trigger.at))} ago)`;
  if (trigger.status === 'running') return `running since ${trigger.startedAt ?? '?'} on ${trigger.claimedBy?.host ?? '?'} pid ${trigger.claimedBy?.pid ?? '?'}${late}`;
  return `${trigger.status}${late}`;
}

export function formatTriggers(triggers: readonly Trigger[], now: Date): string {
  if (triggers.length === 0) return 'no triggers';
  return formatTable(
    ['id', 'at (UTC)', 'status', 'job', 'range', 'result'],
    triggers.map((t) => [t.id, t.at, triggerStatus(t, now), t.backfill.job, `[${t.backfill.start}, ${t.backfill.end})`, t.result?.message ?? '']),
  );
}
