export interface FlushLimits {
  readonly batchSizeRows: number;
  readonly batchSizeBytes: number;
  readonly maxBatchAgeMs: number;
}

export interface BufferLevel {
  /** Records held by the stream that just grew (rows are bounded per stream). */
  readonly rows: number;
  /** JSON bytes held by all streams together (many streams must not multiply memory). */
  readonly bytes: number;
}

/**
 * Rows a stream may buffer before a run's first commit. Each later commit may hold twice as many,
 * up to `batch_size_rows`: the database then starts writing after the first thousand records
 * instead of idling while a whole batch is read, and it is one batch behind the reading from then on.
 */
export const FIRST_COMMIT_ROWS = 1_000;

/** The rows a stream may buffer before a run's next commit, given the limit of the one before (none for the first). */
export function rowLimit(batchSizeRows: number, previous?: number): number {
  return Math.min(batchSizeRows, previous === undefined ? FIRST_COMMIT_ROWS : previous * 2);
}

/** True when a buffer is full by size and the buffers should be committed (`rows`: the row limit of the commit being filled). */
export function bufferFull(level: BufferLevel, rows: number, batchSizeBytes: number): boolean {
  return level.rows >= rows || level.bytes >= batchSizeBytes;
}

export interface Timers {
  readonly setTimeout: (fn: () => void, ms: number) => NodeJS.Timeout;
  readonly clearTimeout: (timer: NodeJS.Timeout | undefined) => void;
}

/**
 * When to commit: by size (`recordBuffered` says so; the first commits of a run are smaller, see
 * FIRST_COMMIT_ROWS) and by age (`onAge` is called when the oldest buffered record reaches
 * `maxBatchAgeMs`). The age is a real timer, started by the first record into empty buffers, so a
 * quiet tap still gets its commit; `flushed()` stops it.
 */
export class FlushPolicy {
  readonly #limits: FlushLimits;
  readonly #onAge: () => void;
  readonly #timers: Timers;
  #timer: NodeJS.Timeout | undefined;
  /** rowLimit of the commit being filled, worked out when the previous one was taken (not per record). */
  #rows: number;

  constructor(limits: FlushLimits, onAge: () => void, timers: Timers = { setTimeout, clearTimeout }) {
    this.#limits = limits;
    this.#onAge = onAge;
    this.#timers = timers;
    this.#rows = rowLimit(limits.batchSizeRows);
  }

  /** After a record was buffered: true when a size limit is reached. */
  recordBuffered(level: BufferLevel): boolean {
    this.#timer ??= this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#onAge();
    }, this.#limits.maxBatchAgeMs);
    return bufferFull(level, this.#rows, this.#limits.batchSizeBytes);
  }

  /** The buffers were taken for a commit: the age clock waits for the next record. */
  flushed(): void {
    this.#rows = rowLimit(this.#limits.batchSizeRows, this.#rows);
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
