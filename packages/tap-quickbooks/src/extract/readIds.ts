import { GarbledBody } from '../http/GarbledBody.js';
import type { AnswerReader, QboClient, RequestStats } from '../http/QboClient.js';
import { buildIdsQuery, buildListQuery, type QueryTarget } from '../query/buildQuery.js';
import { countRecords, queryResponse } from './queryAnswer.js';
import { MAX_PAGE_SIZE } from '../settings.js';

/** Ids asked for per `Id IN (…)` query: short enough for any URL, few enough requests. */
const IDS_PER_QUERY = 100;

/** The Ids of one answer's entities (none on an empty page); read inside the client's retry loop. */
function idsOf(entity: string): AnswerReader<string[]> {
  return ({ body }) => {
    const response = queryResponse(body);
    const key = Object.keys(response).find((k) => k.toLowerCase() === entity.toLowerCase());
    const rows = key === undefined ? [] : response[key];
    if (!Array.isArray(rows)) throw new GarbledBody(`QueryResponse.${key} is not an array`);
    return rows.map((row: { Id?: unknown }) => {
      if (typeof row?.Id !== 'string' && typeof row?.Id !== 'number') throw new GarbledBody(`a ${entity} without Id`);
      return String(row.Id);
    });
  };
}

/**
 * The Ids of every record QBO has for the entity (inactive name-list rows too): COUNT(*) first,
 * the pages it predicts at once (within the client's budget), then more while pages come back
 * full. Pages are not a snapshot: a record changed meanwhile can be missed, so an Id absent here
 * is only a candidate — ask `findIds` before calling it gone.
 */
export async function listIds(client: QboClient, target: QueryTarget, stats: RequestStats, pageSize = MAX_PAGE_SIZE): Promise<Set<string>> {
  const total = await countRecords(client, target, undefined, stats);
  const page = (number: number) => client.query(buildListQuery(target, { number, size: pageSize }), stats, idsOf(target.entity));
  const pages = await Promise.all(Array.from({ length: Math.max(1, Math.ceil(total / pageSize)) }, (_, i) => page(i + 1)));
  while (pages.at(-1)!.length >= pageSize) pages.push(await page(pages.length + 1));
  return new Set(pages.flat());
}

/** Of `ids`, the ones QBO still returns when asked by Id (`IDS_PER_QUERY` per query). */
export async function findIds(client: QboClient, target: QueryTarget, ids: readonly string[], stats: RequestStats): Promise<Set<string>> {
  const chunks = Array.from({ length: Math.ceil(ids.length / IDS_PER_QUERY) }, (_, i) => ids.slice(i * IDS_PER_QUERY, (i + 1) * IDS_PER_QUERY));
  const found = await Promise.all(chunks.map((chunk) => client.query(buildIdsQuery(target, chunk), stats, idsOf(target.entity))));
  return new Set(found.flat());
}
