// Builds every generated file of the catalog from its hand-written sources, in memory:
//   catalog/_src/<stream>.json + catalog/_shared/*.json  →  catalog/<stream>.json (self-contained),
//   catalog/catalog.json (default discovery output).
// Plain node (no build step), so `npm run gen` can run before `tsc`. The entity table is read from
// src/entities.ts by transpiling it, so it stays the one list of streams.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '../..');
const CATALOG_DIR = path.join(REPO_ROOT, 'catalog');
const SOURCE_DIR = path.join(CATALOG_DIR, '_src');
const SHARED_DIR = path.join(CATALOG_DIR, '_shared');

const REPLICATION_KEY = 'MetaData.LastUpdatedTime';

/** Streams that are not QBO entities; their schemas are in catalog/_src too. */
const EXTRA_STREAMS = [{ stream: '_volumetry', keyProperties: ['id'], replication: 'FULL_TABLE', replicationKey: undefined, selectedByDefault: true }];

async function readJson(file) {
  return JSON.parse(await readFile(file, 'utf8'));
}

async function loadEntities() {
  const source = await readFile(path.join(PACKAGE_DIR, 'src', 'entities.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const module = await import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
  return module.ENTITIES;
}

/** Replaces every `{"$ref": "<file>"}` by the referenced file's schema, recursively (each shared file read once). */
async function expandRefs(node, baseDir, cache) {
  if (Array.isArray(node)) return Promise.all(node.map((item) => expandRefs(item, baseDir, cache)));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    const file = path.resolve(baseDir, node.$ref);
    if (!file.startsWith(SHARED_DIR + path.sep)) throw new Error(`$ref outside catalog/_shared: ${node.$ref}`);
    if (!cache.has(file))
      cache.set(
        file,
        readJson(file).then((shared) => expandRefs(shared, path.dirname(file), cache)),
      );
    return cache.get(file);
  }
  const entries = await Promise.all(Object.entries(node).map(async ([key, value]) => [key, await expandRefs(value, baseDir, cache)]));
  return Object.fromEntries(entries);
}

function streamDefinitions(entities) {
  return [
    ...entities.map((e) => ({
      stream: e.stream,
      keyProperties: ['Id'],
      replication: e.replication,
      replicationKey: e.replication === 'INCREMENTAL' ? REPLICATION_KEY : undefined,
      selectedByDefault: true,
      entity: true,
    })),
    ...EXTRA_STREAMS.map((s) => ({ ...s, entity: false })),
  ];
}

/** One discovered stream, SDK-style (singer-meltano.md §4.5). */
function catalogEntry(def, schema) {
  const incremental = def.replication === 'INCREMENTAL';
  const automatic = new Set(def.keyProperties);
  if (def.replicationKey) automatic.add(def.replicationKey.split('.')[0]);
  const rootMetadata = {
    inclusion: 'available',
    selected: def.selectedByDefault,
    'selected-by-default': def.selectedByDefault,
    'table-key-properties': def.keyProperties,
    'forced-replication-method': def.replication,
    ...(incremental ? { 'valid-replication-keys': [def.replicationKey], 'replication-key': def.replicationKey } : {}),
  };
  const propertyMetadata = Object.keys(schema.properties).map((name) => ({
    breadcrumb: ['properties', name],
    metadata: {
      inclusion: automatic.has(name) || name.startsWith('_sdc_') ? 'automatic' : 'available',
      'selected-by-default': true,
    },
  }));
  return {
    tap_stream_id: def.stream,
    stream: def.stream,
    schema,
    key_properties: def.keyProperties,
    replication_method: def.replication,
    ...(incremental ? { replication_key: def.replicationKey } : {}),
    metadata: [{ breadcrumb: [], metadata: rootMetadata }, ...propertyMetadata],
  };
}

function schemaFile(stream, schema) {
  const comment = `generated from catalog/_src/${stream}.json by \`npm run gen\` — do not edit`;
  return { $comment: comment, ...schema };
}

function jsonText(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Every generated file: absolute path → exact content. Writes nothing. */
export async function generateCatalogFiles() {
  const entities = await loadEntities();
  const cache = new Map();
  const sdcFields = await readJson(path.join(SHARED_DIR, 'SdcFields.json'));
  const files = new Map();
  const streams = [];
  for (const def of streamDefinitions(entities)) {
    const schema = await expandRefs(await readJson(path.join(SOURCE_DIR, `${def.stream}.json`)), SOURCE_DIR, cache);
    files.set(path.join(CATALOG_DIR, `${def.stream}.json`), jsonText(schemaFile(def.stream, schema)));
    const discovered = def.entity ? { ...schema, properties: { ...schema.properties, ...sdcFields.properties } } : schema;
    streams.push(catalogEntry(def, discovered));
  }
  files.set(path.join(CATALOG_DIR, 'catalog.json'), jsonText({ streams }));
  return files;
}
