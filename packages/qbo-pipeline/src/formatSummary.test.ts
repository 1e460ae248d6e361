import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { formatDuration, formatTable } from './formatTable.js';
import { formatSummary } from './formatSummary.js';
import type { BackfillResult } from './runBackfill.js';

const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });

const base: BackfillResult = {
  ok: true,
  exitCode: 0,
  job: 'qb_invoices_backfill',
  stateFile: 'state/qb_invoices_backfill.json',
  backupFile: undefined,
  start: '2025-01-01T00:00:00Z',
  end: '2025-01-03T00:00:00Z',
  durationMs: 2500,
  progress: [{ stream: 'invoices', doneUntil: at('2025-01-03T00:00:00Z'), daysDone: 2, totalDays: 2, complete: true }],
  runIds: ['r1'],
  totals: [{ stream: 'invoices', windows: 2, qboCount: 10, extracted: 10, loaded: 10, inserted: 7, updated: 1, unchanged: 2, pages: 2, durationMs: 800, emptyWindows: 0, extractedEqualsLoaded: true }],
  evidence: { query: "SELECT * FROM raw.evidence WHERE run_id IN ('r1') ORDER BY stream, window_start_utc;" },
  failure: undefined,
  resumeCommand: 'node packages/qbo-pipeline/dist/cli.js backfill --job qb_invoices_backfill --streams invoices --start 2025-01-01T00:00:00Z --end 2025-01-03T00:00:00Z',
};

describe('formatTable', () => {
  it('pads columns and right-aligns numbers', () => {
    expect(formatTable(['stream', 'rows'], [['invoices', 1200], ['items', 3]])).toBe(
      ['stream   | rows', '---------+-----', 'invoices | 1200', 'items    |    3'].join('\n'),
    );
  });
  it.each([[450, '450 ms'], [2500, '2.5 s'], [185_000, '3 min 5 s'], [9_000_000, '2 h 30 min']])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatSummary', () => {
  it('shows per stream days, counts, pages and duration, and where the evidence is', () => {
    const text = formatSummary(base);
    expect(text).toMatch(/^backfill qb_invoices_backfill: done in 2.5 s/);
    expect(text).toMatch(/invoices \| 2\/2\s+\|\s+2 \|\s+10 \|\s+10 \|\s+10 \|\s+7 \|\s+1 \|\s+2 \|\s+2 \| 800 ms/);
    expect(text).toContain("evidence: SELECT * FROM raw.evidence WHERE run_id IN ('r1')");
    expect(text).not.toContain('resume with');
  });

  it('on failure names the window, the reason and the one command that resumes', () => {
    const text = formatSummary({
      ...base,
      ok: false,
      exitCode: 1,
      progress: [{ stream: 'invoices', doneUntil: at('2025-01-02T00:00:00Z'), daysDone: 1, totalDays: 2, complete: false }],
      failure: { reason: 'target-postgres-raw: database connection lost', windows: [{ stream: 'invoices', start: '2025-01-02T00:00:00Z', end: '2025-01-03T00:00:00Z' }] },
    });
    expect(text).toMatch(/FAILED after 2.5 s/);
    expect(text).toContain('FAILED: target-postgres-raw: database connection lost');
    expect(text).toContain('invoices: window [2025-01-02T00:00:00Z, 2025-01-03T00:00:00Z) not committed');
    expect(text).toContain(`resume with:\n  ${base.resumeCommand}`);
  });

  it('warns when extracted and loaded disagree', () => {
    const text = formatSummary({ ...base, totals: [{ ...base.totals[0]!, loaded: 9, extractedEqualsLoaded: false }] });
    expect(text).toContain('WARNING: extracted ≠ loaded for invoices');
  });
});
