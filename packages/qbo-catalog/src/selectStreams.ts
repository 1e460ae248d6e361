import { discoverCatalog } from './discoverCatalog.js';
import { entityByStream, type EntityInfo } from './entities.js';
import { isBreadcrumbSelected } from './isBreadcrumbSelected.js';
import { breadcrumbKey, parseCatalogInput, type CatalogInputStream, type NodeMetadata } from './parseCatalogInput.js';
import { resolveReplication } from './resolveReplication.js';
import type { CatalogStream, JsonSchema, ReplicationMethod } from './SingerCatalog.js';

export interface SelectedStream {
  readonly tapStreamId: string;
  /** Stream name to use in SCHEMA/RECORD/STATE messages (CONFORMANCE B20). */
  readonly stream: string;
  /** Undefined for `_volumetry`. */
  readonly entity: EntityInfo | undefined;
  /** The discovered schema without deselected or unsupported properties (B10, B12). */
  readonly schema: JsonSchema;
  readonly keyProperties: readonly string[];
  readonly replicationMethod: ReplicationMethod;
  /** Set for INCREMENTAL streams, e.g. `MetaData.LastUpdatedTime`. */
  readonly replicationKey: string | undefined;
  /** Top-level keys to keep in each record; undefined = every property is selected (no filtering). */
  readonly includedProperties: ReadonlySet<string> | undefined;
}

/**
 * Fills in what a user's catalog leaves out from discovery: a node without `inclusion` gets the
 * discovered one (so `_sdc_*` and key fields stay automatic), and the stream node takes the
 * legacy stream-object `selected` (Meltano and singer-python catalogs) when metadata has none.
 */
function effectiveMetadata(input: CatalogInputStream, discovered: CatalogStream): Map<string, NodeMetadata> {
  const nodes = new Map(input.metadata);
  for (const { breadcrumb, metadata } of discovered.metadata) {
    const key = breadcrumbKey(breadcrumb);
    const node = nodes.get(key);
    if (node !== undefined && node.inclusion === undefined) nodes.set(key, { ...node, inclusion: metadata.inclusion });
  }
  const root = nodes.get(breadcrumbKey([]));
  if (root !== undefined && root.selected === undefined) {
    nodes.set(breadcrumbKey([]), { ...root, selected: input.selected ?? input.schemaSelected });
  }
  return nodes;
}

function isStreamSelected(input: CatalogInputStream, metadata: ReadonlyMap<string, NodeMetadata>): boolean {
  // A stream without metadata: the legacy flags decide, else everything is selected (SDK rule).
  if (input.metadata.size === 0) return input.selected ?? input.schemaSelected ?? true;
  return isBreadcrumbSelected(metadata, []);
}

/** Whether the catalog deselects a nested field of a top-level field it selects (`chosen`). */
function hasDeselectedNestedField(input: CatalogInputStream, chosen: ReadonlySet<string>): boolean {
  return [...input.metadata].some(([key, node]) => {
    const breadcrumb = JSON.parse(key) as string[];
    return breadcrumb.length > 2 && chosen.has(breadcrumb[1] ?? '') && node.selected === false;
  });
}

function selectOne(
  input: CatalogInputStream,
  discovered: CatalogStream,
  metadata: ReadonlyMap<string, NodeMetadata>,
  warn: (message: string) => void,
): SelectedStream {
  const replication = resolveReplication(discovered, {
    rootMetadata: metadata.get(breadcrumbKey([]))?.raw ?? {},
    replicationMethod: input.replicationMethod,
    replicationKey: input.replicationKey,
    keyProperties: input.keyProperties,
  });
  const properties = discovered.schema.properties ?? {};
  // Keys and the replication key's top-level field are never dropped, whatever the catalog says.
  const forced = new Set([...replication.keyProperties, replication.replicationKey?.split('.')[0]]);
  const included = new Set(Object.keys(properties).filter((name) => forced.has(name) || isBreadcrumbSelected(metadata, ['properties', name])));
  // A field kept though the catalog deselects it (MetaData, automatic for the replication key, when
  // Meltano selects only `customers.Id`) was not the user's choice: that its nested fields come
  // whole is no news worth a warning.
  const chosen = new Set([...included].filter((name) => metadata.get(breadcrumbKey(['properties', name]))?.selected !== false));
  if (hasDeselectedNestedField(input, chosen)) {
    warn(`catalog: stream "${input.tapStreamId}": nested fields cannot be deselected; their top-level fields are emitted whole`);
  }
  const everything = included.size === Object.keys(properties).length;
  const schema: JsonSchema = everything
    ? discovered.schema
    : {
        ...discovered.schema,
        properties: Object.fromEntries(Object.entries(properties).filter(([name]) => included.has(name))),
      };
  return {
    tapStreamId: input.tapStreamId,
    stream: input.stream,
    entity: entityByStream(input.tapStreamId),
    schema,
    ...replication,
    includedProperties: everything ? undefined : included,
  };
}

/**
 * The streams to sync, in catalog order. Without a catalog: every stream selected by default
 * (the discovered catalog fed back in gives the same set, CONFORMANCE B19). Otherwise the rules
 * of CONFORMANCE B8–B20; streams the tap does not know are reported through `warn` and skipped.
 * A malformed catalog or an impossible replication setting throws UsageError.
 */
export function selectStreams(catalog: unknown, warn: (message: string) => void): SelectedStream[] {
  const known = discoverCatalog();
  const byId = new Map(known.streams.map((s) => [s.tap_stream_id, s]));
  const selected: SelectedStream[] = [];
  for (const input of parseCatalogInput(catalog ?? known)) {
    const discovered = byId.get(input.tapStreamId);
    if (discovered === undefined) {
      warn(`catalog: stream "${input.tapStreamId}" is not known to this tap; ignoring it`);
      continue;
    }
    const metadata = effectiveMetadata(input, discovered);
    if (isStreamSelected(input, metadata)) selected.push(selectOne(input, discovered, metadata, warn));
  }
  return selected;
}
