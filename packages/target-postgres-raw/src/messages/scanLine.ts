import { isAscii, isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { endOfValue, forEachMemberAt, stringAt, utf8ByteString, type JsonObject } from 'singer-kit';
import { recordId, type RecordIdResult } from '../rows/recordId.js';
import { sanitizeJsonText } from '../rows/sanitizeJsonText.js';

/** Prefix of the reserved metadata fields the tap adds to each record (docs/architecture.md). */
export const RESERVED_PREFIX = '_sdc_';

/**
 * What the lookahead needs of a line holding a `record` object, found by scanning its bytes once,
 * without JSON.parse of the record: the hash of its payload (the record without its `_sdc_*`
 * members, bytes as received, exactly the text toRow stores), the id, the metadata members,
 * MetaData.LastUpdatedTime. Valid only as far as the parts it parsed (envelope and `_sdc_*`
 * members): the record's own text is proven valid JSON only by its hash equalling a stored
 * payload's; any other record is parsed as usual.
 */
export interface ScannedRecord {
  /** The message's `type` and `stream` members, as JSON.parse reads them. */
  readonly type: unknown;
  readonly stream: unknown;
  /** The record's `_sdc_*` members, parsed (the last of repeated ones), or undefined when it has none. */
  readonly reserved: JsonObject | undefined;
  /** SHA-256 of the payload (the record without its `_sdc_*` members as UTF-8; `\u0000` and lone-surrogate escapes, which jsonb cannot hold, as `\ufffd`), hex. */
  readonly hash: string;
  /** Escapes replaced in the payload. */
  readonly replaced: number;
  /** The key properties `id` was found with, or undefined (the stream was not known when scanned). */
  readonly keys: readonly string[] | undefined;
  /** Undefined also when a key property occurs twice in the record (left to JSON.parse). */
  readonly id: RecordIdResult | undefined;
  /** MetaData.LastUpdatedTime when it is a string, else null. */
  readonly lastUpdatedText: string | null;
}

/** The key properties of a stream whose SCHEMA came already, or undefined. */
export type KeysOf = (stream: string) => readonly string[] | undefined;

/**
 * Scans one line (UTF-8 bytes) for a message with a `record` object (the last `record` member, as
 * JSON.parse takes it). Undefined when the line has none, or is not valid JSON where this looked:
 * the caller parses such a line whole, which names the problem.
 */
export function scanLine(raw: Buffer, keysOf: KeysOf): ScannedRecord | undefined {
  if (raw[0] !== 0x7b) return undefined;
  try {
    return new LineScan(raw).scan(keysOf);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

let lastEnvelope: { readonly text: string; readonly value: JsonObject } | undefined;
let lastReserved: { readonly text: string; readonly value: JsonObject } | undefined;

const parseCached = (text: string, last: { readonly text: string; readonly value: JsonObject } | undefined) =>
  last?.text === text ? last : { text, value: JSON.parse(text) as JsonObject };

/** The bounds found while walking a record's members (reused from line to line). */
const kept: number[] = [];
const reservedSpans: number[] = [];

class LineScan {
  readonly #bytes: Buffer;
  /** The bytes one char per byte (latin1): JSON's structure is ASCII, so offsets are byte offsets. */
  readonly #text: string;
  readonly #ascii: boolean;

  constructor(raw: Buffer) {
    let bytes = raw;
    const ascii = isAscii(bytes);
    // Invalid UTF-8 is read as U+FFFD, as when the line is decoded as text.
    if (!ascii && !isUtf8(bytes)) bytes = Buffer.from(bytes.toString('utf8'), 'utf8');
    this.#bytes = bytes;
    this.#ascii = ascii;
    this.#text = bytes.toString(ascii ? 'utf8' : 'latin1');
  }

  /** The text of bytes [start, end), decoded (a new string, not a view of the line). */
  #decode(start: number, end: number): string {
    return this.#bytes.toString('utf8', start, end);
  }

  /** The key between start and end (quotes included), in the one-char-per-byte form of #text. */
  #keyForm(start: number, end: number, plain: boolean): string {
    if (plain) return this.#text.slice(start + 1, end - 1);
    const key = JSON.parse(this.#decode(start, end)) as string;
    return this.#ascii ? key : utf8ByteString(key);
  }

  scan(keysOf: KeysOf): ScannedRecord | undefined {
    const text = this.#text;
    let stream: string | undefined;
    let record: RecordWalk | undefined;
    let recordStart = -1;
    forEachMemberAt(text, 0, (keyStart, keyEnd, valueStart, plain) => {
      const key = this.#keyForm(keyStart, keyEnd, plain);
      const valueEnd = key === 'record' && text.charCodeAt(valueStart) === 0x7b ? -1 : endOfValue(text, valueStart);
      if (key === 'stream') stream = text.charCodeAt(valueStart) === 0x22 ? this.#string(valueStart, valueEnd) : undefined;
      if (key !== 'record') return valueEnd;
      if (valueEnd >= 0) {
        record = undefined;
        return valueEnd;
      }
      recordStart = valueStart;
      record = this.#walkRecord(valueStart, stream, stream === undefined ? undefined : keysOf(stream));
      return record.end;
    });
    if (record === undefined) return undefined;
    let walk: RecordWalk = record;
    const recordEnd = walk.end;
    // The message without its record: JSON.parse validates the rest of the line and reads type and stream as for the whole line.
    const envelopeText = this.#ascii
      ? `${text.slice(0, recordStart)}0${text.slice(recordEnd)}`
      : `${this.#decode(0, recordStart)}0${this.#decode(recordEnd, text.length)}`;
    lastEnvelope = parseCached(envelopeText, lastEnvelope);
    const envelope = lastEnvelope.value;
    // A `stream` member after the record (repeated, or the only one): the record is walked again with that stream's keys.
    if (typeof envelope.stream === 'string' && envelope.stream !== walk.stream) walk = this.#walkRecord(recordStart, envelope.stream, keysOf(envelope.stream));
    let reserved: JsonObject | undefined;
    if (walk.reservedCount > 0) {
      const inner = walk.compact && !walk.interleaved ? this.#textOf(walk.firstReserved, walk.lastReservedEnd) : this.#join(reservedSpans);
      lastReserved = parseCached(`{${inner}}`, lastReserved);
      reserved = lastReserved.value;
    }
    let replaced = 0;
    let payload = this.#payload(recordStart, walk);
    if (payload.indexOf('\\u') >= 0) {
      const sanitized = sanitizeJsonText(payload.toString('latin1'));
      replaced = sanitized.replaced;
      if (replaced > 0) payload = Buffer.from(sanitized.text, 'latin1');
    }
    const payloadHash = hash('sha256', payload, 'hex');
    // The key properties are those of the stream JSON.parse reads (a repeated `stream` member could differ).
    const idKeys = envelope.stream === walk.stream ? walk.keys : undefined;
    const lastUpdatedText = walk.metaStart >= 0 ? this.#lastUpdatedText(walk.metaStart) : null;
    return {
      type: envelope.type,
      stream: envelope.stream,
      reserved,
      hash: payloadHash,
      replaced,
      keys: idKeys,
      id:
        idKeys === undefined || walk.repeatedKey
          ? undefined
          : recordId(
              idKeys,
              (key) => walk.keyValue(key, (start, end) => this.#decode(start, end)),
              () => payloadHash,
            ),
      lastUpdatedText,
    };
  }

  /** The JSON string whose text is at [start, end), decoded. */
  #string(start: number, end: number): string {
    const quoted = this.#decode(start, end);
    return stringAt(quoted, 0, quoted.length);
  }

  #textOf(start: number, end: number): string {
    return this.#ascii ? this.#text.slice(start, end) : this.#decode(start, end);
  }

  #join(spans: readonly number[]): string {
    const parts: string[] = [];
    for (let i = 0; i < spans.length; i += 2) parts.push(this.#textOf(spans[i] as number, spans[i + 1] as number));
    return parts.join(',');
  }

  /** The record without its `_sdc_*` members: its own bytes when it has none, else `{` + the other members joined by `,` + `}`. */
  #payload(recordStart: number, walk: RecordWalk): Buffer {
    const bytes = this.#bytes;
    if (walk.reservedCount === 0) return bytes.subarray(recordStart, walk.end);
    if (kept.length === 0) return Buffer.from('{}');
    if (walk.compact && !walk.interleaved) {
      // Members separated by single commas, `_sdc_*` ones last: the payload is the record's text up to them.
      const keptEnd = kept[kept.length - 1] as number;
      const out = Buffer.allocUnsafe(keptEnd - recordStart + 1);
      bytes.copy(out, 0, recordStart, keptEnd);
      out[out.length - 1] = 0x7d;
      return out;
    }
    let size = 1 + kept.length / 2;
    for (let i = 0; i < kept.length; i += 2) size += (kept[i + 1] as number) - (kept[i] as number);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    out[at++] = 0x7b;
    for (let i = 0; i < kept.length; i += 2) {
      if (i > 0) out[at++] = 0x2c;
      at += bytes.copy(out, at, kept[i], kept[i + 1]);
    }
    out[at] = 0x7d;
    return out;
  }

  /** One pass over the record's members: where each kind of member is, and where the record ends. */
  #walkRecord(start: number, stream: string | undefined, keys: readonly string[] | undefined): RecordWalk {
    const text = this.#text;
    const keyForms = keys === undefined ? [] : this.#ascii ? keys : keys.map(utf8ByteString);
    const keyLengths = keyForms.map((k) => k.length);
    const walk = new RecordWalk(stream, keys);
    kept.length = 0;
    reservedSpans.length = 0;
    let expected = start + 1;
    walk.end = forEachMemberAt(text, start, (keyStart, keyEnd, valueStart, plain) => {
      const valueEnd = endOfValue(text, valueStart);
      if (keyStart !== expected) walk.compact = false;
      expected = valueEnd + 1;
      const length = keyEnd - keyStart - 2;
      // A key string only for the keys that could matter: `_sdc_*`, MetaData, a key property.
      const maybe = !plain || (length >= 5 && text.charCodeAt(keyStart + 1) === 0x5f) || length === 8 || keyLengths.includes(length);
      const key = maybe ? this.#keyForm(keyStart, keyEnd, plain) : undefined;
      if (key?.startsWith(RESERVED_PREFIX)) {
        if (walk.reservedCount === 0) walk.firstReserved = keyStart;
        walk.reservedCount += 1;
        walk.lastReservedEnd = valueEnd;
        reservedSpans.push(keyStart, valueEnd);
        return valueEnd;
      }
      if (walk.reservedCount > 0) walk.interleaved = true;
      kept.push(keyStart, valueEnd);
      if (key === undefined) return valueEnd;
      if (key === 'MetaData') walk.metaStart = text.charCodeAt(valueStart) === 0x7b ? valueStart : -1;
      const k = keyForms.indexOf(key);
      if (k >= 0) {
        if ((walk.keySpans[2 * k] as number) >= 0) walk.repeatedKey = true;
        walk.keySpans[2 * k] = valueStart;
        walk.keySpans[2 * k + 1] = valueEnd;
      }
      return valueEnd;
    });
    return walk;
  }

  /** The last LastUpdatedTime member of the MetaData object at `start`, when it is a string. */
  #lastUpdatedText(start: number): string | null {
    let found: string | null = null;
    forEachMemberAt(this.#text, start, (keyStart, keyEnd, valueStart, plain) => {
      const valueEnd = endOfValue(this.#text, valueStart);
      if (this.#keyForm(keyStart, keyEnd, plain) === 'LastUpdatedTime') {
        found = this.#text.charCodeAt(valueStart) === 0x22 ? this.#string(valueStart, valueEnd) : null;
      }
      return valueEnd;
    });
    return found;
  }
}

/** What #walkRecord found in one record. */
class RecordWalk {
  end = -1;
  /** Every member follows the previous one after a single comma (no whitespace). */
  compact = true;
  /** A member that stays in the payload comes after an `_sdc_*` member. */
  interleaved = false;
  reservedCount = 0;
  firstReserved = -1;
  lastReservedEnd = -1;
  /** A key property occurs more than once. */
  repeatedKey = false;
  /** The last MetaData member's value, when it is an object. */
  metaStart = -1;
  /** Value bounds of the last member of each key property (-1: absent). */
  readonly keySpans: Int32Array;

  /** `keys`: the key properties of `stream` when the record was walked (undefined: not known then). */
  constructor(
    readonly stream: string | undefined,
    readonly keys: readonly string[] | undefined,
  ) {
    this.keySpans = new Int32Array((keys?.length ?? 0) * 2).fill(-1);
  }

  /** The JSON text of a key property's value (decoded by `decode`), or undefined when absent. */
  keyValue(key: string, decode: (start: number, end: number) => string): string | undefined {
    const k = this.keys?.indexOf(key) ?? -1;
    const start = k < 0 ? -1 : (this.keySpans[2 * k] as number);
    return start < 0 ? undefined : decode(start, this.keySpans[2 * k + 1] as number);
  }
}
