import { UsageError } from 'singer-kit';
import { INCLUSIONS, type Inclusion } from './SingerCatalog.js';

/** What selection needs from one breadcrumb's metadata, with legacy spellings normalised. */
export interface NodeMetadata {
  readonly inclusion: Inclusion | undefined;
  readonly selected: boolean | undefined;
  readonly selectedByDefault: boolean | undefined;
  /** The whole metadata object, for the replication and key settings. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** One stream of a user's catalog, checked and normalised. */
export interface CatalogInputStream {
  readonly tapStreamId: string;
  readonly stream: string;
  /** Keyed by `breadcrumbKey`; empty when the entry has no metadata at all. */
  readonly metadata: ReadonlyMap<string, NodeMetadata>;
  /** Legacy stream-object fields (Meltano writes them next to the metadata). */
  readonly selected: boolean | undefined;
  readonly schemaSelected: boolean | undefined;
  readonly replicationMethod: unknown;
  readonly replicationKey: unknown;
  readonly keyProperties: unknown;
}

export function breadcrumbKey(breadcrumb: readonly string[]): string {
  return JSON.stringify(breadcrumb);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `true`/`false`, or the strings old catalogs use (CONFORMANCE B14); absent or null → undefined. */
function readFlag(value: unknown, where: string): boolean | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value ?? undefined;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new UsageError(`catalog: ${where} must be true or false, got ${JSON.stringify(value)}`);
}

function readInclusion(value: unknown, where: string): Inclusion | undefined {
  if (value === undefined || value === null) return undefined;
  if ((INCLUSIONS as readonly unknown[]).includes(value)) return value as Inclusion;
  throw new UsageError(`catalog: ${where}.inclusion must be one of ${INCLUSIONS.join(', ')}, got ${JSON.stringify(value)}`);
}

function readMetadata(value: unknown, where: string): Map<string, NodeMetadata> {
  const nodes = new Map<string, NodeMetadata>();
  if (value === undefined || value === null) return nodes;
  if (!Array.isArray(value)) throw new UsageError(`catalog: ${where}.metadata must be an array`);
  value.forEach((entry: unknown, index) => {
    const at = `${where}.metadata[${index}]`;
    if (!isObject(entry)) throw new UsageError(`catalog: ${at} must be an object`);
    const { breadcrumb, metadata } = entry;
    if (!Array.isArray(breadcrumb) || !breadcrumb.every((part) => typeof part === 'string')) {
      throw new UsageError(`catalog: ${at}.breadcrumb must be an array of strings`);
    }
    const raw = metadata ?? {};
    if (!isObject(raw)) throw new UsageError(`catalog: ${at}.metadata must be an object`);
    nodes.set(breadcrumbKey(breadcrumb), {
      inclusion: readInclusion(raw.inclusion, at),
      selected: readFlag(raw.selected, `${at}.selected`),
      selectedByDefault: readFlag(raw['selected-by-default'], `${at}.selected-by-default`),
      raw,
    });
  });
  return nodes;
}

/** Checks the shape of a Singer catalog (any JSON value) and normalises its streams. */
export function parseCatalogInput(catalog: unknown): CatalogInputStream[] {
  if (!isObject(catalog) || !Array.isArray(catalog.streams)) {
    throw new UsageError('catalog: expected a JSON object with a "streams" array');
  }
  const seen = new Set<string>();
  return catalog.streams.map((entry: unknown, index): CatalogInputStream => {
    const where = `streams[${index}]`;
    if (!isObject(entry)) throw new UsageError(`catalog: ${where} must be an object`);
    const { tap_stream_id: tapStreamId, stream } = entry;
    if (typeof tapStreamId !== 'string' || tapStreamId === '') {
      throw new UsageError(`catalog: ${where}.tap_stream_id must be a non-empty string`);
    }
    if (seen.has(tapStreamId)) throw new UsageError(`catalog: stream "${tapStreamId}" appears more than once`);
    seen.add(tapStreamId);
    if (stream !== undefined && (typeof stream !== 'string' || stream === '')) {
      throw new UsageError(`catalog: ${where}.stream must be a non-empty string`);
    }
    const named = `${where} ("${tapStreamId}")`;
    const schema = entry.schema;
    return {
      tapStreamId,
      stream: stream ?? tapStreamId,
      metadata: readMetadata(entry.metadata, named),
      selected: readFlag(entry.selected, `${named}.selected`),
      schemaSelected: isObject(schema) ? readFlag(schema.selected, `${named}.schema.selected`) : undefined,
      replicationMethod: entry.replication_method,
      replicationKey: entry.replication_key,
      keyProperties: entry.key_properties,
    };
  });
}
