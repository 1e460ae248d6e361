import { describe, expect, it } from 'vitest';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { copyWaitsOnLock, counts, finished, lastRunCounts, query, R, runTargetCli, S, singer, spawnTarget, ST, T, watchCommits } from './targetHarness.js';

// The lookahead (issue 11): records are read ahead and the stored payload hashes of their ids
// looked up before they are routed; a record whose payload equals the stored one is counted
// unchanged without being parsed, validated or written. These tests hold its guarantees: an id
// still pending in this run is never skipped on an answer older than its commit, statistics
// stay exact, and what is skipped is exactly what the stored row already holds. A stream's
// records are looked up once its table is ready, so each test lets the target commit once
// (batch_size_rows 1) before the records that matter arrive.

const url = () => databaseUrl();
/** Runs the target on `first`, waits for its first commit (the stream's table is ready then), then gives it `rest`; `meanwhile` runs before the input ends. */
async function afterFirstCommit(
  settings: Record<string, unknown>,
  first: string,
  rest: string,
  meanwhile?: (commits: (n: number) => Promise<void>) => Promise<void>,
) {
  const child = spawnTarget(settings, [], { LOG_LEVEL: 'debug' });
  const done = finished(child);
  child.stdin!.on('error', () => undefined);
  const commits = watchCommits(child);
  child.stdin!.write(first);
  await commits(1);
  child.stdin!.write(rest);
  await meanwhile?.(commits);
  child.stdin!.end();
  return done;
}

/** A SCHEMA that requires `Missing`, which the stored records lack. */
const strict = (stream: string) => ({
  type: 'SCHEMA',
  stream,
  key_properties: ['Id'],
  schema: { type: 'object', properties: { Missing: { type: 'string' } }, required: ['Missing'] },
});

describe('target-postgres-raw lookahead: records equal to the stored payload (issue 11)', () => {
  it('records equal to the stored payload are counted unchanged without being validated; a changed record still is, and fails', async () => {
    const schema = scratchSchema();
    const rec = (i: number, v = 'a') => R('items', { Id: String(i), v, ...T('2024-01-01T00:00:00Z') });
    const all = Array.from({ length: 40 }, (_, i) => rec(i));
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('items'), ...all))).code).toBe(0);
    const before = await query(url(), `SELECT id, xmin::text, ctid::text FROM "${schema}".items ORDER BY id`);
    const settings = { database_url: url(), schema, batch_size_rows: 1 };

    // Now the SCHEMA requires a property the stored records lack: the equal ones pass unchecked.
    const first = singer(strict('items'), R('items', { Id: 'new', Missing: 'here' }));
    const again = await afterFirstCommit(settings, first, singer(...all, ST({ at: 40 })));
    expect(again.stderr).not.toMatch(/FATAL/);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('{"at":40}\n');
    expect(await query(url(), `SELECT id, xmin::text, ctid::text FROM "${schema}".items WHERE id <> 'new' ORDER BY id`)).toEqual(before);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 41, inserted: 1, unchanged: 40 }));

    // A record that differs from the stored one is parsed and validated as always.
    const changed = await afterFirstCommit(settings, first, singer(...all.slice(0, 5), rec(5, 'b'), ST({ at: 6 })));
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/line 8: stream "items" record id "5": does not match its SCHEMA/);
    expect(await query(url(), `SELECT payload->>'v' AS v FROM "${schema}".items WHERE id = '5'`)).toEqual([{ v: 'a' }]);
  });

  it('records right after their SCHEMA, read before the table was ready, are looked up too: equal ones pass unchecked, rows untouched', async () => {
    const schema = scratchSchema();
    const rec = (i: number) => R('early', { Id: String(i), v: 'a', ...T('2024-01-01T00:00:00Z') });
    const all = Array.from({ length: 40 }, (_, i) => rec(i));
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('early'), ...all))).code).toBe(0);
    const before = await query(url(), `SELECT id, xmin::text, ctid::text FROM "${schema}".early ORDER BY id`);

    // One window, the SCHEMA first: checked against it, every record would fail.
    const again = await runTargetCli({ database_url: url(), schema }, singer(strict('early'), ...all, ST({ at: 40 })));
    expect(again.stderr).not.toMatch(/FATAL/);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('{"at":40}\n');
    expect(await query(url(), `SELECT id, xmin::text, ctid::text FROM "${schema}".early ORDER BY id`)).toEqual(before);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 40, unchanged: 40 }));
  });

  it('a re-load whose records all equal their stored rows never loads ajv; one changed record does', async () => {
    const schema = scratchSchema();
    const rec = (i: number, v = 'a') => R('lazy', { Id: String(i), v, ...T('2024-01-01T00:00:00Z') });
    const all = Array.from({ length: 20 }, (_, i) => rec(i));
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('lazy'), ...all))).code).toBe(0);
    const probe = `import { createRequire } from 'node:module'; const { cache } = createRequire(process.execPath); process.on('exit', () => process.stderr.write('ajv loaded: ' + Object.keys(cache).some((file) => /[\\/]node_modules[\\/]ajv[\\/]/.test(file)) + '\\n'));`;
    const env = { NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(probe)}` };
    const again = await runTargetCli({ database_url: url(), schema }, singer(S('lazy'), ...all, ST(1)), env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('ajv loaded: false');
    const changed = await runTargetCli({ database_url: url(), schema }, singer(S('lazy'), ...all.slice(1), rec(0, 'b'), ST(2)), env);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stderr).toContain('ajv loaded: true');
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 20, updated: 1, unchanged: 19 }));
  });

  it('a re-load of many lookahead windows: every record unchanged, rows untouched, and the run ends (lookups never leak a session)', async () => {
    const schema = scratchSchema();
    const input = singer(
      S('many'),
      ...Array.from({ length: 6000 }, (_, i) => R('many', { Id: String(i), v: i, ...T('2024-01-01T00:00:00Z') })),
      ST({ n: 6000 }),
    );
    const settings = { database_url: url(), schema, batch_size_rows: 1000 };
    expect((await runTargetCli(settings, input)).code).toBe(0);
    const snapshot = `SELECT count(*)::int AS n, sum(xmin::text::bigint)::text AS xmins FROM "${schema}".many`;
    const before = await query(url(), snapshot);
    const again = await runTargetCli(settings, input);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('{"n":6000}\n');
    expect(await query(url(), snapshot)).toEqual(before);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 6000, unchanged: 6000 }));
  });

  it('an id still pending in an earlier batch of this run, not committed when it was looked up, is never skipped on that answer', async () => {
    const schema = scratchSchema();
    const stored = { Id: 'x', v: 'stored', ...T('2024-01-01T00:00:00Z') };
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('p'), R('p', stored)))).code).toBe(0);
    // One lookahead window, looked up after commit 1: x is changed (batch 2), then its stored payload comes again (batch 3),
    // which the lookup saw as equal to the stored row. Written last, it must be what the table holds.
    const result = await afterFirstCommit(
      { database_url: url(), schema, batch_size_rows: 1 },
      singer(S('p'), R('p', { Id: 'other', ...T('2024-01-01T00:00:00Z') })),
      singer(R('p', { Id: 'x', v: 'changed', ...T('2024-01-01T00:00:00Z') }), R('p', stored), ST({ done: true })),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"done":true}\n');
    expect(await query(url(), `SELECT payload->>'v' AS v FROM "${schema}".p WHERE id = 'x'`)).toEqual([{ v: 'stored' }]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 3, inserted: 1, updated: 2 }));
  });

  it('statistics stay exact when one batch mixes skipped, new, changed, older and duplicated records', async () => {
    const schema = scratchSchema();
    const day = (d: number) => `2024-01-0${d}T00:00:00Z`;
    const rec = (id: string, v: string, d: number) => R('m', { Id: id, v, ...T(day(d)) });
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('m'), ...['a', 'b', 'c', 'd', 'e'].map((id) => rec(id, 'stored', 2))))).code).toBe(0);
    const rest = singer(
      rec('a', 'stored', 2), // equal: skipped
      rec('b', 'stored', 2), // equal: skipped, then replaced by a newer record in the same batch
      rec('b', 'newer', 3),
      rec('c', 'stored', 2), // equal: skipped; the older record after it is dropped
      rec('c', 'older', 1),
      rec('d', 'older', 1), // older than the stored row
      rec('e', 'changed', 2), // same time, other payload: written
      rec('f', 'new', 2),
      rec('f', 'new', 2), // a duplicate of a new id (not stored, so never skipped)
    );
    // The first record commits by age; the others come in one write, one window, one batch.
    const result = await afterFirstCommit({ database_url: url(), schema, max_batch_age_seconds: 0.2 }, singer(S('m'), rec('z', 'new', 2)), rest);
    expect(result.code).toBe(0);
    expect(await query(url(), `SELECT id, payload->>'v' AS v FROM "${schema}".m ORDER BY id`)).toEqual(
      [
        ['a', 'stored'],
        ['b', 'newer'],
        ['c', 'stored'],
        ['d', 'stored'],
        ['e', 'changed'],
        ['f', 'new'],
        ['z', 'new'],
      ].map(([id, v]) => ({ id, v })),
    );
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 10, inserted: 2, updated: 2, unchanged: 2, skipped_older: 1, deduplicated: 3 }));
  });

  it('a row another writer changes after the lookup found it equal: the record is counted unchanged and the other change stays', async () => {
    const schema = scratchSchema();
    const stored = { Id: 'x', v: 'stored', ...T('2024-01-01T00:00:00Z') };
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('o'), R('o', stored)))).code).toBe(0);
    await withClient(async (other) => {
      // Uncommitted while the target reads the stored hash (it sees the stored row) and commits.
      await other.query('BEGIN');
      await other.query(`UPDATE "${schema}".o SET payload = '{"Id":"x","v":"other"}', last_updated_utc = '2024-01-02T00:00:00Z' WHERE id = 'x'`);
      const result = await afterFirstCommit(
        { database_url: url(), schema, max_batch_age_seconds: 0.2 },
        singer(S('o'), R('o', { Id: 'first' })),
        singer(R('o', stored), ST({ done: true })),
        (commits) => commits(2),
      );
      expect(result.code).toBe(0);
      await other.query('COMMIT');
    });
    expect(await query(url(), `SELECT payload->>'v' AS v, payload_sha256 IS NULL AS cleared FROM "${schema}".o WHERE id = 'x'`)).toEqual([
      { v: 'other', cleared: true },
    ]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 2, inserted: 1, unchanged: 1 }));
  });

  // The commit reads the stored hashes of its ids when the stream's previous batch mixed new and
  // stored ids; after one of only new ids it copies the batch straight in without reading them, and
  // reads them only when that fails.
  it.each([
    {
      previous: 'a stored and a new id',
      stored: true,
      said: /stream "n": another writer added some of 3 new ids meanwhile; they are upserted instead/,
      counts: { received: 5, inserted: 3, updated: 1, skipped_older: 1 },
    },
    {
      previous: 'only new ids',
      stored: false,
      said: /stream "n": some ids of a batch expected new are stored; its stored hashes are read/,
      counts: { received: 5, inserted: 4, skipped_older: 1 },
    },
  ])(
    'an id found absent that another writer adds before the commit (previous batch: $previous): the straight copy is undone and the record upserted',
    async ({ stored, said, counts: expected }) => {
      const schema = scratchSchema();
      expect((await runTargetCli({ database_url: url(), schema }, singer(S('n'), ...(stored ? [R('n', { Id: 'first' })] : [])))).code).toBe(0);
      await withClient(async (other) => {
        // Not committed when the target reads the stored hashes: 'b' looks new, and its COPY waits on this insert.
        await other.query('BEGIN');
        await other.query(
          `INSERT INTO "${schema}".n (id, payload, ingested_at_utc, last_updated_utc) VALUES ('b', '{"Id":"b","v":"other"}', now(), '2024-01-03T00:00:00Z')`,
        );
        const result = await afterFirstCommit(
          { database_url: url(), schema, max_batch_age_seconds: 0.2 },
          singer(S('n'), R('n', { Id: 'first', v: 'changed' }), R('n', { Id: 'second', v: 'new' })),
          singer(...['a', 'b', 'c'].map((Id) => R('n', { Id, v: 'target', ...T('2024-01-02T00:00:00Z') })), ST({ done: true })),
          async () => {
            await copyWaitsOnLock(url(), schema);
            await other.query('COMMIT');
          },
        );
        expect(result.code).toBe(0);
        expect(result.stderr).toMatch(said);
      });
      expect(await query(url(), `SELECT id, payload->>'v' AS v FROM "${schema}".n ORDER BY id`)).toEqual(
        [
          ['a', 'target'],
          ['b', 'other'],
          ['c', 'target'],
          ['first', 'changed'],
          ['second', 'new'],
        ].map(([id, v]) => ({ id, v })),
      );
      expect(await lastRunCounts(url(), schema)).toEqual(counts(expected));
    },
  );
});
