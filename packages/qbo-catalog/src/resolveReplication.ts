import { UsageError } from 'singer-kit';
import { REPLICATION_METHODS, type CatalogStream, type ReplicationMethod } from './SingerCatalog.js';

/** The settings of one stream that a user's catalog may override (singer-meltano.md §4.4). */
export interface ReplicationChoice {
  readonly rootMetadata: Readonly<Record<string, unknown>>;
  readonly replicationMethod: unknown;
  readonly replicationKey: unknown;
  readonly keyProperties: unknown;
}

export interface ResolvedReplication {
  readonly replicationMethod: ReplicationMethod;
  readonly replicationKey: string | undefined;
  readonly keyProperties: readonly string[];
}

/** The first value that is set; catalogs write null or "" for "not set". */
function firstSet(...values: unknown[]): unknown {
  return values.find((value) => value !== undefined && value !== null && value !== '');
}

function discoveredRoot(discovered: CatalogStream): Readonly<Record<string, unknown>> {
  return discovered.metadata.find((entry) => entry.breadcrumb.length === 0)?.metadata ?? {};
}

/**
 * Method: metadata `replication-method`, top-level `replication_method`, metadata
 * `forced-replication-method`, the stream's default (CONFORMANCE B16). Key, for INCREMENTAL only:
 * metadata `replication-key`, top-level `replication_key`, the default; it must be one of the
 * stream's valid replication keys (B17). Key properties: top-level `key_properties`, metadata
 * `table-key-properties`, `key-properties`, the default; each must be a schema property.
 */
export function resolveReplication(discovered: CatalogStream, choice: ReplicationChoice): ResolvedReplication {
  const name = discovered.tap_stream_id;
  const md = choice.rootMetadata;
  const method = firstSet(md['replication-method'], choice.replicationMethod, md['forced-replication-method'], discovered.replication_method);
  if (!(REPLICATION_METHODS as readonly unknown[]).includes(method)) {
    throw new UsageError(`catalog: stream "${name}": replication method ${JSON.stringify(method)} is not supported; use ${REPLICATION_METHODS.join(' or ')}`);
  }
  const validKeys = (discoveredRoot(discovered)['valid-replication-keys'] as readonly string[] | undefined) ?? [];
  const requestedKey = firstSet(md['replication-key'], choice.replicationKey);
  if (requestedKey !== undefined && !validKeys.includes(requestedKey as string)) {
    const valid = validKeys.length > 0 ? `valid: ${validKeys.join(', ')}` : 'it has no replication key';
    throw new UsageError(`catalog: stream "${name}": unknown replication key ${JSON.stringify(requestedKey)} (${valid})`);
  }
  const replicationKey = (requestedKey as string | undefined) ?? discovered.replication_key;
  if (method === 'INCREMENTAL' && replicationKey === undefined) {
    throw new UsageError(`catalog: stream "${name}" cannot be replicated INCREMENTAL: it has no replication key; use FULL_TABLE`);
  }
  const keyProperties = firstSet(choice.keyProperties, md['table-key-properties'], md['key-properties']) ?? discovered.key_properties;
  const properties = discovered.schema.properties ?? {};
  if (!Array.isArray(keyProperties) || keyProperties.length === 0 || !keyProperties.every((key) => typeof key === 'string' && Object.hasOwn(properties, key))) {
    throw new UsageError(`catalog: stream "${name}": key properties ${JSON.stringify(keyProperties)} must be a non-empty list of top-level properties`);
  }
  return {
    replicationMethod: method as ReplicationMethod,
    replicationKey: method === 'INCREMENTAL' ? replicationKey : undefined,
    keyProperties: keyProperties as string[],
  };
}
