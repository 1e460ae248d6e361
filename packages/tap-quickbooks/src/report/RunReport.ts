import type { Logger } from 'singer-kit';
import type { RetryReason } from '../http/retryPolicy.js';
import type { WindowRead } from '../extract/readWindow.js';
import { volumetryLine } from './volumetryRecord.js';

interface StreamTotals {
  windows: number;
  empty: number;
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
 * Volumetry on stderr: one line per stream × window, a live progress line on a terminal
 * (windows done/total, rows, requests/min, ETA), and the run summary.
 */
export class RunReport {
  readonly #o: RunReportOptions;
  readonly #now: () => number;
  readonly #started: number;
  readonly #streams = new Map<string, StreamTotals>();
  readonly retries: Record<RetryReason, number> = { network: 0, timeout: 0, throttled: 0, server: 0, unauthorized: 0 };
  #plannedWindows = 0;
  #doneWindows = 0;
  #lastDraw = 0;

  constructor(options: RunReportOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
  }

  plan(windows: number): void {
    this.#plannedWindows += windows;
  }

  retried(reason: RetryReason): void {
    this.retries[reason] += 1;
  }

  windowDone(stream: string, read: WindowRead): void {
    const totals = this.#streams.get(stream) ?? { windows: 0, empty: 0, records: 0, pages: 0, requests: 0 };
    totals.windows += 1;
    totals.empty += read.qboCount === 0 ? 1 : 0;
    totals.records += read.lines.length;
    totals.pages += read.pages;
    totals.requests += read.requests;
    this.#streams.set(stream, totals);
    this.#doneWindows += 1;
    this.#clearProgress();
    this.#o.logger.info(volumetryLine(stream, read));
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
    const left = Math.max(0, this.#plannedWindows - this.#doneWindows);
    const eta = this.#doneWindows === 0 ? '?' : `${Math.round(((elapsed / this.#doneWindows) * left) / 1000)} s`;
    tty.write(`\r\x1b[2Kwindows ${this.#doneWindows}/${this.#plannedWindows}  rows ${this.#records()}  ${this.#o.requestsLastMinute()} req/min  ETA ${eta}`);
    this.#lastDraw = now;
  }

  summary(): void {
    this.#clearProgress();
    const seconds = (this.#now() - this.#started) / 1000;
    for (const [stream, t] of [...this.#streams.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      this.#o.logger.info(`summary ${stream}: ${t.records} records in ${t.windows} windows (${t.empty} empty), ${t.pages} pages, ${t.requests} requests`);
    }
    const requests = [...this.#streams.values()].reduce((sum, t) => sum + t.requests, 0);
    const retries = Object.entries(this.retries).map(([k, v]) => `${k}=${v}`).join(' ');
    this.#o.logger.info(`summary: ${this.#records()} records, ${this.#doneWindows} windows, ${requests} requests in ${seconds.toFixed(1)} s; retries ${retries}`);
  }
}
