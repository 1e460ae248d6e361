import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import {
  LineWriter,
  MessageError,
  parseMessageLine,
  readLines,
  type InputLine,
  type JsonObject,
  type Logger,
} from 'singer-kit';
import { bufferFull } from './flushPolicy.js';
import { collectGarbageAbove } from './collectGarbage.js';
import { RawTableWriter, addCounts, emptyCounts, LOAD_COUNT_NAMES, type LoadCounts, type StreamBatch } from './RawTableWriter.js';
import { SchemaValidator, type RecordCheck } from './SchemaValidator.js';
import type { TargetSettings } from './settings.js';
import { StateGate } from './StateGate.js';
import { StreamBuffer } from './StreamBuffer.js';
import { RESERVED_TABLES, tableNameFor } from './tableName.js';
import { toRow } from './toRow.js';

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

interface StreamInfo {
  readonly stream: string;
  readonly table: string;
  keyProperties: readonly string[];
  check: RecordCheck | undefined;
  readonly buffer: StreamBuffer;
}

function formatCounts(counts: LoadCounts): string {
  return LOAD_COUNT_NAMES.map((n) => `${n} ${counts[n]}`).join(', ');
}

/** Reads Singer messages from `input` and loads them into PostgreSQL; see the package README. */
export async function runTarget(options: RunTargetOptions): Promise<TargetSummary> {
  const loadRunId = randomUUID();
  const writer = await RawTableWriter.open(options.settings.connection, options.settings.schema, loadRunId, options.logger);
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
 * One run: routes messages, buffers records per stream, and serialises every database step
 * (table creation, flushes) on one promise chain, so the single connection never interleaves
 * two transactions while the next batch is read and prepared.
 */
class TargetRun {
  readonly #o: RunTargetOptions;
  readonly #writer: RawTableWriter;
  readonly #out: LineWriter;
  readonly #log: Logger;
  readonly #streams = new Map<string, StreamInfo>();
  readonly #tables = new Map<string, string>();
  readonly #gate = new StateGate();
  readonly #validator = new SchemaValidator();
  #chain: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #onFailure: (() => void) | undefined;
  /** Set once the run has failed: nothing more is printed. */
  #silenced = false;
  #timer: NodeJS.Timeout | undefined;
  #bufferedBytes = 0;
  #commits = 0;
  #statesPrinted = 0;
  readonly #counts = emptyCounts();

  constructor(options: RunTargetOptions, writer: RawTableWriter) {
    this.#o = options;
    this.#writer = writer;
    this.#out = new LineWriter(options.output);
    this.#log = options.logger;
  }

  totals(): { commits: number; statesPrinted: number; counts: LoadCounts } {
    return { commits: this.#commits, statesPrinted: this.#statesPrinted, counts: { ...this.#counts } };
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
        await this.#handle(next.value);
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
      this.#silenced = true;
      throw error;
    } finally {
      clearTimeout(this.#timer);
      void lines.return?.(undefined);
    }
  }

  async #handle(line: InputLine): Promise<void> {
    const message = parseMessageLine(line.text, line.number);
    switch (message.type) {
      case 'RECORD':
        return this.#record(message, line);
      case 'SCHEMA':
        return this.#schema(message, line.number);
      case 'STATE':
        if (!('value' in message)) throw new MessageError(line.number, 'STATE message has no "value"');
        this.#gate.receive(message.value);
        this.#log.debug(`line ${line.number}: STATE remembered until its records are committed`);
        return;
      case 'ACTIVATE_VERSION':
        // Our tables keep no version column, so there is nothing to activate or soft-delete.
        this.#log.info(`line ${line.number}: ACTIVATE_VERSION for stream ${JSON.stringify(message.stream)} ignored (tables are upserted by id, not versioned)`);
        return;
      case 'BATCH':
        throw new MessageError(line.number, 'BATCH messages are not supported; configure the tap to send RECORD messages (batch_config off)');
      default:
        this.#log.warn(`line ${line.number}: unknown message type ${JSON.stringify(message.type)} skipped`);
    }
  }

  #schema(message: JsonObject, lineNumber: number): void {
    const { stream, schema } = message;
    if (typeof stream !== 'string' || stream === '') throw new MessageError(lineNumber, 'SCHEMA message has no "stream" name');
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new MessageError(lineNumber, `SCHEMA for stream ${JSON.stringify(stream)} has no "schema" object`);
    }
    const properties = (schema as JsonObject).properties;
    if (typeof properties !== 'object' || properties === null) {
      throw new MessageError(lineNumber, `SCHEMA for stream ${JSON.stringify(stream)} has no "properties"; a record schema must list its properties`);
    }
    const keys = message.key_properties;
    if (keys !== undefined && (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string'))) {
      throw new MessageError(lineNumber, `SCHEMA for stream ${JSON.stringify(stream)}: key_properties must be a list of property names`);
    }
    let check: RecordCheck | undefined;
    if (this.#o.settings.validateRecords) {
      const compiled = this.#validator.compile(schema as JsonObject);
      if (typeof compiled === 'function') check = compiled;
      else this.#log.warn(`line ${lineNumber}: SCHEMA of stream ${JSON.stringify(stream)} cannot be compiled (${compiled.error}); its records are loaded unvalidated`);
    }
    const keyProperties = (keys as string[] | undefined) ?? [];
    const known = this.#streams.get(stream);
    if (known) {
      // A new SCHEMA (added fields, new keys) applies to the records after it; buffered ones keep their ids.
      known.keyProperties = keyProperties;
      known.check = check;
      return;
    }
    const table = tableNameFor(stream);
    const owner = this.#tables.get(table);
    if ((RESERVED_TABLES as readonly string[]).includes(table) || owner !== undefined) {
      throw new MessageError(lineNumber, `stream ${JSON.stringify(stream)} would use table ${JSON.stringify(table)}, which is taken by ${owner === undefined ? 'the target itself' : `stream ${JSON.stringify(owner)}`}`);
    }
    this.#tables.set(table, stream);
    this.#streams.set(stream, { stream, table, keyProperties, check, buffer: new StreamBuffer(stream) });
    this.#schedule(() => this.#writer.ensureTable(stream, table));
  }

  async #record(message: JsonObject, line: InputLine): Promise<void> {
    const stream = message.stream;
    const info = typeof stream === 'string' ? this.#streams.get(stream) : undefined;
    if (!info) {
      throw new MessageError(line.number, `RECORD for stream ${JSON.stringify(stream)} arrived before its SCHEMA; the tap must send a SCHEMA message for a stream before its records`);
    }
    const record = message.record;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new MessageError(line.number, `RECORD of stream ${JSON.stringify(info.stream)} has no "record" object`);
    }
    const { row, replaced } = toRow(record as JsonObject, line.text, line.number, info.stream, info.keyProperties);
    const problem = info.check?.(record as JsonObject);
    if (problem !== undefined) {
      throw new MessageError(line.number, `stream ${JSON.stringify(info.stream)} record id ${JSON.stringify(row.id)}: does not match its SCHEMA: ${problem}`);
    }
    if (replaced > 0) {
      this.#log.warn(`line ${line.number}: stream ${JSON.stringify(info.stream)} record id ${JSON.stringify(row.id)}: ${replaced} \\u0000 or unpaired surrogate escape(s) stored as U+FFFD`);
    }
    const before = info.buffer.bytes;
    info.buffer.add(row);
    this.#bufferedBytes += info.buffer.bytes - before;
    // The first record into empty buffers is the oldest: a real timer, so a quiet tap still gets its commit.
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#schedule(() => this.#flush('max batch age'));
    }, this.#o.settings.maxBatchAgeMs);
    // Rows are bounded per stream, bytes over all streams: many streams must not multiply memory.
    if (bufferFull({ rows: info.buffer.rows, bytes: this.#bufferedBytes }, this.#o.settings)) {
      // At most one flush in flight: wait for it, then start the next without waiting for its commit.
      await this.#chain;
      this.#throwIfFailed();
      this.#schedule(() => this.#flush(`stream ${info.stream} batch full`));
    }
  }

  /** Commits every buffer in one transaction, then prints the latest state received before it began. */
  async #flush(reason: string): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const cut = this.#gate.cut();
    this.#bufferedBytes = 0;
    const batches: StreamBatch[] = [];
    for (const info of this.#streams.values()) {
      if (info.buffer.rows === 0) continue;
      batches.push({ stream: info.stream, table: info.table, ...info.buffer.take() });
    }
    if (batches.length > 0) {
      const started = Date.now();
      const perStream = await this.#writer.commit(batches, () => collectGarbageAbove(RSS_BUDGET_BYTES));
      this.#commits += 1;
      const total = emptyCounts();
      for (const counts of perStream.values()) addCounts(total, counts);
      addCounts(this.#counts, total);
      this.#log.info(`commit ${this.#commits} (${reason}) in ${Date.now() - started} ms: ${formatCounts(total)}`);
      for (const [stream, counts] of perStream) this.#log.info(`  stream ${JSON.stringify(stream)}: ${formatCounts(counts)}`);
    }
    const state = this.#gate.release(cut);
    if (state !== undefined && !this.#silenced) {
      await this.#out.writeLine(state);
      await this.#out.flush();
      this.#statesPrinted += 1;
    }
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
