import { RunError } from 'singer-kit';
import type { QboClient, RequestStats } from '../http/QboClient.js';
import type { Window } from '../plan/planWindows.js';
import { buildCountQuery, type QueryTarget } from '../query/buildQuery.js';

/** A query answer's QueryResponse, parsed with JSON.parse: for counts and Ids, never for record bodies (numbers lose digits). */
export function queryResponse(body: string, what: string): Record<string, unknown> {
  let top: unknown;
  try {
    top = JSON.parse(body);
  } catch {
    throw new RunError(`${what}: the response is not JSON: ${body.slice(0, 120)}`);
  }
  const response = (top as { QueryResponse?: unknown }).QueryResponse;
  if (typeof response !== 'object' || response === null) throw new RunError(`${what}: the response has no QueryResponse`);
  return response as Record<string, unknown>;
}

/** QBO's COUNT(*) of the entity's records in `window` (all of them without one). */
export async function countRecords(client: QboClient, target: QueryTarget, window: Window | undefined, stats: RequestStats): Promise<number> {
  const query = buildCountQuery(target, window);
  const total = queryResponse((await client.query(query, stats)).body, query).totalCount;
  if (typeof total !== 'number') throw new RunError(`${query}: the response has no totalCount`);
  return total;
}
