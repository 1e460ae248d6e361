import type { InputLineBytes } from 'singer-kit';

export interface LookaheadLimits {
  /** A window closes at this many lines… */
  readonly lines: number;
  /** …or this many bytes… */
  readonly bytes: number;
  /** …or when no line came for this long (a quiet tap's lines are not held back)… */
  readonly idleMs: number;
  /** …or when its first line is this old. */
  readonly maxAgeMs: number;
  /** Windows prepared ahead of the one being used. */
  readonly depth: number;
}

const TIMEOUT = Symbol('timeout');

/**
 * The input in windows of lines, read ahead of the caller: each window is handed to `prepare`
 * (which may start asynchronous work for it, e.g. a database lookup) as soon as it is complete,
 * and up to `depth` prepared windows wait for the caller. Reading stops while they wait, so
 * memory stays bounded and a slow consumer holds the producer back.
 */
export class Lookahead<W> {
  readonly #lines: AsyncIterator<InputLineBytes[]>;
  readonly #prepare: (lines: InputLineBytes[]) => W;
  readonly #limits: LookaheadLimits;
  readonly #queue: W[] = [];
  #pendingRead: Promise<IteratorResult<InputLineBytes[]>> | undefined;
  #started = false;
  #done = false;
  #stopped = false;
  #error: Error | undefined;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  constructor(lines: AsyncIterator<InputLineBytes[]>, prepare: (lines: InputLineBytes[]) => W, limits: LookaheadLimits) {
    this.#lines = lines;
    this.#prepare = prepare;
    this.#limits = limits;
  }

  /** Prepared windows waiting for the caller, oldest first. */
  get waiting(): readonly W[] {
    return this.#queue;
  }

  /** The next window, or undefined at the end of the input; rejects with what failed reading or preparing. */
  async next(): Promise<W | undefined> {
    if (!this.#started) {
      this.#started = true;
      void this.#produce();
    }
    for (;;) {
      const window = this.#queue.shift();
      if (window !== undefined) {
        this.#wakeProducer?.();
        return window;
      }
      if (this.#done) {
        if (this.#error !== undefined) throw this.#error;
        return undefined;
      }
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
      this.#wakeConsumer = undefined;
    }
  }

  /** No more windows are read or prepared (the caller stopped). */
  stop(): void {
    this.#stopped = true;
    this.#wakeProducer?.();
  }

  async #produce(): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#queue.length >= this.#limits.depth) {
          await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
          this.#wakeProducer = undefined;
          continue;
        }
        const lines = await this.#window();
        if (lines === undefined || this.#stopped) break;
        this.#queue.push(this.#prepare(lines));
        this.#wakeConsumer?.();
      }
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
    }
    this.#done = true;
    this.#wakeConsumer?.();
  }

  /** The next window's lines, or undefined at the end of the input. */
  async #window(): Promise<InputLineBytes[] | undefined> {
    const { lines: maxLines, bytes: maxBytes, idleMs, maxAgeMs } = this.#limits;
    const window: InputLineBytes[] = [];
    let bytes = 0;
    let opened = 0;
    for (;;) {
      this.#pendingRead ??= this.#lines.next();
      const read = window.length === 0 ? await this.#pendingRead : await within(this.#pendingRead, Math.min(idleMs, opened + maxAgeMs - Date.now()));
      if (read === TIMEOUT || this.#stopped) return window;
      this.#pendingRead = undefined;
      if (read.done) return window.length > 0 ? window : undefined;
      if (window.length === 0) opened = Date.now();
      for (const line of read.value) {
        window.push(line);
        bytes += line.bytes.length;
      }
      if (window.length >= maxLines || bytes >= maxBytes) return window;
    }
  }
}

/** `promise`'s value, or TIMEOUT when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  if (ms <= 0) return TIMEOUT;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(() => resolve(TIMEOUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
