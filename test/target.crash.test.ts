import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { databaseUrl, ownPostgres, scratchSchema } from './support/db.js';
import { startPgProxy } from './support/pgProxy.js';
import { finished, query, R, runTargetCli, S, singer, spawnTarget, ST, stateLines, watchCommits } from './targetHarness.js';

const N = 3000;
/** N records of stream `k` with a STATE after every 100, so each state says how many records precede it. */
function numberedInput(n = N): string {
  const messages: object[] = [S('k')];
  for (let i = 1; i <= n; i++) {
    messages.push(R('k', { Id: String(i), Amount: 1234567.1, Memo: 'x'.repeat(200) }));
    if (i % 100 === 0) messages.push(ST({ upTo: i }));
  }
  return singer(...messages);
}

/** Every printed state must have all its records committed: ids 1..upTo present. */
async function expectStatesCovered(url: string, schema: string, stdout: string): Promise<void> {
  // A kill may cut the last line; only whole lines were ever acknowledged.
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  for (const state of stateLines(complete) as Array<{ upTo: number }>) {
    const [row] = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM "${schema}".k WHERE id::int <= $1`, [state.upTo]);
    expect(row?.n).toBe(state.upTo);
  }
}

describe('target-postgres-raw survives crashes (CONFORMANCE F2)', () => {
  const schemas = [scratchSchema('kill'), scratchSchema('kill'), scratchSchema('kill'), scratchSchema('kill')];
  const input = numberedInput();

  it.each(schemas.map((schema, i) => [i, schema] as const))(
    'kill -9 at point %i, then a re-run: every row exactly once, no printed state ahead of committed rows',
    async (i, schema) => {
      const url = databaseUrl();
      const settings = { database_url: url, schema, batch_size_rows: 250 };
      const child = spawnTarget(settings);
      const done = finished(child);
      child.stdin!.on('error', () => undefined);
      // Kill right after the k-th COMMIT (before or while its state is printed), or at a random moment.
      const afterCommits = i + 1;
      let commits = 0;
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (/ commit \d+ /.test(line) && ++commits === afterCommits && i % 2 === 0) child.kill('SIGKILL');
      });
      if (i % 2 === 1) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 400));
      child.stdin!.end(input);
      const killed = await done;
      await expectStatesCovered(url, schema, killed.stdout);

      const rerun = await runTargetCli(settings, input);
      expect(rerun.code).toBe(0);
      expect(stateLines(rerun.stdout).at(-1)).toEqual({ upTo: N });
      const [row] = await query<{ n: number; ids: number }>(url, `SELECT count(*)::int AS n, count(DISTINCT payload->>'Id')::int AS ids FROM "${schema}".k`);
      expect(row).toEqual({ n: N, ids: N });
    },
  );
});

/** The load statistics of the one load run in `schema`: what _load_runs and the sum of _load_stats say. */
async function loadStats(url: string, schema: string): Promise<Record<string, number>> {
  const [row] = await query<Record<string, number>>(
    url,
    `SELECT r.commits, r.received::int, r.inserted::int, r.updated::int, r.unchanged::int, r.status AS status,
       (SELECT sum(received)::int FROM "${schema}"._load_stats) AS stats_received, (SELECT sum(inserted)::int FROM "${schema}"._load_stats) AS stats_inserted,
       (SELECT count(DISTINCT commit_number)::int FROM "${schema}"._load_stats) AS stats_commits
     FROM "${schema}"._load_runs r`,
  );
  return row as Record<string, number>;
}

describe('target-postgres-raw against a database that goes away (issue 9)', () => {
  const own = ownPostgres('13');

  it('a PostgreSQL restart (fast shutdown) mid-load: reconnects, writes the batch again, exit 0, every row once, statistics right', async () => {
    const server = own();
    const schema = 'restart';
    const n = 20_000;
    const child = spawnTarget({ database_url: server.url, schema, batch_size_rows: 1000 });
    const done = finished(child);
    child.stdin!.on('error', () => undefined);
    const lines = numberedInput(n).split('\n');
    const last = lines.splice(-3).join('\n'); // the last record, its STATE and the final newline
    child.stdin!.write(lines.join('\n') + '\n');
    // Commits 3… are being written while the server stops and starts again.
    await watchCommits(child)(2);
    await server.restart();
    child.stdin!.end(last);
    const result = await done;
    expect(result.stderr).toMatch(/WARN .*database connection lost while committing .*; reconnecting for up to /);
    expect(result.stderr).not.toMatch(/FATAL/);
    expect(result.code).toBe(0);
    await expectStatesCovered(server.url, schema, result.stdout);
    expect(stateLines(result.stdout).at(-1)).toEqual({ upTo: n });
    const [row] = await query(server.url, `SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM "${schema}".k`);
    expect(row).toEqual({ n, ids: n });
    expect(await loadStats(server.url, schema)).toMatchObject({
      received: n,
      inserted: n,
      updated: 0,
      unchanged: 0,
      status: 'succeeded',
      stats_received: n,
      stats_inserted: n,
    });
  });

  it('a connection cut after COMMIT reached the server (outcome unknown to the target): the witness says committed, nothing is counted twice', async () => {
    const server = own();
    const proxy = await startPgProxy(server.url);
    try {
      const schema = 'unknown_commit';
      const n = 3000;
      const child = spawnTarget({ database_url: proxy.url, schema, batch_size_rows: 1000 });
      const done = finished(child);
      child.stdin!.on('error', () => undefined);
      const lines = numberedInput(n).split('\n');
      const last = lines.splice(-3).join('\n');
      const cut = watchCommits(child)(1).then(() => proxy.cutAfterNextCommit());
      child.stdin!.write(lines.join('\n') + '\n');
      await cut;
      child.stdin!.end(last);
      const result = await done;
      expect(result.stderr).toMatch(/WARN .*database connection lost while committing 1000 records/);
      expect(result.stderr).toMatch(/WARN .*commit 2 had committed before its connection was lost; it is not written again/);
      expect(result.code).toBe(0);
      expect(stateLines(result.stdout).at(-1)).toEqual({ upTo: n });
      expect(await query(server.url, `SELECT count(*)::int AS n FROM "${schema}".k`)).toEqual([{ n }]);
      expect(await loadStats(server.url, schema)).toMatchObject({
        commits: 3,
        received: n,
        inserted: n,
        unchanged: 0,
        stats_received: n,
        stats_inserted: n,
        stats_commits: 3,
      });
      expect(result.stderr).toMatch(/commit 2 \(.*\) in \d+ ms: received 1000, inserted 1000/);
    } finally {
      await proxy.close();
    }
  });

  it('a PostgreSQL shutting down as the session starts (57P01 in the packet of its ReadyForQuery): reconnects, exit 0, every row once', async () => {
    const server = own();
    const proxy = await startPgProxy(server.url);
    try {
      const schema = 'startup_shutdown';
      const shutdown = proxy.shutdownAtNextStartup();
      const result = await runTargetCli({ database_url: proxy.url, schema, reconnect_timeout_seconds: 30 }, numberedInput(300));
      await shutdown;
      expect(result.stderr).not.toMatch(/Unhandled 'error' event/);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/WARN target-postgres-raw: .*terminating connection due to administrator command.*; reconnecting for up to /);
      expect(stateLines(result.stdout).at(-1)).toEqual({ upTo: 300 });
      expect(await query(server.url, `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM "${schema}".k`)).toEqual([{ n: 300, d: 300 }]);
    } finally {
      await proxy.close();
    }
  });

  it('a database that stays away past reconnect_timeout_seconds: exit 1 with one clear line, no state for uncommitted records', async () => {
    const server = own();
    const proxy = await startPgProxy(server.url);
    const schema = 'gone';
    const child = spawnTarget({ database_url: proxy.url, schema, batch_size_rows: 50, reconnect_timeout_seconds: 2 });
    const done = finished(child);
    child.stdin!.on('error', () => undefined);
    const twoCommits = watchCommits(child)(2);
    child.stdin!.write(numberedInput(100));
    await twoCommits;
    await proxy.close();
    child.stdin!.end(singer(...Array.from({ length: 100 }, (_, i) => R('k', { Id: String(101 + i) })), ST({ upTo: 200 })));
    const result = await done;
    expect(result.code).toBe(1);
    const fatal = result.stderr.split('\n').filter((l) => l.startsWith('FATAL'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(
      /^FATAL target-postgres-raw: database connection lost while committing 50 records \(stream "k": 50\): .*; still failing after \d+(\.\d)? s of retrying \(reconnect_timeout_seconds 2 s\); last error: cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/postgres as postgres: connection refused \(connect ECONNREFUSED .*\); no state was printed for anything not committed; run again to resume$/,
    );
    expect(Number(/still failing after (\S+) s/.exec(fatal[0]!)![1])).toBeGreaterThanOrEqual(2);
    expect(result.stdout).not.toContain('200');
    await expectStatesCovered(server.url, schema, result.stdout);
    expect(await query(server.url, `SELECT count(*)::int AS n FROM "${schema}".k`)).toEqual([{ n: 100 }]);
    expect(await query(server.url, `SELECT status FROM "${schema}"._load_runs`)).toEqual([{ status: 'running' }]); // the end could not be recorded either
  });
});

describe('target-postgres-raw on the newest PostgreSQL', () => {
  const own = ownPostgres('17');

  it('loads, upserts and keeps digits on PostgreSQL 17', async () => {
    const server = own();
    const [version] = await query<{ v: string }>(server.url, "SELECT current_setting('server_version') AS v");
    expect(version?.v).toMatch(/^17\./);
    const settings = { database_url: server.url, schema: 'raw', batch_size_rows: 400 };
    const input = numberedInput(1000);
    expect((await runTargetCli(settings, input)).code).toBe(0);
    const again = await runTargetCli(settings, input);
    expect(stateLines(again.stdout).at(-1)).toEqual({ upTo: 1000 });
    const [row] = await query(server.url, `SELECT count(*)::int AS n, min((payload->'Amount')::text) AS amount FROM raw.k`);
    expect(row).toEqual({ n: 1000, amount: '1234567.1' });
    const [run] = await query(server.url, `SELECT unchanged::int FROM raw._load_runs ORDER BY started_at_utc DESC LIMIT 1`);
    expect(run).toEqual({ unchanged: 1000 });
  });
});
