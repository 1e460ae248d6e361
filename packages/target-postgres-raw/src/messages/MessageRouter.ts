import { MessageError, type InputLine, type JsonObject, type Logger } from 'singer-kit';
import type { StoredStatus } from '../db/StoredHashes.js';
import type { Row, SkippedRecord } from '../rows/Row.js';
import { toRow, unchangedRecord, type RecordSpan } from '../rows/toRow.js';
import { RESERVED_TABLES, tableNameFor } from '../sql/tableName.js';
import { parseLine } from './parseLine.js';
import type { ScannedRecord } from './scanLine.js';
import { SchemaValidator, type RecordCheck } from './SchemaValidator.js';

/** One input line on its way to the router, with what the lookahead learnt of it. */
export interface RoutedLine {
  readonly number: number;
  /** The line's UTF-8 bytes. */
  readonly bytes: Buffer;
  /** scanLine's result, when the lookahead scanned the line. */
  readonly scan?: ScannedRecord | undefined;
  /** The id looked up (as the table stores it), and what was found stored for it. */
  lookedUpId?: string | undefined;
  found?: StoredStatus | undefined;
  /** How many of this run's batches had committed when it was looked up. */
  readonly lookedUpAfter: number;
}

/** Where routed messages go. */
export interface MessageSink {
  /** A new stream whose records go to `table` (created before any of them is written). */
  openStream(stream: string, table: string): void;
  /** A valid record, as its row, or a record equal to its stored row; a promise when the caller must wait (a full buffer waits for the commit in flight). */
  record(stream: string, row: Row | SkippedRecord): Promise<void> | undefined;
  /** Where a record's payload is kept until its batch is committed (PayloadArena.keep). */
  keepPayload(payload: Buffer | string): Buffer;
  /** A STATE value as received (its JSON text), to print once the records before it are committed. */
  state(valueText: string): void;
  /** Whether a record with `id` was buffered for a batch after the first `batches` of this run (not committed when they were). */
  writtenAfter(stream: string, id: string, batches: number): boolean;
}

interface StreamInfo {
  readonly stream: string;
  keyProperties: readonly string[];
  check: RecordCheck | undefined;
}

/**
 * Reads each Singer line: SCHEMA registers its stream (keys, validator, table), RECORD is
 * checked and mapped to a row, STATE is passed on. Bad input is a MessageError naming the line.
 * A RECORD the lookahead found equal to its stored row is passed on as such without being
 * parsed or checked against its SCHEMA, unless that answer may no longer hold (#unchanged).
 */
export class MessageRouter {
  readonly #validateRecords: boolean;
  readonly #log: Logger;
  readonly #sink: MessageSink;
  readonly #streams = new Map<string, StreamInfo>();
  /** table → stream using it: two streams must never share a table. */
  readonly #tables = new Map<string, string>();
  /** Made when a record is first checked (it loads ajv). */
  #validator: SchemaValidator | undefined;

  constructor(validateRecords: boolean, logger: Logger, sink: MessageSink) {
    this.#validateRecords = validateRecords;
    this.#log = logger;
    this.#sink = sink;
  }

  /** The key properties of a stream whose SCHEMA was routed (the same array until a SCHEMA changes them), or undefined. */
  keysOf(stream: string): readonly string[] | undefined {
    return this.#streams.get(stream)?.keyProperties;
  }

  /**
   * Routes one line. Synchronous (a promise per record would cost more than most records' routing);
   * returns a promise only when the caller must wait for it (a full buffer waits for the commit in flight).
   */
  route(routed: RoutedLine): Promise<void> | undefined {
    if (routed.found === '=') {
      const unchanged = this.#unchanged(routed);
      if (unchanged !== false) return unchanged;
    }
    const line: InputLine = { text: routed.bytes.toString('utf8'), number: routed.number };
    const { message, recordSpan, stateText } = parseLine(line.text, line.number);
    switch (message.type) {
      case 'RECORD':
        return this.#record(message, recordSpan, line, routed.bytes);
      case 'SCHEMA':
        this.#schema(message, line.number);
        return;
      case 'STATE':
        if (stateText === undefined) throw new MessageError(line.number, 'STATE message has no "value"');
        this.#sink.state(stateText);
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
    const check = this.#validateRecords ? this.#checkOnFirstUse(stream, schema as JsonObject, lineNumber) : undefined;
    const known = this.#streams.get(stream);
    // Unchanged keys stay the same array: the lookahead's ids found with them still hold.
    const keyProperties = known && sameKeys(known.keyProperties, keys as string[] | undefined) ? known.keyProperties : ((keys as string[] | undefined) ?? []);
    if (known) {
      // A new SCHEMA (added fields, new keys) applies to the records after it; buffered ones keep their ids.
      known.keyProperties = keyProperties;
      known.check = check;
      return;
    }
    const table = tableNameFor(stream);
    const owner = this.#tables.get(table);
    if ((RESERVED_TABLES as readonly string[]).includes(table) || owner !== undefined) {
      throw new MessageError(
        lineNumber,
        `stream ${JSON.stringify(stream)} would use table ${JSON.stringify(table)}, which is taken by ${owner === undefined ? 'the target itself' : `stream ${JSON.stringify(owner)}`}`,
      );
    }
    this.#tables.set(table, stream);
    this.#streams.set(stream, { stream, keyProperties, check });
    this.#sink.openStream(stream, table);
  }

  /**
   * The stream's record check, compiled by its first record that is checked rather than at its
   * SCHEMA: a tap sends a SCHEMA for each selected stream, and in a daily sync most streams bring
   * no record, or only records equal to their stored rows, which are not checked. Compiling a QBO
   * stream's schema takes ajv some 65 ms of CPU, 1.8 s for all 28 at each run. A schema ajv cannot
   * compile is logged then, naming its SCHEMA's line, and its records are loaded unchecked.
   */
  #checkOnFirstUse(stream: string, schema: JsonObject, lineNumber: number): RecordCheck {
    let check: RecordCheck | undefined;
    let compiled = false;
    return (record) => {
      if (!compiled) {
        compiled = true;
        const result = (this.#validator ??= new SchemaValidator()).compile(schema);
        if (typeof result === 'function') check = result;
        else
          this.#log.warn(
            `line ${lineNumber}: SCHEMA of stream ${JSON.stringify(stream)} cannot be compiled (${result.error}); its records are loaded unvalidated`,
          );
      }
      return check?.(record);
    };
  }

  #record(message: JsonObject, recordSpan: RecordSpan | undefined, line: InputLine, bytes: Buffer): Promise<void> | undefined {
    const stream = message.stream;
    if (typeof stream !== 'string' || stream === '') throw new MessageError(line.number, 'RECORD message has no "stream" name');
    const info = this.#streams.get(stream);
    if (!info) {
      throw new MessageError(
        line.number,
        `RECORD for stream ${JSON.stringify(stream)} arrived before its SCHEMA; the tap must send a SCHEMA message for a stream before its records`,
      );
    }
    const record = message.record;
    if (recordSpan === undefined || typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new MessageError(line.number, `RECORD of stream ${JSON.stringify(info.stream)} has no "record" object`);
    }
    const { row, replaced } = toRow(record as JsonObject, line.text, recordSpan, bytes, line.number, info.stream, info.keyProperties, (payload) =>
      this.#sink.keepPayload(payload),
    );
    const problem = info.check?.(record as JsonObject);
    if (problem !== undefined) {
      throw new MessageError(line.number, `stream ${JSON.stringify(info.stream)} record id ${JSON.stringify(row.id)}: does not match its SCHEMA: ${problem}`);
    }
    if (replaced > 0) {
      this.#log.warn(
        `line ${line.number}: stream ${JSON.stringify(info.stream)} record id ${JSON.stringify(row.id)}: ${replaced} \\u0000 or unpaired surrogate escape(s) stored as U+FFFD`,
      );
    }
    return this.#sink.record(info.stream, row);
  }

  /**
   * Passes on a RECORD line the lookahead found equal to its stored row (same id, same payload
   * hash) as unchanged, returning what the sink returned; false when that may no longer hold, and the line is
   * routed as any other: not a RECORD of a known stream, keys changed by a SCHEMA since it was
   * scanned, a deletion record, escapes to replace (routed to say so), or an id this run buffered
   * in a batch not committed when it was looked up (the stored row may be about to change).
   */
  #unchanged(line: RoutedLine): Promise<void> | undefined | false {
    const { scan, lookedUpId: id } = line;
    if (scan === undefined || id === undefined || typeof scan.stream !== 'string' || typeof scan.type !== 'string' || scan.type.toUpperCase() !== 'RECORD')
      return false;
    const info = this.#streams.get(scan.stream);
    if (!info || scan.keys !== info.keyProperties || scan.replaced > 0) return false;
    const deletedAt = scan.reserved?._sdc_deleted_at;
    if ((deletedAt !== undefined && deletedAt !== null) || this.#sink.writtenAfter(info.stream, id, line.lookedUpAfter)) return false;
    return this.#sink.record(info.stream, unchangedRecord(id, scan.reserved, scan.lastUpdatedText, line.number, info.stream));
  }
}

function sameKeys(a: readonly string[], b: readonly string[] | undefined): boolean {
  const other = b ?? [];
  return a.length === other.length && a.every((k, i) => k === other[i]);
}
