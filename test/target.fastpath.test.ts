import { describe, expect, it } from 'vitest';
import { databaseUrl, ownPostgres, scratchSchema, withClient } from './support/db.js';
import { copyWaitsOnLock, counts, finished, lastRunCounts, query, R, runTargetCli, S, singer, spawnTarget, ST, T, watchCommits } from './targetHarness.js';

// The write path's shortcuts (issue 11): a record whose payload hash equals the stored one is not
// sent at all, new ids are copied straight into the table, the rest are upserted. Each test
// checks that a shortcut keeps the guarantees of the upsert: what the table holds and what
// _load_stats says.

const url = () => databaseUrl();
/** The payload member `v` of every row of the table, by id (the primary key: one entry per row). */
async function valuesById(schema: string, table: string): Promise<Record<string, string>> {
  const rows = await query<{ id: string; v: string }>(url(), `SELECT id, payload->>'v' AS v FROM "${schema}".${table}`);
  return Object.fromEntries(rows.map((row) => [row.id, row.v]));
}

describe('target-postgres-raw write shortcuts keep every guarantee (issue 11)', () => {
  it('an unchanged re-load sends nothing: rows not even locked (xmin, xmax, ctid, ingested_at_utc as they were), counted unchanged', async () => {
    const schema = scratchSchema();
    const input = singer(
      S('items'),
      ...Array.from({ length: 30 }, (_, i) => R('items', { Id: String(i), Amount: 10.1, ...T('2024-01-01T00:00:00Z') })),
      ST({ n: 30 }),
    );
    const settings = { database_url: url(), schema, batch_size_rows: 7 };
    expect((await runTargetCli(settings, input)).code).toBe(0);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 30, inserted: 30 }));
    const snapshot = `SELECT id, ctid::text, xmin::text, xmax::text, ingested_at_utc, payload_sha256 IS NOT NULL AS hashed FROM "${schema}".items ORDER BY id`;
    const before = await query<{ xmax: string; hashed: boolean }>(url(), snapshot);
    expect(before.every((r) => r.xmax === '0' && r.hashed)).toBe(true);
    const again = await runTargetCli(settings, input);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('{"n":30}\n');
    // An upsert that finds nothing to change still locks each row (xmax); a record not sent does not.
    expect(await query(url(), snapshot)).toEqual(before);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 30, unchanged: 30 }));
  });

  it('duplicates inside one batch into an empty table: one row per id, the newest wins, counted deduplicated', async () => {
    const schema = scratchSchema();
    const input = singer(
      S('d'),
      R('d', { Id: 'a', v: 'a2', ...T('2024-01-02T00:00:00Z') }),
      R('d', { Id: 'a', v: 'a1', ...T('2024-01-01T00:00:00Z') }),
      R('d', { Id: 'b', v: 'b1' }),
      R('d', { Id: 'b', v: 'b2' }),
      R('d', { Id: 'b', v: 'b3' }),
      R('d', { Id: 'c', v: 'c1' }),
    );
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    expect(await valuesById(schema, 'd')).toEqual({ a: 'a2', b: 'b3', c: 'c1' });
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 6, inserted: 3, deduplicated: 3 }));
  });

  it('a table that gains rows between two batches: the second batch upserts them (newer wins, older skipped, equal unchanged)', async () => {
    const schema = scratchSchema();
    const child = spawnTarget({ database_url: url(), schema, batch_size_rows: 3 });
    const done = finished(child);
    const first = watchCommits(child)(1);
    child.stdin!.write(singer(S('g'), ...['1', '2', '3'].map((Id) => R('g', { Id, v: 'target', ...T('2024-01-02T00:00:00Z') }))));
    await first;
    // Another writer, between the batches: id 4 older than the target's record, 5 newer, 6 equal (and without a hash).
    const other = (id: string, v: string, updated: string) =>
      query(url(), `INSERT INTO "${schema}".g (id, payload, ingested_at_utc, last_updated_utc) VALUES ($1, $2, now(), $3)`, [
        id,
        JSON.stringify({ Id: id, v, ...T(updated) }),
        updated,
      ]);
    await other('4', 'other', '2024-01-01T00:00:00Z');
    await other('5', 'other', '2024-01-03T00:00:00Z');
    await other('6', 'target', '2024-01-02T00:00:00Z');
    child.stdin!.end(singer(...['4', '5', '6', '7'].map((Id) => R('g', { Id, v: 'target', ...T('2024-01-02T00:00:00Z') }))));
    expect((await done).code).toBe(0);
    expect(await valuesById(schema, 'g')).toEqual({ 1: 'target', 2: 'target', 3: 'target', 4: 'target', 5: 'other', 6: 'target', 7: 'target' });
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 7, inserted: 4, updated: 1, skipped_older: 1, unchanged: 1 }));
  });

  it('after a batch of only new ids the next is copied without reading stored hashes; when it re-sends an id of this run, that copy is undone and the batch upserted', async () => {
    const schema = scratchSchema();
    const result = await runTargetCli(
      { database_url: url(), schema, batch_size_rows: 3 },
      singer(
        S('h'),
        ...['1', '2', '3'].map((Id) => R('h', { Id, v: 'first', ...T('2024-01-01T00:00:00Z') })),
        ...['4', '5', '6'].map((Id) => R('h', { Id, v: 'first', ...T('2024-01-01T00:00:00Z') })),
        R('h', { Id: '7', v: 'first', ...T('2024-01-01T00:00:00Z') }),
        R('h', { Id: '2', v: 'second', ...T('2024-01-02T00:00:00Z') }),
        R('h', { Id: '5', v: 'older', ...T('2023-12-31T00:00:00Z') }),
        ST({ done: true }),
      ),
      { LOG_LEVEL: 'debug' },
    );
    expect(result.code).toBe(0);
    // Batch 1 read the hashes; batch 2 (new ids only) was copied without; batch 3 tried and fell back once.
    expect(result.stderr.match(/some ids of a batch expected new are stored; its stored hashes are read/g)).toHaveLength(1);
    expect(await valuesById(schema, 'h')).toEqual({ 1: 'first', 2: 'second', 3: 'first', 4: 'first', 5: 'first', 6: 'first', 7: 'first' });
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 9, inserted: 7, updated: 1, skipped_older: 1 }));
    expect(
      await query(url(), `SELECT commit_number, inserted::int, updated::int, skipped_older::int FROM "${schema}"._load_stats ORDER BY commit_number`),
    ).toEqual([
      { commit_number: 1, inserted: 3, updated: 0, skipped_older: 0 },
      { commit_number: 2, inserted: 3, updated: 0, skipped_older: 0 },
      { commit_number: 3, inserted: 1, updated: 1, skipped_older: 1 },
    ]);
  });

  it('after a batch whose every id was stored with another payload the next is staged without reading stored hashes: an equal row stays untouched (not even locked), new ids are inserted, counts exact', async () => {
    const schema = scratchSchema();
    const rec = (Id: string, v: string, updated: string) => R('k', { Id, v, ...T(updated) });
    const stored = ['1', '2', '3', '4', '5', '6'].map((Id) => rec(Id, 'stored', '2024-01-02T00:00:00Z'));
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('k'), ...stored))).code).toBe(0);
    const rowVersion = `SELECT xmin::text, xmax::text, ctid::text, ingested_at_utc FROM "${schema}".k WHERE id = '4'`;
    const before = await query(url(), rowVersion);
    const result = await runTargetCli(
      { database_url: url(), schema, batch_size_rows: 3 },
      singer(
        S('k'),
        // Batch 1: every id stored, every payload changed.
        ...['1', '2', '3'].map((Id) => rec(Id, 'changed', '2024-01-03T00:00:00Z')),
        // Batch 2, staged without the read: equal, changed, new.
        rec('4', 'stored', '2024-01-02T00:00:00Z'),
        rec('5', 'changed', '2024-01-03T00:00:00Z'),
        rec('7', 'new', '2024-01-03T00:00:00Z'),
        // Batch 3 (its previous batch mixed stored and new ids: hashes read again): older.
        rec('6', 'older', '2024-01-01T00:00:00Z'),
      ),
      { LOG_LEVEL: 'debug' },
    );
    expect(result.code).toBe(0);
    expect(result.stderr.match(/staged without reading stored hashes/g)).toHaveLength(1);
    expect(await query(url(), rowVersion)).toEqual(before);
    expect(await valuesById(schema, 'k')).toEqual({ 1: 'changed', 2: 'changed', 3: 'changed', 4: 'stored', 5: 'changed', 6: 'stored', 7: 'new' });
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 7, inserted: 1, updated: 4, unchanged: 1, skipped_older: 1 }));
  });

  it('a concurrent writer adding a new id while the target copies it: the copy is undone and the batch upserted, counts exact', async () => {
    const schema = scratchSchema();
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('c')))).code).toBe(0);
    await withClient(async (other) => {
      // Not yet committed when the target reads the stored hashes: ids 2 and 3 look new to it.
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO "${schema}".c (id, payload, ingested_at_utc, last_updated_utc) VALUES ('2', '{"Id":"2","v":"other"}', now(), '2024-01-01T00:00:00Z'), ('3', '{"Id":"3","v":"other"}', now(), '2024-01-03T00:00:00Z')`,
      );
      const child = spawnTarget({ database_url: url(), schema });
      const done = finished(child);
      child.stdin!.end(singer(S('c'), ...['1', '2', '3', '4'].map((Id) => R('c', { Id, v: 'target', ...T('2024-01-02T00:00:00Z') }))));
      // The COPY waits on the other transaction's ids.
      await copyWaitsOnLock(url(), schema);
      await other.query('COMMIT');
      const result = await done;
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/stream "c": another writer added some of 4 new ids meanwhile; they are upserted instead/);
    });
    expect(await valuesById(schema, 'c')).toEqual({ 1: 'target', 2: 'target', 3: 'other', 4: 'target' });
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 4, inserted: 2, updated: 1, skipped_older: 1 }));
  });

  it('two targets loading the same new ids at once: one row per id, and between them every record counted once', async () => {
    const schema = scratchSchema();
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('twice')))).code).toBe(0);
    const input = singer(S('twice'), ...Array.from({ length: 2000 }, (_, i) => R('twice', { Id: String(i), v: i })));
    const results = await Promise.all([0, 1].map(() => runTargetCli({ database_url: url(), schema, batch_size_rows: 500 }, input)));
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(await query(url(), `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM "${schema}".twice`)).toEqual([{ n: 2000, ids: 2000 }]);
    const [sums] = await query(
      url(),
      `SELECT sum(received)::int AS received, sum(inserted)::int AS inserted, sum(unchanged)::int AS unchanged, sum(updated)::int AS updated FROM "${schema}"._load_stats`,
    );
    expect(sums).toEqual({ received: 4000, inserted: 2000, unchanged: 2000, updated: 0 });
  });

  it('load statistics per tap run and window stay exact when one batch takes every path', async () => {
    const schema = scratchSchema();
    const rec = (Id: string, v: string, updated: string, window: string) =>
      R('w', { Id, v, ...T(updated), _sdc_run_id: 'run-2', _sdc_extract_window_start_utc: window });
    const A = '2024-01-01T00:00:00Z';
    const B = '2024-01-02T00:00:00Z';
    const settings = { database_url: url(), schema };
    const before = singer(S('w'), ...['1', '2', '3', '4'].map((Id) => R('w', { Id, v: 'old', ...T('2024-01-05T00:00:00Z') })));
    expect((await runTargetCli(settings, before)).code).toBe(0);
    const input = singer(
      S('w'),
      rec('1', 'old', '2024-01-05T00:00:00Z', A), // unchanged (same payload text as stored)
      rec('2', 'new', '2024-01-06T00:00:00Z', A), // updated
      rec('3', 'new', '2024-01-04T00:00:00Z', A), // older than stored: skipped
      rec('5', 'new', '2024-01-06T00:00:00Z', A), // new, copied straight in
      rec('4', 'old', '2024-01-05T00:00:00Z', B), // unchanged
      rec('6', 'x', '2024-01-01T00:00:00Z', B), // replaced by the next one: deduplicated
      rec('6', 'y', '2024-01-02T00:00:00Z', B), // new
    );
    expect((await runTargetCli(settings, input)).code).toBe(0);
    const stats = await query(
      url(),
      `SELECT extract_window_start_utc::text AS w, received, inserted, updated, unchanged, skipped_older, deduplicated
       FROM "${schema}"._load_stats WHERE tap_run_id = 'run-2' ORDER BY 1`,
    );
    expect(stats).toEqual([
      { w: '2024-01-01 00:00:00+00', received: 4, inserted: 1, updated: 1, unchanged: 1, skipped_older: 1, deduplicated: 0 },
      { w: '2024-01-02 00:00:00+00', received: 3, inserted: 1, updated: 0, unchanged: 1, skipped_older: 0, deduplicated: 1 },
    ]);
    expect(await valuesById(schema, 'w')).toEqual({ 1: 'old', 2: 'new', 3: 'old', 4: 'old', 5: 'new', 6: 'y' });
  });

  it('with equal times the payloads decide: the same members in another order are unchanged (row not written), another value is written', async () => {
    const schema = scratchSchema();
    const t = T('2024-01-01T00:00:00Z');
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('o'), R('o', { Id: '1', v: 1, ...t }), R('o', { Id: '2', v: 1, ...t })))).code).toBe(
      0,
    );
    const row1 = `SELECT xmin::text, ctid::text, ingested_at_utc, payload_sha256 FROM "${schema}".o WHERE id = '1'`;
    const [before] = await query(url(), row1);
    // Row 1: another text (so another hash), the same jsonb. Row 2: another payload, the same time.
    const again = singer(S('o'), R('o', { ...t, v: 1, Id: '1' }), R('o', { Id: '2', v: 2, ...t }));
    expect((await runTargetCli({ database_url: url(), schema }, again)).code).toBe(0);
    expect(await query(url(), row1)).toEqual([before]);
    expect(await valuesById(schema, 'o')).toEqual({ '1': '1', '2': '2' });
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 2, updated: 1, unchanged: 1 }));
  });

  it('a stored time that does not match its payload (set by hand, the hash cleared) is written again from the equal record, which corrects it', async () => {
    const schema = scratchSchema();
    const input = singer(S('c'), R('c', { Id: '1', v: 1, ...T('2024-01-01T00:00:00Z') }));
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    await query(url(), `UPDATE "${schema}".c SET last_updated_utc = '2020-01-01T00:00:00Z', payload_sha256 = NULL`);
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    expect(await query(url(), `SELECT last_updated_utc, payload_sha256 IS NOT NULL AS hashed FROM "${schema}".c`)).toEqual([
      { last_updated_utc: new Date('2024-01-01T00:00:00Z'), hashed: true },
    ]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 1, updated: 1 }));
  });

  it('a payload changed by another writer without its hash (an older target, a hand-made UPDATE) is not taken for unchanged', async () => {
    const schema = scratchSchema();
    const input = singer(S('h'), R('h', { Id: '1', v: 'source' }));
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    await query(url(), `UPDATE "${schema}".h SET payload = '{"Id":"1","v":"by hand"}'`);
    expect(await query(url(), `SELECT payload_sha256 FROM "${schema}".h`)).toEqual([{ payload_sha256: null }]);
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    expect(await query(url(), `SELECT payload->>'v' AS v FROM "${schema}".h`)).toEqual([{ v: 'source' }]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 1, updated: 1 }));
  });

  it('a table from before payload hashes: the column is added, its unchanged rows stay untouched, changed rows get their hash', async () => {
    const schema = scratchSchema();
    await query(url(), `CREATE SCHEMA "${schema}"`);
    await query(
      url(),
      `CREATE TABLE "${schema}".old (id text PRIMARY KEY, payload jsonb NOT NULL, ingested_at_utc timestamptz NOT NULL, extract_window_start_utc timestamptz,
        extract_window_end_utc timestamptz, page_number integer, page_size integer, request_payload jsonb, realm_id text, extracted_at_utc timestamptz, last_updated_utc timestamptz)`,
    );
    await query(
      url(),
      `INSERT INTO "${schema}".old (id, payload, ingested_at_utc) VALUES ('1', '{"Id":"1","v":1}', '2024-01-01T00:00:00Z'), ('2', '{"Id":"2","v":1}', '2024-01-01T00:00:00Z')`,
    );
    // Compared in the database (no hash yet), such a row is locked (xmax) but not written.
    const row1 = `SELECT xmin::text, ctid::text, ingested_at_utc, payload_sha256 FROM "${schema}".old WHERE id = '1'`;
    const input = singer(S('old'), R('old', { Id: '1', v: 1 }), R('old', { Id: '2', v: 2 }));
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    const [untouched] = await query(url(), row1);
    expect(untouched).toMatchObject({ ingested_at_utc: new Date('2024-01-01T00:00:00Z'), payload_sha256: null });
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 2, updated: 1, unchanged: 1 }));
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    expect(await query(url(), row1)).toEqual([untouched]);
    expect(await query(url(), `SELECT payload->>'v' AS v, payload_sha256 IS NOT NULL AS hashed FROM "${schema}".old WHERE id = '2'`)).toEqual([
      { v: '2', hashed: true },
    ]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 2, unchanged: 2 }));
  });
});

/** Instants whose text PostgreSQL must store exactly as the target computes them for binary COPY. */
function trickyInstants(): string[] {
  const fixed = [
    '2024-03-02T01:02:03.456789Z',
    '2024-03-02T01:02:03.4567895Z',
    '2024-03-02T01:02:03.4567885Z',
    '2000-01-01T00:00:00.0000005Z',
    '2000-01-01T00:00:00.0000015+00:00',
    '1999-12-31T23:59:59.9999995Z',
    '0001-01-01T00:00:00+01:00',
    '9999-12-31T23:59:59.999999-15:59',
    '2024-06-30T23:59:59+05:45',
    '2024-01-01T00:00:00-1530',
    '2024-02-29 12:00:00.5',
    '1970-01-01t00:00:00.000001z',
  ];
  // Deterministic pseudo-random instants: any date, 0–9 fraction digits, any offset PostgreSQL takes.
  let seed = 11;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  for (let i = 0; i < 300; i++) {
    const digits = next(10);
    const fraction = digits === 0 ? '' : '.' + Array.from({ length: digits }, () => next(10)).join('');
    const offset = next(4) === 0 ? 'Z' : `${next(2) ? '+' : '-'}${pad(next(16), 2)}:${pad(next(60), 2)}`;
    fixed.push(
      `${pad(1 + next(9999), 4)}-${pad(1 + next(12), 2)}-${pad(1 + next(28), 2)}T${pad(next(24), 2)}:${pad(next(60), 2)}:${pad(next(60), 2)}${fraction}${offset}`,
    );
  }
  return fixed;
}

async function expectInstantsExact(db: string, schema: string): Promise<void> {
  const instants = trickyInstants();
  const input = singer(
    S('ts'),
    // `pg` is the text PostgreSQL itself parses (UTC when the text has no offset, as the target reads it).
    ...instants.map((text, i) => R('ts', { Id: String(i), pg: /[Zz]$|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`, ...T(text), _sdc_extracted_at: text })),
  );
  const result = await runTargetCli({ database_url: db, schema }, input);
  expect(result.code, result.stderr).toBe(0);
  const wrong = await query(
    db,
    `SELECT id, payload->>'pg' AS text, extracted_at_utc::text AS stored FROM "${schema}".ts
     WHERE extracted_at_utc IS DISTINCT FROM (payload->>'pg')::timestamptz OR last_updated_utc IS DISTINCT FROM (payload->>'pg')::timestamptz`,
  );
  expect(wrong).toEqual([]);
  expect(await query(db, `SELECT count(*)::int AS n FROM "${schema}".ts`)).toEqual([{ n: instants.length }]);
}

describe('record instants go to PostgreSQL as binary timestamptz, exactly the instants PostgreSQL reads from their text', () => {
  it('on the warehouse PostgreSQL', async () => expectInstantsExact(url(), scratchSchema()));

  const own = ownPostgres('17');
  it('on PostgreSQL 17', async () => expectInstantsExact(own().url, 'ts17'));
});

describe('ids PostgreSQL text cannot hold as they are', () => {
  it('an id with NUL or a lone surrogate is stored with U+FFFD, and found again on a re-load', async () => {
    const schema = scratchSchema();
    const input =
      singer(S('odd')) +
      String.raw`{"type":"RECORD","stream":"odd","record":{"Id":"a\u0000b","v":1}}` +
      '\n' +
      String.raw`{"type":"RECORD","stream":"odd","record":{"Id":"\ud800x","v":2}}` +
      '\n';
    const settings = { database_url: url(), schema };
    const first = await runTargetCli(settings, input);
    expect(first.code, first.stderr).toBe(0);
    expect(await query(url(), `SELECT id FROM "${schema}".odd ORDER BY id`)).toEqual([{ id: 'a\ufffdb' }, { id: '\ufffdx' }]);
    expect((await runTargetCli(settings, input)).code).toBe(0);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 2, unchanged: 2 }));
  });
});
