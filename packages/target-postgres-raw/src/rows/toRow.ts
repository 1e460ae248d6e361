import { isAscii } from 'node:buffer';
import { hash } from 'node:crypto';
import { endOfValue, forEachMember, memberText, MessageError, type JsonObject } from 'singer-kit';
import { parseRecordInstant, type Instant } from './recordInstant.js';
import { recordId, type RecordIdResult } from './recordId.js';
import { readMetadata, type RecordMetadata } from './recordMetadata.js';
import type { Row, SkippedRecord } from './Row.js';
import { sanitizeJsonText, type SanitizedJson } from './sanitizeJsonText.js';

/** Prefix of the reserved metadata fields the tap adds to each record (docs/architecture.md). */
export const RESERVED_PREFIX = '_sdc_';
const MAX_ID_BYTES = 2000;

export interface RowResult {
  readonly row: Row;
  /** `\u0000` / lone-surrogate escapes replaced by U+FFFD in payload and request payload. */
  readonly replaced: number;
}

export interface SplitRecord {
  /** The object without its `_sdc_*` members; the others keep their exact bytes. */
  readonly payload: string;
  /** The `_sdc_*` members' raw value texts. */
  readonly reserved: ReadonlyMap<string, string>;
  /** Index just past the object. */
  readonly end: number;
}

/** Splits the object at `start` into payload and reserved members, in one pass over its text. */
export function splitReserved(text: string, start = 0): SplitRecord {
  const kept: string[] = [];
  const reserved = new Map<string, string>();
  const end = forEachMember(text, start, (key, keyStart, valueStart) => {
    const valueEnd = endOfValue(text, valueStart);
    if (key.startsWith(RESERVED_PREFIX)) reserved.set(key, text.slice(valueStart, valueEnd));
    else kept.push(text.slice(keyStart, valueEnd));
    return valueEnd;
  });
  return { payload: `{${kept.join(',')}}`, reserved, end };
}

let lastRequest = '';
/**
 * A slice of the input line would keep the whole line alive in the buffer; records of one page
 * share one request, so the previous copy is reused.
 */
function shareRequest(text: string): string {
  if (text !== lastRequest) lastRequest = Buffer.from(text).toString();
  return lastRequest;
}

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/**
 * Text as a PostgreSQL text column stores it: NUL (which text cannot hold) and unpaired
 * surrogates (which UTF-8 cannot) become U+FFFD. An id must be compared in this form with the
 * ids the table returns.
 */
export function storableText(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, '\ufffd') : text;
}

function recordError(line: number, stream: string, id: string | undefined, what: string): MessageError {
  return new MessageError(line, `stream ${JSON.stringify(stream)}${id === undefined ? '' : ` record id ${JSON.stringify(id)}`}: ${what}`);
}

/** Where a RECORD's `record` object lies in its line: text [start, end). */
export interface RecordSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * Maps one RECORD (its parsed `record`, its input line as text and as bytes, and where the record
 * lies in it) to its row: `_sdc_*` fields to their columns, the payload as the record's own text
 * without them (numbers keep their digits), `last_updated_utc` from MetaData.LastUpdatedTime.
 * Throws a MessageError naming line, stream and record id for a missing key or a bad metadata value.
 */
export function toRow(
  record: JsonObject,
  lineText: string,
  recordSpan: RecordSpan,
  lineBytes: Buffer,
  line: number,
  stream: string,
  keyProperties: readonly string[],
  keep: KeepPayload = ownBytes,
): RowResult {
  const { start: recordStart } = recordSpan;
  const split = hasReservedMember(record) ? splitReserved(lineText, recordStart) : undefined;
  const recordText = lineText.slice(recordStart, recordSpan.end);
  const payloadText = split?.payload ?? recordText;
  const requestRaw = split?.reserved.get('_sdc_request_payload');
  const requestText = requestRaw === undefined || requestRaw === 'null' ? null : shareRequest(requestRaw);
  const payload = sanitizeJsonText(payloadText);
  const request = requestText === null ? { text: null, replaced: 0 } : sanitizeJsonText(requestText);
  const key = recordId(
    keyProperties,
    (k) => {
      const value = record[k];
      if (typeof value !== 'number') return value === undefined ? undefined : JSON.stringify(value);
      // The number's own digits. Of a repeated key JSON.parse keeps the last: the first member (found
      // without scanning the rest, 3-6 µs a record) is taken when it reads as the value kept.
      const first = memberText(recordText, k);
      return first !== undefined && Number(first) === value ? first : memberText(recordText, k, true);
    },
    () => hash('sha256', payload.text, 'hex'),
  );
  const checked = checkId(key);
  if ('problem' in checked) throw recordError(line, stream, checked.shown, checked.problem);
  const { id } = checked;
  const metadata = readMetadata(split === undefined ? undefined : record);
  if ('problem' in metadata) throw recordError(line, stream, id, metadata.problem);
  const meta = record.MetaData;
  const updatedText = meta && typeof meta === 'object' ? (meta as JsonObject).LastUpdatedTime : undefined;
  return {
    row: {
      id,
      payload: keep(payloadBytes(payload, split === undefined ? recordStart : undefined, lineBytes)),
      extractWindowStart: metadata.extractWindowStart,
      extractWindowEnd: metadata.extractWindowEnd,
      pageNumber: metadata.pageNumber,
      pageSize: metadata.pageSize,
      requestPayload: request.text,
      realmId: metadata.realmId,
      extractedAt: metadata.extractedAt,
      lastUpdated: lastUpdated(updatedText),
      deletedAt: metadata.deletedAt,
      runId: metadata.runId,
      line,
    },
    replaced: payload.replaced + request.replaced,
  };
}

/** Whether the record has an `_sdc_*` member (a loop: Object.keys would make an array of every key per record). */
function hasReservedMember(record: JsonObject): boolean {
  for (const key in record) if (key.startsWith(RESERVED_PREFIX)) return true;
  return false;
}

/** Where a row's payload is kept while it is buffered (PayloadArena.keep), given its UTF-8 bytes or its text. */
export type KeepPayload = (payload: Buffer | string) => Buffer;

const ownBytes: KeepPayload = (payload) => (typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload);

/**
 * The payload for `keep`: when it is the record's own text on an ASCII line (text offsets are byte
 * offsets), a view of the input line's bytes (copied as they are, not encoded again); else its text.
 */
function payloadBytes(payload: SanitizedJson, startInLine: number | undefined, lineBytes: Buffer): Buffer | string {
  if (startInLine !== undefined && payload.replaced === 0 && isAscii(lineBytes)) return lineBytes.subarray(startInLine, startInLine + payload.text.length);
  return payload.text;
}

/** MetaData.LastUpdatedTime as an instant. The entity's own timestamp is data, not metadata: an odd one only disables the newer-wins check. */
function lastUpdated(text: unknown) {
  return (typeof text === 'string' ? parseRecordInstant(text) : undefined) ?? null;
}

/** A record's id as the table stores it, or why it has none it can store. */
export type CheckedId = { readonly id: string } | { readonly problem: string; readonly shown?: string };

/** The storable id of a record, or the problem: a missing key value, or a key too long for an index. */
export function checkId(result: RecordIdResult): CheckedId {
  if ('missing' in result) return { problem: `record has no value for key property ${JSON.stringify(result.missing)}` };
  const id = storableText(result.id);
  // A btree entry holds at most ~2700 bytes; a longer id would fail the whole batch inside PostgreSQL.
  if (id.length > MAX_ID_BYTES / 3 && Buffer.byteLength(id) > MAX_ID_BYTES) {
    return {
      problem: `the key value is ${Buffer.byteLength(id)} bytes; ids longer than ${MAX_ID_BYTES} bytes cannot be indexed`,
      shown: `${id.slice(0, 40)}…`,
    };
  }
  return { id };
}

/**
 * A record whose payload the lookahead found equal to the stored one (scanLine, checkId's id):
 * what the buffer and the load statistics need of it, its metadata checked as toRow checks it.
 */
export function unchangedRecord(id: string, reserved: JsonObject | undefined, lastUpdatedText: string | null, line: number, stream: string): SkippedRecord {
  const metadata = readMetadata(reserved);
  if ('problem' in metadata) throw recordError(line, stream, id, metadata.problem);
  return new UnchangedRecord(id, metadata, lastUpdatedText, line);
}

/** A class, not an object literal with a getter: one is made per re-loaded record, and a literal's getter is a closure each. */
class UnchangedRecord implements SkippedRecord {
  readonly skipped = true;
  readonly extractWindowStart: Instant | null;
  readonly realmId: string | null;
  readonly runId: string | null;
  readonly #lastUpdatedText: string | null;

  constructor(
    readonly id: string,
    metadata: RecordMetadata,
    lastUpdatedText: string | null,
    readonly line: number,
  ) {
    this.extractWindowStart = metadata.extractWindowStart;
    this.realmId = metadata.realmId;
    this.runId = metadata.runId;
    this.#lastUpdatedText = lastUpdatedText;
  }

  /** Read only when a record with the same id meets it in the buffer (rare): most are never compared. */
  get lastUpdated(): Instant | null {
    return lastUpdated(this.#lastUpdatedText);
  }
}
