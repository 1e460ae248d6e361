import { formatDuration, formatTable } from './formatTable.js';
import type { BackfillResult } from './runBackfill.js';

/** The final summary a person reads after `backfill`: per stream, where the evidence is, and on failure how to resume. */
export function formatSummary(result: BackfillResult): string {
  const totals = new Map(result.totals.map((t) => [t.stream, t]));
  const rows = result.progress.map((p) => {
    const t = totals.get(p.stream);
    return [p.stream, `${p.daysDone}/${p.totalDays}`, t?.windows ?? 0, t?.qboCount ?? 0, t?.extracted ?? 0, t?.loaded ?? 0, t?.inserted ?? 0, t?.updated ?? 0, t?.unchanged ?? 0, t?.pages ?? 0, formatDuration(t?.durationMs ?? 0)];
  });
  const head = result.ok
    ? `backfill ${result.job}: done in ${formatDuration(result.durationMs)}`
    : `backfill ${result.job}: FAILED after ${formatDuration(result.durationMs)}`;
  const lines = [
    head,
    `range [${result.start}, ${result.end}); state file ${result.stateFile}${result.backupFile ? ` (previous state kept as ${result.backupFile})` : ''}`,
    '',
    formatTable(['stream', 'days done', 'windows', 'qbo count', 'extracted', 'loaded', 'inserted', 'updated', 'unchanged', 'pages', 'duration'], rows),
    '',
    'query' in result.evidence ? `evidence: ${result.evidence.query}` : `evidence: ${result.evidence.unavailable}`,
  ];
  const mismatched = result.totals.filter((t) => !t.extractedEqualsLoaded).map((t) => t.stream);
  if (mismatched.length > 0) lines.push(`WARNING: extracted ≠ loaded for ${mismatched.join(', ')}; see the evidence query`);
  if (result.failure) {
    lines.push('', `FAILED: ${result.failure.reason}`);
    for (const w of result.failure.windows) lines.push(`  ${w.stream}: window [${w.start}, ${w.end}) not committed`);
    lines.push('resume with:', `  ${result.resumeCommand}`);
  } else if (result.runIds.length === 0 && result.progress.every((p) => p.complete)) {
    lines.push('nothing to do: the state file says the whole range is done; add --fresh to extract it again');
  }
  return lines.join('\n');
}
