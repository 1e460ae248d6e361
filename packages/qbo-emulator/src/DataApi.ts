import { entityByName, type EntityInfo } from 'qbo-catalog';
import { CDC_MAX_OBJECTS, type CompanyStore } from './CompanyStore.js';
import { parseQboDateTime } from './pacificTime.js';
import { MAX_MAX_RESULTS, QueryParseError, parseQuery } from './queryLanguage.js';
import * as body from './responses.js';
import { QueryValidationError, runQuery } from './runQuery.js';

/** An HTTP answer: status and body text (JSON unless said otherwise). */
export interface Answer {
  readonly status: number;
  /** Bytes only for a fault that cuts an answer mid-character. */
  readonly text: string | Buffer;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export const json = (status: number, text: string, headers?: Record<string, string>): Answer => ({
  status,
  text,
  contentType: 'application/json;charset=UTF-8',
  ...(headers ? { headers } : {}),
});

const CDC_LOOKBACK_DAYS = 30;
/** Batch limits: items per request, objects per response. */
const BATCH_MAX_ITEMS = 30;
const BATCH_MAX_OBJECTS = 1000;

type Executed = { readonly ok: true; readonly queryResponse: string; readonly objects: number } | { readonly ok: false; readonly error: body.FaultError };

/**
 * The company's data endpoints once a request is authenticated and admitted: query, CDC and
 * batch queries. Also runs the page-shift hook, which needs to see each page served.
 */
export class DataApi {
  readonly #pageHooks: Array<{ entity: string; afterPage: number; count: number }> = [];

  constructor(
    private readonly store: CompanyStore,
    private readonly nowMs: () => number,
    private readonly visibilityDelaySeconds: () => number = () => 0,
  ) {}

  /** After page `afterPage` of a query on `entity` is served, its first `count` rows are bumped to now (once). */
  touchAfterPage(entity: string, afterPage: number, count: number): void {
    if (!Number.isInteger(afterPage) || afterPage < 1 || !Number.isInteger(count) || count < 1) {
      throw new RangeError(`touchAfterPage needs whole numbers afterPage >= 1 and count >= 1, got ${afterPage} and ${count}`);
    }
    this.#pageHooks.push({ entity: this.store.tableByStream(entity).info.entity, afterPage, count });
  }

  query(text: string | undefined): Answer {
    const result = this.#execute(text ?? '', MAX_MAX_RESULTS);
    if (!result.ok) return json(400, body.faultBody(this.nowMs(), 'ValidationFault', [result.error]));
    return json(200, body.queryBody(this.nowMs(), result.queryResponse));
  }

  cdc(params: URLSearchParams): Answer {
    const now = this.nowMs();
    const invalid = (detail: string) => json(400, body.faultBody(now, 'ValidationFault', [{ message: 'Invalid Request', detail, code: '2010' }]));
    const names = (params.get('entities') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0) return invalid('entities is required');
    const infos: EntityInfo[] = [];
    for (const name of names) {
      const info = entityByName(name);
      if (!info?.cdc)
        return json(400, body.faultBody(now, 'ValidationFault', [body.unsupportedOperation(`Operation CDC is not supported for entity ${name}`)]));
      infos.push(info);
    }
    const since = parseQboDateTime(params.get('changedSince') ?? '');
    if (since === undefined) return invalid('changedSince is required and must be a date-time');
    if (since < now - CDC_LOOKBACK_DAYS * 86400_000) return invalid(`changedSince cannot be more than ${CDC_LOOKBACK_DAYS} days in the past`);
    return json(200, body.cdcBody(now, this.store.cdc(infos, Math.ceil(since / 1000), CDC_MAX_OBJECTS)));
  }

  /** Batch of queries: independent items, each answered or faulted; at most 1000 objects in all. */
  batch(posted: string | undefined): Answer {
    const now = this.nowMs();
    let items: Array<{ bId?: unknown; Query?: unknown }>;
    try {
      const parsed = JSON.parse(posted ?? '') as { BatchItemRequest?: unknown };
      if (!Array.isArray(parsed.BatchItemRequest)) throw new TypeError('BatchItemRequest must be an array');
      items = parsed.BatchItemRequest as typeof items;
    } catch (error) {
      return json(
        400,
        body.faultBody(now, 'ValidationFault', [{ message: 'Request has invalid or unsupported property', detail: (error as Error).message, code: '2010' }]),
      );
    }
    if (items.length > BATCH_MAX_ITEMS) {
      return json(
        400,
        body.faultBody(now, 'ValidationFault', [
          { message: 'Batch Size Exceeded', detail: `Batch size ${items.length} exceeds the maximum of ${BATCH_MAX_ITEMS}`, code: '1040' },
        ]),
      );
    }
    let budget = BATCH_MAX_OBJECTS;
    const answers = items.map((item) => {
      const bId = typeof item.bId === 'string' ? item.bId : '';
      if (typeof item.Query !== 'string') {
        return {
          bId,
          member: 'Fault' as const,
          text: body.faultObject('ValidationFault', [body.unsupportedOperation('The emulator answers Query batch items only')]),
        };
      }
      const result = this.#execute(item.Query, budget);
      if (!result.ok) return { bId, member: 'Fault' as const, text: body.faultObject('ValidationFault', [result.error]) };
      budget -= result.objects;
      return { bId, member: 'QueryResponse' as const, text: result.queryResponse };
    });
    return json(200, body.batchBody(now, answers));
  }

  /** Parses, validates and runs one query, serving at most `maxObjects` rows. */
  #execute(text: string, maxObjects: number): Executed {
    let parsed;
    try {
      parsed = parseQuery(text);
    } catch (error) {
      if (error instanceof QueryParseError) return { ok: false, error: body.queryParseError(error.detail) };
      throw error;
    }
    const table = this.store.table(parsed.entity);
    if (!table) return { ok: false, error: body.queryValidationError(`QueryValidationError: Entity ${parsed.entity} not found`) };
    let outcome;
    try {
      const delay = this.visibilityDelaySeconds();
      const newestVisibleSec = delay > 0 ? Math.floor(this.nowMs() / 1000) - delay : undefined;
      outcome = runQuery(table, { ...parsed, maxResults: Math.min(parsed.maxResults, maxObjects) }, newestVisibleSec);
    } catch (error) {
      if (error instanceof QueryValidationError) return { ok: false, error: body.queryValidationError(error.detail) };
      throw error;
    }
    if (outcome.kind === 'count') return { ok: true, queryResponse: body.countResponseObject(outcome.totalCount), objects: 0 };
    const texts = outcome.positions.map((i) => table.textAt(i));
    const entity = table.info.entity;
    const page = Math.floor((parsed.startPosition - 1) / Math.max(1, parsed.maxResults)) + 1;
    const hook = this.#pageHooks.findIndex((h) => h.entity === entity && h.afterPage === page);
    if (hook >= 0 && texts.length > 0) {
      // Bump rows this page just served: they leave the window and every later row moves up.
      const { count } = this.#pageHooks.splice(hook, 1)[0] as { count: number };
      const ids = outcome.positions.slice(0, count).map((p) => String(table.idAt(p)));
      for (const id of ids) this.store.touch(entity, id, Math.floor(this.nowMs() / 1000));
    }
    return { ok: true, queryResponse: body.queryResponseObject(entity, texts, parsed.startPosition), objects: texts.length };
  }
}
