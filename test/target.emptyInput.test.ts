import { createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { databaseUrl, scratchSchema } from './support/db.js';
import { finished, query, R, runTargetCli, S, singer, spawnTarget, ST, T, type TargetResult } from './targetHarness.js';

// A tap that fails at once (a placeholder realm_id) leaves the target an empty input; with no
// PostgreSQL reachable it used to retry for reconnect_timeout_seconds (120 s), its WARN lines
// burying the tap's FATAL one.

/** A local port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const SECRET = 'Pw-empty-input-Secret';

/**
 * Runs the target on `input` against nothing listening. Killed when the test ends: a target that
 * waits out reconnect_timeout_seconds fails the test at its timeout and is not left behind.
 */
async function runUnreachable(input: string, reconnectTimeoutSeconds: number): Promise<TargetResult & { port: number }> {
  const port = await closedPort();
  const child = spawnTarget({ database_url: `postgres://loader:${SECRET}@127.0.0.1:${port}/warehouse`, reconnect_timeout_seconds: reconnectTimeoutSeconds });
  onTestFinished(() => void child.kill('SIGKILL'));
  const done = finished(child);
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(input);
  return { ...(await done), port };
}

const lines = (stderr: string, level: string) => stderr.split('\n').filter((l) => l.startsWith(`${level} `));

describe('target-postgres-raw: an input that ends with no message while the database is unreachable', () => {
  it.each([
    ['empty', ''],
    ['only blank lines', '\n  \r\n\n'],
  ])('%s: exit 1 at once with the connection error, saying there is nothing to load, not after reconnect_timeout_seconds', async (_, input) => {
    // An hour to retry for: only the empty input can end the run.
    const result = await runUnreachable(input, 3600);
    expect(result.signal, result.stderr).toBeNull();
    expect(result.code).toBe(1);
    const fatal = lines(result.stderr, 'FATAL');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(
      new RegExp(
        `^FATAL target-postgres-raw: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${result.port}/warehouse as loader: connection refused \\(connect ECONNREFUSED [^;]*\\); not retrying: the input ended with no message \\(nothing to load\\)$`,
      ),
    );
    expect(lines(result.stderr, 'WARN').length).toBeLessThanOrEqual(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain(SECRET);
  });

  it('an input with a message is still retried for reconnect_timeout_seconds', async () => {
    const result = await runUnreachable(singer(S('x')), 3);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^WARN .*cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/warehouse as loader: connection refused \(connect ECONNREFUSED .*\); reconnecting for up to 3 s \(reconnect_timeout_seconds\)/m,
    );
    const fatal = lines(result.stderr, 'FATAL');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(/; still failing after \S+ s of retrying \(reconnect_timeout_seconds 3 s\); /);
    // As long as it took by the target's own clock (a busy machine makes the last attempt late), never less than the setting.
    expect(Number(/still failing after (\S+) s/.exec(fatal[0]!)![1])).toBeGreaterThanOrEqual(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain(SECRET);
  });
});

describe('target-postgres-raw: an input that ends with no message while the database is reachable', () => {
  it('is a load run of nothing, as before: exit 0, its schema prepared and the run recorded succeeded, no state', async () => {
    const schema = scratchSchema();
    const result = await runTargetCli({ database_url: databaseUrl(), schema, reconnect_timeout_seconds: 120 }, '');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(await query(databaseUrl(), `SELECT status, commits, exit_reason FROM "${schema}"._load_runs`)).toEqual([
      { status: 'succeeded', commits: 0, exit_reason: 'end of input' },
    ]);
  });
});

describe('target-postgres-raw: the line that ends a run', () => {
  it('counts its commits and states in words that agree with the number: 1 commit, 1 state', async () => {
    const input = singer(S('invoices'), R('invoices', { Id: '1', ...T('2025-01-01T00:00:00Z') }), ST({ bookmarks: { invoices: 1 } }));
    const result = await runTargetCli({ database_url: databaseUrl(), schema: scratchSchema() }, input);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^INFO .*done \(end of input\): 1 commit, 1 state printed, load run /m);
  });
});
