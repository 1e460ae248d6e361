import { DateTime } from 'luxon';
import { formatTable } from '../formatTable.js';
import { streamsText } from '../streamsText.js';
import { lastSlotOf } from '../scheduler/planPass.js';
import { triggerStatus } from '../triggers/formatTriggers.js';
import type { Trigger } from '../triggers/Trigger.js';
import { nextSlot, parseCron } from './cronSlots.js';
import { scheduledStreams, type Schedule } from './Schedule.js';

/** `2025-09-12 03:15 America/Guayaquil (08:15Z)`: a slot as the schedule's own zone reads it, and in UTC; seconds for a 6-field expression. */
function local(at: Date, tz: string, seconds: boolean): string {
  const inZone = DateTime.fromJSDate(at, { zone: tz }).toFormat(seconds ? 'yyyy-MM-dd HH:mm:ss' : 'yyyy-MM-dd HH:mm');
  const utc = DateTime.fromJSDate(at, { zone: 'utc' }).toFormat(seconds ? 'HH:mm:ss' : 'HH:mm');
  return tz === 'UTC' ? `${inZone} UTC` : `${inZone} ${tz} (${utc}Z)`;
}

/**
 * What `schedule list` shows: each schedule, its state, its streams, its last slot and how that
 * went, its next slot; under the table, why a last slot failed. `companyStreams`: the company's streams, which its own schedule runs.
 */
export function formatSchedules(schedules: readonly Schedule[], triggers: readonly Trigger[], now: Date, companyStreams?: readonly string[]): string {
  if (schedules.length === 0) return 'no schedules';
  const failures: string[] = [];
  const rows = schedules.map((s) => {
    const seconds = s.cron.split(' ').length === 6;
    const last = lastSlotOf(s.name, triggers);
    const lastTrigger = last ? triggers.find((t) => t.schedule?.name === s.name && Date.parse(t.schedule.slot) === last.getTime()) : undefined;
    let next: string;
    try {
      const at = nextSlot(parseCron(s.cron, s.tz), new Date(Math.max(now.getTime(), last?.getTime() ?? 0)));
      next = s.paused ? '(paused)' : at ? local(at, s.tz, seconds) : 'never';
    } catch (error) {
      next = `cannot run: ${(error as Error).message}`;
    }
    // The last slot column says failed; why, under the table, whole (an invalid_grant's advice is ~500 characters).
    if (lastTrigger?.status === 'failed' && lastTrigger.result?.message) failures.push(`${s.name}: its last slot failed: ${lastTrigger.result.message}`);
    return [
      s.name,
      `${s.cron}${s.tz === 'UTC' ? '' : ` ${s.tz}`}`,
      s.paused ? `paused since ${s.pausedAt ?? '?'}` : 'active',
      s.sync.job ?? '',
      streamsText(scheduledStreams(s, companyStreams), ','),
      last && lastTrigger ? `${local(last, s.tz, seconds)}: ${triggerStatus(lastTrigger, now)}` : 'none yet',
      next,
    ];
  });
  return [formatTable(['name', 'cron', 'state', 'job', 'streams', 'last slot', 'next slot'], rows), ...failures].join('\n');
}
