import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseUrl, FIXTURES_DIR, HAVE_FIXTURES, NO_FIXTURES_REASON, scratchSchema } from './support/db.js';
import { query, runTargetCli, stateLines } from './targetHarness.js';
import { fatalLine } from './support/runProcess.js';

const DIR = path.join(FIXTURES_DIR, 'singer-target-tests');

/** Files CONFORMANCE (E4, E5, E6, E16) says must fail, with what the first stderr line names. */
const MUST_FAIL: Record<string, RegExp> = {
  'record_before_schema.singer': /line 1: RECORD for stream "test_record_before_schema" arrived before its SCHEMA/,
  'record_missing_key_property.singer': /line 2: stream "test_record_missing_key_property": record has no value for key property "id"/,
  'invalid_schema.singer': /line 1: SCHEMA for stream "test_invalid_schema" has no "properties"/,
  'record_missing_required_property.singer':
    /line 2: stream "test_record_missing_required_property" record id .*: does not match its SCHEMA: record must have required property 'id'/,
};

interface Expected {
  /** stream → ids expected in its table (last SCHEMA's keys; no keys: one row per distinct record). */
  readonly ids: Map<string, Set<string>>;
  readonly states: unknown[];
}

/** What a correct load of the file leaves, derived from the file itself. */
function expectedFrom(text: string): Expected {
  const ids = new Map<string, Set<string>>();
  const keys = new Map<string, string[]>();
  const states: unknown[] = [];
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    const m = JSON.parse(line) as { type: string; stream: string; key_properties?: string[]; record: Record<string, unknown>; value: unknown };
    if (m.type === 'SCHEMA') {
      keys.set(m.stream, m.key_properties ?? []);
      if (!ids.has(m.stream)) ids.set(m.stream, new Set());
    } else if (m.type === 'RECORD') {
      const k = keys.get(m.stream) ?? [];
      ids.get(m.stream)?.add(k.length === 0 ? JSON.stringify(m.record) : String(m.record[k[0] as string]));
    } else if (m.type === 'STATE') states.push(m.value);
  }
  return { ids, states };
}

describe.skipIf(!HAVE_FIXTURES)('target-postgres-raw on every Singer SDK target test stream (CONFORMANCE E, F, G)', () => {
  const files = HAVE_FIXTURES
    ? readdirSync(DIR)
        .filter((f) => f.endsWith('.singer'))
        .sort()
    : [];
  // One schema per test, registered here so each is dropped after the file.
  const schemas = Array.from({ length: files.length + 4 }, () => scratchSchema('fx'));
  const nextSchema = () => schemas.pop() as string;

  it.each(files)('%s has the outcome CONFORMANCE gives it', async (file) => {
    const schema = nextSchema();
    const text = readFileSync(path.join(DIR, file), 'utf8');
    const result = await runTargetCli({ database_url: databaseUrl(), schema }, text);
    const failure = MUST_FAIL[file];
    if (failure) {
      expect(result.code).toBe(1);
      expect(fatalLine(result.stderr)).toMatch(failure);
      expect(result.stdout).toBe('');
      return;
    }
    expect(result.stderr).not.toMatch(/FATAL/);
    expect(result.code).toBe(0);
    const expected = expectedFrom(text);
    for (const [stream, ids] of expected.ids) {
      const rows = await query<{ id: string }>(databaseUrl(), `SELECT id FROM "${schema}"."${stream.replace(/"/g, '""')}"`);
      if (ids.size > 0 && [...ids][0]?.startsWith('{')) expect(rows).toHaveLength(ids.size);
      else expect(new Set(rows.map((r) => r.id))).toEqual(ids);
    }
    // One flush at end of input: the last received state, once (F4, F7); none when none was received (E3).
    expect(stateLines(result.stdout)).toEqual(expected.states.length ? [expected.states.at(-1)] : []);
  });

  it('duplicate_records.singer: the last record per id wins inside one batch (G1)', async () => {
    const schema = nextSchema();
    await runTargetCli({ database_url: databaseUrl(), schema }, readFileSync(path.join(DIR, 'duplicate_records.singer'), 'utf8'));
    const rows = await query<{ id: string; metric: number }>(
      databaseUrl(),
      `SELECT id, (payload->>'metric')::int AS metric FROM "${schema}".test_duplicate_records ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: '1', metric: 100 },
      { id: '2', metric: 20 },
    ]);
  });

  it('record_missing_required_property.singer loads with validate_records off (E16)', async () => {
    const schema = nextSchema();
    const text = readFileSync(path.join(DIR, 'record_missing_required_property.singer'), 'utf8');
    const result = await runTargetCli({ database_url: databaseUrl(), schema, validate_records: false }, text);
    expect(result.code).toBe(0);
    const rows = await query(databaseUrl(), `SELECT payload FROM "${schema}".test_record_missing_required_property`);
    expect(rows).toEqual([{ payload: { metric: 3215 } }]);
  });

  it('encoded_string_data.singer: unicode and escapes round-trip, \\u0000 becomes U+FFFD with a warning (E14)', async () => {
    const schema = nextSchema();
    const text = readFileSync(path.join(DIR, 'encoded_string_data.singer'), 'utf8');
    const result = await runTargetCli({ database_url: databaseUrl(), schema }, text);
    const rows = await query<{ id: string; info: string }>(databaseUrl(), `SELECT id, payload->>'info' AS info FROM "${schema}".test_strings`);
    const info = new Map(rows.map((r) => [r.id, r.info]));
    expect(info.get('6')).toBe('various " \\ / \n escape sequences');
    expect(info.get('10')).toBe('Double quoting: \\u0000 \\u0041 \\u0001');
    expect(info.get('11')).toBe('Control Characters in string: \ufffd A \u0001');
    expect(result.stderr).toMatch(/WARN .*line 12: stream "test_strings" record id "11": 1 \\u0000 or unpaired surrogate escape/);
  });

  it('special_chars_in_attributes.singer and camelcase.singer keep the stream name as the table name (E15)', async () => {
    const schema = nextSchema();
    const text = ['special_chars_in_attributes.singer', 'camelcase.singer'].map((f) => readFileSync(path.join(DIR, f), 'utf8')).join('\n');
    expect((await runTargetCli({ database_url: databaseUrl(), schema }, text)).code).toBe(0);
    const tables = await query<{ table_name: string }>(
      databaseUrl(),
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name NOT LIKE '\\_%' ORDER BY 1`,
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(['TestCamelcase', 'test:SpecialChars!in?attributes']);
  });
});

describe.skipIf(HAVE_FIXTURES)('target-postgres-raw fixture streams', () => {
  it.skip(NO_FIXTURES_REASON, () => undefined);
});
