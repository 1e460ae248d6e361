import { createHash } from 'node:crypto';
import pg from 'pg';

/** PostgreSQL silently truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/** Tables the target keeps for itself in the same schema; no stream may use these names. */
export const RESERVED_TABLES = ['_load_runs', '_load_stats', '_company'] as const;

/** An identifier in double quotes (pg's own escaping), so any stream or schema name is safe. */
export const quoteIdent: (name: string) => string = pg.escapeIdentifier;

/** `"schema"."table"` */
export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * The table for a stream: the stream name itself (DESIGN §2, always quoted), so `invoices` stays
 * `invoices`. Names over 63 bytes are cut at a character boundary and given a hash of the full
 * name, so two long names never meet in one table and a re-run finds the same table.
 */
export function tableNameFor(stream: string): string {
  const clean = stream.replace(/\u0000/g, '\ufffd'); // identifiers cannot hold NUL
  if (Buffer.byteLength(clean) <= MAX_IDENTIFIER_BYTES && clean === stream) return stream;
  const suffix = `_${createHash('sha256').update(stream).digest('hex').slice(0, 8)}`;
  let head = '';
  for (const char of clean) {
    if (Buffer.byteLength(head + char) + suffix.length > MAX_IDENTIFIER_BYTES) break;
    head += char;
  }
  return head + suffix;
}
