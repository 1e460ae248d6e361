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

/** The line logged when a stream has committed its whole range: `invoices: all 30 days committed`, `invoices: all 4.17 min committed`. */
export const formatStreamDone = (p: StreamProgress): string => `${p.stream}: all ${formatSpan(p.totalMs)} committed`;
