import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { entityByStream } from 'qbo-catalog';
import { arrayElements, compactJson, memberText, objectMembers } from 'singer-kit';
import { parseQboDateTime } from './pacificTime.js';

/** A record read from a JSON file, kept as its exact text. */
export interface LoadedRecord {
  readonly id: number;
  readonly createdSec: number;
  readonly updatedSec: number;
  readonly syncToken: number;
  readonly active: boolean;
  readonly text: string;
}

const stringMember = (objectText: string, key: string): string | undefined => {
  const raw = memberText(objectText, key);
  return raw === undefined ? undefined : (JSON.parse(raw) as string);
};

/** Reads one record's index facts from its text; throws naming `where` when they are missing. */
export function loadedRecord(text: string, where: string): LoadedRecord {
  const compact = compactJson(text);
  const id = Number(stringMember(compact, 'Id'));
  const meta = memberText(compact, 'MetaData');
  const updated = meta === undefined ? undefined : parseQboDateTime(stringMember(meta, 'LastUpdatedTime') ?? '');
  const created = meta === undefined ? undefined : parseQboDateTime(stringMember(meta, 'CreateTime') ?? '');
  if (!Number.isInteger(id) || id <= 0 || updated === undefined) {
    throw new Error(`${where}: a record needs a numeric "Id" and "MetaData.LastUpdatedTime"`);
  }
  return {
    id,
    updatedSec: Math.floor(updated / 1000),
    createdSec: Math.floor((created ?? updated) / 1000),
    syncToken: Number(stringMember(compact, 'SyncToken') ?? '0') || 0,
    active: memberText(compact, 'Active') !== 'false',
    text: compact,
  };
}

/**
 * Records from `<stream>[.anything].json` files holding JSON arrays (the shared fixtures'
 * layout, e.g. `invoices.airbyte-sandbox.json`), by stream. Files of unknown streams are skipped.
 */
export function loadRecordsDir(dir: string): Map<string, LoadedRecord[]> {
  const out = new Map<string, LoadedRecord[]>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const stream = file.split('.')[0] as string;
    if (!entityByStream(stream)) continue;
    const where = path.join(dir, file);
    const text = readFileSync(where, 'utf8');
    JSON.parse(text); // validates; the texts below keep every digit as written
    const records = arrayElements(text).map((t, n) => loadedRecord(t, `${where} record ${n + 1}`));
    out.set(stream, [...(out.get(stream) ?? []), ...records]);
  }
  return out;
}

const objectText = (members: ReadonlyArray<readonly [string, string]>) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** The record text with a new MetaData.LastUpdatedTime and SyncToken (and Active false), other bytes kept. */
export function rewriteMetaData(text: string, lastUpdated: string, syncToken: number, deactivate: boolean): string {
  return objectText(
    objectMembers(text).map(([key, raw]): [string, string] => {
      if (key === 'SyncToken') return [key, JSON.stringify(String(syncToken))];
      if (key === 'Active' && deactivate) return [key, 'false'];
      if (key === 'MetaData') return [key, objectText(objectMembers(raw).map(([k, v]) => [k, k === 'LastUpdatedTime' ? JSON.stringify(lastUpdated) : v]))];
      return [key, raw];
    }),
  );
}
