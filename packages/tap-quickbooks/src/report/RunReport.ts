import { plural, type Logger } from 'singer-kit';
import type { RetryReason } from '../http/retryPolicy.js';
import { spanLine, type ReadDone } from './volumetryRecord.js';

interface StreamTotals {
  days: number;
  empty: number;
  spans: number;
  records: number;
  pages: number;
  requests: number;
}

export interface RunReportOptions {
  readonly logger: Logger;
  /** A live progress line is drawn only on a terminal. */
  readonly tty?: NodeJS.WriteStream | undefined;
  readonly requestsLastMinute: () => number;
  readonly now?: () => number;
}

/**
 * Volumetry on stderr: one line per span read, a live progress line on a terminal (days
 * done/total over all streams, rows, requests/min, ETA), and the run summary.
 */
export class RunReport {
  readonly #o: RunReportOptions;
  readonly #now: () => number;
  readonly #started: number;
  readonly #streams = new Map<string, StreamTotals>();
  readonly retries: Record<RetryReason, number> = { network: 0, timeout: 0, throttled: 0, server: 0, unauthorized: 0, garbled: 0 };
  #plannedDays = 0;
  #doneDays = 0;
  /**
   * End instants of the days complete in any stream: the summary's days, where `#doneDays` counts
   * each stream's. Ends, not starts: a stream's first day starts at its own bookmark, but every
   * stream's days end on the same UTC midnights (and the last at the run's end).
   */
  readonly #distinctDays = new Set<number>();
  #lastDraw = 0;

  constructor(options: RunReportOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
  }

  /** Days (evidence windows) a stream will go through. */
  plan(days: number): void {
    this.#plannedDays += days;
  }

  retried(reason: RetryReason): void {
    this.retries[reason] += 1;
  }

  /** A span was read and written: `completeDays` of the stream are now complete (their end instants), `emptyDays` of them without records. */
  spanDone(stream: string, read: ReadDone, completeDays: readonly number[], emptyDays: number): void {
    const days = completeDays.length;
    for (const start of completeDays) this.#distinctDays.add(start);
    const totals = this.#streams.get(stream) ?? { days: 0, empty: 0, spans: 0, records: 0, pages: 0, requests: 0 };
    totals.days += days;
    totals.empty += emptyDays;
    totals.spans += 1;
    totals.records += read.extracted;
    totals.pages += read.pages;
    totals.requests += read.requests;
    this.#streams.set(stream, totals);
    this.#doneDays += days;
    this.#clearProgress();
    this.#o.logger.info(spanLine(stream, read));
    this.#drawProgress();
  }

  #records(): number {
    let sum = 0;
    for (const t of this.#streams.values()) sum += t.records;
    return sum;
  }

  #clearProgress(): void {
    if (this.#o.tty && this.#lastDraw > 0) this.#o.tty.write('\r\x1b[2K');
  }

  #drawProgress(): void {
    const tty = this.#o.tty;
    if (!tty) return;
    const now = this.#now();
    const elapsed = Math.max(1, now - this.#started);
    const left = Math.max(0, this.#plannedDays - this.#doneDays);
    const eta = this.#doneDays === 0 ? '?' : `${Math.round(((elapsed / this.#doneDays) * left) / 1000)} s`;
    tty.write(`\r\x1b[2Kdays ${this.#doneDays}/${this.#plannedDays}  rows ${this.#records()}  ${this.#o.requestsLastMinute()} req/min  ETA ${eta}`);
    this.#lastDraw = now;
  }

  summary(): void {
    this.#clearProgress();
    const seconds = (this.#now() - this.#started) / 1000;
    for (const [stream, t] of [...this.#streams.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      this.#o.logger.info(
        `summary ${stream}: ${plural(t.records, 'record')} in ${plural(t.days, 'day')} (${t.empty} empty) read as ${plural(t.spans, 'span')}, ${plural(t.pages, 'page')}, ${plural(t.requests, 'request')}`,
      );
    }
    const requests = [...this.#streams.values()].reduce((sum, t) => sum + t.requests, 0);
    const retries = Object.entries(this.retries)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    // Days as a reader counts them (a sync of three streams minutes after the last reads one day, not
    // three), and, when streams overlap, the sum over streams that the progress line counts.
    const distinct = this.#distinctDays.size;
    const days = `${plural(distinct, 'day')}${this.#doneDays !== distinct ? ` (${this.#doneDays} stream-days)` : ''}`;
    this.#o.logger.info(
      `summary: ${plural(this.#records(), 'record')}, ${days}, ${plural(requests, 'request')} in ${seconds.toFixed(1)} s; retries ${retries}`,
    );
  }
}
