import { availableParallelism } from 'node:os';

/** One unit of work for the pool: a job of one company. */
export interface PoolJob<T> {
  /** Never two jobs of one id at once: the id names the job's state file. */
  readonly id: string;
  /** Never two jobs of one realm at once: a realm has one budget of 500 requests/minute. */
  readonly realm: string;
  readonly run: () => Promise<T>;
}

export type PoolOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

/**
 * Jobs side by side on one machine: twice the CPU cores (a job is mostly waiting on QBO's
 * budget), at least 2 and at most 8.
 */
export function defaultMaxParallel(cores = availableParallelism()): number {
  return Math.min(8, Math.max(2, cores * 2));
}

/**
 * Runs submitted jobs, at most `maxParallel` at once, one per realm at a time (each job gets its
 * realm's whole request budget, so two jobs of a realm can never be over it together), in the
 * order they were submitted as far as those rules allow. A job that fails or throws is reported
 * through `onSettled` and never stops the others.
 */
export class JobPool<T> {
  readonly #queue: Array<PoolJob<T>> = [];
  readonly #running = new Map<string, PoolJob<T>>();
  readonly #waiters: Array<() => void> = [];

  constructor(
    readonly maxParallel: number,
    private readonly onSettled: (job: PoolJob<T>, outcome: PoolOutcome<T>) => void = () => undefined,
  ) {
    if (!Number.isInteger(maxParallel) || maxParallel < 1) throw new RangeError(`maxParallel must be a whole number >= 1, got ${maxParallel}`);
  }

  /** Queues a job; false when a job of that id is already queued or running (it is not queued twice). */
  submit(job: PoolJob<T>): boolean {
    if (this.has(job.id)) return false;
    this.#queue.push(job);
    this.#pump();
    return true;
  }

  has(id: string): boolean {
    return this.#running.has(id) || this.#queue.some((j) => j.id === id);
  }

  get size(): { readonly running: number; readonly queued: number } {
    return { running: this.#running.size, queued: this.#queue.length };
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.#running.size === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Drops the jobs not started yet (a stop: what runs finishes its own way); returns them. */
  clearQueue(): Array<PoolJob<T>> {
    const dropped = this.#queue.splice(0);
    this.#settleIdle();
    return dropped;
  }

  #pump(): void {
    for (let i = 0; i < this.#queue.length && this.#running.size < this.maxParallel;) {
      const job = this.#queue[i] as PoolJob<T>;
      const realmBusy = [...this.#running.values()].some((r) => r.realm === job.realm);
      if (realmBusy) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#running.set(job.id, job);
      void this.#start(job);
    }
  }

  async #start(job: PoolJob<T>): Promise<void> {
    let outcome: PoolOutcome<T>;
    try {
      outcome = { ok: true, value: await job.run() };
    } catch (error) {
      outcome = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
    this.#running.delete(job.id);
    try {
      this.onSettled(job, outcome);
    } finally {
      this.#pump();
      this.#settleIdle();
    }
  }

  #settleIdle(): void {
    if (this.#running.size > 0 || this.#queue.length > 0) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}
