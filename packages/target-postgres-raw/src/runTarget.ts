import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { MessageError, readLines, type InputLine, type Logger } from 'singer-kit';
import { Buffers } from './buffer/Buffers.js';
import { collectGarbageAbove } from './buffer/collectGarbage.js';
import { FlushPolicy } from './buffer/flushPolicy.js';
import { addCounts, emptyCounts, formatCounts, type LoadCounts } from './db/loadCounts.js';
import { RawTableWriter } from './db/RawTableWriter.js';
import { MessageRouter, type MessageSink } from './messages/MessageRouter.js';
import type { Row } from './rows/Row.js';
import type { TargetSettings } from './settings.js';
import { StatePrinter } from './state/StatePrinter.js';

/** Above this resident size each commit runs a full garbage collection (goal: flat, ≤ 200 MB). */
const RSS_BUDGET_BYTES = 150 * 1024 * 1024;

export interface RunTargetOptions {
  readonly settings: TargetSettings;
  readonly input: Readable;
  /** Where state values go (stdout in the CLI). */
  readonly output: Writable;
  readonly logger: Logger;
  /** Aborted on SIGTERM/SIGINT: stop reading, commit what is buffered, print its state, finish. */
  readonly signal?: AbortSignal;
}

export interface TargetSummary {
  readonly loadRunId: string;
  readonly commits: number;
  readonly statesPrinted: number;
  readonly counts: LoadCounts;
  readonly stoppedBy: 'end of input' | 'signal';
}

/** Reads Singer messages from `input` and loads them into PostgreSQL; see the package README. */
export async function runTarget(options: RunTargetOptions): Promise<TargetSummary> {
  const loadRunId = randomUUID();
  const { connection, schema, reconnectTimeoutMs } = options.settings;
  const writer = await RawTableWriter.open({ connection, schema, loadRunId, reconnectTimeoutMs, logger: options.logger });
  const run = new TargetRun(options, writer);
  try {
    const stoppedBy = await run.consume();
    await writer.finish('succeeded', stoppedBy);
    return { loadRunId, stoppedBy, ...run.totals() };
  } catch (error) {
    await writer.finish('failed', (error as Error).message);
    throw error;
  } finally {
    await writer.close();
  }
}

/**
 * One run, the composition root: lines go to the MessageRouter, records into the Buffers, the
 * FlushPolicy says when to commit, the RawTableWriter commits, the StatePrinter prints what the
 * commit covers. Every database step (table creation, commits) runs in order on one promise
 * chain, so the single connection never interleaves two transactions while the next batch is
 * read and prepared.
 */
class TargetRun implements MessageSink {
  readonly #o: RunTargetOptions;
  readonly #writer: RawTableWriter;
  readonly #log: Logger;
  readonly #router: MessageRouter;
  readonly #buffers = new Buffers();
  readonly #policy: FlushPolicy;
  readonly #states: StatePrinter;
  #chain: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #onFailure: (() => void) | undefined;
  #commits = 0;
  readonly #counts = emptyCounts();

  constructor(options: RunTargetOptions, writer: RawTableWriter) {
    this.#o = options;
    this.#writer = writer;
    this.#log = options.logger;
    this.#states = new StatePrinter(options.output);
    this.#router = new MessageRouter(options.settings.validateRecords, options.logger, this);
    this.#policy = new FlushPolicy(options.settings, () => this.#schedule(() => this.#flush('max batch age')));
  }

  totals(): { commits: number; statesPrinted: number; counts: LoadCounts } {
    return { commits: this.#commits, statesPrinted: this.#states.printed, counts: { ...this.#counts } };
  }

  async consume(): Promise<'end of input' | 'signal'> {
    const lines = readLines(this.#o.input)[Symbol.asyncIterator]();
    // One waiter per read, woken by the next line, a signal or a failed flush. (Racing every read
    // against one long-lived promise would pile a reaction, and its line, onto it per line.)
    let wake: ((value: 'interrupted') => void) | undefined;
    let interrupted = false;
    const interrupt = () => {
      interrupted = true;
      wake?.('interrupted');
    };
    this.#onFailure = interrupt;
    this.#o.signal?.addEventListener('abort', interrupt, { once: true });
    if (this.#o.signal?.aborted) interrupted = true;
    let stoppedBy: 'end of input' | 'signal' = 'end of input';
    try {
      for (;;) {
        const next = interrupted
          ? 'interrupted'
          : await new Promise<IteratorResult<InputLine> | 'interrupted'>((resolve, reject) => {
              wake = resolve;
              lines.next().then(resolve, reject);
            });
        wake = undefined;
        this.#throwIfFailed();
        if (next === 'interrupted') {
          stoppedBy = 'signal';
          this.#log.info('stop requested (signal): committing buffered records, then exiting');
          break;
        }
        if (next.done) break;
        await this.#router.route(next.value);
      }
      this.#schedule(() => this.#flush(stoppedBy));
      await this.#chain;
      this.#throwIfFailed();
      return stoppedBy;
    } catch (error) {
      if (error instanceof MessageError && !this.#failure) {
        // Bad input (often the tap killed mid-line): everything before it was valid, so commit
        // it and print the latest state received before it; the re-run resumes from there.
        this.#log.warn(`input error at line ${error.lineNumber}: committing the records received before it, then stopping`);
        this.#schedule(() => this.#flush('input error'));
      }
      await this.#chain;
      this.#states.silence();
      throw error;
    } finally {
      this.#policy.flushed();
      void lines.return?.(undefined);
    }
  }

  openStream(stream: string, table: string): void {
    this.#buffers.register(stream, table);
    this.#schedule(() => this.#writer.ensureTable(stream, table));
  }

  state(value: unknown): void {
    this.#states.receive(value);
  }

  async record(stream: string, row: Row): Promise<void> {
    if (this.#policy.recordBuffered(this.#buffers.add(stream, row))) {
      // At most one flush in flight: wait for it, then start the next without waiting for its commit.
      await this.#chain;
      this.#throwIfFailed();
      this.#schedule(() => this.#flush(`stream ${stream} batch full`));
    }
  }

  /** Commits every buffer in one transaction, then prints the latest state received before it began. */
  async #flush(reason: string): Promise<void> {
    this.#policy.flushed();
    const cut = this.#states.cut();
    const batch = this.#buffers.take();
    if (batch.streams.length > 0) {
      const started = Date.now();
      const perStream = await this.#writer.commit(batch, () => collectGarbageAbove(RSS_BUDGET_BYTES));
      this.#commits += 1;
      const total = emptyCounts();
      for (const counts of perStream.values()) addCounts(total, counts);
      addCounts(this.#counts, total);
      this.#log.info(`commit ${this.#commits} (${reason}) in ${Date.now() - started} ms: ${formatCounts(total)}`);
      for (const [stream, counts] of perStream) this.#log.info(`  stream ${JSON.stringify(stream)}: ${formatCounts(counts)}`);
    }
    await this.#states.printCommitted(cut);
  }

  #schedule(task: () => Promise<void>): void {
    this.#chain = this.#chain
      .then(() => (this.#failure ? undefined : task()))
      .catch((error: Error) => {
        this.#failure ??= error;
        this.#onFailure?.();
      });
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }
}
