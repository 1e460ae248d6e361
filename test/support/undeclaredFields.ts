import type { JsonSchema } from 'qbo-catalog';

/** Paths of the fields in `value` that `schema` does not declare, e.g. `.Line[].LineEx`. */
export function undeclaredFields(value: unknown, schema: JsonSchema | undefined, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => undeclaredFields(item, schema?.items as JsonSchema | undefined, `${at}[]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const declared = schema?.properties?.[key];
    return declared === undefined ? [`${at}.${key}`] : undeclaredFields(child, declared, `${at}.${key}`);
  });
}
