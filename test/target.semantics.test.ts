import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { databaseUrl, REPO_ROOT, scratchSchema, withClient } from './support/db.js';
import { copyWaitsOnLock, counts, finished, lastRunCounts, query, R, runTargetCli, S, singer, spawnTarget, ST, stateLines, T } from './targetHarness.js';
import { fatalLine } from './support/runProcess.js';

const url = () => databaseUrl();

/** Ids (five at most) of `records` whose row in `table` does not hold the record's JSON text as payload and its SHA-256 as payload_sha256. */
async function storedOtherwise(schema: string, table: string, records: ReadonlyArray<{ readonly Id: string }>): Promise<Array<{ id: string }>> {
  return query<{ id: string }>(
    url(),
    `SELECT e.id FROM unnest($1::text[], $2::text[]) AS e(id, text) LEFT JOIN "${schema}"."${table}" USING (id)
     WHERE payload IS DISTINCT FROM e.text::jsonb OR payload_sha256 IS DISTINCT FROM sha256(convert_to(e.text, 'UTF8')) ORDER BY e.id LIMIT 5`,
    [records.map((r) => r.Id), records.map((r) => JSON.stringify(r))],
  );
}

describe('target-postgres-raw storage semantics (DESIGN §5, CONFORMANCE G)', () => {
  it("names every column of a stream's table in the README's What lands in PostgreSQL (payload_sha256 was left out)", async () => {
    const schema = scratchSchema();
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), R('invoices', { Id: '1', ...T('2025-01-01T00:00:00Z') })))).code).toBe(0);
    const columns = await query<{ name: string }>(
      url(),
      `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'invoices' ORDER BY ordinal_position`,
      [schema],
    );
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## What lands in PostgreSQL'), readme.indexOf('\n## ', readme.indexOf('## What lands in PostgreSQL') + 1));
    expect(columns.length).toBeGreaterThan(8);
    expect(columns.map((c) => c.name).filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });

  it('keeps every digit of every number in payload and ids (E13)', async () => {
    const schema = scratchSchema();
    const input =
      singer(S('money', ['Id']), S('bigids', ['n'])) +
      '{"type":"RECORD","stream":"money","record":{"Id":"1","TotalAmt":1234567.10,"Rate":275.0,"n":12345678901234567890,"x":0.1000000000000000055,"e":1e400}}\n' +
      '{"type":"RECORD","stream":"bigids","record":{"n":12345678901234567890}}\n' +
      '{"type":"RECORD","stream":"bigids","record":{"n":12345678901234567891}}\n';
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    const [row] = await query<Record<string, string>>(
      url(),
      `SELECT (payload->'TotalAmt')::text AS amt, (payload->'Rate')::text AS rate, (payload->'n')::text AS n, (payload->'x')::text AS x, jsonb_typeof(payload->'e') AS e FROM "${schema}".money`,
    );
    expect(row).toEqual({ amt: '1234567.10', rate: '275.0', n: '12345678901234567890', x: '0.1000000000000000055', e: 'number' });
    // jsonb writes exponents as plain digits and drops a negative zero's sign; the value stays (README: Strings and numbers).
    const forms = await runTargetCli(
      { database_url: url(), schema },
      singer(S('forms')) + '{"type":"RECORD","stream":"forms","record":{"Id":"1","a":1.50E+1,"b":1e400,"c":-0.0,"d":2.5e-3}}\n',
    );
    expect(forms.code).toBe(0);
    const [stored] = await query<Record<string, string>>(
      url(),
      `SELECT payload->>'a' AS a, payload->>'b' AS b, payload->>'c' AS c, payload->>'d' AS d FROM "${schema}".forms`,
    );
    expect(stored).toEqual({ a: '15.0', b: `1${'0'.repeat(400)}`, c: '0.0', d: '0.0025' });
    const ids = await query<{ id: string }>(url(), `SELECT id FROM "${schema}".bigids ORDER BY id`);
    expect(ids.map((r) => r.id)).toEqual(['12345678901234567890', '12345678901234567891']);
  });

  it('a record PostgreSQL cannot store (a number past numeric, 1e131072; nesting past its stack) fails naming its line, stream and id; nothing of its batch is committed', async () => {
    const schema = scratchSchema();
    // Numbers up to numeric's limits keep every digit.
    expect(
      (
        await runTargetCli(
          { database_url: url(), schema },
          singer(S('edge')) + '{"type":"RECORD","stream":"edge","record":{"Id":"1","big":1e131071,"small":1e-16383}}\n',
        )
      ).code,
    ).toBe(0);
    const cases = [
      // a new id (copied straight into the table), a stored id (staged, then upserted), a deletion (staged)
      ['2', '{"Id":"2","n":1e131072}', 'value overflows numeric format \\[22003\\]'],
      ['1', '{"Id":"1","n":1e-16384}', 'value overflows numeric format \\[22003\\]'],
      ['1', '{"Id":"1","_sdc_deleted_at":"2025-01-01T00:00:00Z","n":-1e200000}', 'value overflows numeric format \\[22003\\]'],
      ['3', `{"Id":"3","deep":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, 'stack depth limit exceeded \\[54001\\]'],
    ] as const;
    for (const [id, record, reason] of cases) {
      const input = singer(S('edge'), R('edge', { Id: '9' }), ST({ n: 1 })) + `{"type":"RECORD","stream":"edge","record":${record}}\n` + singer(ST({ n: 2 }));
      const result = await runTargetCli({ database_url: url(), schema }, input);
      expect(result.code).toBe(1);
      expect(fatalLine(result.stderr)).toMatch(
        new RegExp(
          `^FATAL target-postgres-raw: line 4: stream "edge" record id "${id}": PostgreSQL cannot store it \\(column payload\\): ${reason}; nothing of this batch was committed and no state was printed for it$`,
        ),
      );
      expect(result.stdout).toBe('');
    }
    expect(await query(url(), `SELECT id FROM "${schema}".edge ORDER BY id`)).toEqual([{ id: '1' }]);
  });

  it('stores the record JSON.parse takes, byte for byte, wherever the line puts it and whatever follows it', async () => {
    const schema = scratchSchema();
    const records = {
      '1': '{"Id":"1","v":1.50}',
      '2': '{"Id":"2","v":"last"}',
      '3': '{"Id": "3", "v": 2.0}',
      '4': '{"Id":"4","o":{"a":"}"}}',
    };
    const input =
      singer(S('p')) +
      `{"type":"RECORD","stream":"p","record":${records['1']},"time_extracted":"}{"}\n` +
      `{"type":"RECORD","stream":"p","record":{"Id":"2","v":"first"},"r\\u0065cord":${records['2']}}\n` +
      `{"type": "RECORD", "stream": "p", "time_extracted": "x", "record": ${records['3']} }\n` +
      `{"type":"RECORD","stream":"p","record":${records['4']},"extra":{"b":1}}\n`;
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    const rows = await query<{ id: string; sha: string; payload: unknown }>(
      url(),
      `SELECT id, encode(payload_sha256, 'hex') AS sha, payload FROM "${schema}".p ORDER BY id`,
    );
    expect(rows).toEqual(
      Object.entries(records).map(([id, text]) => ({ id, sha: createHash('sha256').update(text).digest('hex'), payload: JSON.parse(text) as unknown })),
    );
  });

  it('a key property repeated in a record: the id is the value JSON.parse and the payload keep (the last), a re-load changes nothing', async () => {
    const schema = scratchSchema();
    const input =
      singer(S('dk')) +
      '{"type":"RECORD","stream":"dk","record":{"Id":1,"v":"a","Id":2}}\n' +
      '{"type":"RECORD","stream":"dk","record":{"Id":"x","w":1,"I\\u0064":3}}\n';
    const load = async () => {
      const result = await runTargetCli({ database_url: url(), schema }, input);
      expect(result.code).toBe(0);
      return query<{ id: string; key: unknown }>(url(), `SELECT id, payload->'Id' AS key FROM "${schema}".dk ORDER BY id`);
    };
    expect(await load()).toEqual([
      { id: '2', key: 2 },
      { id: '3', key: 3 },
    ]);
    expect(await load()).toEqual([
      { id: '2', key: 2 },
      { id: '3', key: 3 },
    ]);
  });

  it('stores NUL and lone surrogates as U+FFFD and everything else exactly (string policy)', async () => {
    const schema = scratchSchema();
    const input =
      singer(S('s')) +
      String.raw`{"type":"RECORD","stream":"s","record":{"Id":"1","deep":{"y":["p\u0000q"]},"lit":"\\u0000","lone":"\ud800x","pair":"\ud83d\ude00","rtl":"שלום مرحبا","ctl":"a\nb\tc\\d\"e\r\u0001","k\u0000":1,"nul":"NULL","bsn":"\\N","empty":""}}` +
      '\n';
    const result = await runTargetCli({ database_url: url(), schema }, input);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/stream "s" record id "1": 3 \\u0000 or unpaired surrogate escape\(s\) stored as U\+FFFD/);
    const [p] = await query<{ payload: Record<string, unknown> }>(url(), `SELECT payload FROM "${schema}".s`);
    expect(p?.payload).toEqual({
      Id: '1',
      deep: { y: ['p\ufffdq'] },
      lit: '\\u0000',
      lone: '\ufffdx',
      pair: '😀',
      rtl: 'שלום مرحبا',
      ctl: 'a\nb\tc\\d"e\r\u0001',
      'k\ufffd': 1,
      nul: 'NULL',
      bsn: '\\N',
      empty: '',
    });
  });

  it('moves the reserved _sdc_ fields to their columns and stores the entity without them', async () => {
    const schema = scratchSchema();
    const record = {
      Id: '7',
      TotalAmt: 10,
      ...T('2024-03-01T10:00:00-08:00'),
      _sdc_extract_window_start_utc: '2024-03-01T00:00:00Z',
      _sdc_extract_window_end_utc: '2024-03-02T00:00:00Z',
      _sdc_page_number: 2,
      _sdc_page_size: 100,
      _sdc_request_payload: { method: 'GET', path: '/v3/company/1/query', query: 'SELECT *', minorversion: 75 },
      _sdc_extracted_at: '2024-03-02T01:02:03.456789Z',
      _sdc_realm_id: '1234',
      _sdc_run_id: 'run-a',
    };
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('invoices'), R('invoices', record)))).code).toBe(0);
    const [row] = await query<Record<string, unknown>>(
      url(),
      `SELECT payload, extract_window_start_utc::text AS ws, extract_window_end_utc::text AS we, page_number, page_size, request_payload, realm_id,
         extracted_at_utc::text AS ex, last_updated_utc::text AS lu FROM "${schema}".invoices`,
    );
    expect(row).toEqual({
      payload: { Id: '7', TotalAmt: 10, ...T('2024-03-01T10:00:00-08:00') },
      ws: '2024-03-01 00:00:00+00',
      we: '2024-03-02 00:00:00+00',
      page_number: 2,
      page_size: 100,
      request_payload: record._sdc_request_payload,
      realm_id: '1234',
      ex: '2024-03-02 01:02:03.456789+00',
      lu: '2024-03-01 18:00:00+00',
    });
    const stats = await query(url(), `SELECT stream, tap_run_id, extract_window_start_utc::text AS ws, received, inserted FROM "${schema}"._load_stats`);
    expect(stats).toEqual([{ stream: 'invoices', tap_run_id: 'run-a', ws: '2024-03-01 00:00:00+00', received: 1, inserted: 1 }]);
  });

  it('re-running the same input changes 0 rows, ingested_at_utc included (G12)', async () => {
    const schema = scratchSchema();
    const input = singer(
      S('items'),
      S('nokey', []),
      ...Array.from({ length: 50 }, (_, i) => R('items', { Id: String(i), Name: `item ${i}`, ...T('2024-01-01T00:00:00Z') })),
      R('nokey', { a: 1 }),
      R('nokey', { a: 2 }),
      ST({ bookmarks: { items: 1 } }),
    );
    const settings = { database_url: url(), schema, batch_size_rows: 20 };
    expect((await runTargetCli(settings, input)).code).toBe(0);
    const snapshot = `SELECT id, ctid::text, xmin::text, ingested_at_utc FROM "${schema}".items ORDER BY id`;
    const before = await query(url(), snapshot);
    const second = await runTargetCli(settings, input);
    expect(second.code).toBe(0);
    expect(stateLines(second.stdout)).toEqual([{ bookmarks: { items: 1 } }]);
    expect(await query(url(), snapshot)).toEqual(before);
    expect(await query(url(), `SELECT count(*)::int AS n FROM "${schema}".nokey`)).toEqual([{ n: 2 }]);
    const [run] = await query(
      url(),
      `SELECT received::int, inserted::int, updated::int, unchanged::int FROM "${schema}"._load_runs ORDER BY started_at_utc DESC LIMIT 1`,
    );
    expect(run).toEqual({ received: 52, inserted: 0, updated: 0, unchanged: 52 });
  });

  it('never lets an older record overwrite a newer one, across runs and inside a batch; the newest duplicate wins', async () => {
    const schema = scratchSchema();
    const settings = { database_url: url(), schema };
    // 10:00 Pacific = 18:00Z is newer than 17:00Z, whatever the text says.
    await runTargetCli(settings, singer(S('c'), R('c', { Id: 'a', v: 'new', ...T('2024-01-01T10:00:00-08:00') })));
    const older = await runTargetCli(
      settings,
      singer(
        S('c'),
        R('c', { Id: 'a', v: 'old', ...T('2024-01-01T17:00:00Z') }),
        R('c', { Id: 'b', v: 'b2', ...T('2024-01-02T00:00:00Z') }),
        R('c', { Id: 'b', v: 'b1', ...T('2024-01-01T00:00:00Z') }),
        R('c', { Id: 'd', v: 'd1' }),
        R('c', { Id: 'd', v: 'd2' }),
      ),
    );
    expect(older.code).toBe(0);
    const rows = await query(url(), `SELECT id, payload->>'v' AS v FROM "${schema}".c ORDER BY id`);
    expect(rows).toEqual([
      { id: 'a', v: 'new' },
      { id: 'b', v: 'b2' },
      { id: 'd', v: 'd2' },
    ]);
    const [stats] = await query(url(), `SELECT sum(skipped_older)::int AS older, sum(deduplicated)::int AS dedup FROM "${schema}"._load_stats`);
    expect(stats).toEqual({ older: 1, dedup: 2 });
    const newer = await runTargetCli(settings, singer(S('c'), R('c', { Id: 'a', v: 'newest', ...T('2024-01-01T18:00:01Z') })));
    expect(newer.code).toBe(0);
    expect(await query(url(), `SELECT payload->>'v' AS v FROM "${schema}".c WHERE id = 'a'`)).toEqual([{ v: 'newest' }]);
  });

  it('a commit over several streams never mixes their rows: a stream with only new ids after one with changed ids gets only its own', async () => {
    const schema = scratchSchema();
    const settings = { database_url: url(), schema };
    expect((await runTargetCli(settings, singer(S('a'), R('a', { Id: '1', v: 1 })))).code).toBe(0);
    // One commit: stream a changes its row (staged and upserted), stream b has only new ids.
    expect((await runTargetCli(settings, singer(S('a'), S('b'), R('a', { Id: '1', v: 2 }), R('b', { Id: '9', w: 1 })))).code).toBe(0);
    expect(await query(url(), `SELECT id, payload FROM "${schema}".a`)).toEqual([{ id: '1', payload: { Id: '1', v: 2 } }]);
    expect(await query(url(), `SELECT id, payload FROM "${schema}".b`)).toEqual([{ id: '9', payload: { Id: '9', w: 1 } }]);
  });

  it('several targets starting at once on an empty schema all succeed (DDL under an advisory lock)', async () => {
    const schema = scratchSchema();
    const input = singer(S('race'), ...Array.from({ length: 20 }, (_, i) => R('race', { Id: String(i) })));
    const results = await Promise.all(Array.from({ length: 4 }, () => runTargetCli({ database_url: url(), schema }, input)));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(await query(url(), `SELECT count(*)::int AS n FROM "${schema}".race`)).toEqual([{ n: 20 }]);
  });

  it('composite keys never collide, and `1` and "1" are one id', async () => {
    const schema = scratchSchema();
    const input = singer(
      S('ck', ['a', 'b']),
      R('ck', { a: 'x,y', b: 'z' }),
      R('ck', { a: 'x', b: 'y,z' }),
      S('one'),
      R('one', { Id: 1, v: 1 }),
      R('one', { Id: '1', v: 2 }),
    );
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    expect(await query(url(), `SELECT id FROM "${schema}".ck ORDER BY id`)).toEqual([{ id: '["x","y,z"]' }, { id: '["x,y","z"]' }]);
    expect(await query(url(), `SELECT id, payload->>'v' AS v FROM "${schema}".one`)).toEqual([{ id: '1', v: '2' }]);
  });
});

describe('target-postgres-raw protocol and errors (CONFORMANCE E, F)', () => {
  it('prints each state only after the records before it are visible from another connection (F1, F7)', async () => {
    const schema = scratchSchema();
    const messages: object[] = [S('p')];
    for (let i = 1; i <= 200; i++) {
      messages.push(R('p', { Id: String(i) }));
      if (i % 25 === 0) messages.push(ST({ upTo: i }));
    }
    const child = spawnTarget({ database_url: url(), schema, batch_size_rows: 30 });
    const done = finished(child);
    const checks: Promise<void>[] = [];
    const seen: number[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const upTo = (JSON.parse(line) as { upTo: number }).upTo;
      seen.push(upTo);
      checks.push(
        query<{ n: number }>(url(), `SELECT count(*)::int AS n FROM "${schema}".p WHERE id::int <= $1`, [upTo]).then(([r]) => expect(r?.n).toBe(upTo)),
      );
    });
    child.stdin!.end(singer(...messages));
    expect((await done).code).toBe(0);
    await Promise.all(checks);
    // Printed states are a subsequence of those received, ending with the last one.
    expect(seen.length).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(200);
  });

  it('commits every batch_size_rows records of a stream, and when all streams together reach batch_size_bytes (F9)', async () => {
    // A schema each: loaded again, equal records would be counted unchanged, and weigh less in a batch.
    const schemas = [scratchSchema(), scratchSchema()] as const;
    const records = (stream: string) => Array.from({ length: 6 }, (_, i) => R(stream, { Id: String(i), pad: 'x'.repeat(100) }));
    const input = singer(S('a'), S('b'), ...records('a'), ...records('b'));
    expect((await runTargetCli({ database_url: url(), schema: schemas[0], batch_size_rows: 4 }, input)).code).toBe(0);
    expect((await runTargetCli({ database_url: url(), schema: schemas[1], batch_size_bytes: 500 }, input)).code).toBe(0);
    const runs = [];
    for (const schema of schemas) runs.push(...(await query(url(), `SELECT commits, received::int FROM "${schema}"._load_runs`)));
    // rows: a full at 4, then a's 2 + b's 2, then b full at 4 → 3 commits; bytes: ~120 B a record, 500 B → at every 5th record, then the end → 3.
    expect(runs).toEqual([
      { commits: 3, received: 12 },
      { commits: 3, received: 12 },
    ]);
  });

  it('makes the first commits of a run small, 1,000 records and doubling up to batch_size_rows, so the database starts writing early', async () => {
    const schema = scratchSchema();
    const records = Array.from({ length: 9_500 }, (_, i) => R('ramp', { Id: String(i) }));
    expect((await runTargetCli({ database_url: url(), schema, batch_size_rows: 3_000 }, singer(S('ramp'), ...records))).code).toBe(0);
    const commits = await query(url(), `SELECT commit_number, received FROM "${schema}"._load_stats ORDER BY commit_number`);
    expect(commits).toEqual([1000, 2000, 3000, 3000, 500].map((received, i) => ({ commit_number: i + 1, received })));
    expect(await query(url(), `SELECT count(*)::int AS n FROM "${schema}".ramp`)).toEqual([{ n: 9_500 }]);
  });

  it('commits and prints the state when the oldest record reaches max_batch_age_seconds, without more input (F10)', async () => {
    const schema = scratchSchema();
    const child = spawnTarget({ database_url: url(), schema, max_batch_age_seconds: 0.3 });
    const done = finished(child);
    child.stdin!.write(singer(S('age'), R('age', { Id: '1' }), ST({ n: 1 })));
    const [line] = (await new Promise<string[]>((resolve) => createInterface({ input: child.stdout! }).once('line', (l) => resolve([l])))) as [string];
    expect(JSON.parse(line)).toEqual({ n: 1 });
    expect(await query(url(), `SELECT id FROM "${schema}".age`)).toEqual([{ id: '1' }]);
    child.stdin!.end();
    expect((await done).code).toBe(0);
  });

  it('on SIGTERM commits what it has, prints the latest state and exits 0 (F5)', async () => {
    const schema = scratchSchema();
    const child = spawnTarget({ database_url: url(), schema }, [], { LOG_LEVEL: 'debug' });
    const done = finished(child);
    let stderr = '';
    const remembered = new Promise<void>((resolve) =>
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('line 4: STATE remembered')) resolve();
      }),
    );
    child.stdin!.write(singer(S('term'), R('term', { Id: '1' }), R('term', { Id: '2' }), ST({ n: 2 })));
    await remembered;
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    expect(stateLines(result.stdout)).toEqual([{ n: 2 }]);
    expect(await query(url(), `SELECT count(*)::int AS n FROM "${schema}".term`)).toEqual([{ n: 2 }]);
  });

  it('prints a state exactly as received: a bookmark past 2^53 keeps every digit (a rounded one would resume the tap elsewhere)', async () => {
    const schema = scratchSchema();
    const value = '{"bookmarks":{"events":{"replication_key":"id","replication_key_value":9007199254740993}},"big":12345678901234567890,"amount":1.10}';
    const result = await runTargetCli(
      { database_url: url(), schema },
      singer(S('events', ['id']), R('events', { id: '1' })) + `{"type":"STATE","value":${value}}\n`,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${value}\n`);
  });

  it('loads values another tap declares as email, uri or hostname but that do not match them, as the SDK does; a bad date-time still stops the load', async () => {
    const schema = scratchSchema();
    const contacts = S('contacts', ['Id'], {
      email: { type: 'string', format: 'email' },
      site: { type: 'string', format: 'uri' },
      host: { type: 'string', format: 'hostname' },
      at: { type: 'string', format: 'date-time' },
    });
    const loose = { Id: '1', email: 'jane@localhost', site: 'www.example.com/a b', host: 'not_a_host!', at: '2025-01-01T00:00:00Z' };
    const loaded = await runTargetCli({ database_url: url(), schema }, singer(contacts, R('contacts', loose)));
    expect(loaded.code).toBe(0);
    const rows = await query<{ payload: unknown }>(url(), `SELECT payload FROM "${schema}".contacts`);
    expect(rows.map((r) => r.payload)).toEqual([loose]);
    const badDate = await runTargetCli({ database_url: url(), schema }, singer(contacts, R('contacts', { ...loose, Id: '2', at: '2025-02-30T00:00:00Z' })));
    expect(badDate.code).toBe(1);
    expect(badDate.stderr).toContain('record/at must match format "date-time"');
  });

  it('a malformed line: exit 1 naming the line; what came before it is committed with its state, nothing after it (E11)', async () => {
    const schema = scratchSchema();
    const input =
      singer(S('m'), R('m', { Id: '1' }), R('m', { Id: '2' }), ST({ n: 2 }), R('m', { Id: '3' })) +
      '{"type":"REC\n' +
      singer(R('m', { Id: '4' }), ST({ n: 4 }));
    const result = await runTargetCli({ database_url: url(), schema, batch_size_rows: 2 }, input);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^FATAL target-.*: line 6: not valid JSON/m);
    expect(stateLines(result.stdout)).toEqual([{ n: 2 }]);
    expect(await query(url(), `SELECT id FROM "${schema}".m ORDER BY id`)).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }]);
  });

  it('a tap killed mid-line: the cut last line fails the run, but the checkpoint before it is kept', async () => {
    const schema = scratchSchema();
    const input = singer(S('k'), R('k', { Id: '1' }), ST({ n: 1 }), R('k', { Id: '2' })) + '{"type":"RECORD","stream":"k","record":{"Id":"3';
    const result = await runTargetCli({ database_url: url(), schema }, input);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 5: not valid JSON/);
    expect(stateLines(result.stdout)).toEqual([{ n: 1 }]);
    expect(await query(url(), `SELECT id FROM "${schema}".k ORDER BY id`)).toEqual([{ id: '1' }, { id: '2' }]);
  });

  it('--input FILE gives the same result as stdin, CRLF line ends and a BOM included (E18)', async () => {
    const schema = scratchSchema();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'target-input-')), 'in.singer');
    writeFileSync(file, '\ufeff' + singer(S('f'), R('f', { Id: '1' }), ST({ n: 1 })).replace(/\n/g, '\r\n'));
    const child = spawnTarget({ database_url: url(), schema }, ['--input', file]);
    child.stdin!.end();
    const result = await finished(child);
    expect(result.code).toBe(0);
    expect(stateLines(result.stdout)).toEqual([{ n: 1 }]);
    expect(await query(url(), `SELECT id FROM "${schema}".f`)).toEqual([{ id: '1' }]);
  });

  it('--input FILE read in chunks: payloads larger than a chunk, just under one, and small ones around them are stored byte for byte', async () => {
    const schema = scratchSchema();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'target-input-')), 'in.singer');
    // Sizes around the 256 kB read chunk (and the largest payload copied into the PayloadArena).
    const pads = [600_000, 262_000, 255_000, 10, 300_000, 20, 261_000];
    const records = pads.map((n, i) => ({ Id: String(i), pad: 'é'.repeat(i % 2) + 'x'.repeat(n) }));
    writeFileSync(file, singer(S('big'), ...records.map((r) => R('big', r)), ST({ n: 1 })));
    const child = spawnTarget({ database_url: url(), schema }, ['--input', file]);
    child.stdin!.end();
    const result = await finished(child);
    expect(result.code).toBe(0);
    expect(stateLines(result.stdout)).toEqual([{ n: 1 }]);
    const stored = await query<{ id: string; sha: string; length: number }>(
      url(),
      `SELECT id, encode(payload_sha256, 'hex') AS sha, length(payload->>'pad') AS length FROM "${schema}".big ORDER BY id::int`,
    );
    expect(stored).toEqual(records.map((r) => ({ id: r.Id, sha: createHash('sha256').update(JSON.stringify(r)).digest('hex'), length: r.pad.length })));
  });

  it.each(['--input FILE', 'stdin, a pipe', 'stdin, a file (< FILE)'] as const)(
    '%s of many chunks: every payload is stored as read, and found unchanged on a re-load, while its chunk buffers are read into again',
    async (how) => {
      const schema = scratchSchema();
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'target-input-')), 'in.singer');
      // ~16 MB, 6,000 distinct payloads of 64 B to 5 kB (some not ASCII): about 60 chunks of 256 kB read into a
      // few buffers, while lines of earlier ones wait in the lookahead and their payloads in the batch being filled.
      const records = Array.from({ length: 6000 }, (_, i) => ({
        Id: String(i).padStart(5, '0'),
        n: i,
        pad:
          (i % 7 === 0 ? 'é' : '') +
          createHash('sha256')
            .update(String(i))
            .digest('hex')
            .repeat(1 + (i % 80)),
      }));
      writeFileSync(file, singer(S('chunks'), ...records.map((r) => R('chunks', r)), ST({ n: 1 })));
      for (const expected of [{ inserted: records.length }, { unchanged: records.length }]) {
        const fd = how === 'stdin, a file (< FILE)' ? openSync(file, 'r') : undefined;
        const child = spawnTarget({ database_url: url(), schema }, how === '--input FILE' ? ['--input', file] : [], {}, fd);
        if (fd !== undefined) closeSync(fd);
        // A pipe's reads come as the kernel has them, a few kB to 200 kB: lines end anywhere in a read and in a chunk.
        child.stdin?.end(how === 'stdin, a pipe' ? readFileSync(file) : undefined);
        const result = await finished(child);
        expect(result.code, result.stderr).toBe(0);
        expect(stateLines(result.stdout)).toEqual([{ n: 1 }]);
        expect(await lastRunCounts(url(), schema)).toEqual(counts({ received: records.length, ...expected }));
        expect(await storedOtherwise(schema, 'chunks', records)).toEqual([]);
      }
    },
  );

  it('stores every payload of large batches exactly while its COPY waits with megabytes queued on the socket (COPY chunk buffers are reused only once written)', async () => {
    const schema = scratchSchema();
    expect((await runTargetCli({ database_url: url(), schema }, singer(S('q')))).code).toBe(0);
    // 7,000 distinct payloads of ~2.6 kB: commits of 1,000, 2,000 and 4,000 records, each COPY many 512 kB chunks.
    const records = Array.from({ length: 7000 }, (_, i) => ({
      Id: String(i).padStart(5, '0'),
      n: i,
      pad: createHash('sha256').update(String(i)).digest('hex').repeat(40),
    }));
    await withClient(async (other) => {
      // The first id of the third commit, not yet committed by another session: that COPY waits on
      // it after its first rows, while the target writes the other ~10 MB of it until the socket is full.
      await other.query('BEGIN');
      await other.query(`INSERT INTO "${schema}".q (id, payload, ingested_at_utc) VALUES ('03000', '{}', now())`);
      const child = spawnTarget({ database_url: url(), schema });
      const done = finished(child);
      child.stdin!.end(singer(S('q'), ...records.map((r) => R('q', r)), ST({ n: 1 })));
      await copyWaitsOnLock(url(), schema);
      await other.query('ROLLBACK');
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expect(stateLines(result.stdout)).toEqual([{ n: 1 }]);
    });
    expect(await storedOtherwise(schema, 'q', records)).toEqual([]);
    expect(await query(url(), `SELECT count(*)::int AS n FROM "${schema}".q`)).toEqual([{ n: records.length }]);
  });

  it('exits on an error while the tap still holds stdin open (it does not wait for end of input)', async () => {
    const child = spawnTarget({ database_url: url(), schema: scratchSchema() });
    const done = finished(child);
    child.stdin!.on('error', () => undefined);
    child.stdin!.write(singer(S('open')) + '{"type":"RECORD","stream":"nope","record":{}}\n');
    const result = await done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FATAL .*line 2: RECORD for stream "nope" arrived before its SCHEMA/);
  });

  it('a RECORD without a stream name is said to be one (not a record of stream undefined), after committing what came before it', async () => {
    const schema = scratchSchema();
    for (const stream of [undefined, '', 7]) {
      const result = await runTargetCli(
        { database_url: url(), schema },
        singer(S('named'), R('named', { Id: '1' }), ST({ n: 1 }), { type: 'RECORD', stream, record: { Id: '2' } }),
      );
      expect(result.code).toBe(1);
      expect(fatalLine(result.stderr)).toBe('FATAL target-postgres-raw: line 4: RECORD message has no "stream" name');
      expect(stateLines(result.stdout)).toEqual([{ n: 1 }]);
    }
  });

  it('refuses BATCH, warns on unknown types, matches types case-insensitively (E8, E9, E10)', async () => {
    const schema = scratchSchema();
    const ok = await runTargetCli(
      { database_url: url(), schema },
      singer(S('u'), { type: 'FOO' }, { type: 'record', stream: 'u', record: { Id: '1' } }, { type: 'ACTIVATE_VERSION', stream: 'u', version: 1 }),
    );
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/WARN .*line 2: unknown message type "FOO" skipped/);
    expect(ok.stdout).toBe('');
    const batch = await runTargetCli({ database_url: url(), schema }, singer(S('u'), { type: 'BATCH', stream: 'u', encoding: {}, manifest: [] }));
    expect(batch.code).toBe(1);
    expect(batch.stderr).toMatch(/FATAL .*line 2: BATCH messages are not supported/);
  });

  it('bad settings exit 2', async () => {
    const bad = await runTargetCli({ database_url: url(), batch_size_rows: 0 }, '');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/batch_size_rows must be a positive integer/);
  });

  it('an --input FILE that cannot be read exits 2 with one line naming it (not a stream error)', async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), 'target-input-')), 'nope.singer');
    for (const [file, reason] of [
      [missing, 'no such file'],
      [path.dirname(missing), 'EISDIR'],
    ] as const) {
      const child = spawnTarget({ database_url: url(), schema: scratchSchema() }, ['--input', file]);
      child.stdin?.end();
      const result = await finished(child);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim()).toBe(`FATAL target-postgres-raw: cannot read --input ${file}: ${reason}`);
      expect(result.stdout).toBe('');
    }
  });
});
