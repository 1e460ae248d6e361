/**
 * A counting semaphore for windows held in memory (being read, or read and waiting for their
 * turn to be emitted), shared by all streams: it bounds the tap's memory whatever the range.
 * Waiters are served in order, so a stream's earlier window always gets a slot before its later
 * ones and the oldest held window can always be emitted (no deadlock).
 */
export class WindowSlots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free += 1;
    };
  }
}
