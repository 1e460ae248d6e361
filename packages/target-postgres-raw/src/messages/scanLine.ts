import { isAscii, isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { endOfValue, isJsonWhitespace, membersSkipper, passMembers, stringAt, utf8ByteString, type JsonObject, type MembersSkipper } from 'singer-kit';
import { recordId, type RecordIdResult } from '../rows/recordId.js';
import { sanitizeJsonText } from '../rows/sanitizeJsonText.js';
import { RESERVED_PREFIX } from '../rows/toRow.js';
import { sameTextAround, type TextAround } from './textAround.js';

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

/** The message without its record, last parsed: reused while the next line's text around its record is the same. */
let lastEnvelope: TextAround<JsonObject> | undefined;
/** The last stream name read: its JSON text (one char per byte) and its value. */
let lastStream: { readonly text: string; readonly name: string } | undefined;
let lastReserved: { readonly text: string; readonly value: JsonObject } | undefined;

/** The bounds found while walking a record's members (reused from line to line). */
const kept: number[] = [];
const reservedSpans: number[] = [];

/** Per key properties (and their UTF-8 byte forms): the members a record walk passes over in bulk, those it need not look at. */
const skippers = { text: new WeakMap<readonly string[], MembersSkipper>(), bytes: new WeakMap<readonly string[], MembersSkipper>() };
const NO_KEYS: readonly string[] = [];

function skipperFor(keys: readonly string[], keyForms: readonly string[], form: 'text' | 'bytes'): MembersSkipper {
  let skipper = skippers[form].get(keys);
  if (skipper === undefined) skippers[form].set(keys, (skipper = membersSkipper([...keyForms, 'MetaData'], [RESERVED_PREFIX])));
  return skipper;
}

/**
 * Reads a line's objects member by member in one forward pass: each member's key is compared
 * where it lies in the text (decoded only when it has escapes), and values are passed over with
 * one native search (strings) or regex step (containers, endOfValue).
 */
class LineScan {
  readonly #bytes: Buffer;
  /** The bytes one char per byte (latin1): JSON's structure is ASCII, so offsets are byte offsets. */
  readonly #text: string;
  readonly #ascii: boolean;
  /** The first backslash at or after #searchedFrom (-1: none). */
  #backslash: number;
  #searchedFrom = 0;
  /** The member last read by #key: where its key starts and ends, the key decoded when it has escapes, where its value starts. */
  #keyStart = -1;
  #keyEnd = -1;
  #escapedKey: string | undefined;
  #valueStart = -1;
  /** Index just past the object whose end #next or #first last reached. */
  #objectEnd = -1;

  constructor(raw: Buffer) {
    let bytes = raw;
    const ascii = isAscii(bytes);
    // Invalid UTF-8 is read as U+FFFD, as when the line is decoded as text.
    if (!ascii && !isUtf8(bytes)) bytes = Buffer.from(bytes.toString('utf8'), 'utf8');
    this.#bytes = bytes;
    this.#ascii = ascii;
    this.#text = bytes.toString('latin1');
    this.#backslash = this.#text.indexOf('\\');
  }

  /** The text of bytes [start, end), decoded (a new string, not a view of the line). */
  #decode(start: number, end: number): string {
    return this.#bytes.toString('utf8', start, end);
  }

  /** Whether text[from, to) holds no backslash. */
  #noEscape(from: number, to: number): boolean {
    let b = this.#backslash;
    if (from < this.#searchedFrom || (b >= 0 && b < from)) {
      b = this.#backslash = this.#text.indexOf('\\', from);
      this.#searchedFrom = from;
    }
    return b < 0 || b >= to;
  }

  /** The first member's key in the object at `start` (its `{`), or -1 when the object is empty. */
  #first(start: number): number {
    const text = this.#text;
    if (text.charCodeAt(start) !== 0x7b) throw new SyntaxError('not a JSON object');
    let i = start + 1;
    while (isJsonWhitespace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x7d) return i;
    this.#objectEnd = i + 1;
    return -1;
  }

  /** After a member's value (ending at `end`): the next member's key, or -1 when the object ends there. */
  #next(end: number): number {
    const text = this.#text;
    let i = end;
    while (isJsonWhitespace(text.charCodeAt(i))) i++;
    const c = text.charCodeAt(i);
    if (c === 0x7d) {
      this.#objectEnd = i + 1;
      return -1;
    }
    if (c !== 0x2c) throw new SyntaxError('expected "," or "}" in JSON object');
    i += 1;
    while (isJsonWhitespace(text.charCodeAt(i))) i++;
    return i;
  }

  /** Reads the key at `start` (its opening quote) and the colon after it. */
  #key(start: number): void {
    const text = this.#text;
    if (text.charCodeAt(start) !== 0x22) throw new SyntaxError('expected a key in JSON object');
    let end = text.indexOf('"', start + 1) + 1;
    if (end === 0) throw new SyntaxError('unterminated JSON string');
    if (this.#noEscape(start, end)) this.#escapedKey = undefined;
    else {
      end = endOfValue(text, start);
      const key = JSON.parse(this.#decode(start, end)) as string;
      this.#escapedKey = this.#ascii ? key : utf8ByteString(key);
    }
    this.#keyStart = start;
    this.#keyEnd = end;
    let i = end;
    while (isJsonWhitespace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x3a) throw new SyntaxError('expected ":" in JSON object');
    i += 1;
    while (isJsonWhitespace(text.charCodeAt(i))) i++;
    this.#valueStart = i;
  }

  /** Whether the key last read is `form` (a key in the one-char-per-byte form of #text). */
  #is(form: string): boolean {
    if (this.#escapedKey !== undefined) return this.#escapedKey === form;
    return this.#keyEnd - this.#keyStart - 2 === form.length && this.#text.startsWith(form, this.#keyStart + 1);
  }

  /** Whether the key last read starts with `_sdc_`. */
  #isReserved(): boolean {
    if (this.#escapedKey !== undefined) return this.#escapedKey.startsWith(RESERVED_PREFIX);
    return this.#keyEnd - this.#keyStart - 2 >= RESERVED_PREFIX.length && this.#text.startsWith(RESERVED_PREFIX, this.#keyStart + 1);
  }

  /** Where the value of the member last read ends. */
  #skipValue(): number {
    const text = this.#text;
    const start = this.#valueStart;
    if (text.charCodeAt(start) === 0x22) {
      const quote = text.indexOf('"', start + 1);
      if (quote >= 0 && this.#noEscape(start, quote)) return quote + 1;
    }
    return endOfValue(text, start);
  }

  scan(keysOf: KeysOf): ScannedRecord | undefined {
    const text = this.#text;
    let stream: string | undefined;
    let record: RecordWalk | undefined;
    let recordStart = -1;
    for (let i = this.#first(0); i >= 0;) {
      this.#key(i);
      const valueStart = this.#valueStart;
      let valueEnd: number;
      if (this.#is('record') && text.charCodeAt(valueStart) === 0x7b) {
        recordStart = valueStart;
        record = this.#walkRecord(valueStart, stream, stream === undefined ? undefined : keysOf(stream));
        valueEnd = record.end;
      } else {
        const isStream = this.#is('stream');
        if (this.#is('record')) record = undefined;
        valueEnd = this.#skipValue();
        if (isStream) stream = text.charCodeAt(valueStart) === 0x22 ? this.#streamName(valueStart, valueEnd) : undefined;
      }
      i = this.#next(valueEnd);
    }
    if (record === undefined) return undefined;
    let walk: RecordWalk = record;
    const envelope = this.#envelope(recordStart, walk.end);
    // A `stream` member after the record (repeated, or the only one): the record is walked again with that stream's keys.
    if (typeof envelope.stream === 'string' && envelope.stream !== walk.stream) walk = this.#walkRecord(recordStart, envelope.stream, keysOf(envelope.stream));
    let reserved: JsonObject | undefined;
    if (walk.reservedCount > 0) {
      const inner = walk.compact && !walk.interleaved ? this.#textOf(walk.firstReserved, walk.lastReservedEnd) : this.#join(reservedSpans);
      if (lastReserved?.text !== inner) lastReserved = { text: inner, value: JSON.parse(`{${inner}}`) as JsonObject };
      reserved = lastReserved.value;
    }
    let replaced = 0;
    let payload = this.#payload(recordStart, walk);
    if (!this.#noEscape(recordStart, walk.end) && payload.indexOf('\\u') >= 0) {
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

  /**
   * The message without its record (at [recordStart, recordEnd)), parsed: JSON.parse validates the
   * rest of the line and reads type and stream as for the whole line. The lines of a window mostly
   * differ only inside their records, so the last one is reused when the text around is the same.
   */
  #envelope(recordStart: number, recordEnd: number): JsonObject {
    const text = this.#text;
    const same = sameTextAround(lastEnvelope, text, recordStart, recordEnd);
    if (same !== undefined) return same;
    const before = text.slice(0, recordStart);
    const after = text.slice(recordEnd);
    const value = JSON.parse(this.#ascii ? `${before}0${after}` : `${this.#decode(0, recordStart)}0${this.#decode(recordEnd, text.length)}`) as JsonObject;
    lastEnvelope = { before, after, value };
    return value;
  }

  /** The stream name whose JSON text is at [start, end): the last line's when its text is the same. */
  #streamName(start: number, end: number): string {
    const last = lastStream;
    if (last !== undefined && last.text.length === end - start && this.#text.startsWith(last.text, start)) return last.name;
    const name = this.#string(start, end);
    lastStream = { text: this.#text.slice(start, end), name };
    return name;
  }

  /** The JSON string whose text is at [start, end), decoded. */
  #string(start: number, end: number): string {
    // Without escapes the value is the bytes between the quotes.
    if (this.#noEscape(start, end)) return this.#bytes.toString(this.#ascii ? 'latin1' : 'utf8', start + 1, end - 1);
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
    const keyForms = keys === undefined ? NO_KEYS : this.#ascii ? keys : keys.map(utf8ByteString);
    const skipper = skipperFor(keys ?? NO_KEYS, keyForms, this.#ascii ? 'text' : 'bytes');
    const walk = recordWalk.reset(stream, keys);
    kept.length = 0;
    reservedSpans.length = 0;
    let expected = start + 1;
    for (let i = this.#first(start); i >= 0;) {
      if (i === expected) {
        // The members that are none of the above, written compactly, in one step: they stay in the payload.
        const passed = passMembers(skipper, text, i);
        if (passed > i) {
          if (walk.reservedCount > 0) walk.interleaved = true;
          kept.push(i, passed - 1);
          expected = passed;
          i = passed;
          while (isJsonWhitespace(text.charCodeAt(i))) i++;
        }
      }
      this.#key(i);
      const valueStart = this.#valueStart;
      const valueEnd = this.#skipValue();
      if (i !== expected) walk.compact = false;
      expected = valueEnd + 1;
      if (this.#isReserved()) {
        if (walk.reservedCount === 0) walk.firstReserved = i;
        walk.reservedCount += 1;
        walk.lastReservedEnd = valueEnd;
        reservedSpans.push(i, valueEnd);
      } else {
        if (walk.reservedCount > 0) walk.interleaved = true;
        kept.push(i, valueEnd);
        if (this.#is('MetaData')) walk.metaStart = text.charCodeAt(valueStart) === 0x7b ? valueStart : -1;
        for (let k = 0; k < keyForms.length; k++) {
          if (!this.#is(keyForms[k] as string)) continue;
          if ((walk.keySpans[2 * k] as number) >= 0) walk.repeatedKey = true;
          walk.keySpans[2 * k] = valueStart;
          walk.keySpans[2 * k + 1] = valueEnd;
          break;
        }
      }
      i = this.#next(valueEnd);
    }
    walk.end = this.#objectEnd;
    return walk;
  }

  /** The last LastUpdatedTime member of the MetaData object at `start`, when it is a string. */
  #lastUpdatedText(start: number): string | null {
    let found: string | null = null;
    for (let i = this.#first(start); i >= 0;) {
      this.#key(i);
      const valueStart = this.#valueStart;
      const valueEnd = this.#skipValue();
      if (this.#is('LastUpdatedTime')) found = this.#text.charCodeAt(valueStart) === 0x22 ? this.#string(valueStart, valueEnd) : null;
      i = this.#next(valueEnd);
    }
    return found;
  }
}

/**
 * What #walkRecord found in one record. One, reset by each walk (as `kept` and `reservedSpans`):
 * a scan reads the walk it made before it returns, and the last walk is the only one it reads.
 */
class RecordWalk {
  stream: string | undefined;
  /** The key properties of `stream` when the record was walked (undefined: not known then). */
  keys: readonly string[] | undefined;
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
  readonly keySpans: number[] = [];

  /** Starts the walk of a record of `stream`, whose key properties are `keys`. */
  reset(stream: string | undefined, keys: readonly string[] | undefined): this {
    this.stream = stream;
    this.keys = keys;
    this.end = -1;
    this.compact = true;
    this.interleaved = false;
    this.reservedCount = 0;
    this.firstReserved = -1;
    this.lastReservedEnd = -1;
    this.repeatedKey = false;
    this.metaStart = -1;
    this.keySpans.length = 2 * (keys?.length ?? 0);
    this.keySpans.fill(-1);
    return this;
  }

  /** The JSON text of a key property's value (decoded by `decode`), or undefined when absent. */
  keyValue(key: string, decode: (start: number, end: number) => string): string | undefined {
    const k = this.keys?.indexOf(key) ?? -1;
    const start = k < 0 ? -1 : (this.keySpans[2 * k] as number);
    return start < 0 ? undefined : decode(start, this.keySpans[2 * k + 1] as number);
  }
}

/** Made once (after its class): a walk per record cost a record's worth of young objects the garbage collector copies. */
const recordWalk = new RecordWalk();
