import { sleep } from './sleep.js';

export interface RateBudgetOptions {
  readonly requestsPerMinute: number;
  readonly maxInFlight: number;
  /** Length of the sliding window; a little over a minute absorbs network jitter at the server. */
  readonly windowMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export type Release = () => void;

/**
 * One budget per realm, shared by every stream: request starts spaced evenly at
 * `window / requestsPerMinute` (so no sliding window ever holds more than the limit, and there
 * are no bursts that leave the rest of the minute idle), and at most `maxInFlight` requests at
 * once. Waiters are served in order.
 */
export class RateBudget {
  readonly #intervalMs: number;
  readonly #maxInFlight: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Start times inside the last window, oldest first (for the progress line). */
  readonly #starts: number[] = [];
  #nextStart = 0;
  #inFlight = 0;
  #queue: Array<{ grant: () => void; fail: (error: unknown) => void }> = [];
  #pumping = false;
  #pausedUntil = 0;

  constructor(options: RateBudgetOptions) {
    this.#maxInFlight = options.maxInFlight;
    this.#windowMs = options.windowMs ?? 60_500;
    this.#intervalMs = this.#windowMs / options.requestsPerMinute;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleep;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests started in the last window. */
  get recentStarts(): number {
    this.#expire(this.#now());
    return this.#starts.length;
  }

  /** Waits for a slot; call the returned function when the request has ended. */
  acquire(): Promise<Release> {
    return new Promise<Release>((resolve, reject) => {
      const grant = () => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.#inFlight -= 1;
          void this.#pump();
        });
      };
      this.#queue.push({ grant, fail: reject });
      void this.#pump();
    });
  }

  /** After a 429 every stream holds back, not only the one that was throttled. */
  pauseFor(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
  }

  #expire(now: number): void {
    while (this.#starts.length > 0 && this.#starts[0]! <= now - this.#windowMs) this.#starts.shift();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) {
        const now = this.#now();
        this.#expire(now);
        const wait = Math.max(this.#pausedUntil, this.#nextStart) - now;
        if (wait > 0) {
          try {
            await this.#sleep(wait);
          } catch (error) {
            // The run is stopping (its sleeps are aborted): every waiter fails with the reason
            // instead of waiting for a slot that will never come.
            for (const waiter of this.#queue.splice(0)) waiter.fail(error);
            return;
          }
          continue;
        }
        // The next slot follows this one's, not the moment it was taken: a start a few ms late
        // (a timer firing late, the event loop busy writing a span) would otherwise push every
        // later one back and lose a few percent of the budget. Starts stay on a grid of one
        // interval, so no window holds more than the limit; after an idle spell (a start an
        // interval or more late) the grid starts again from now, so nothing is caught up in a burst.
        const slot = this.#nextStart;
        this.#nextStart = (now - slot < this.#intervalMs ? slot : now) + this.#intervalMs;
        this.#starts.push(now);
        this.#inFlight += 1;
        this.#queue.shift()!.grant();
      }
    } finally {
      this.#pumping = false;
    }
  }
}
