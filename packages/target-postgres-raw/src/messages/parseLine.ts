import { endOfValue, forEachMember, isJsonWhitespace, objectMembers, parseMessageLine, type JsonObject } from 'singer-kit';
import type { RecordSpan } from '../rows/toRow.js';
import { sameTextAround, type TextAround } from './textAround.js';

/** An input line parsed: the message (its type upper-cased), and where its `record` object's text lies when it has one. */
export interface ParsedLine {
  readonly message: JsonObject & { type: string };
  readonly recordSpan: RecordSpan | undefined;
  /**
   * A STATE's `value` as the line wrote it (its last `value` member, the one JSON.parse takes): the
   * state is printed as received, so a bookmark of 12345678901234567890 keeps every digit, which
   * JSON.parse and JSON.stringify would round to 12345678901234567000.
   */
  readonly stateText: string | undefined;
}

/**
 * Parses one input line (parseMessageLine's checks and errors), and finds its `record` object's
 * text, the payload the row keeps byte for byte. Most RECORD lines are parsed in two parts, the
 * record and the message around it, which finds the record's end without scanning its text (a
 * tenth of the routing time of a record); any other line is parsed whole and its members walked.
 */
export function parseLine(text: string, lineNumber: number): ParsedLine {
  return parseRecordParts(text) ?? parseWhole(text, lineNumber);
}

/**
 * The line as its record and the rest, when the record's text ends at the last `}` before the
 * message's own: the record is its text from the first `record` key's value on, the message is
 * the line with `null` in its place. Parsing both parts proves the split: a text that starts with
 * `{` and parses ends at its own closing brace, and the message parses with the record's place
 * holding a value and no later `record` member (which JSON.parse would take instead). Undefined
 * when any of that fails: the caller parses the line whole, which also names what is wrong.
 */
function parseRecordParts(text: string): ParsedLine | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined;
  let start = -1;
  try {
    forEachMember(text, 0, (key, _keyStart, valueStart) => {
      if (key !== 'record') return endOfValue(text, valueStart);
      start = valueStart;
      return -1;
    });
  } catch {
    return undefined;
  }
  if (start < 0 || text.charCodeAt(start) !== 0x7b) return undefined;
  let last = text.length - 1;
  while (last > start && isJsonWhitespace(text.charCodeAt(last))) last--;
  const end = text.lastIndexOf('}', last - 1) + 1;
  if (text.charCodeAt(last) !== 0x7d || end <= start) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(text.slice(start, end));
  } catch {
    return undefined;
  }
  const envelope = recordEnvelope(text, start, end);
  if (envelope === undefined) return undefined;
  return { message: { ...envelope, record }, recordSpan: { start, end }, stateText: undefined };
}

/** The last RECORD message's text around its record, and that message parsed (its `record` null). */
let lastEnvelope: TextAround<RecordEnvelope> | undefined;

type RecordEnvelope = JsonObject & { type: string };

/**
 * The message around the record at [start, end) of a line, parsed with `null` in the record's
 * place, its type upper-cased; undefined unless it is a RECORD message whose last `record` member
 * is that place. The lines of a tap's stream mostly differ only inside their records, so the last
 * line's answer is reused while the text around is the same.
 */
function recordEnvelope(text: string, start: number, end: number): RecordEnvelope | undefined {
  const same = sameTextAround(lastEnvelope, text, start, end);
  if (same !== undefined) return same;
  const before = text.slice(0, start);
  const after = text.slice(end);
  const envelopeText = `${before}null${after}`;
  let envelope: JsonObject;
  try {
    envelope = JSON.parse(envelopeText) as JsonObject;
  } catch {
    return undefined;
  }
  if (typeof envelope !== 'object' || envelope === null || typeof envelope.type !== 'string') return undefined;
  // A later `record` member (its key perhaps escaped) would be the one JSON.parse takes.
  if ((after.includes('record') || after.includes('\\')) && objectMembers(envelopeText).filter(([key]) => key === 'record').length > 1) return undefined;
  envelope.type = envelope.type.toUpperCase();
  if (envelope.type !== 'RECORD') return undefined;
  lastEnvelope = { before, after, value: envelope as RecordEnvelope };
  return envelope as RecordEnvelope;
}

/**
 * The line parsed whole; a `record` object's text, or a STATE's `value` text, found by walking the
 * message's members (the last of each, as JSON.parse takes it).
 */
function parseWhole(text: string, lineNumber: number): ParsedLine {
  const message = parseMessageLine(text, lineNumber);
  const record = message.record;
  const hasRecord = typeof record === 'object' && record !== null && !Array.isArray(record);
  const isState = message.type === 'STATE' && 'value' in message;
  if (!hasRecord && !isState) return { message, recordSpan: undefined, stateText: undefined };
  let span: RecordSpan | undefined;
  let stateText: string | undefined;
  forEachMember(text, 0, (key, _keyStart, valueStart) => {
    const end = endOfValue(text, valueStart);
    if (key === 'record' && hasRecord) span = { start: valueStart, end };
    else if (key === 'value' && isState) stateText = text.slice(valueStart, end);
    return end;
  });
  return { message, recordSpan: span, stateText };
}
