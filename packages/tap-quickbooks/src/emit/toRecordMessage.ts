import { appendMembersText, compactJson, isJsonWhitespace, membersText, pickMembers, type LineWriter } from 'singer-kit';
import type { RequestDescription } from '../http/QboClient.js';

/** What the tap knows about the page a record came from (DESIGN §2, the reserved fields). */
export interface PageFacts {
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Null for records that come from no page (deletions, read through CDC). */
  readonly pageNumber: number | null;
  readonly pageSize: number | null;
  readonly request: RequestDescription;
  readonly extractedAt: string;
  readonly realmId: string;
  readonly runId: string;
}

const RESERVED_FIELDS = [
  '_sdc_extract_window_start_utc',
  '_sdc_extract_window_end_utc',
  '_sdc_page_number',
  '_sdc_page_size',
  '_sdc_request_payload',
  '_sdc_extracted_at',
  '_sdc_realm_id',
  '_sdc_run_id',
] as const;

/** The reserved members of every record of one page, as raw JSON text (computed once per page). */
export function reservedMembers(facts: PageFacts): Array<readonly [string, string]> {
  // Built from an allow-list: the request payload can never carry a token.
  const request = { method: facts.request.method, path: facts.request.path, query: facts.request.query, minorversion: facts.request.minorversion };
  const values = [facts.windowStart, facts.windowEnd, facts.pageNumber, facts.pageSize, request, facts.extractedAt, facts.realmId, facts.runId];
  return RESERVED_FIELDS.map((name, i) => [name, JSON.stringify(values[i])] as const);
}

/** The parts of a page's RECORD lines that do not depend on the entity (computed once per page). */
export interface RecordFrame {
  readonly head: string;
  readonly reserved: string;
  readonly tail: string;
  readonly included: ReadonlySet<string> | undefined;
  /** The line's bytes before the entity (head as bytes) and after its last member: reserved members, `}` and tail (`closeEmpty` after an empty entity). */
  readonly bytes: { readonly head: Buffer; readonly close: Buffer; readonly closeEmpty: Buffer };
}

/**
 * The frame of one page's RECORD lines. `stream`, the reserved values and `extractedAt` are taken
 * as text; in the UTF-8 byte form of the entities (see utf8ByteString) when those are.
 */
export function recordFrame(
  streamJson: string,
  reserved: ReadonlyArray<readonly [string, string]>,
  extractedAt: string,
  included: ReadonlySet<string> | undefined,
): RecordFrame {
  const head = `{"type":"RECORD","stream":${streamJson},"record":`;
  const members = membersText(reserved);
  const tail = `,"time_extracted":"${extractedAt}"}`;
  // The texts are UTF-8 byte strings, one char per byte: latin1 gives those bytes back.
  const bytes = (text: string) => Buffer.from(text, 'latin1');
  return {
    head,
    reserved: members,
    tail,
    included,
    bytes: { head: bytes(head), close: bytes(`${members === '' ? '' : `,${members}`}}${tail}`), closeEmpty: bytes(`${members}}${tail}`) },
  };
}

/**
 * One RECORD line: the entity's exact text from the response (fields deselected in the catalog
 * removed, nothing else touched) plus the reserved fields.
 */
export function recordLine(frame: RecordFrame, entityText: string): string {
  const compact = compactJson(entityText);
  const included = frame.included;
  const body = included ? pickMembers(compact, (key) => included.has(key)) : compact;
  return frame.head + appendMembersText(body, frame.reserved) + frame.tail;
}

/**
 * Queues the RECORD line of the entity `page[start, end)` (an object, its `}` at end - 1) on
 * `writer`: the same bytes as recordLine, made without building the line as a string. For
 * entities that need no change: no whitespace to compact away (no line breaks in the page), no
 * deselected field. Returns queueParts' answer: true when the caller must await writer.flush().
 */
export function queueRecord(writer: LineWriter, frame: RecordFrame, page: Buffer, start: number, end: number): boolean {
  let last = end - 2;
  while (last > start && isJsonWhitespace(page[last])) last--;
  const { head, close, closeEmpty } = frame.bytes;
  return writer.queueParts(head, page, start, last + 1, page[last] === 0x7b ? closeEmpty : close);
}
