/**
 * Rows held in memory (spans being read, or read and waiting for their turn to be written),
 * shared by all streams: a span reserves its COUNT(*) before it is paged and frees it once
 * written, which bounds the tap's memory whatever the range. Waiters are served in order, so a
 * stream's earlier span always gets its rows before its later ones and the oldest held span can
 * always be written (no deadlock); a span with no rows holds nothing and never waits.
 */
export class RowBudget {
  readonly #total: number;
  #free: number;
  readonly #waiting: Array<{ readonly rows: number; readonly grant: () => void }> = [];

  constructor(rows: number) {
    this.#total = rows;
    this.#free = rows;
  }

  /** Reserves `rows` (at most the whole budget); call the returned function to free them. */
  async acquire(rows: number): Promise<() => void> {
    const want = Math.min(rows, this.#total);
    if (want > 0) {
      if (this.#waiting.length === 0 && want <= this.#free) this.#free -= want;
      else await new Promise<void>((resolve) => this.#waiting.push({ rows: want, grant: resolve }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free += want;
      this.#grant();
    };
  }

  #grant(): void {
    for (let next = this.#waiting[0]; next && next.rows <= this.#free; next = this.#waiting[0]) {
      this.#waiting.shift();
      this.#free -= next.rows;
      next.grant();
    }
  }
}
