/** Why a request was refused. */
export type Refusal = 'rate' | 'concurrency';

/**
 * QBO's per-realm limits: requests in the last minute (sliding) and requests in flight.
 * Pure accounting; the caller supplies the time and reports when a request ends.
 */
export class RequestBudget {
  readonly #started: number[] = [];
  #inFlight = 0;

  constructor(
    private readonly perMinute: number,
    private readonly maxInFlight: number,
  ) {}

  /** Admits a request at `nowMs`, or says why not; an admitted request must be finished. */
  tryStart(nowMs: number): Refusal | undefined {
    while (this.#started.length > 0 && (this.#started[0] as number) <= nowMs - 60_000) this.#started.shift();
    if (this.#inFlight >= this.maxInFlight) return 'concurrency';
    if (this.#started.length >= this.perMinute) return 'rate';
    this.#started.push(nowMs);
    this.#inFlight++;
    return undefined;
  }

  finish(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }
}
