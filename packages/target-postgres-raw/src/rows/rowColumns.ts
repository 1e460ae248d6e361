import { hash } from 'node:crypto';
import type { BinaryColumn } from '../db/copyBinary.js';
import type { Row } from './Row.js';

/**
 * A row with the SHA-256 of its payload text, as hex (what `payload_sha256` stores), computed
 * when first asked: only rows with a stored row are hashed before their commit writes anything;
 * rows copied straight in are hashed as their COPY is sent, while the database works.
 */
export class HashedRow {
  readonly row: Row;
  #hash: string | undefined;

  constructor(row: Row) {
    this.row = row;
  }

  get hash(): string {
    return (this.#hash ??= hash('sha256', this.row.payload, 'hex'));
  }
}

/** The columns a row fills in its stream table, besides `ingested_at_utc` (the transaction's time). */
const ROW_COLUMNS: readonly BinaryColumn<HashedRow>[] = [
  { name: 'id', type: 'text', get: (h) => h.row.id },
  { name: 'payload', type: 'jsonb', get: (h) => h.row.payload },
  { name: 'payload_sha256', type: 'bytea', get: (h) => h.hash },
  { name: 'extract_window_start_utc', type: 'timestamptz', get: (h) => h.row.extractWindowStart?.micros ?? null },
  { name: 'extract_window_end_utc', type: 'timestamptz', get: (h) => h.row.extractWindowEnd?.micros ?? null },
  { name: 'page_number', type: 'int4', get: (h) => h.row.pageNumber },
  { name: 'page_size', type: 'int4', get: (h) => h.row.pageSize },
  { name: 'request_payload', type: 'jsonb', get: (h) => h.row.requestPayload },
  { name: 'realm_id', type: 'text', get: (h) => h.row.realmId },
  { name: 'extracted_at_utc', type: 'timestamptz', get: (h) => h.row.extractedAt?.micros ?? null },
  { name: 'last_updated_utc', type: 'timestamptz', get: (h) => h.row.lastUpdated?.micros ?? null },
  { name: 'deleted_at_utc', type: 'timestamptz', get: (h) => h.row.deletedAt?.micros ?? null },
];

/** Names of the columns a row fills, in COPY order. */
export const ROW_COLUMN_NAMES = ROW_COLUMNS.map((c) => c.name);

/** The staging table's columns: the row's, and the tap run id for load statistics. */
export const STAGE_COLUMNS: readonly BinaryColumn<HashedRow>[] = [...ROW_COLUMNS, { name: 'run_id', type: 'text', get: (h) => h.row.runId }];

/** The stream table's columns for rows copied straight in, `ingested_at_utc` being the transaction's time. */
export function tableColumns(ingestedAt: bigint): readonly BinaryColumn<HashedRow>[] {
  return [...ROW_COLUMNS, { name: 'ingested_at_utc', type: 'timestamptz', get: () => ingestedAt }];
}
