import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { databaseUrl, ownPostgres, scratchSchema } from './support/db.js';
import { finished, query, R, runTargetCli, S, singer, spawnTarget, ST, stateLines } from './targetHarness.js';

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

describe('target-postgres-raw against a database that goes away', () => {
  const own = ownPostgres('13');

  it('a database restart mid-load: exit 1 with one clear line, no state for uncommitted records', async () => {
    const server = own();
    const schema = 'restart';
    const child = spawnTarget({ database_url: server.url, schema, batch_size_rows: 50 });
    const done = finished(child);
    child.stdin!.on('error', () => undefined);
    const lines = createInterface({ input: child.stderr! });
    const twoCommits = new Promise<void>((resolve) => {
      let n = 0;
      lines.on('line', (l) => / commit \d+ /.test(l) && ++n === 2 && resolve());
    });
    const first = numberedInput(100);
    child.stdin!.write(first);
    await twoCommits;
    await server.restart();
    child.stdin!.end(singer(...Array.from({ length: 100 }, (_, i) => R('k', { Id: String(101 + i) })), ST({ upTo: 200 })));
    const result = await done;
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').find((l) => l.startsWith('FATAL'))).toMatch(
      /^FATAL target-.*: database connection lost while .*; nothing of this batch was committed and no state was printed for it$/,
    );
    expect(result.stdout).not.toContain('200');
    await expectStatesCovered(server.url, schema, result.stdout);
    const [row] = await query<{ n: number }>(server.url, `SELECT count(*)::int AS n FROM "${schema}".k`);
    expect(row?.n).toBe(100);
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
