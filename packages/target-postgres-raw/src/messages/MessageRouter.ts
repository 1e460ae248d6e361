import { MessageError, parseMessageLine, type InputLine, type JsonObject, type Logger } from 'singer-kit';
import type { Row } from '../rows/Row.js';
import { toRow } from '../rows/toRow.js';
import { RESERVED_TABLES, tableNameFor } from '../sql/tableName.js';
import { SchemaValidator, type RecordCheck } from './SchemaValidator.js';

/** Where routed messages go. */
export interface MessageSink {
  /** A new stream whose records go to `table` (created before any of them is written). */
  openStream(stream: string, table: string): void;
  /** A valid record, as its row; may wait (a full buffer waits for the commit in flight). */
  record(stream: string, row: Row): Promise<void>;
  /** A STATE value, to print once the records before it are committed. */
  state(value: unknown): void;
}

interface StreamInfo {
  readonly stream: string;
  keyProperties: readonly string[];
  check: RecordCheck | undefined;
}

/**
 * Reads each Singer line: SCHEMA registers its stream (keys, validator, table), RECORD is
 * checked and mapped to a row, STATE is passed on. Bad input is a MessageError naming the line.
 */
export class MessageRouter {
  readonly #validateRecords: boolean;
  readonly #log: Logger;
  readonly #sink: MessageSink;
  readonly #streams = new Map<string, StreamInfo>();
  /** table → stream using it: two streams must never share a table. */
  readonly #tables = new Map<string, string>();
  readonly #validator = new SchemaValidator();

  constructor(validateRecords: boolean, logger: Logger, sink: MessageSink) {
    this.#validateRecords = validateRecords;
    this.#log = logger;
    this.#sink = sink;
  }

  async route(line: InputLine): Promise<void> {
    const message = parseMessageLine(line.text, line.number);
    switch (message.type) {
      case 'RECORD':
        return this.#record(message, line);
      case 'SCHEMA':
        return this.#schema(message, line.number);
      case 'STATE':
        if (!('value' in message)) throw new MessageError(line.number, 'STATE message has no "value"');
        this.#sink.state(message.value);
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
    if (this.#validateRecords) {
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
    this.#streams.set(stream, { stream, keyProperties, check });
    this.#sink.openStream(stream, table);
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
    await this.#sink.record(info.stream, row);
  }
}
