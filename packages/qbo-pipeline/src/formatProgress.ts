import { entityByStream } from 'qbo-catalog';
import { formatDone, formatSpan } from './formatSpan.js';
import type { StreamProgress } from './streamProgress.js';

const BAR = 20;

/** One line: each stream with a bar and how much of its range is committed, e.g. `invoices ████████░░ 12/30 days`. */
export function formatProgress(progress: readonly StreamProgress[]): string {
  return progress
    .map((p) => {
      const filled = p.totalMs > 0 ? Math.round((p.doneMs / p.totalMs) * BAR) : BAR;
      return `${p.stream} ${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${formatDone(p.doneMs, p.totalMs)}`;
    })
    .join('  ');
}

/**
 * The lines logged as streams commit their whole range, each stream once (`said` remembers them):
 * `invoices: all 30 days committed`, `invoices: all 4.17 min committed`. A FULL_TABLE stream
 * (company_info) has no range: it reads complete before the run has read anything (a run whose
 * refresh token is refused included), so nothing is said of it; the summary has its row.
 */
export function streamsDoneLines(progress: readonly StreamProgress[], said: Set<string>): string[] {
  const lines: string[] = [];
  for (const p of progress) {
    if (!p.complete || said.has(p.stream) || entityByStream(p.stream)?.replication === 'FULL_TABLE') continue;
    said.add(p.stream);
    lines.push(`${p.stream}: all ${formatSpan(p.totalMs)} committed`);
  }
  return lines;
}
