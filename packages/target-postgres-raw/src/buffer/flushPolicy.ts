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

/** True when a buffer is full by size and the buffers should be committed. */
export function bufferFull(level: BufferLevel, limits: FlushLimits): boolean {
  return level.rows >= limits.batchSizeRows || level.bytes >= limits.batchSizeBytes;
}

export interface Timers {
  readonly setTimeout: (fn: () => void, ms: number) => NodeJS.Timeout;
  readonly clearTimeout: (timer: NodeJS.Timeout | undefined) => void;
}

/**
 * When to commit: by size (`recordBuffered` says so) and by age (`onAge` is called when the
 * oldest buffered record reaches `maxBatchAgeMs`). The age is a real timer, started by the first
 * record into empty buffers, so a quiet tap still gets its commit; `flushed()` stops it.
 */
export class FlushPolicy {
  readonly #limits: FlushLimits;
  readonly #onAge: () => void;
  readonly #timers: Timers;
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: FlushLimits, onAge: () => void, timers: Timers = { setTimeout, clearTimeout }) {
    this.#limits = limits;
    this.#onAge = onAge;
    this.#timers = timers;
  }

  /** After a record was buffered: true when a size limit is reached. */
  recordBuffered(level: BufferLevel): boolean {
    this.#timer ??= this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#onAge();
    }, this.#limits.maxBatchAgeMs);
    return bufferFull(level, this.#limits);
  }

  /** The buffers were taken for a commit: the age clock waits for the next record. */
  flushed(): void {
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
