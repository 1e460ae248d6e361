import { createHash } from 'node:crypto';
import { memberText, type JsonObject } from 'singer-kit';

export type RecordIdResult = { readonly id: string } | { readonly missing: string };

/** A key value as JSON text; numbers keep their source digits (12345678901234567890 stays). */
function keyJson(record: JsonObject, recordText: string, key: string): string | undefined {
  const value = record[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return memberText(recordText, key);
  return JSON.stringify(value);
}

/**
 * The `id` column of a record. One key property: its value as text (`1` and `"1"` are one id).
 * Several: the JSON array text of the values (`["x,y","z"]` never meets `["x","y,z"]`). None: a
 * hash of the payload text, so a replay of a record lands on the same row and distinct ones append.
 */
export function recordId(record: JsonObject, recordText: string, keyProperties: readonly string[], payloadText: string): RecordIdResult {
  if (keyProperties.length === 0) return { id: `sha256:${createHash('sha256').update(payloadText).digest('hex')}` };
  if (keyProperties.length === 1) {
    const key = keyProperties[0] as string;
    const value = record[key];
    if (typeof value === 'string' && value !== '') return { id: value };
    const json = keyJson(record, recordText, key);
    return json === undefined ? { missing: key } : { id: json };
  }
  const parts: string[] = [];
  for (const key of keyProperties) {
    const json = keyJson(record, recordText, key);
    if (json === undefined) return { missing: key };
    parts.push(json);
  }
  return { id: `[${parts.join(',')}]` };
}
