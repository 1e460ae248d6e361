import pg from 'pg';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import { parseMessageLine } from '/work/main/packages/singer-kit/dist/index.js';
import { toRow } from '/work/main/packages/target-postgres-raw/dist/toRow.js';
import { copyLine } from '/work/main/packages/target-postgres-raw/dist/copyText.js';
import { upsertSql, COPY_STAGE_SQL } from '/work/main/packages/target-postgres-raw/dist/upsertSql.js';
import { CREATE_STAGE_SQL, createStreamTableSql, createLoadTablesSql } from '/work/main/packages/target-postgres-raw/dist/ddl.js';
const lines = readFileSync('/tmp/inv100k.singer', 'utf8').split('\n').filter(l => l.includes('"RECORD"')).slice(0, 50000);
const rows = lines.map((l, i) => toRow(parseMessageLine(l, i).record, l, i, 'invoices', ['Id']).row);
const c = new pg.Client({ connectionString: 'postgres://postgres:postgres@127.0.0.1:35943/postgres' });
await c.connect();
const schema = 'sqlprof' + Date.now();
await c.query(`SET synchronous_commit = on; CREATE SCHEMA ${schema}`);
await c.query(createStreamTableSql(schema, 'a')); await c.query(createStreamTableSql(schema, 'b'));
for (const q of createLoadTablesSql(schema)) await c.query(q);
await c.query(CREATE_STAGE_SQL);
const plain = `INSERT INTO ${schema}.b AS t (id, payload, extract_window_start_utc, extract_window_end_utc, page_number, page_size, request_payload, realm_id, extracted_at_utc, last_updated_utc, ingested_at_utc)
 SELECT id, payload, extract_window_start_utc, extract_window_end_utc, page_number, page_size, request_payload, realm_id, extracted_at_utc, last_updated_utc, now() FROM target_postgres_raw_stage ORDER BY id
 ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload WHERE t.payload IS DISTINCT FROM EXCLUDED.payload`;
const tm = { copy: 0, ours: 0, plain: 0, commit: 0 };
for (let b = 0; b < 5; b++) {
  const batch = rows.slice(b * 10000, (b + 1) * 10000);
  const text = batch.map(copyLine).join('');
  const chunks = []; for (let i = 0; i < text.length; i += 524288) chunks.push(text.slice(i, i + 524288));
  for (const which of ['ours', 'plain']) {
    await c.query('BEGIN');
    let t = performance.now();
    await pipeline(Readable.from(chunks), c.query(copyStreams.from(COPY_STAGE_SQL)));
    tm.copy += performance.now() - t; t = performance.now();
    if (which === 'ours') await c.query(upsertSql(schema, 'a'), ['00000000-0000-0000-0000-000000000000', 1, 'a', JSON.stringify([{ run_id: 'bench', window_start: '2024-05-02T00:00:00Z', received: 10000, deduplicated: 0 }])]);
    else await c.query(plain);
    tm[which] += performance.now() - t; t = performance.now();
    await c.query('COMMIT');
    tm.commit += performance.now() - t;
  }
}
console.log(tm);
await c.query(`DROP SCHEMA ${schema} CASCADE`);
await c.end();
