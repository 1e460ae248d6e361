import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from 'singer-kit';
import { CATALOG_DIR } from './catalogDir.js';
import type { JsonSchema, SingerCatalog } from './SingerCatalog.js';

let discovered: SingerCatalog | undefined;

// catalog.json is built by `npm run gen` (a test keeps it current), so discovery is a file read.
function load(): SingerCatalog {
  discovered ??= JSON.parse(readFileSync(path.join(CATALOG_DIR, 'catalog.json'), 'utf8')) as SingerCatalog;
  return discovered;
}

/** The default catalog (`--discover` output): every stream with its schema and metadata. A fresh copy. */
export function discoverCatalog(): SingerCatalog {
  return structuredClone(load());
}

/**
 * A stream's discovered schema: the entity schema plus the reserved `_sdc_*` fields. A fresh copy.
 * @public in README.md for users of the library; nothing here calls it.
 */
export function streamSchema(stream: string): JsonSchema {
  const entry = load().streams.find((s) => s.tap_stream_id === stream);
  if (entry === undefined) {
    const known = load()
      .streams.map((s) => s.tap_stream_id)
      .join(', ');
    throw new UsageError(`unknown stream "${stream}"; known streams: ${known}`);
  }
  return structuredClone(entry.schema);
}
