/** What a commit did with the records it received, per stream (`_load_stats`) or in total (`_load_runs`, stderr). */
export interface LoadCounts {
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  skipped_older: number;
  deduplicated: number;
  rejected: number;
  /** Deletion records (`_sdc_deleted_at`) received; not part of `received`. */
  deleted: number;
}

export const LOAD_COUNT_NAMES = ['received', 'inserted', 'updated', 'unchanged', 'skipped_older', 'deduplicated', 'rejected', 'deleted'] as const;

export function emptyCounts(): LoadCounts {
  return { received: 0, inserted: 0, updated: 0, unchanged: 0, skipped_older: 0, deduplicated: 0, rejected: 0, deleted: 0 };
}

/** Adds `more` (a statistics row: numbers or numeric text) into `into`, which it returns. */
export function addCounts(into: LoadCounts, more: Partial<Record<keyof LoadCounts, unknown>>): LoadCounts {
  for (const name of LOAD_COUNT_NAMES) into[name] += Number(more[name] ?? 0);
  return into;
}

/** `received 3, inserted 2, …` for the stderr log. */
export function formatCounts(counts: LoadCounts): string {
  return LOAD_COUNT_NAMES.map((n) => `${n} ${counts[n]}`).join(', ');
}
