import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MessageError, readLineBytes, type InputLineBytes, type Logger } from 'singer-kit';
import { Buffers } from './buffer/Buffers.js';
import { collectGarbageAbove } from './buffer/collectGarbage.js';
import { FlushPolicy } from './buffer/flushPolicy.js';
import { PayloadArena } from './buffer/PayloadArena.js';
import { addCounts, emptyCounts, formatCounts, type LoadCounts } from './db/loadCounts.js';
import { RawTableWriter } from './db/RawTableWriter.js';
import { StoredHashes } from './db/StoredHashes.js';
import { fileReader, stdinReader } from './input/chunkReaders.js';
import { Lookahead, type LookaheadLimits } from './input/Lookahead.js';
import { PooledLines, type InputLines } from './input/PooledLines.js';
import { ScanPolicy } from './input/ScanPolicy.js';
import { watchForEmptyInput } from './input/watchForEmptyInput.js';
import { MessageRouter, type MessageSink, type RoutedLine } from './messages/MessageRouter.js';
import { scanLine } from './messages/scanLine.js';
import type { Row, SkippedRecord } from './rows/Row.js';
import { checkId } from './rows/toRow.js';
import type { TargetSettings } from './settings.js';
import { StatePrinter } from './state/StatePrinter.js';

/**
 * Above this resident size each full batch starts with a full garbage collection (goal: flat, ≤ 200 MB).
 * Each costs this thread 15–35 ms, so it is kept for when memory grows: at 5,000-row batches a
 * load of 100k invoices stays below it (peak 160–170 MB) and needs none.
 */
const RSS_BUDGET_BYTES = 175 * 1024 * 1024;

/**
 * How far the input is read ahead so the stored hashes of its records are known before they are
 * routed (small windows: lines held longer cost the garbage collector more than the lookups).
 */
const LOOKAHEAD: LookaheadLimits = { lines: 500, bytes: 1024 * 1024, idleMs: 20, maxAgeMs: 250, depth: 1 };
/**
 * Routing gives the event loop a turn after this much input. Parsing a whole window at once would
 * hold up, for its 15 ms, the database's replies and the COPY of the batch being committed, so
 * PostgreSQL would sit idle between the statements of each commit.
 */
const ROUTE_BYTES_PER_TURN = 32 * 1024;
/**
 * What a line found equal to its stored row counts toward ROUTE_BYTES_PER_TURN, as a part of its
 * bytes: it is counted, not parsed (a microsecond), and a turn of the event loop for every 32 kB of
 * such lines cost more CPU than routing them (5,000 turns in a re-load of 100k invoices).
 */
const UNCHANGED_BYTES_SHARE = 1 / 16;

/** Lines read ahead, scanned, with the lookups of their stored hashes (`ready` never rejects). */
interface Window {
  readonly lines: readonly RoutedLine[];
  readonly lookedUpAfter: number;
  /** How many streams' tables were ready when it was prepared: the records of those that became ready since were not looked up. */
  readonly tablesReady: number;
  readonly ready: Promise<void>;
}

export interface RunTargetOptions {
  readonly settings: TargetSettings;
  /**
   * Singer lines: a stream; a file opened by the caller (who closes it); or `'stdin'`, the process's
   * fd 0 whatever it is (a file, a pipe, a socket, a terminal), closed at the end of the run. A file
   * and stdin are read into chunk buffers reused once no line refers to them (PooledLines).
   * A stream's lines are read as views of its chunks (a payload over 256 kB stays one until committed): its producer must not reuse a chunk it has written.
   */
  readonly input: Readable | FileHandle | 'stdin';
  /** Where state values go (stdout in the CLI). */
  readonly output: Writable;
  readonly logger: Logger;
  /** Aborted on SIGTERM/SIGINT, its reason naming the signal: stop reading, commit what is buffered, print its state, finish (before the first connection: stop retrying it, exit 1). */
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
  const from = options.input;
  const input: InputLines & { close(): void } =
    from instanceof Readable
      ? { lines: readLineBytes(from)[Symbol.asyncIterator](), doneThrough: () => undefined, close: () => undefined }
      : new PooledLines(from === 'stdin' ? stdinReader : (target) => fileReader(from.fd, target));
  try {
    return await load(options, input);
  } finally {
    // After a signal or an error stdin may still be open; it must not keep the process alive.
    input.close();
  }
}

async function load(options: RunTargetOptions, input: InputLines): Promise<TargetSummary> {
  const loadRunId = randomUUID();
  const { connection, schema, reconnectTimeoutMs } = options.settings;
  // Input that ends empty while the database is still unreachable (the tap failed first) stops the
  // retries, and so does a stop requested then (nothing is buffered yet that a commit could keep).
  const { lines, endedEmpty } = watchForEmptyInput(input.lines);
  const stopConnecting = options.signal ? AbortSignal.any([endedEmpty, options.signal]) : endedEmpty;
  const writer = await RawTableWriter.open({ connection, schema, loadRunId, reconnectTimeoutMs, stopConnecting, logger: options.logger });
  const hashes = new StoredHashes({ connection, schema, reconnectTimeoutMs, logger: options.logger });
  // The first lookup need not wait for its session: it connects while the first lines are read.
  hashes.connect();
  const run = new TargetRun(options, { lines, doneThrough: (line) => input.doneThrough(line) }, writer, hashes);
  try {
    const stoppedBy = await run.consume();
    await writer.finish('succeeded', stoppedBy);
    return { loadRunId, stoppedBy, ...run.totals() };
  } catch (error) {
    await writer.finish('failed', (error as Error).message);
    throw error;
  } finally {
    // Each close waits for the server to end its session (tens of ms): both at once.
    await Promise.all([hashes.close(), writer.close()]);
  }
}

/**
 * One run, the composition root: lines go to the MessageRouter, records into the Buffers, the
 * FlushPolicy says when to commit, the RawTableWriter commits, the StatePrinter prints what the
 * commit covers. Every database step (table creation, commits) runs in order on one promise
 * chain, so the single connection never interleaves two transactions while the next batch is
 * read and prepared. The input is read ahead (Lookahead): each window's records are scanned and
 * the stored payload hashes of their ids read on a second session (StoredHashes), so a record
 * equal to its stored row is counted unchanged without being parsed, validated or written —
 * unless this run buffered that id in a batch not yet committed when the lookup was made.
 */
class TargetRun implements MessageSink {
  readonly #o: RunTargetOptions;
  readonly #input: InputLines;
  readonly #writer: RawTableWriter;
  readonly #hashes: StoredHashes;
  readonly #log: Logger;
  readonly #router: MessageRouter;
  readonly #buffers = new Buffers();
  readonly #arena = new PayloadArena();
  readonly #policy: FlushPolicy;
  readonly #states: StatePrinter;
  #chain: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #onFailure: (() => void) | undefined;
  #commits = 0;
  readonly #counts = emptyCounts();
  /** Streams whose table is ready (created and upgraded), with their table: only those are looked up. */
  readonly #ready = new Map<string, string>();
  /** Per stream whose table is ready: how many were ready before it (a window prepared with more ready looked its records up). */
  readonly #readyAt = new Map<string, number>();
  /** Streams whose SCHEMA was routed and whose table is not ready yet. */
  readonly #opening = new Set<string>();
  /** Flushes scheduled and not yet done: a table opened after one is ready only once it has committed. */
  #flushesQueued = 0;
  /** Batches taken from the buffers so far, and how many of them have committed (a batch without records counts as committed). */
  #batchesTaken = 0;
  #batchesCommitted = 0;
  /** Per batch number (not yet known committed to every lookup): stream → ids of the records it writes. */
  readonly #writtenIn = new Map<number, Map<string, Set<string>>>();
  readonly #scanPolicy = new ScanPolicy();
  readonly #keysOf = (stream: string) => this.#router.keysOf(stream);

  constructor(options: RunTargetOptions, input: InputLines, writer: RawTableWriter, hashes: StoredHashes) {
    this.#o = options;
    this.#input = input;
    this.#writer = writer;
    this.#hashes = hashes;
    this.#log = options.logger;
    this.#states = new StatePrinter(options.output);
    this.#router = new MessageRouter(options.settings.validateRecords, options.logger, this);
    this.#policy = new FlushPolicy(options.settings, () => this.#scheduleFlush('max batch age'));
  }

  totals(): { commits: number; statesPrinted: number; counts: LoadCounts } {
    return { commits: this.#commits, statesPrinted: this.#states.printed, counts: { ...this.#counts } };
  }

  async consume(): Promise<'end of input' | 'signal'> {
    const lookahead = new Lookahead(this.#input.lines, (lines) => this.#prepare(lines), LOOKAHEAD);
    // One waiter per read, woken by the next window, a signal or a failed flush. (Racing every read
    // against one long-lived promise would pile a reaction, and its window, onto it per read.)
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
    let routedBytes = 0;
    try {
      reading: for (;;) {
        const next = interrupted
          ? 'interrupted'
          : await new Promise<Window | undefined | 'interrupted'>((resolve, reject) => {
              wake = resolve;
              lookahead.next().then(resolve, reject);
            });
        wake = undefined;
        this.#throwIfFailed();
        if (next === 'interrupted') {
          stoppedBy = 'signal';
          break;
        }
        if (next === undefined) break;
        await next.ready;
        this.#forgetCommitted([next, ...lookahead.waiting]);
        let window = next;
        for (let i = 0; i < window.lines.length; i++) {
          this.#throwIfFailed();
          if (interrupted) {
            stoppedBy = 'signal';
            break reading;
          }
          let line = window.lines[i] as RoutedLine;
          if (this.#worthLookingUpAgain(line, window)) {
            window = await this.#lookUpAgain(window.lines.slice(i));
            i = 0;
            line = window.lines[0] as RoutedLine;
          }
          const waiting = this.#router.route(line);
          routedBytes += line.found === '=' ? line.bytes.length * UNCHANGED_BYTES_SHARE : line.bytes.length;
          if (waiting === undefined && routedBytes < ROUTE_BYTES_PER_TURN) continue;
          await (waiting ?? nextTurn());
          routedBytes = 0;
        }
        // What buffered records keep of these lines is copied out (PayloadArena): their chunks may be read into again.
        const last = window.lines.at(-1);
        if (last !== undefined) this.#input.doneThrough(last.number);
      }
      if (stoppedBy === 'signal') this.#log.info('stop requested (signal): committing buffered records, then exiting');
      this.#scheduleFlush(stoppedBy);
      await this.#chain;
      this.#throwIfFailed();
      return stoppedBy;
    } catch (error) {
      if (error instanceof MessageError && !this.#failure) {
        // Bad input (often the tap killed mid-line): everything before it was valid, so commit
        // it and print the latest state received before it; the re-run resumes from there.
        this.#log.warn(`input error at line ${error.lineNumber}: committing the records received before it, then stopping`);
        this.#scheduleFlush('input error');
      }
      await this.#chain;
      this.#states.silence();
      throw error;
    } finally {
      this.#policy.flushed();
      lookahead.stop();
    }
  }

  /**
   * Scans a window's lines (those ScanPolicy says; all when prepared `again`, which ScanPolicy
   * neither counts nor judges by: a stream's first records say little of the rest) and starts the
   * lookups of their records' stored hashes, one query per table whose stream is ready. A failed
   * lookup only means those records take the usual path.
   */
  #prepare(lines: readonly InputLineBytes[], again = false): Window {
    const lookedUpAfter = this.#batchesCommitted;
    const tablesReady = this.#ready.size;
    const scanned = again ? lines.length : this.#scanPolicy.linesToScan(lines.length, this.#ready.size > 0);
    const routed: RoutedLine[] = [];
    const perTable = new Map<string, { readonly ids: string[]; readonly lines: RoutedLine[] }>();
    for (let i = 0; i < lines.length; i++) {
      const { bytes, number } = lines[i] as InputLineBytes;
      const scan = i < scanned ? scanLine(bytes, this.#keysOf) : undefined;
      // Every field from the start: one shape, no property added later (young objects the collector copies).
      const line: RoutedLine = { number, bytes, scan, lookedUpAfter, lookedUpId: undefined, found: undefined };
      routed.push(line);
      const table = typeof scan?.stream === 'string' ? this.#ready.get(scan.stream) : undefined;
      if (scan?.id === undefined || table === undefined || 'missing' in scan.id) continue;
      const checked = checkId(scan.id);
      if ('problem' in checked) continue;
      line.lookedUpId = checked.id;
      let group = perTable.get(table);
      if (!group) perTable.set(table, (group = { ids: [], lines: [] }));
      group.ids.push(checked.id);
      group.lines.push(line);
    }
    const lookups = [...perTable].map(async ([table, group]) => {
      try {
        const stored = await this.#hashes.lookup(table, group.ids);
        let equal = 0;
        for (let i = 0; i < group.lines.length; i++) {
          const line = group.lines[i] as RoutedLine;
          const hash = stored[i];
          line.found = hash === '-' ? '-' : hash === line.scan?.hash ? '=' : '~';
          if (line.found === '=') equal += 1;
        }
        if (!again) this.#scanPolicy.judge(equal, group.lines.length);
      } catch (error) {
        this.#log.debug(`stored payload hashes of ${group.ids.length} records not read (${(error as Error).message}); they are compared at their commit`);
      }
    });
    return { lines: routed, lookedUpAfter, tablesReady, ready: Promise.all(lookups).then(() => undefined) };
  }

  /**
   * Whether a record about to be routed the usual way (parsed, checked against its SCHEMA, written
   * at its commit) could be looked up if its window were prepared again: its stream's table was not
   * ready when the window was, and is now or is being made (no commit queued before that). At the
   * start of a run, and for each stream's first records, this spares compiling its SCHEMA (ajv:
   * 40–75 ms of CPU for a QBO stream) and parsing its records when they are equal to their rows.
   */
  #worthLookingUpAgain(line: RoutedLine, window: Window): boolean {
    if (line.lookedUpId !== undefined) return false;
    const tableComing = this.#opening.size > 0 && this.#flushesQueued === 0;
    if (!tableComing && this.#ready.size === window.tablesReady) return false;
    const stream = (line.scan ?? scanLine(line.bytes, this.#keysOf))?.stream;
    if (typeof stream !== 'string') return false;
    if (this.#opening.has(stream)) return tableComing;
    const readyAt = this.#readyAt.get(stream);
    return readyAt !== undefined && readyAt >= window.tablesReady;
  }

  /**
   * The rest of a window prepared again, once the tables being made are ready (a few statements,
   * waited for only when no commit is queued before them), with its lookups done.
   */
  async #lookUpAgain(lines: readonly RoutedLine[]): Promise<Window> {
    if (this.#opening.size > 0 && this.#flushesQueued === 0) {
      await this.#chain;
      this.#throwIfFailed();
    }
    const window = this.#prepare(lines, true);
    await window.ready;
    return window;
  }

  /** Forgets the ids of batches every window still to be routed was looked up after. */
  #forgetCommitted(windows: readonly Window[]): void {
    const floor = Math.min(...windows.map((w) => w.lookedUpAfter));
    for (const batch of this.#writtenIn.keys()) if (batch <= floor) this.#writtenIn.delete(batch);
  }

  writtenAfter(stream: string, id: string, batches: number): boolean {
    for (const [batch, streams] of this.#writtenIn) if (batch > batches && streams.get(stream)?.has(id) === true) return true;
    return false;
  }

  openStream(stream: string, table: string): void {
    this.#buffers.register(stream, table);
    this.#opening.add(stream);
    this.#schedule(async () => {
      await this.#writer.ensureTable(stream, table);
      this.#readyAt.set(stream, this.#ready.size);
      this.#ready.set(stream, table);
      this.#opening.delete(stream);
    });
  }

  keepPayload(payload: Buffer | string): Buffer {
    return this.#arena.keep(payload);
  }

  state(valueText: string): void {
    this.#states.receive(valueText);
  }

  record(stream: string, row: Row | SkippedRecord): Promise<void> | undefined {
    if (this.#buffers.waitsForCommit(stream, row)) return this.#commitBefore(stream, row);
    if (!('skipped' in row)) {
      const batch = this.#batchesTaken + 1;
      let streams = this.#writtenIn.get(batch);
      if (!streams) this.#writtenIn.set(batch, (streams = new Map<string, Set<string>>()));
      let ids = streams.get(stream);
      if (!ids) streams.set(stream, (ids = new Set()));
      ids.add(row.id);
    }
    return this.#policy.recordBuffered(this.#buffers.add(stream, row)) ? this.#flushFull(stream) : undefined;
  }

  /**
   * A buffer is full. At most one flush in flight: wait for it, then start the next without
   * waiting for its commit. Garbage is collected first, while that commit keeps the database busy
   * and this thread would only wait.
   */
  async #flushFull(stream: string): Promise<void> {
    collectGarbageAbove(RSS_BUDGET_BYTES);
    await this.#chain;
    this.#throwIfFailed();
    this.#scheduleFlush(`stream ${stream} batch full`);
  }

  /** Commits what is buffered, then buffers `row`: it must come after the records before it in another commit. */
  async #commitBefore(stream: string, row: Row | SkippedRecord): Promise<void> {
    // Its payload is in the arena blocks that commit takes and gives back for reuse: a copy of its own.
    const own = 'skipped' in row ? row : { ...row, payload: Buffer.from(row.payload) };
    await this.#chain;
    this.#throwIfFailed();
    this.#scheduleFlush(`stream ${stream}: a record makes a row deleted in this batch alive again`);
    await this.#chain;
    this.#throwIfFailed();
    return this.record(stream, own);
  }

  /** Commits every buffer in one transaction, then prints the latest state received before it began. */
  async #flush(reason: string): Promise<void> {
    this.#policy.flushed();
    const cut = this.#states.cut();
    const batch = this.#buffers.take();
    const payloads = this.#arena.take();
    const batchNumber = ++this.#batchesTaken;
    if (batch.streams.length > 0) {
      const started = Date.now();
      const perStream = await this.#writer.commit(batch);
      this.#commits += 1;
      const total = emptyCounts();
      for (const counts of perStream.values()) addCounts(total, counts);
      addCounts(this.#counts, total);
      this.#log.info(`commit ${this.#commits} (${reason}) in ${Date.now() - started} ms: ${formatCounts(total)}`);
      for (const [stream, counts] of perStream) this.#log.info(`  stream ${JSON.stringify(stream)}: ${formatCounts(counts)}`);
    }
    this.#batchesCommitted = batchNumber;
    this.#arena.release(payloads);
    await this.#states.printCommitted(cut);
  }

  #scheduleFlush(reason: string): void {
    this.#flushesQueued += 1;
    this.#schedule(() => this.#flush(reason));
    this.#chain = this.#chain.finally(() => {
      this.#flushesQueued -= 1;
    });
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
