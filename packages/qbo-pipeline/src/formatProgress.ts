import type { StreamProgress } from './streamProgress.js';

const BAR = 20;

/** One line: each stream with a bar and its committed days, e.g. `invoices ████████░░ 12/30 d`. */
export function formatProgress(progress: readonly StreamProgress[]): string {
  return progress
    .map((p) => {
      const filled = p.totalDays > 0 ? Math.round((p.daysDone / p.totalDays) * BAR) : BAR;
      return `${p.stream} ${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${p.daysDone}/${p.totalDays} d`;
    })
    .join('  ');
}
