import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { databaseUrl, ownPostgres, scratchRole, scratchSchema, withClient } from './support/db.js';
import { startPgProxy } from './support/pgProxy.js';
import { copyWaitsOnLock, finished, query, R, runTargetCli, S, singer, spawnTarget, ST, stateLines } from './targetHarness.js';
import { fatalLine } from './support/runProcess.js';

/**
 * What a DBA or a cloud database does to the warehouse under a running target: stop answering,
 * turn read-only, cancel or end its statement, let no more sessions in. Each either passes (the
 * target retries and loads everything once) or stops with one line saying what to do.
 */

/** The first FATAL line of a run's stderr. */

/** Resolves once the child's stderr has printed a line matching `pattern`. */
function stderrShows(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) resolve();
    });
  });
}

async function rowsIn(url: string, table: string): Promise<number> {
  for (;;) {
    const found = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM ${table}`).catch(() => [{ n: 0 }]);
    if (found[0]!.n > 0) return found[0]!.n;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const records = (ids: string[]) => ids.map((Id) => R('x', { Id, v: Id }));

describe('target-postgres-raw when PostgreSQL stops answering (accepts TCP, never replies)', () => {
  let swallower: net.Server;
  let port = 0;
  beforeAll(async () => {
    swallower = net.createServer((socket) => socket.on('data', () => undefined));
    await new Promise<void>((resolve) => swallower.listen(0, '127.0.0.1', resolve));
    port = (swallower.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => swallower.close(() => resolve())));

  it('at start: each connection attempt gives up after connect_timeout_seconds, retried within reconnect_timeout_seconds, then exit 1 with one line', async () => {
    const result = await runTargetCli(
      { database_url: `postgres://loader:pw@127.0.0.1:${port}/warehouse`, connect_timeout_seconds: 0.5, reconnect_timeout_seconds: 1 },
      singer(S('x'), ...records(['1'])),
    );
    expect(result.code).toBe(1);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL target-postgres-raw: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/warehouse as loader: PostgreSQL gave no answer to the connection attempt within connect_timeout_seconds \\(0\\.5 s\\) \\[ETIMEDOUT\\]; still failing after .* \\(reconnect_timeout_seconds 1 s\\); no state was printed`,
      ),
    );
    expect(result.stdout).toBe('');
  });

  it('at start, SIGTERM while it retries the connection stops the retrying at once (exit 1, nothing to commit)', async () => {
    // An hour to retry for: only the signal can end the run.
    const child = spawnTarget({
      database_url: `postgres://loader:pw@127.0.0.1:${port}/warehouse`,
      connect_timeout_seconds: 0.5,
      reconnect_timeout_seconds: 3600,
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    const done = finished(child);
    child.stdin!.write(singer(S('x'), ...records(['1'])));
    await stderrShows(child, /WARN .*cannot connect to PostgreSQL .*; reconnecting for up to /);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(1);
    expect(fatalLine(result.stderr)).toMatch(
      /^FATAL target-postgres-raw: cannot connect to PostgreSQL at .*: PostgreSQL gave no answer to the connection attempt within connect_timeout_seconds \(0\.5 s\) \[ETIMEDOUT\]; not retrying: SIGTERM received$/,
    );
    expect(result.stdout).toBe('');
  });

  it('mid-run: a statement without an answer for query_timeout_seconds counts as a lost connection; once the server answers again the batch is written once', async () => {
    const schema = scratchSchema('frozen');
    const proxy = await startPgProxy(databaseUrl());
    try {
      const child = spawnTarget({
        database_url: proxy.url,
        schema,
        batch_size_rows: 2,
        connect_timeout_seconds: 0.5,
        query_timeout_seconds: 1,
        reconnect_timeout_seconds: 30,
      });
      const done = finished(child);
      child.stdin!.write(singer(S('x'), ...records(['1', '2']), ST({ at: 2 })));
      expect(await rowsIn(databaseUrl(), `"${schema}".x`)).toBe(2);
      proxy.freeze();
      const noAnswer = stderrShows(child, /no answer to a statement within query_timeout_seconds \(1 s\) \[ETIMEDOUT\]; reconnecting/);
      child.stdin!.write(singer(...records(['3', '4']), ST({ at: 4 })));
      await noAnswer;
      proxy.thaw();
      child.stdin!.end();
      const result = await done;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(
        /WARN .*database connection lost while committing 2 records .*PostgreSQL gave no answer to a statement within query_timeout_seconds/,
      );
      expect(stateLines(result.stdout).at(-1)).toEqual({ at: 4 });
    } finally {
      await proxy.close();
    }
    expect(await query(databaseUrl(), `SELECT id FROM "${schema}".x ORDER BY id`)).toEqual(['1', '2', '3', '4'].map((id) => ({ id })));
  }, 30_000);
});

describe('target-postgres-raw when its statement is cancelled or its session ended (pg_cancel_backend 57014, pg_terminate_backend 57P01)', () => {
  it.each([
    ['pg_cancel_backend', /WARN .*database transaction failed while committing .*\[57014\]; retrying/],
    ['pg_terminate_backend', /WARN .*database connection lost while committing .*\[57P01\]; reconnecting/],
  ])('%s mid-COPY: retried, the batch committed once, exit 0', async (kill, warned) => {
    const schema = scratchSchema('cancel');
    expect((await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('x')))).code).toBe(0);
    const result = await withClient(async (other) => {
      // An uncommitted row of id 2 makes the target's COPY wait, so it is caught in the middle.
      await other.query('BEGIN');
      await other.query(`INSERT INTO "${schema}".x (id, payload, ingested_at_utc) VALUES ('2', '{"Id":"2","v":"other"}', now())`);
      const child = spawnTarget({ database_url: databaseUrl(), schema, reconnect_timeout_seconds: 30 });
      const done = finished(child);
      child.stdin!.end(singer(S('x'), ...records(['1', '2', '3']), ST({ at: 3 })));
      await copyWaitsOnLock(databaseUrl(), schema);
      await other.query(`SELECT ${kill}(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [`COPY "${schema}".%`]);
      await other.query('ROLLBACK');
      return done;
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(warned);
    expect(stateLines(result.stdout)).toEqual([{ at: 3 }]);
    expect(await query(databaseUrl(), `SELECT id, payload->>'v' AS v FROM "${schema}".x ORDER BY id`)).toEqual(['1', '2', '3'].map((id) => ({ id, v: id })));
  });
});

describe('target-postgres-raw when the database takes no writes or no more sessions', () => {
  const readOnly = scratchRole('readonly', { settings: ['default_transaction_read_only = on'] });
  const full = scratchRole('full', { attributes: 'CONNECTION LIMIT 0' });

  it('read-only at start (25006: default_transaction_read_only set for the user, or a standby): retried, then exit 1 saying how to tell which', async () => {
    const result = await runTargetCli(
      { database_url: readOnly.url(), schema: scratchSchema('ro'), reconnect_timeout_seconds: 1 },
      singer(S('x'), ...records(['1'])),
    );
    expect(result.code).toBe(1);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL .*cannot connect to PostgreSQL at .* as ${readOnly.name}: cannot execute CREATE TABLE in a read-only transaction \\[25006\\]; still failing after .*; the server takes no writes: it is a standby .*SELECT pg_is_in_recovery\\(\\).*, or default_transaction_read_only is on for database \\S+ or user ${readOnly.name} `,
      ),
    );
    expect(result.stdout).toBe('');
  });

  it('too many connections at start (53300: a CONNECTION LIMIT, max_connections): retried, then exit 1 saying who holds the sessions', async () => {
    const result = await runTargetCli({ database_url: full.url(), reconnect_timeout_seconds: 1 }, singer(S('x'), ...records(['1'])));
    expect(result.code).toBe(1);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL .*cannot connect to PostgreSQL at .* as ${full.name}: too many connections for role "${full.name}" \\[53300\\]; still failing after .*; the server lets no more sessions in: max_connections, or a CONNECTION LIMIT on database \\S+ or user ${full.name} .*pg_stat_activity`,
      ),
    );
  });
});

describe("target-postgres-raw under a DBA's timeouts set on its user", () => {
  // A DBA's timeouts on the target's user: lock and idle-in-transaction of 1 ms; a statement of 300 ms.
  const strict = scratchRole('strict', { settings: [`lock_timeout = '1ms'`, `idle_in_transaction_session_timeout = '1ms'`] });
  const hurried = scratchRole('hurried', { settings: [`statement_timeout = '300ms'`] });

  it('lock_timeout and idle_in_transaction_session_timeout (55P03, 25P03) never reach its sessions, which set their own: a big load passes', async () => {
    const schema = scratchSchema('strict');
    const ids = Array.from({ length: 6000 }, (_, i) => String(i));
    const result = await runTargetCli({ database_url: strict.url(), schema, batch_size_rows: 2000 }, singer(S('x'), ...records(ids), ST({ at: 'end' })));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/WARN/);
    expect(await query(databaseUrl(), `SELECT count(*)::int AS n FROM "${schema}".x`)).toEqual([{ n: 6000 }]);
  });

  it('a statement_timeout shorter than a commit (57014): each attempt is cancelled and retried, then exit 1 saying to raise it, no state printed', async () => {
    const schema = scratchSchema('hurried');
    expect((await runTargetCli({ database_url: hurried.url(), schema }, singer(S('x')))).code).toBe(0);
    const result = await withClient(async (other) => {
      // An uncommitted row of id 2 holds every commit longer than the user's statement_timeout.
      await other.query('BEGIN');
      await other.query(`INSERT INTO "${schema}".x (id, payload, ingested_at_utc) VALUES ('2', '{"Id":"2"}', now())`);
      try {
        return await runTargetCli(
          { database_url: hurried.url(), schema, reconnect_timeout_seconds: 2 },
          singer(S('x'), ...records(['1', '2', '3']), ST({ at: 3 })),
        );
      } finally {
        await other.query('ROLLBACK');
      }
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /WARN .*database transaction failed while committing 3 records .*canceling statement due to statement timeout \[57014\]; retrying for up to /,
    );
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL .*canceling statement due to statement timeout \\[57014\\]; still failing after .*; the server cancelled the statement: a statement_timeout set for database \\S+ or user ${hurried.name} \\(raise it: ALTER ROLE ${hurried.name} SET statement_timeout = 0; or lower batch_size_rows\\)`,
      ),
    );
    expect(result.stdout).toBe('');
    expect(await query(databaseUrl(), `SELECT count(*)::int AS n FROM "${schema}".x`)).toEqual([{ n: 0 }]);
  });
});

describe('target-postgres-raw when no session is free as it reconnects (53300)', () => {
  const { name: role, url } = scratchRole('limited', { attributes: 'CONNECTION LIMIT 2' });

  it('its sessions ended and their places taken by others: it keeps reconnecting, and once a place is free the batch is written once', async () => {
    const schema = scratchSchema('limited');
    const child = spawnTarget({ database_url: url(), schema, batch_size_rows: 2, reconnect_timeout_seconds: 30 });
    const done = finished(child);
    child.stdin!.write(singer(S('x'), ...records(['1', '2'])));
    expect(await rowsIn(databaseUrl(), `"${schema}".x`)).toBe(2);
    // Its sessions end (an administrator, a failover) and two other clients of its user take the places.
    await query(databaseUrl(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
    const others: pg.Client[] = [];
    while (others.length < 2) {
      const other = new pg.Client({ connectionString: url() });
      await other.connect().then(
        () => others.push(other),
        () => new Promise((r) => setTimeout(r, 50)), // a terminated session still counted for a moment
      );
    }
    const refused = stderrShows(child, /too many connections for role "[^"]+" \[53300\]; still reconnecting after/);
    child.stdin!.write(singer(...records(['3', '4']), ST({ at: 4 })));
    await refused;
    await Promise.all(others.map((o) => o.end()));
    child.stdin!.end();
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(stateLines(result.stdout).at(-1)).toEqual({ at: 4 });
    expect(await query(databaseUrl(), `SELECT id FROM "${schema}".x ORDER BY id`)).toEqual(['1', '2', '3', '4'].map((id) => ({ id })));
  });
});

describe('target-postgres-raw when the server turns read-only under it (a cloud database at its storage limit, a failover)', () => {
  const own = ownPostgres('13');

  it('a commit refused with 25006 reconnects and retries; once writable again the batch is written once, exit 0', async () => {
    const url = own().url;
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('SET default_transaction_read_only = off');
        await client.query(sql);
        await client.query('SELECT pg_reload_conf()');
      } finally {
        await client.end();
      }
    };
    const child = spawnTarget({ database_url: url, schema: 'raw', batch_size_rows: 2, reconnect_timeout_seconds: 30 });
    const done = finished(child);
    child.stdin!.write(singer(S('x'), ...records(['1', '2']), ST({ at: 2 })));
    expect(await rowsIn(url, 'raw.x')).toBe(2);
    // What a provider does at its storage limit: the whole server read-only, open sessions included.
    await admin('ALTER SYSTEM SET default_transaction_read_only = on');
    const refused = stderrShows(child, /\[25006\]; reconnecting/);
    child.stdin!.write(singer(...records(['3', '4']), ST({ at: 4 })));
    await refused;
    await admin('ALTER SYSTEM RESET default_transaction_read_only');
    child.stdin!.end();
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /WARN .*database is read-only while committing 2 records .*: cannot execute SELECT FOR UPDATE in a read-only transaction \[25006\]; reconnecting/,
    );
    expect(stateLines(result.stdout).at(-1)).toEqual({ at: 4 });
    expect(await query(url, `SELECT id FROM raw.x ORDER BY id`)).toEqual(['1', '2', '3', '4'].map((id) => ({ id })));
  }, 60_000);
});

describe('target-postgres-raw when someone drops or renames a raw table, or drops its primary key', () => {
  const gone =
    /WARN .*stream "x": its table "\S+"\."x" is gone \(dropped or renamed\) though earlier load runs inserted (\d+) rows into it, the last at \S+; it is made anew .*backfill from the start/;

  it('between two runs: the table is made anew, with a warning naming how many rows were in it and how to get them back', async () => {
    const schema = scratchSchema('dropped');
    expect((await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('x'), ...records(['1', '2', '3'])))).code).toBe(0);
    await query(databaseUrl(), `ALTER TABLE "${schema}".x RENAME TO x_kept`);
    const result = await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('x'), ...records(['4'])));
    expect(result.code, result.stderr).toBe(0);
    expect(gone.exec(result.stderr)?.[1]).toBe('3');
    expect(await query(databaseUrl(), `SELECT id FROM "${schema}".x`)).toEqual([{ id: '4' }]);
    // A stream loaded for the first time is no news.
    expect((await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('y')))).stderr).not.toMatch(/is gone/);
  });

  it('mid-run: the commit fails (42P01, exit 1) saying what happened and what to do; no state past the last commit; the next run warns and loads the rest once', async () => {
    const schema = scratchSchema('dropmid');
    const child = spawnTarget({ database_url: databaseUrl(), schema, batch_size_rows: 2 });
    const done = finished(child);
    child.stdin!.write(singer(S('x'), ...records(['1', '2'])));
    expect(await rowsIn(databaseUrl(), `"${schema}".x`)).toBe(2);
    await query(databaseUrl(), `DROP TABLE "${schema}".x`);
    child.stdin!.end(singer(ST({ at: 2 }), ...records(['3', '4']), ST({ at: 4 })));
    const result = await done;
    expect(result.code).toBe(1);
    expect(fatalLine(result.stderr)).toMatch(
      /^FATAL target-postgres-raw: database error while committing 2 records \(stream "x": 2\): relation "\S+\.x" does not exist \[42P01\]; a table this run writes \(or its schema\) was dropped or renamed by someone meanwhile: run again to make it anew .*backfill from the start/,
    );
    expect(stateLines(result.stdout)).not.toContainEqual({ at: 4 });
    const again = await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('x'), ...records(['3', '4'])));
    expect(again.code, again.stderr).toBe(0);
    expect(gone.exec(again.stderr)?.[1]).toBe('2');
    expect(await query(databaseUrl(), `SELECT id FROM "${schema}".x ORDER BY id`)).toEqual([{ id: '3' }, { id: '4' }]);
  });

  it('its primary key dropped: exit 2, saying how to put it back', async () => {
    const schema = scratchSchema('nokey');
    expect((await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('x'), ...records(['1'])))).code).toBe(0);
    await query(databaseUrl(), `ALTER TABLE "${schema}".x DROP CONSTRAINT x_pkey`);
    const result = await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('x'), ...records(['2'])));
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toBe(
      `FATAL target-postgres-raw: stream "x" cannot be loaded: its table "${schema}"."x" exists but its id is not unique (no primary key on id); if it is this target's table, put its key back (ALTER TABLE "${schema}"."x" ADD PRIMARY KEY (id)), else load into another schema (setting schema, TARGET_POSTGRES_RAW_SCHEMA) or move that relation away`,
    );
  });
});
