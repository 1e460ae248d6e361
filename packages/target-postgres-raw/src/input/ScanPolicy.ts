/** Windows not scanned after one whose records were mostly not equal to their stored rows, at most (doubling from 1). */
export const MAX_SCAN_PAUSE = 64;
/** Lines scanned of the first window after a pause: enough to see whether records are equal again. */
export const PROBE_LINES = 50;

/**
 * Which read-ahead windows are scanned for records equal to their stored rows. Scanning costs
 * about a third of what routing a record costs, so while windows come with mostly changed or new
 * records (a first load) the next ones are not scanned, a growing number of windows at a time,
 * and after such a pause only a window's first lines are scanned to probe again. Nothing is
 * scanned before some stream's table is ready: its records could not be looked up.
 */
export class ScanPolicy {
  #pause = 0;
  #nextPause = 1;
  #probing = false;

  /** How many of a window's first lines to scan (0: none). */
  linesToScan(windowLines: number, anyTableReady: boolean): number {
    if (!anyTableReady) return 0;
    if (this.#pause > 0) {
      this.#pause -= 1;
      return 0;
    }
    return this.#probing ? Math.min(PROBE_LINES, windowLines) : windowLines;
  }

  /** A scanned window's lookups found `equal` of `lookedUp` records equal to their stored rows. */
  judge(equal: number, lookedUp: number): void {
    if (equal * 3 >= lookedUp) {
      this.#nextPause = 1;
      this.#pause = 0;
      this.#probing = false;
    } else {
      this.#pause = this.#nextPause;
      this.#nextPause = Math.min(this.#nextPause * 2, MAX_SCAN_PAUSE);
      this.#probing = true;
    }
  }
}
