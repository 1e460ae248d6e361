import { stringAt } from 'singer-kit';

export type RecordIdResult = { readonly id: string } | { readonly missing: string };

const isNumber = (c: number) => c === 0x2d || (c >= 0x30 && c <= 0x39);

/** A key value's JSON text as the id takes it (numbers keep their source digits), or undefined when it is null or `""`. */
function keyJson(text: string): string | undefined {
  const c = text.charCodeAt(0);
  if (isNumber(c)) return text;
  if (text === 'null' || text === '""') return undefined;
  return c === 0x22 ? JSON.stringify(stringAt(text, 0, text.length)) : JSON.stringify(JSON.parse(text));
}

/**
 * The `id` column of a record, from the JSON texts of its key values (`valueText(key)`: the
 * member's value text, numbers with their source digits; undefined when absent). One key
 * property: its value as text (`1` and `"1"` are one id; 12345678901234567890 keeps its digits).
 * Several: the JSON array text of the values (`["x,y","z"]` never meets `["x","y,z"]`). None:
 * `sha256:` + the payload's hash (hex), so a replay of a record lands on the same row and
 * distinct ones append.
 */
export function recordId(keyProperties: readonly string[], valueText: (key: string) => string | undefined, payloadHash: () => string): RecordIdResult {
  if (keyProperties.length === 0) return { id: `sha256:${payloadHash()}` };
  if (keyProperties.length === 1) {
    const key = keyProperties[0] as string;
    const text = valueText(key);
    if (text === undefined) return { missing: key };
    if (text.charCodeAt(0) === 0x22) {
      const value = stringAt(text, 0, text.length);
      return value === '' ? { missing: key } : { id: value };
    }
    const json = keyJson(text);
    return json === undefined ? { missing: key } : { id: json };
  }
  const parts: string[] = [];
  for (const key of keyProperties) {
    const text = valueText(key);
    const json = text === undefined ? undefined : keyJson(text);
    if (json === undefined) return { missing: key };
    parts.push(json);
  }
  return { id: `[${parts.join(',')}]` };
}
