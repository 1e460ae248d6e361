import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CATALOG_DIR, type EntityInfo } from 'qbo-catalog';
import { templateProperties } from './recordTemplates.js';

const cache = new Map<string, ReadonlySet<string>>();

/**
 * Top-level property names a query may name for an entity, lower-cased: those our records
 * carry and those the entity's JSON Schema in `catalog/` documents (QBO accepts a documented
 * property even when no record has it).
 */
export function queryableProperties(info: EntityInfo): ReadonlySet<string> {
  const cached = cache.get(info.stream);
  if (cached) return cached;
  const names = new Set(templateProperties(info.entity));
  const schemaFile = path.join(CATALOG_DIR, `${info.stream}.json`);
  if (existsSync(schemaFile)) {
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { properties?: Record<string, unknown> };
    for (const name of Object.keys(schema.properties ?? {})) if (!name.startsWith('_sdc_')) names.add(name.toLowerCase());
  }
  cache.set(info.stream, names);
  return names;
}
