import { escapeIdentifier, escapeLiteral } from 'pg';
import { formatDuration, formatTable } from '../formatTable.js';
import type { ReconcileResult } from './runReconcile.js';
import { RECONCILIATIONS_TABLE } from './reconcileSql.js';

/** Ids shown per stream; the evidence table has them all. */
const SHOWN_IDS = 20;

/** What a person reads after `reconcile`: per stream what QBO has, what the table had, what was marked, and where the evidence is. */
export function formatReconcile(result: ReconcileResult): string {
  const rows = result.streams.map((s) =>
    s.table
      ? [s.stream, s.qboRecords, s.liveRows, s.candidates, s.missingIds.length, result.dryRun ? '-' : s.markedIds.length, s.requests]
      : [s.stream, '-', 'no table', '-', '-', '-', 0],
  );
  const lines = [
    `reconcile ${result.job}: done in ${formatDuration(result.durationMs)}${result.dryRun ? ' (dry run: no row changed)' : ''}`,
    `company ${result.realmId}, schema ${result.schema}, run ${result.runId}`,
    '',
    formatTable(['stream', 'qbo records', 'live rows', 'not paged', 'gone from qbo', 'marked deleted', 'requests'], rows),
  ];
  for (const s of result.streams) {
    const ids = result.dryRun ? s.missingIds : s.markedIds;
    if (ids.length === 0) continue;
    const shown = ids.slice(0, SHOWN_IDS).join(', ') + (ids.length > SHOWN_IDS ? `, … (${ids.length - SHOWN_IDS} more)` : '');
    lines.push(`${s.stream} ${result.dryRun ? 'would be marked deleted' : 'marked deleted'}: ${shown}`);
  }
  lines.push(
    '',
    `evidence: SELECT * FROM ${escapeIdentifier(result.schema)}.${escapeIdentifier(RECONCILIATIONS_TABLE)} WHERE run_id = ${escapeLiteral(result.runId)}`,
  );
  if (result.dryRun && result.streams.some((s) => s.missingIds.length > 0)) lines.push('run again without --dry-run to mark them deleted');
  return lines.join('\n');
}
