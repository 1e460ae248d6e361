import { arrayElements, jsonSyntaxProblem, memberText, objectMembers } from 'singer-kit';
import { GarbledBody } from '../http/GarbledBody.js';

/** A `"status":"Deleted"` stub from a CDC answer: its exact text and what the tap reads of it. */
export interface DeletionStub {
  /** The entity as CDC names it (`Invoice`). */
  readonly entity: string;
  readonly id: string;
  /** `MetaData.LastUpdatedTime` as an instant (epoch ms): when the object was deleted. */
  readonly deletedAtMs: number;
  /** The stub exactly as QBO sent it (in the same character form as the body given). */
  readonly text: string;
}

export interface CdcAnswer {
  readonly stubs: readonly DeletionStub[];
  /** Objects in the answer, changed and deleted: QBO stops at 1000 per answer. */
  readonly objects: number;
}

const stringValue = (text: string | undefined): string | undefined => {
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
};

/**
 * Pure: the deletion stubs of a CDC answer,
 * `{"CDCResponse":[{"QueryResponse":[{"<Entity>":[…],"startPosition":…},…]}],"time":…}`, cut out
 * by text so each stub stays byte for byte what QBO returned. Changed objects (full records)
 * are only counted. An answer it cannot read throws GarbledBody (never quoting it: it holds
 * the company's records), so the client asks again.
 */
export function cdcStubs(body: string): CdcAnswer {
  const stubs: DeletionStub[] = [];
  let objects = 0;
  try {
    const responses = memberText(body, 'CDCResponse');
    if (responses === undefined) throw new GarbledBody('JSON without CDCResponse');
    for (const response of arrayElements(responses)) {
      const groups = memberText(response, 'QueryResponse');
      for (const group of groups === undefined ? [] : arrayElements(groups)) {
        for (const [entity, value] of objectMembers(group)) {
          if (!value.startsWith('[')) continue; // startPosition, maxResults, totalCount
          for (const object of arrayElements(value)) {
            objects += 1;
            if (stringValue(memberText(object, 'status')) !== 'Deleted') continue;
            const id = stringValue(memberText(object, 'Id'));
            const meta = memberText(object, 'MetaData');
            const lastUpdated = stringValue(meta === undefined ? undefined : memberText(meta, 'LastUpdatedTime'));
            const deletedAtMs = lastUpdated === undefined ? Number.NaN : Date.parse(lastUpdated);
            if (id === undefined || Number.isNaN(deletedAtMs)) throw new GarbledBody(`a deleted ${entity} without Id or MetaData.LastUpdatedTime`);
            stubs.push({ entity, id, deletedAtMs, text: object });
          }
        }
      }
    }
  } catch (error) {
    if (error instanceof GarbledBody) throw error;
    throw new GarbledBody(`not valid JSON (${jsonSyntaxProblem(error)})`);
  }
  return { stubs, objects };
}
