import { jsonSyntaxProblem } from 'singer-kit';
import { GarbledBody } from '../http/GarbledBody.js';
import type { QboClient, RequestStats } from '../http/QboClient.js';
import type { Window } from '../plan/planWindows.js';
import { buildCountQuery, type QueryTarget } from '../query/buildQuery.js';

/**
 * A query answer's QueryResponse, parsed with JSON.parse: for counts and Ids, never for record
 * bodies (numbers lose digits). A body that is not one throws GarbledBody (the client asks again).
 */
export function queryResponse(body: string): Record<string, unknown> {
  let top: unknown;
  try {
    top = JSON.parse(body);
  } catch (error) {
    throw new GarbledBody(`not valid JSON (${jsonSyntaxProblem(error)})`);
  }
  const response = (top as { QueryResponse?: unknown } | null)?.QueryResponse;
  if (typeof response !== 'object' || response === null) throw new GarbledBody('JSON without QueryResponse');
  return response as Record<string, unknown>;
}

/** QBO's COUNT(*) of the entity's records in `window` (all of them without one). */
export function countRecords(client: QboClient, target: QueryTarget, window: Window | undefined, stats: RequestStats): Promise<number> {
  return client.query(buildCountQuery(target, window), stats, ({ body }) => {
    const total = queryResponse(body).totalCount;
    if (typeof total !== 'number') throw new GarbledBody('a COUNT answer without totalCount');
    return total;
  });
}
