import { memberText, objectMembers, RunError, scanObjectArray, utf8ByteString, type Logger } from 'singer-kit';
import type { QboClient, RequestStats } from '../http/QboClient.js';
import { splitWindow, type Window } from '../plan/planWindows.js';
import { buildCountQuery, buildPageQuery, type QueryTarget } from '../query/buildQuery.js';
import { recordFrame, recordLine, reservedMembers } from '../emit/toRecordMessage.js';

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
  readonly minorVersion: number;
  /** Above this many rows a window is split in halves instead of buffered whole. */
  readonly maxWindowRows: number;
  /** Re-reads of a window whose rows moved while it was paged, before giving up on exactness. */
  readonly maxRereads: number;
}

export interface WindowRead {
  readonly kind: 'read';
  readonly window: Window;
  readonly qboCount: number;
  /** RECORD lines, in the order QBO returned them, each Id once; UTF-8 byte strings (see utf8ByteString). */
  readonly lines: readonly string[];
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly rereads: number;
  readonly durationMs: number;
  readonly extractedAt: string;
}

export type WindowResult = WindowRead | { readonly kind: 'split'; readonly halves: readonly [Window, Window] };

interface Row {
  readonly id: string;
  readonly line: string;
}

/** A COUNT(*) or page answer: its QueryResponse, parsed (small for counts). */
function countResponse(body: string, what: string): Record<string, unknown> {
  let top: unknown;
  try {
    top = JSON.parse(body);
  } catch {
    throw new RunError(`${what}: the response is not JSON: ${body.slice(0, 120)}`);
  }
  const parsed = (top as { QueryResponse?: unknown }).QueryResponse;
  if (typeof parsed !== 'object' || parsed === null) throw new RunError(`${what}: the response has no QueryResponse`);
  return parsed as Record<string, unknown>;
}

/** QBO writes the entity array as QueryResponse's first member; then it is found without scanning the body. */
const PAGE_HEAD = /^\s*\{\s*"QueryResponse"\s*:\s*\{\s*"([A-Za-z]+)"\s*:\s*(?=\[)/;

/** Where the page's entity array starts in `text` (undefined for an empty page). */
function entityArray(text: string, entity: string, what: string): { text: string; from: number } | undefined {
  const head = PAGE_HEAD.exec(text.slice(0, 256));
  if (head && head[1]!.toLowerCase() === entity.toLowerCase()) return { text, from: head[0].length };
  const response = memberText(text, 'QueryResponse');
  if (response === undefined) throw new RunError(`${what}: the response has no QueryResponse`);
  const member = objectMembers(response).find(([key]) => key.toLowerCase() === entity.toLowerCase());
  return member ? { text: member[1], from: 0 } : undefined;
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
 * Visits each entity of a page once: its exact text, its Id, and its MetaData.LastUpdatedTime
 * (read only when `withUpdated`). Returns how many entities the page has.
 */
function forEachEntity(text: string, entity: string, what: string, withUpdated: boolean, visit: (entityText: string, id: string, lastUpdated: unknown) => void): number {
  let entities = 0;
  try {
    const array = entityArray(text, entity, what);
    if (!array) return 0;
    const t = array.text;
    // scanObjectArray stops at the array's closing bracket, so the rest of the body is not scanned.
    scanObjectArray(t, array.from, IDENTITY_KEYS, (start, end, spans) => {
      entities += 1;
      const id = spans[0]! < 0 ? undefined : idOf(t.slice(spans[0], spans[1]));
      if (id === undefined) throw new RunError(`${what}: a ${entity} without Id in the response`);
      const meta = withUpdated && spans[2]! >= 0 ? memberText(t.slice(spans[2], spans[3]), 'LastUpdatedTime') : undefined;
      visit(t.slice(start, end), id, meta === undefined ? undefined : JSON.parse(meta));
    });
  } catch (error) {
    if (error instanceof RunError) throw error;
    const preview = Buffer.from(text.slice(0, 120), 'latin1').toString('utf8');
    throw new RunError(`${what}: the response is not valid JSON (${(error as Error).message}): ${preview}`);
  }
  return entities;
}

async function count(ctx: ReadContext, target: StreamTarget, window: Window | undefined, stats: RequestStats): Promise<number> {
  const query = buildCountQuery(target, window);
  const { body } = await ctx.client.query(query, stats);
  const total = countResponse(body, query).totalCount;
  if (typeof total !== 'number') throw new RunError(`${query}: the response has no totalCount`);
  return total;
}

interface PageRead {
  /** The page's rows inside the window. */
  readonly rows: Row[];
  /** Rows QBO returned, in the window or not: a full page means there may be more. */
  readonly returned: number;
}

async function readPage(ctx: ReadContext, target: StreamTarget, window: Window, timeWindow: Window | undefined, number: number, stats: RequestStats): Promise<PageRead> {
  const query = buildPageQuery(target, timeWindow, { number, size: ctx.pageSize });
  const { bytes, receivedAt } = await ctx.client.query(query, stats);
  const reserved = reservedMembers({
    windowStart: window.start,
    windowEnd: window.end,
    pageNumber: number,
    pageSize: ctx.pageSize,
    request: { method: 'GET', path: `${ctx.client.companyPath}/query`, query, minorversion: ctx.minorVersion },
    extractedAt: receivedAt,
    realmId: ctx.realmId,
    runId: ctx.runId,
  });
  const included = target.included && new Set([...target.included].map(utf8ByteString));
  const frame = recordFrame(utf8ByteString(JSON.stringify(target.stream)), reserved.map(([k, v]) => [k, utf8ByteString(v)] as const), receivedAt, included);
  const rows: Row[] = [];
  // One char per byte: entities are cut out and written out as the bytes QBO sent (the lines
  // are UTF-8 byte strings), and the structural characters JSON is scanned for are all ASCII.
  const text = bytes.toString('latin1');
  const returned = forEachEntity(text, target.entity, query, timeWindow !== undefined, (entityText, id, lastUpdated) => {
    if (timeWindow) {
      // Compared as instants: QBO answers with Pacific offsets, the window is in UTC.
      const at = Date.parse(String(lastUpdated));
      if (!(at >= timeWindow.startMs && at < timeWindow.endMs)) return;
    }
    rows.push({ id, line: recordLine(frame, entityText) });
  });
  return { rows, returned };
}

/** All pages of one attempt: the pages the count predicts at once, then more while pages come back full. */
async function readAllPages(ctx: ReadContext, target: StreamTarget, window: Window, timeWindow: Window | undefined, expected: number, stats: RequestStats): Promise<{ rows: Row[]; pages: number }> {
  const predicted = Math.max(1, Math.ceil(expected / ctx.pageSize));
  const pages = await Promise.all(Array.from({ length: predicted }, (_, i) => readPage(ctx, target, window, timeWindow, i + 1, stats)));
  while (pages[pages.length - 1]!.returned >= ctx.pageSize) {
    // Rows counted into the window after COUNT(*) (clock skew, back-dated writes): keep paging.
    pages.push(await readPage(ctx, target, window, timeWindow, pages.length + 1, stats));
  }
  return { rows: pages.flatMap((page) => page.rows), pages: pages.length };
}

/**
 * Reads one window completely: COUNT(*) first (0 → no page queries), then the pages; the
 * window is complete when the distinct Ids seen reach the count taken before paging. Fewer
 * means rows moved while we paged (a touched row leaves the window and the rows behind it
 * shift one position forward, past our offsets), so the window is read again.
 */
export async function readWindow(ctx: ReadContext, target: StreamTarget, window: Window): Promise<WindowResult> {
  const started = Date.now();
  const stats: RequestStats = { attempts: 0, retries: 0 };
  const timeWindow = target.fullTable ? undefined : window;
  let expected = await count(ctx, target, timeWindow, stats);
  const halves = expected > ctx.maxWindowRows && timeWindow ? splitWindow(window) : undefined;
  if (halves) return { kind: 'split', halves };
  let pages = 0;
  let rereads = 0;
  const firstCount = expected;
  const seen = new Map<string, string>();
  while (expected > 0) {
    const attempt = await readAllPages(ctx, target, window, timeWindow, expected, stats);
    pages += attempt.pages;
    const distinct = new Set(attempt.rows.map((r) => r.id)).size;
    if (distinct >= expected) {
      for (const row of attempt.rows) seen.set(row.id, row.line);
      break;
    }
    if (rereads >= ctx.maxRereads) {
      // A row the shifting pages skipped still lies in this window: accepting it would move the
      // bookmark past a row never read. Stop; the re-run starts at this window again.
      throw new RunError(
        `${target.stream} window ${window.start}..${window.end}: read ${distinct} distinct rows of ${expected} counted after ${rereads} re-reads (rows kept changing while paged); stopping before this window so the next run reads it again`,
      );
    }
    // Rows of this attempt stay (true when read); the re-read adds the missed ones and newer versions.
    for (const row of attempt.rows) seen.set(row.id, row.line);
    rereads += 1;
    ctx.logger.info(`${target.stream} ${window.start}: ${distinct} distinct rows of ${expected} counted; rows moved while paging, reading the window again`);
    expected = await count(ctx, target, timeWindow, stats);
  }
  return {
    kind: 'read',
    window,
    qboCount: firstCount,
    lines: [...seen.values()],
    pages,
    requests: stats.attempts,
    retries: stats.retries,
    rereads,
    durationMs: Date.now() - started,
    extractedAt: new Date().toISOString(),
  };
}
