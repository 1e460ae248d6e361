import { endOfValue, forEachMember, jsonSyntaxProblem, memberText, RunError, scanObjectArray, utf8ByteString, type LineWriter, type Logger } from 'singer-kit';
import { GarbledBody } from '../http/GarbledBody.js';
import type { QboClient, RequestDescription, RequestStats } from '../http/QboClient.js';
import type { Span } from '../plan/planSpans.js';
import type { Window } from '../plan/planWindows.js';
import { buildPageQuery, type QueryTarget } from '../query/buildQuery.js';
import { countRecords } from './queryAnswer.js';
import { queueRecord, recordFrame, recordLine, reservedMembers, type RecordFrame } from '../emit/toRecordMessage.js';
import type { ReadCost } from '../report/volumetryRecord.js';

export interface StreamTarget extends QueryTarget {
  readonly stream: string;
  /** Top-level properties to keep; undefined keeps all. */
  readonly included: ReadonlySet<string> | undefined;
  /** Single-row entities (CompanyInfo): no time filter, every row on every run. */
  readonly fullTable: boolean;
  /** QBO's CDC reports this entity's deletions. */
  readonly cdc: boolean;
}

export interface ReadContext {
  readonly client: QboClient;
  readonly logger: Logger;
  readonly pageSize: number;
  readonly realmId: string;
  readonly runId: string;
  /** Pages of one span requested at once (the rate budget decides when each goes out). */
  readonly pageConcurrency: number;
  /** Re-reads of a span whose rows moved while it was paged, before giving up on exactness. */
  readonly maxRereads: number;
}

/** QBO writes the entity array as QueryResponse's first member; then it is found without scanning the body. */
const PAGE_HEAD = /^\s*\{\s*"QueryResponse"\s*:\s*\{\s*"([A-Za-z]+)"\s*:\s*(?=\[)/;

/** The value of the first member of the object at `from` whose key passes `wanted`, or -1. */
function memberValue(text: string, from: number, wanted: (key: string) => boolean): number {
  let found = -1;
  forEachMember(text, from, (key, _keyStart, valueStart) => {
    if (!wanted(key)) return endOfValue(text, valueStart);
    found = valueStart;
    return -1;
  });
  return found;
}

/** Where the page's entity array starts in `text` (undefined for an empty page). */
function entityArray(text: string, entity: string): number | undefined {
  const name = entity.toLowerCase();
  const head = PAGE_HEAD.exec(text.slice(0, 256));
  if (head && head[1]!.toLowerCase() === name) return head[0].length;
  const response = memberValue(text, 0, (key) => key === 'QueryResponse');
  if (response < 0 || text.charCodeAt(response) !== 0x7b) throw new GarbledBody('JSON without QueryResponse');
  const array = memberValue(text, response, (key) => key.toLowerCase() === name);
  return array < 0 ? undefined : array;
}

/** The members read from each entity of a page: Id, and MetaData for LastUpdatedTime. */
const IDENTITY_KEYS = ['Id', 'MetaData'] as const;

/** A JSON string or number value's text, as a string key; undefined for anything else. */
function idOf(valueText: string): string | undefined {
  const c = valueText.charCodeAt(0);
  if (c === 0x22 && !valueText.includes('\\')) return valueText.slice(1, -1);
  const id: unknown = JSON.parse(valueText);
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * Visits each entity of a page once: its bounds in `text`, its Id, and its
 * MetaData.LastUpdatedTime (read only when `withUpdated`). Returns how many entities the page has.
 * A body that is not a page (cut short, another shape) throws GarbledBody, which never quotes
 * it: the client asks for the page again.
 */
function forEachEntity(
  text: string,
  entity: string,
  withUpdated: boolean,
  visit: (start: number, end: number, id: string, lastUpdated: unknown) => void,
): number {
  let entities = 0;
  try {
    const from = entityArray(text, entity);
    if (from === undefined) return 0;
    // scanObjectArray stops at the array's closing bracket, so the rest of the body is not scanned.
    scanObjectArray(text, from, IDENTITY_KEYS, (start, end, spans) => {
      entities += 1;
      const id = spans[0]! < 0 ? undefined : idOf(text.slice(spans[0], spans[1]));
      if (id === undefined) throw new GarbledBody(`a ${entity} without Id`);
      const meta = withUpdated && spans[2]! >= 0 ? memberText(text.slice(spans[2], spans[3]), 'LastUpdatedTime', true) : undefined;
      visit(start, end, id, meta === undefined ? undefined : JSON.parse(meta));
    });
    return entities;
  } catch (error) {
    if (error instanceof GarbledBody) throw error;
    throw new GarbledBody(`not valid JSON (${jsonSyntaxProblem(error)})`);
  }
}

/** COUNT(*) for a span of a stream (the whole entity for a full-table stream). */
export function countRows(ctx: ReadContext, target: StreamTarget, window: Window, stats: RequestStats): Promise<number> {
  return countRecords(ctx.client, target, target.fullTable ? undefined : window, stats);
}

/** The index of the day holding `at`, looking at `hint` first (rows come in time order). */
function dayIndex(days: readonly Window[], at: number, hint: number): number {
  const guess = days[hint];
  if (guess && at >= guess.startMs && at < guess.endMs) return hint;
  let lo = 0;
  let hi = days.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (days[mid]!.startMs <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * One page as received. Its entities stay in the page's bytes, as offsets, until they are
 * written out, byte for byte: holding a span's rows as thousands of separate strings until the
 * span is complete cost more CPU in garbage collection than anything else the tap did.
 */
interface Page {
  readonly number: number;
  readonly request: RequestDescription;
  readonly receivedAt: string;
  /** The body as received. */
  readonly bytes: Buffer;
  /** No line breaks: its entities need no compacting and are written out as they are. */
  readonly compact: boolean;
  /** Per entity inside the span, in the order QBO returned them: bounds in `text`, day index, Id. */
  readonly starts: number[];
  readonly ends: number[];
  readonly days: number[];
  readonly ids: string[];
  /** Entities QBO returned, inside the span or not: a full page means there may be more. */
  readonly returned: number;
  /** RECORD frames of this page per day index, made when first needed. */
  readonly frames: Map<number, RecordFrame>;
}

/** Rows per page are packed with their page's index into one integer (page size is at most 1000). */
const ROW_BITS = 10;

function readPage(ctx: ReadContext, target: StreamTarget, span: Span, number: number, stats: RequestStats): Promise<Page> {
  const timeWindow = target.fullTable ? undefined : span.window;
  const query = buildPageQuery(target, timeWindow, { number, size: ctx.pageSize });
  // Read inside the client's retry loop: a page forEachEntity cannot read is asked for again.
  return ctx.client.query(query, stats, ({ bytes, receivedAt, request }): Page => {
    const starts: number[] = [];
    const ends: number[] = [];
    const days: number[] = [];
    const ids: string[] = [];
    let day = 0;
    // One char per byte: the structural characters JSON is scanned for are all ASCII, and the
    // offsets found are the entities' byte offsets in `bytes`.
    const text = bytes.toString('latin1');
    const returned = forEachEntity(text, target.entity, timeWindow !== undefined, (start, end, id, lastUpdated) => {
      if (timeWindow) {
        // Compared as instants: QBO answers with Pacific offsets, the span is in UTC.
        const at = Date.parse(String(lastUpdated));
        if (!(at >= timeWindow.startMs && at < timeWindow.endMs)) return;
        day = dayIndex(span.days, at, day);
      }
      starts.push(start);
      ends.push(end);
      days.push(day);
      ids.push(id);
    });
    if (returned >= 1 << ROW_BITS) throw new RunError(`${query}: ${returned} entities in one page, more than MAXRESULTS ${ctx.pageSize}`);
    const compact = !text.includes('\n') && !text.includes('\r');
    return { number, request, receivedAt, bytes, compact, starts, ends, days, ids, returned, frames: new Map() };
  });
}

/**
 * All pages of one attempt, in page order: the pages the count predicts (at most
 * `pageConcurrency` asked for at once, so other streams' and the next span's requests are not
 * queued behind a whole span), then more while pages come back full.
 */
async function readAllPages(ctx: ReadContext, target: StreamTarget, span: Span, expected: number, stats: RequestStats): Promise<Page[]> {
  const predicted = Math.max(1, Math.ceil(expected / ctx.pageSize));
  const pages: Page[] = [];
  let next = 1;
  let failed = false;
  const worker = async () => {
    try {
      while (next <= predicted && !failed) {
        const number = next++;
        pages[number - 1] = await readPage(ctx, target, span, number, stats);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.pageConcurrency, predicted) }, worker));
  while (pages[pages.length - 1]!.returned >= ctx.pageSize) {
    // Rows counted into the span after COUNT(*) (clock skew, back-dated writes): keep paging.
    pages.push(await readPage(ctx, target, span, pages.length + 1, stats));
  }
  return pages;
}

/** A span read completely: its records per day, and what it cost. */
export class SpanRead {
  readonly span: Span;
  /** QBO's COUNT(*) for the span, taken before paging (the planner's). */
  readonly qboCount: number;
  readonly cost: ReadCost;
  readonly extractedAt: string;
  /** Records per day of `span.days`. */
  readonly perDay: readonly number[];
  /** Distinct records read. */
  readonly extracted: number;
  readonly #ctx: ReadContext;
  readonly #received: readonly Page[];
  /** Packed (page, row) references grouped by day; day d's are at [#dayStart[d], #dayStart[d + 1]). */
  readonly #order: Int32Array;
  readonly #dayStart: Int32Array;
  readonly #stream: string;
  readonly #included: ReadonlySet<string> | undefined;

  constructor(
    ctx: ReadContext,
    target: StreamTarget,
    span: Span,
    received: readonly Page[],
    selected: ArrayLike<number>,
    facts: { pages: number; stats: RequestStats; rereads: number; durationMs: number },
  ) {
    this.#ctx = ctx;
    this.span = span;
    this.qboCount = span.count;
    this.cost = { pages: facts.pages, requests: facts.stats.attempts, retries: facts.stats.retries, rereads: facts.rereads, durationMs: facts.durationMs };
    this.extractedAt = new Date().toISOString();
    this.#received = received;
    this.#stream = utf8ByteString(JSON.stringify(target.stream));
    this.#included = target.included && new Set([...target.included].map(utf8ByteString));
    // Group by day, keeping QBO's order inside each day (a counting sort).
    const days = span.days.length;
    const dayStart = new Int32Array(days + 1);
    for (let k = 0; k < selected.length; k++) {
      const ref = selected[k]!;
      dayStart[received[ref >>> ROW_BITS]!.days[ref & ((1 << ROW_BITS) - 1)]! + 1]! += 1;
    }
    const perDay = Array.from({ length: days }, (_, d) => dayStart[d + 1]!);
    for (let d = 0; d < days; d++) dayStart[d + 1]! += dayStart[d]!;
    const fill = dayStart.slice(0, days);
    const order = new Int32Array(selected.length);
    for (let k = 0; k < selected.length; k++) {
      const ref = selected[k]!;
      order[fill[received[ref >>> ROW_BITS]!.days[ref & ((1 << ROW_BITS) - 1)]!]!++] = ref;
    }
    this.perDay = perDay;
    this.extracted = order.length;
    this.#order = order;
    this.#dayStart = dayStart;
  }

  #frame(page: Page, day: number): RecordFrame {
    let frame = page.frames.get(day);
    if (frame) return frame;
    const window = this.span.days[day]!;
    const reserved = reservedMembers({
      windowStart: window.start,
      windowEnd: window.end,
      pageNumber: page.number,
      pageSize: this.#ctx.pageSize,
      request: page.request,
      extractedAt: page.receivedAt,
      realmId: this.#ctx.realmId,
      runId: this.#ctx.runId,
    });
    frame = recordFrame(
      this.#stream,
      reserved.map(([k, v]) => [k, utf8ByteString(v)] as const),
      page.receivedAt,
      this.#included,
    );
    page.frames.set(day, frame);
    return frame;
  }

  /** Writes the RECORD lines of day `day` (an index into `span.days`), each Id once, straight from the pages' bytes. */
  async writeDay(day: number, writer: LineWriter): Promise<void> {
    const mask = (1 << ROW_BITS) - 1;
    for (let k = this.#dayStart[day]!; k < this.#dayStart[day + 1]!; k++) {
      const ref = this.#order[k]!;
      const page = this.#received[ref >>> ROW_BITS]!;
      const row = ref & mask;
      const frame = this.#frame(page, day);
      const start = page.starts[row]!;
      const end = page.ends[row]!;
      const full =
        frame.included || !page.compact
          ? writer.queueLine(recordLine(frame, page.bytes.toString('latin1', start, end)))
          : queueRecord(writer, frame, page.bytes, start, end);
      if (full) await writer.flush();
    }
  }
}

/**
 * Reads one span completely. Its COUNT(*) was taken by the planner before paging (0 → no page
 * queries); `stats` may already hold the requests made to plan it. The span is complete when the distinct Ids seen reach that count. Fewer means rows
 * moved while we paged (a touched row leaves the span and the rows behind it shift one position
 * forward, past our offsets), so the span is counted and read again.
 */
export async function readSpan(ctx: ReadContext, target: StreamTarget, span: Span, stats: RequestStats = { attempts: 0, retries: 0 }): Promise<SpanRead> {
  const started = Date.now();
  const received: Page[] = [];
  let expected = span.count;
  let rereads = 0;
  let selected: ArrayLike<number> = [];
  while (expected > 0) {
    const first = received.length;
    received.push(...(await readAllPages(ctx, target, span, expected, stats)));
    const ids = new Set<string>();
    let rows = 0;
    for (let p = first; p < received.length; p++) {
      for (const id of received[p]!.ids) ids.add(id);
      rows += received[p]!.ids.length;
    }
    if (ids.size >= expected) {
      selected = first === 0 && ids.size === rows ? allRows(received) : newestOfEach(received);
      break;
    }
    if (rereads >= ctx.maxRereads) {
      // A row the shifting pages skipped still lies in this span: accepting it would move the
      // bookmark past a row never read. Stop; the re-run starts at this span's first day again.
      throw new RunError(
        `${target.stream} span ${span.window.start}..${span.window.end}: read ${ids.size} distinct rows of ${expected} counted after ${rereads} re-reads (rows kept changing while paged); stopping before this span so the next run reads it again`,
      );
    }
    // Rows of this attempt stay (true when read); the re-read adds the missed ones and newer versions.
    rereads += 1;
    ctx.logger.info(
      `${target.stream} ${span.window.start}..${span.window.end}: ${ids.size} distinct rows of ${expected} counted; rows moved while paging, reading the span again`,
    );
    expected = await countRows(ctx, target, span.window, stats);
  }
  return new SpanRead(ctx, target, span, received, selected, { pages: received.length, stats, rereads, durationMs: Date.now() - started });
}

/** Every row of every page, in order (one attempt, each Id once). */
function allRows(pages: readonly Page[]): Int32Array {
  let n = 0;
  for (const page of pages) n += page.ids.length;
  const refs = new Int32Array(n);
  let k = 0;
  pages.forEach((page, p) => {
    for (let row = 0; row < page.ids.length; row++) refs[k++] = (p << ROW_BITS) | row;
  });
  return refs;
}

/** Each Id once, where first seen, as last read (a re-read has the newer version). */
function newestOfEach(pages: readonly Page[]): number[] {
  const newest = new Map<string, number>();
  pages.forEach((page, p) => {
    page.ids.forEach((id, row) => newest.set(id, (p << ROW_BITS) | row));
  });
  return [...newest.values()];
}
