import { describe, expect, it } from 'vitest';
import { formatReconcile } from './formatReconcile.js';
import type { ReconcileResult } from './runReconcile.js';

const result = (dryRun: boolean, missing: string[]): ReconcileResult => ({
  runId: 'run-20250512T000000Z-abcdef',
  job: 'qb_invoices',
  schema: 'raw',
  realmId: '123',
  dryRun,
  startedAt: '2025-05-12T00:00:00.000Z',
  durationMs: 2100,
  streams: [
    { stream: 'invoices', table: true, qboRecords: 97, liveRows: 100, candidates: 4, missingIds: missing, markedIds: dryRun ? [] : missing, requests: 3 },
    { stream: 'bills', table: false, qboRecords: 0, liveRows: 0, candidates: 0, missingIds: [], markedIds: [], requests: 0 },
  ],
});

describe('formatReconcile', () => {
  it('shows per stream what QBO has, what the table had and what was marked, the ids, and the evidence query', () => {
    const ids = Array.from({ length: 23 }, (_, i) => String(i + 1));
    const text = formatReconcile(result(false, ids));
    expect(text.split('\n')).toEqual([
      'reconcile qb_invoices: done in 2.1 s',
      'company 123, schema raw, run run-20250512T000000Z-abcdef',
      '',
      'stream   | qbo records | live rows | not paged | gone from qbo | marked deleted | requests',
      '---------+-------------+-----------+-----------+---------------+----------------+---------',
      'invoices | 97          | 100       | 4         | 23            | 23             |        3',
      'bills    | -           | no table  | -         | -             | -              |        0',
      'invoices marked deleted: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, … (3 more)',
      '',
      `evidence: SELECT * FROM "raw"."_reconciliations" WHERE run_id = 'run-20250512T000000Z-abcdef'`,
    ]);
  });

  it('in a dry run, names what would be marked and how to mark it', () => {
    const text = formatReconcile(result(true, ['7']));
    expect(text).toMatch(/^reconcile qb_invoices: done in 2\.1 s \(dry run: no row changed\)/);
    expect(text).toContain('invoices would be marked deleted: 7');
    expect(text.endsWith('run again without --dry-run to mark them deleted')).toBe(true);
  });
});
