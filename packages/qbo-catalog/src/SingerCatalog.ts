/** A JSON Schema as this package ships it (draft-07 compatible, no `$ref`). */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly [keyword: string]: unknown;
}

export const REPLICATION_METHODS = ['INCREMENTAL', 'FULL_TABLE'] as const;
export type ReplicationMethod = (typeof REPLICATION_METHODS)[number];

export const INCLUSIONS = ['automatic', 'available', 'unsupported'] as const;
export type Inclusion = (typeof INCLUSIONS)[number];

/** The metadata keys a breadcrumb may carry (singer-meltano.md §4.2); others pass through. */
interface CatalogMetadata {
  readonly inclusion?: Inclusion;
  readonly selected?: boolean;
  readonly 'selected-by-default'?: boolean;
  readonly 'table-key-properties'?: readonly string[];
  readonly 'valid-replication-keys'?: readonly string[];
  readonly 'forced-replication-method'?: ReplicationMethod;
  readonly 'replication-method'?: string;
  readonly 'replication-key'?: string;
  readonly [key: string]: unknown;
}

interface CatalogMetadataEntry {
  readonly breadcrumb: readonly string[];
  readonly metadata: CatalogMetadata;
}

export interface CatalogStream {
  readonly tap_stream_id: string;
  readonly stream: string;
  readonly schema: JsonSchema;
  readonly key_properties: readonly string[];
  readonly replication_method: ReplicationMethod;
  readonly replication_key?: string;
  readonly metadata: readonly CatalogMetadataEntry[];
}

/** A Singer catalog as discovery prints it. */
export interface SingerCatalog {
  readonly streams: readonly CatalogStream[];
}
