import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../runs/RunRecord.js';
import { runProgress } from './runsView.js';

const record = (start: string, end: string, doneUntil: string, complete: boolean): RunRecord => ({
  id: 'run-1',
  kind: 'sync',
  job: 'daily',
  streams: ['invoices'],
  range: { start, end },
  attempt: 1,
  pid: 1,
  host: 'h',
  startedAt: end,
  updatedAt: end,
  status: complete ? 'succeeded' : 'running',
  // What the journal keeps for a range of minutes: its days round to 0.
  progress: [{ stream: 'invoices', doneUntil, daysDone: 0, totalDays: 0, complete }],
  tapRunIds: [],
  stateFile: 's.json',
  logFile: 'r.log',
});

const shown = (r: RunRecord) => runProgress({ company: 'default', record: r, orphaned: undefined }).toString();

describe('runProgress', () => {
  it('shows a sync of a few minutes in minutes, its bar full when done, never 0/0 days', () => {
    const page = shown(record('2025-01-03T00:00:00Z', '2025-01-03T00:04:10Z', '2025-01-03T00:04:10Z', true));
    expect(page).toContain('<progress max="250000" value="250000" aria-label="invoices: 4.17/4.17 min committed">');
    expect(page).toMatch(/done<\/span> 4\.17 min/);
    expect(page).not.toMatch(/0\/0/);
  });

  it('shows a stream half way through a backfill in days', () => {
    const page = shown(record('2025-01-01T00:00:00Z', '2025-01-31T00:00:00Z', '2025-01-13T00:00:00Z', false));
    expect(page).toContain('aria-label="invoices: 12/30 days committed"');
    expect(page).toMatch(/<span>12\/30 days <small/);
  });
});
