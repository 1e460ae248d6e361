import { describe, expect, it } from 'vitest';
import { streamTableDdl } from './ddl.js';
import { deletionSql, upsertSql } from './upsertSql.js';

describe('stream table SQL', () => {
  it('quotes every identifier, so any stream name is safe', () => {
    expect(streamTableDdl('raw', 'a"b; DROP TABLE x')[0]?.sql).toContain('CREATE TABLE IF NOT EXISTS "raw"."a""b; DROP TABLE x" (');
    expect(upsertSql('my schema', 'Invoice', true, false)).toContain('INSERT INTO "my schema"."Invoice" AS t');
  });

  it('updates a row only when the payload changed and the record is not older', () => {
    const sql = upsertSql('raw', 'invoices', false, false);
    expect(sql).toContain('ON CONFLICT (id) DO UPDATE SET');
    expect(sql).toMatch(
      /WHERE \(t\.last_updated_utc IS DISTINCT FROM EXCLUDED\.last_updated_utc OR t\.payload IS DISTINCT FROM EXCLUDED\.payload\)\s+AND \(t\.last_updated_utc IS NULL OR EXCLUDED\.last_updated_utc IS NULL OR EXCLUDED\.last_updated_utc >= t\.last_updated_utc\s+OR t\.last_updated_utc >= t\.deleted_at_utc\)/,
    );
    expect(sql).toContain('deleted_at_utc = CASE WHEN EXCLUDED.last_updated_utc <= t.deleted_at_utc THEN t.deleted_at_utc END');
    expect(sql).toContain('ingested_at_utc = EXCLUDED.ingested_at_utc');
  });

  it('applies a deletion once, keeping the stored payload, never over a newer version', () => {
    const sql = deletionSql('raw', 'invoices');
    expect(sql).toContain('ON CONFLICT (id) DO UPDATE SET deleted_at_utc = EXCLUDED.deleted_at_utc, ingested_at_utc = EXCLUDED.ingested_at_utc\n');
    expect(sql).toMatch(/WHERE t\.deleted_at_utc IS NULL AND \(t\.last_updated_utc IS NULL OR EXCLUDED\.deleted_at_utc >= t\.last_updated_utc\)$/);
  });
});
