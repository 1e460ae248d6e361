import { describe, expect, it } from 'vitest';
import { evidenceQueryText, evidenceViewSql } from './evidenceSql.js';

describe('evidence SQL', () => {
  it('joins _volumetry with _load_stats on run id, stream and window start, in the given schema', () => {
    const sql = evidenceViewSql('raw');
    expect(sql).toMatch(/^CREATE OR REPLACE VIEW "raw"\.evidence AS/);
    expect(sql).toContain('FROM "raw"._volumetry');
    expect(sql).toContain('FROM "raw"._load_stats');
    expect(sql).toContain('WHERE tap_run_id = v.run_id AND stream = v.stream AND extract_window_start_utc = v.window_start_utc');
    expect(sql).toContain('sum(deleted) AS deleted');
  });

  it('gives a person a query to paste, quoting only what needs it', () => {
    expect(evidenceQueryText('raw', ['a1', "b'2"])).toBe("SELECT * FROM raw.evidence WHERE run_id IN ('a1', 'b''2') ORDER BY stream, window_start_utc;");
    expect(evidenceQueryText('My Raw', [])).toBe('SELECT * FROM "My Raw".evidence ORDER BY extracted_at_utc DESC, stream LIMIT 100;');
  });
});
