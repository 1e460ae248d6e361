import { DateTime } from 'luxon';
import type { NewestEvidence } from '../Warehouse.js';

/** What one stream × UTC day says, worst first: what the table and chart mark. */
export const DAY_STATUSES = ['lost', 'missing', 'count differs', 'empty', 'ok'] as const;
export type DayStatus = (typeof DAY_STATUSES)[number];

export const DAY_STATUS_MEANING: Readonly<Record<DayStatus, string>> = {
  lost: 'extracted ≠ loaded: records the tap read did not reach the table',
  missing: 'no run read this day, though days around it were read',
  'count differs': "extracted ≠ QBO's count taken before paging (rows edited while read move to a later day)",
  empty: 'QBO had nothing for this day, or for the part of it the run read (a sync reads only the part since the run before it)',
  ok: 'QBO count = extracted = loaded',
};

/** Pure: the status of one day's evidence. */
export function dayStatus(day: NewestEvidence): DayStatus {
  if (!day.extractedEqualsLoaded || day.extracted !== day.loaded) return 'lost';
  if (day.extracted !== day.qboCount) return 'count differs';
  if (day.extracted === 0) return 'empty';
  return 'ok';
}

interface EvidenceCell {
  readonly day: string;
  readonly status: DayStatus;
  /** Absent for a missing day. */
  readonly evidence?: NewestEvidence;
}

export interface StreamEvidence {
  readonly stream: string;
  /** Every UTC day from the stream's first to its last day of evidence, gaps included. */
  readonly days: readonly EvidenceCell[];
  readonly counts: Readonly<Record<DayStatus, number>>;
}

function everyDay(first: string, last: string): string[] {
  const out: string[] = [];
  const end = DateTime.fromISO(last, { zone: 'utc' });
  for (let d = DateTime.fromISO(first, { zone: 'utc' }); d <= end; d = d.plus({ days: 1 })) out.push(d.toISODate() ?? '');
  return out;
}

/**
 * Whether a window of another day's row reads into `day`: company_info is one window over a
 * backfill's whole range (one row read whole), filed under its first day, so the days after it
 * were read, not missing.
 */
function readByAnotherDay(day: string, rows: Iterable<NewestEvidence>): boolean {
  const start = DateTime.fromISO(day, { zone: 'utc' });
  const end = start.plus({ days: 1 });
  for (const row of rows) {
    if (row.readFrom === undefined || row.readUntil === undefined) continue;
    if (DateTime.fromISO(row.readFrom) < end && DateTime.fromISO(row.readUntil) > start) return true;
  }
  return false;
}

/**
 * Pure: evidence rows (one per stream × day) as per-stream series, with days nobody read marked
 * missing; a day read by a window filed under an earlier day has no cell of its own.
 */
export function streamEvidence(rows: readonly NewestEvidence[]): StreamEvidence[] {
  const byStream = new Map<string, Map<string, NewestEvidence>>();
  for (const row of rows) {
    const days = byStream.get(row.stream) ?? new Map<string, NewestEvidence>();
    days.set(row.day, row);
    byStream.set(row.stream, days);
  }
  return [...byStream.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([stream, found]) => {
      const sorted = [...found.keys()].sort();
      const days = everyDay(sorted[0] ?? '', sorted.at(-1) ?? '').flatMap((day): EvidenceCell[] => {
        const evidence = found.get(day);
        if (evidence) return [{ day, status: dayStatus(evidence), evidence }];
        return readByAnotherDay(day, found.values()) ? [] : [{ day, status: 'missing' }];
      });
      const counts = Object.fromEntries(DAY_STATUSES.map((s) => [s, days.filter((d) => d.status === s).length])) as Record<DayStatus, number>;
      return { stream, days, counts };
    });
}
