import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A committed batch is garbage at once, but V8 alone lets the heap grow to a few times the two
// live batches before it collects (≈280 MB at 10,000-row batches). A full collection after a
// commit, only once the process is past the budget, keeps it near what is live at little cost.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

/** Collects garbage if the resident set is above `budgetBytes`. */
export function collectGarbageAbove(budgetBytes: number): void {
  if (gc && process.memoryUsage.rss() > budgetBytes) gc();
}
