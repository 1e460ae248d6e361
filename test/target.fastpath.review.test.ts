import { describe, expect, it } from 'vitest';
import { Rng } from 'qbo-emulator';
import { databaseUrl, ownPostgres, scratchSchema } from './support/db.js';
import { counts, finished, lastRunCounts, query, R, runTargetCli, S, singer, spawnTarget, ST, stateLines, T, watchCommits } from './targetHarness.js';

// Review of the lookahead (issue 11): a record whose payload bytes hash-equal the stored payload is
// counted unchanged without being parsed. Each test builds a case where taking that shortcut on a
// stale or wrong answer would lose, double or misplace a record, or miscount it; the expected
// results are those of the usual path. As in target.lookahead.test.ts, a stream's records are only
// looked up once its table is ready, so the records that matter come after the target's first commit.

const url = () => databaseUrl();
/** Runs the target on `first`, waits for its first commit (the stream tables are ready then), then gives it `rest` and ends the input. */
async function afterFirstCommit(settings: Record<string, unknown>, first: string, rest: string) {
  return afterCommits(settings, [first], rest);
}

/** Writes `parts[0]`, then each next part once one more commit is logged; after the last part's commit, runs `meanwhile`, then gives `rest` and ends the input. */
async function afterCommits(settings: Record<string, unknown>, parts: readonly string[], rest: string, meanwhile?: () => Promise<void>) {
  const child = spawnTarget(settings, [], { LOG_LEVEL: 'debug' });
  const done = finished(child);
  child.stdin!.on('error', () => undefined);
  const commits = watchCommits(child);
  for (const [i, part] of parts.entries()) {
    child.stdin!.write(part);
    await commits(i + 1);
  }
  await meanwhile?.();
  child.stdin!.end(rest);
  return done;
}

const rows = (schema: string, table: string) =>
  query(url(), `SELECT id, payload::text AS payload, xmin::text AS xmin, deleted_at_utc FROM "${schema}"."${table}" ORDER BY id`);

describe('target-postgres-raw lookahead review: the unchanged shortcut never takes a stale or wrong answer', () => {
  it('a SCHEMA that changes key_properties between the lookup and the record: the record is keyed by the new keys and written', async () => {
    const schema = scratchSchema();
    const a = { Id: '1', Code: '2', ...T('2024-01-01T00:00:00Z') };
    const b = { Id: '2', Code: '1', ...T('2024-01-01T00:00:00Z') };
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('k'), R('k', a), R('k', b)))).code).toBe(0);
    // One window, looked up with keys [Id]: `a` is found equal to stored row "1". Routed after the
    // SCHEMA keyed by Code, `a` is row "2", whose stored payload is `b`'s: it must replace it.
    const result = await afterFirstCommit(
      { database_url: url(), schema, batch_size_rows: 1 },
      singer(S('k'), R('k', { Id: 'first' })),
      singer(R('k', b), S('k', ['Code']), R('k', a), ST({ done: true })),
    );
    expect(result.stderr).not.toMatch(/FATAL/);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"done":true}\n');
    const stored = await query<{ id: string; v: unknown }>(url(), `SELECT id, payload AS v FROM "${schema}".k ORDER BY id`);
    expect(stored).toEqual([
      { id: '1', v: a },
      { id: '2', v: a },
      { id: 'first', v: { Id: 'first' } },
    ]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 3, inserted: 1, unchanged: 1, updated: 1 }));
  });

  it('keys changed and changed back: records scanned with the first keys are not skipped on that answer', async () => {
    const schema = scratchSchema();
    const a = { Id: '1', Code: '2', v: 'a', ...T('2024-01-01T00:00:00Z') };
    const b = { Id: '2', Code: '1', v: 'b', ...T('2024-01-01T00:00:00Z') };
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('kb'), R('kb', a), R('kb', b)))).code).toBe(0);
    const result = await afterFirstCommit(
      { database_url: url(), schema, batch_size_rows: 1 },
      singer(S('kb'), R('kb', { Id: 'first' })),
      singer(R('kb', b), S('kb', ['Code']), R('kb', a), S('kb', ['Id']), R('kb', b), ST({ done: true })),
    );
    expect(result.code).toBe(0);
    const stored = await query<{ id: string; v: string }>(url(), `SELECT id, payload->>'v' AS v FROM "${schema}".kb ORDER BY id`);
    // Row "2" got `a` (keyed by Code), then `b` again (keyed by Id): last in the input wins on equal times.
    expect(stored).toEqual([
      { id: '1', v: 'a' },
      { id: '2', v: 'b' },
      { id: 'first', v: null },
    ]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 4, inserted: 1, unchanged: 1, updated: 2 }));
  });

  it('a deletion record whose body equals the stored payload is applied (never counted unchanged), and an equal record after it keeps the row deleted', async () => {
    const schema = scratchSchema();
    const head = S('del', ['Id'], { _sdc_deleted_at: { type: ['null', 'string'], format: 'date-time' } });
    const full = { Id: 'x', v: 'full', ...T('2024-01-01T00:00:00Z') };
    expect((await runTargetCli({ database_url: url(), schema }, singer(head, R('del', full), R('del', { ...full, Id: 'y' })))).code).toBe(0);
    const before = await rows(schema, 'del');
    const result = await afterFirstCommit(
      { database_url: url(), schema, batch_size_rows: 1 },
      singer(head, R('del', { Id: 'first' })),
      singer(R('del', { ...full, _sdc_deleted_at: '2024-02-01T00:00:00Z' }), R('del', full), R('del', { ...full, Id: 'y' }), ST({ done: true })),
    );
    expect(result.stderr).not.toMatch(/FATAL/);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"done":true}\n');
    const after = await rows(schema, 'del');
    expect(after.find((r) => r.id === 'x')).toMatchObject({
      payload: before.find((r) => r.id === 'x')?.payload,
      deleted_at_utc: new Date('2024-02-01T00:00:00Z'),
    });
    expect(after.find((r) => r.id === 'y')).toEqual(before.find((r) => r.id === 'y'));
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 3, inserted: 1, unchanged: 2, deleted: 1 }));
  });

  it('streams interleaved with the same ids: an id changed in one stream and sent again as stored is written last; the other stream is skipped', async () => {
    const schema = scratchSchema();
    const rec = (v: string) => ({ Id: 'x', v, ...T('2024-01-01T00:00:00Z') });
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('sa'), S('sb'), R('sa', rec('stored')), R('sb', rec('stored'))))).code).toBe(0);
    const beforeB = await rows(schema, 'sb');
    const result = await afterFirstCommit(
      { database_url: url(), schema, batch_size_rows: 1 },
      singer(S('sa'), S('sb'), R('sa', { Id: 'first' }), R('sb', { Id: 'first' })),
      singer(R('sb', rec('stored')), R('sa', rec('changed')), R('sb', rec('stored')), R('sa', rec('stored')), R('sb', rec('stored')), ST({ done: true })),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"done":true}\n');
    expect(await query(url(), `SELECT payload->>'v' AS v FROM "${schema}".sa WHERE id = 'x'`)).toEqual([{ v: 'stored' }]);
    expect((await rows(schema, 'sb')).filter((r) => r.id === 'x')).toEqual(beforeB);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 7, inserted: 2, updated: 2, unchanged: 3 }));
  });

  it('NUL, lone surrogates, escapes and emoji in ids and payloads: a re-load changes nothing and counts every record unchanged; the U+FFFD form is the same row', async () => {
    const schema = scratchSchema();
    const raw = [
      '{"type":"RECORD","stream":"u","record":{"Id":"a\\u0000b","v":"nul \\u0000 here","_sdc_run_id":"r"}}',
      '{"type":"RECORD","stream":"u","record":{"Id":"s\\ud800","v":"\\udc00 lone","w":"pair \\ud83d\\ude00"}}',
      '{"type":"RECORD","stream":"u","record":{"I\\u0064":"esc","v":"\\\\u0000 is text","\\u00e9":"é 😀 \\" \\\\ \\n\\t"}}',
      '{"type":"RECORD","stream":"u","record":{ "Id" : "ws" , "_sdc_run_id":"r", "v" : [1.10, {"_sdc_x": 2}] , "n":12345678901234567890 }}',
    ];
    const settings = { database_url: url(), schema, batch_size_rows: 1 };
    const input = singer(S('u'), R('u', { Id: 'first' })) + raw.join('\n') + '\n';
    expect((await runTargetCli(settings, input)).code).toBe(0);
    const before = await rows(schema, 'u');
    expect(before.map((r) => r.id)).toEqual(['a\ufffdb', 'esc', 'first', 's\ufffd', 'ws']);
    const again = await afterFirstCommit(settings, singer(S('u'), R('u', { Id: 'first' })), raw.join('\n') + '\n' + singer(ST({ done: 1 })));
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('{"done":1}\n');
    expect(await rows(schema, 'u')).toEqual(before);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 5, unchanged: 5 }));
    // The stored form of the NUL record (escapes already U+FFFD) is equal; a changed one with that spelling of its id updates the same row.
    const stored = '{"type":"RECORD","stream":"u","record":{"Id":"a\\ufffdb","v":"nul \\ufffd here"}}';
    const changed = '{"type":"RECORD","stream":"u","record":{"Id":"a\\ufffdb","v":"changed"}}';
    const third = await afterFirstCommit(settings, singer(S('u'), R('u', { Id: 'first' })), `${stored}\n${changed}\n`);
    expect(third.code).toBe(0);
    expect(await query(url(), `SELECT id, payload->>'v' AS v FROM "${schema}".u WHERE id LIKE 'a%'`)).toEqual([{ id: 'a\ufffdb', v: 'changed' }]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 3, unchanged: 2, updated: 1 }));
  });

  it('a line of several megabytes: re-loaded it is unchanged; one byte changed at its end is written exactly', async () => {
    const schema = scratchSchema();
    const big = 'x'.repeat(3 * 1024 * 1024);
    const settings = { database_url: url(), schema, batch_size_rows: 1 };
    const head = singer(S('big'), R('big', { Id: 'first' }));
    expect((await runTargetCli(settings, head + singer(R('big', { Id: 'b', big, end: 'a' })))).code).toBe(0);
    const again = await afterFirstCommit(settings, head, singer(R('big', { Id: 'b', big, end: 'a' }), ST(1)));
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('1\n');
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 2, unchanged: 2 }));
    const changed = await afterFirstCommit(settings, head, singer(R('big', { Id: 'b', big, end: 'b' }), ST(2)));
    expect(changed.code).toBe(0);
    expect(await query(url(), `SELECT length(payload->>'big')::int AS n, payload->>'end' AS e FROM "${schema}".big WHERE id = 'b'`)).toEqual([
      { n: big.length, e: 'b' },
    ]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 2, unchanged: 1, updated: 1 }));
  });

  it('an equal record still has its metadata checked: a bad _sdc_ date stops the run at its line; what came before is committed and its state printed', async () => {
    const schema = scratchSchema();
    const rec = (Id: string, extra: object = {}) => R('m', { Id, v: 1, ...T('2024-01-01T00:00:00Z'), ...extra });
    const settings = { database_url: url(), schema, batch_size_rows: 1 };
    const head = singer(S('m'), rec('first'));
    expect((await runTargetCli(settings, head + singer(rec('1'), rec('2'), rec('3')))).code).toBe(0);
    const result = await afterFirstCommit(
      settings,
      head,
      singer(rec('1'), ST({ at: 1 }), rec('2', { _sdc_extracted_at: '2024-02-30T00:00:00Z' }), rec('3'), ST({ at: 3 })),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FATAL target-postgres-raw: line 5: stream "m" record id "2": _sdc_extracted_at is not an ISO 8601 date-time/);
    expect(stateLines(result.stdout)).toEqual([{ at: 1 }]);
    const [stats] = await query(
      url(),
      `SELECT sum(received)::int AS received, sum(unchanged)::int AS unchanged FROM "${schema}"._load_stats WHERE load_run_id = (SELECT load_run_id FROM "${schema}"._load_runs ORDER BY started_at_utc DESC LIMIT 1)`,
    );
    expect(stats).toEqual({ received: 2, unchanged: 2 });
  });

  it('an equal record of another company (realm) is refused before its batch is written: exit 2, no state for it', async () => {
    const schema = scratchSchema();
    const rec = (Id: string, realm: string) => R('c', { Id, v: 1, _sdc_realm_id: realm });
    const settings = { database_url: url(), schema, batch_size_rows: 1 };
    expect((await runTargetCli(settings, singer(S('c'), rec('first', 'A'), rec('1', 'A')))).code).toBe(0);
    const before = await rows(schema, 'c');
    const result = await afterFirstCommit(
      { database_url: url(), schema, max_batch_age_seconds: 0.2 },
      singer(S('c'), rec('first', 'A'), ST('first')),
      singer(rec('1', 'B'), ST('after')),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/record id "1" is of company \(realm\) B, but schema "[^"]+" holds company \(realm\) A/);
    expect(result.stdout).not.toMatch(/after/);
    expect(await rows(schema, 'c')).toEqual(before);
  });

  it('input ending in the middle of a line after equal records and states: those are committed, the last state before it printed, exit 1', async () => {
    const schema = scratchSchema();
    const rec = (Id: string) => R('e', { Id, v: 1 });
    const settings = { database_url: url(), schema, batch_size_rows: 1 };
    const head = singer(S('e'), rec('first'));
    expect(await runTargetCli(settings, head + singer(...['1', '2', '3'].map(rec)))).toMatchObject({ code: 0 });
    const cut = singer(rec('3')).slice(0, -8);
    const result = await afterFirstCommit(settings, head, singer(rec('1'), ST({ at: 1 }), rec('2'), ST({ at: 2 })) + cut);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FATAL target-postgres-raw: line 7: not valid JSON/);
    expect(stateLines(result.stdout)).toEqual([{ at: 1 }, { at: 2 }]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 3, unchanged: 3 }));
  });
  it('a stream whose table appears mid-run, without key properties: a replayed record lands once, equal ones are counted unchanged once each', async () => {
    const schema = scratchSchema();
    const settings = { database_url: url(), schema, batch_size_rows: 1 };
    const head = singer(S('old'), R('old', { Id: 'first' }));
    const m = (n: number) => R('nk', { metric: n });
    // The first run creates `nk` after `old`'s first commit: its first records are new, the replays of them equal.
    const first = await afterFirstCommit(settings, head, singer(S('nk', []), m(1), m(2), m(1), ST(1), m(2), m(3), ST(2)));
    expect(first.code).toBe(0);
    expect(stateLines(first.stdout).at(-1)).toBe(2);
    const ids = await query<{ n: number }>(url(), `SELECT count(*)::int AS n FROM "${schema}".nk`);
    expect(ids).toEqual([{ n: 3 }]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 6, inserted: 4, unchanged: 2 }));
    const again = await afterFirstCommit(settings, head, singer(S('nk', []), m(3), m(2), m(1), m(1), m(4), ST(3)));
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('3\n');
    expect(await query(url(), `SELECT count(*)::int AS n FROM "${schema}".nk`)).toEqual([{ n: 4 }]);
    expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: 6, inserted: 1, unchanged: 5 }));
  });
  it('a random re-load over few ids, fed in many small windows while commits are in flight: every id ends as the newest record (ties: the later), counts add up', async () => {
    const schema = scratchSchema();
    // Seeded: the same input on every run.
    const rng = new Rng(20261205);
    const random = (n: number) => rng.int(0, n - 1);
    const day = (d: number) => `2024-01-0${d}T00:00:00Z`;
    const rec = (stream: string, id: number, v: string, d: number) => R(stream, { Id: String(id), v, ...T(day(d)) });
    const streams = ['ra', 'rb'];
    const ids = 25;
    const settings = { database_url: url(), schema, batch_size_rows: 7, max_batch_age_seconds: 0.05 };
    const all = (v: string) => streams.flatMap((st) => Array.from({ length: ids }, (_, id) => rec(st, id, v, 2)));
    expect((await runTargetCli(settings, singer(...streams.map((st) => S(st)), ...all('a')))).code).toBe(0);
    // The model: every id starts as the stored (a, day 2); a record replaces it when it is not older.
    const model = new Map<string, { v: string; d: number }>(
      streams.flatMap((st) => Array.from({ length: ids }, (_, id) => [`${st}/${id}`, { v: 'a', d: 2 }] as const)),
    );
    const pieces: string[] = [];
    let n = 0;
    for (let piece = 0; piece < 40; piece++) {
      const lines: object[] = [];
      const size = 1 + random(40);
      for (let k = 0; k < size; k++) {
        const st = streams[random(2)] as string;
        const id = random(ids);
        const roll = random(10);
        const [v, d]: [string, number] = roll < 5 ? ['a', 2] : roll < 8 ? ['b', 2] : ['c', 1 + random(3)];
        lines.push(rec(st, id, v, d));
        n += 1;
        const held = model.get(`${st}/${id}`)!;
        if (d >= held.d) model.set(`${st}/${id}`, { v, d });
      }
      if (random(3) === 0) lines.push(ST({ piece }));
      pieces.push(singer(...lines));
    }
    const child = spawnTarget(settings);
    const done = finished(child);
    child.stdin!.on('error', () => undefined);
    child.stdin!.write(singer(...streams.map((st) => S(st)), ...all('a')));
    for (const piece of pieces) {
      child.stdin!.write(piece);
      await new Promise((resolve) => setTimeout(resolve, 5 + random(40)));
    }
    child.stdin!.end(singer(ST('end')));
    const result = await done;
    expect(result.stderr).not.toMatch(/FATAL/);
    expect(result.code).toBe(0);
    expect(stateLines(result.stdout).at(-1)).toBe('end');
    const stored = await query<{ k: string; v: string; d: string }>(
      url(),
      streams
        .map((st) => `SELECT '${st}/' || id AS k, payload->>'v' AS v, payload->'MetaData'->>'LastUpdatedTime' AS d FROM "${schema}"."${st}"`)
        .join(' UNION ALL '),
    );
    expect(new Map(stored.map((r) => [r.k, { v: r.v, d: Number(r.d.slice(9, 10)) }]))).toEqual(model);
    const c = await lastRunCounts(url(), schema);
    expect(c.received).toBe(n + streams.length * ids);
    expect(c.inserted).toBe(0);
  });
});

describe('target-postgres-raw lookahead review: the lookup session goes away', () => {
  const own = ownPostgres('13');

  it('a PostgreSQL restart during a re-load: lookups fail over to the usual path, the writer reconnects, every record counted once, the last state printed', async () => {
    const server = own();
    const schema = 'relookup';
    const n = 6000;
    const rec = (i: number, v: string) => R('r', { Id: String(i), v, ...T('2024-01-01T00:00:00Z') });
    const load = (changed: (i: number) => boolean) =>
      Array.from({ length: n }, (_, i) => singer(rec(i, changed(i) ? 'changed' : 'stored'), ...(i % 500 === 499 ? [ST({ upTo: i + 1 })] : []))).join('');
    const settings = { database_url: server.url, schema, batch_size_rows: 500 };
    const first = await runTargetCli(settings, singer(S('r')) + load(() => false));
    expect(first.code).toBe(0);
    const input = load((i) => i % 3 === 0);
    const at = (i: number) => input.indexOf(singer(rec(i, i % 3 === 0 ? 'changed' : 'stored')).trim());
    // Records 500 to 999 come after the first commit, when the table is ready: they are looked up,
    // so the lookup session is open when the server restarts (sent at once, they could all be
    // read before it, and the first lookup after the restart would open a fresh session).
    const parts = [singer(S('r')) + input.slice(0, at(500)), input.slice(at(500), at(1000))];
    const result = await afterCommits(settings, parts, input.slice(at(1000)), () => server.restart());
    expect(result.stderr).not.toMatch(/FATAL/);
    // Both sessions saw the restart: a lookup failed (its records took the usual path) and the writer reconnected.
    expect(result.stderr).toMatch(/stored payload hashes of \d+ records not read/);
    expect(result.code).toBe(0);
    expect(stateLines(result.stdout).at(-1)).toEqual({ upTo: n });
    const [row] = await query(server.url, `SELECT count(*)::int AS n, count(*) FILTER (WHERE payload->>'v' = 'changed')::int AS changed FROM "${schema}".r`);
    expect(row).toEqual({ n, changed: n / 3 });
    const [run] = await query<{ load_run_id: string }>(server.url, `SELECT load_run_id FROM "${schema}"._load_runs ORDER BY started_at_utc DESC LIMIT 1`);
    const [stats] = await query(
      server.url,
      `SELECT sum(received)::int AS received, sum(inserted)::int AS inserted, sum(updated)::int AS updated, sum(unchanged)::int AS unchanged, sum(deduplicated)::int AS deduplicated FROM "${schema}"._load_stats WHERE load_run_id = $1`,
      [run?.load_run_id],
    );
    expect(stats).toEqual({ received: n, inserted: 0, updated: n / 3, unchanged: n - n / 3, deduplicated: 0 });
  });
});
