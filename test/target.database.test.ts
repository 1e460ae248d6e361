import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl, scratchSchema } from './support/db.js';
import { query, R, runTargetCli, S, singer } from './targetHarness.js';
import { fatalLine } from './support/runProcess.js';

/** The first FATAL line of a run's stderr. */

describe('target-postgres-raw: what the database answers decides the exit code (PLAN exit-code table)', () => {
  const suffix = randomBytes(4).toString('hex');
  const weak = `weak_${suffix}`; // may log in, may not create a schema
  const nologin = `nologin_${suffix}`;
  const secret = `Pw-${suffix}-Secret`;
  const input = singer(S('x'));
  const as = (user: string, password: string, database = new URL(databaseUrl()).pathname.slice(1)) => {
    const url = new URL(databaseUrl());
    url.username = user;
    url.password = password;
    url.pathname = `/${database}`;
    return url.toString();
  };
  const where = () => new URL(databaseUrl()).host.replace(/\./g, '\\.');

  beforeAll(async () => {
    await query(databaseUrl(), `CREATE ROLE ${weak} LOGIN PASSWORD '${secret}'`);
    await query(databaseUrl(), `CREATE ROLE ${nologin} NOLOGIN PASSWORD '${secret}'`);
  });
  afterAll(async () => {
    await query(databaseUrl(), `DROP OWNED BY ${weak}`);
    await query(databaseUrl(), `DROP ROLE IF EXISTS ${weak}`);
    await query(databaseUrl(), `DROP ROLE IF EXISTS ${nologin}`);
  });

  it('a wrong password (28P01): exit 2 at once, one line naming host, database and user, never the password', async () => {
    const wrong = `${secret}-wrong`;
    const result = await runTargetCli({ database_url: as(weak, wrong) }, input);
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL target-postgres-raw: PostgreSQL at ${where()}/postgres as user ${weak} refused the connection: password authentication failed for user "${weak}" \\[28P01\\]; check the password`,
      ),
    );
    expect(result.stderr).not.toMatch(/reconnecting/);
    expect(result.stderr + result.stdout).not.toContain(wrong);
  });

  it('a database that does not exist (3D000): exit 2, naming it', async () => {
    const result = await runTargetCli({ database_url: as(weak, secret, `nodb_${suffix}`) }, input);
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL .*PostgreSQL at ${where()}/nodb_${suffix} as user ${weak} refused the connection: database "nodb_${suffix}" does not exist \\[3D000\\]; check the database setting`,
      ),
    );
  });

  it('a user without the privilege to create the schema (42501): exit 2, saying what to grant', async () => {
    const result = await runTargetCli({ database_url: as(weak, secret), schema: `noperm_${suffix}` }, input);
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(
        `^FATAL .*PostgreSQL at ${where()}/postgres as user ${weak} refused preparing schema "noperm_${suffix}": permission denied for database postgres \\[42501\\]; grant this user CREATE`,
      ),
    );
  });

  it('a role that may not log in (28000): exit 2', async () => {
    const result = await runTargetCli({ database_url: as(nologin, secret) }, input);
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(`^FATAL .*as user ${nologin} refused the connection: role "${nologin}" is not permitted to log in \\[28000\\]`),
    );
  });

  it('a server that refuses connections is a run-time failure: retried for reconnect_timeout_seconds, then exit 1 with one line', async () => {
    const result = await runTargetCli({ database_url: `postgres://loader:${secret}@127.0.0.1:1/warehouse`, reconnect_timeout_seconds: 1.5 }, input);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /WARN .*cannot connect to PostgreSQL at 127\.0\.0\.1:1\/warehouse as loader: connection refused \(connect ECONNREFUSED .*\); reconnecting for up to 1.5 s \(reconnect_timeout_seconds\)/,
    );
    expect(fatalLine(result.stderr)).toMatch(
      /^FATAL .*cannot connect to PostgreSQL at 127\.0\.0\.1:1\/warehouse as loader: connection refused \(connect ECONNREFUSED 127\.0\.0\.1:1 \[ECONNREFUSED\]\); still failing after \d+(\.\d)? s of retrying \(reconnect_timeout_seconds 1\.5 s\); no state was printed/,
    );
    // As long as it took (a busy machine makes the last attempt late), never less than the setting.
    expect(Number(/still failing after (\S+) s/.exec(fatalLine(result.stderr) ?? '')![1])).toBeGreaterThanOrEqual(1.5);
    expect(result.stderr + result.stdout).not.toContain(secret);
  });

  it('a schema made by an administrator is used as it is; a table the user may not write (42501 mid-run) is a configuration failure, nothing of its batch committed', async () => {
    const schema = scratchSchema();
    // The administrator creates the schema and one stream's table, and lets the loader create tables in the schema only.
    expect((await runTargetCli({ database_url: databaseUrl(), schema }, singer(S('locked')))).code).toBe(0);
    await query(
      databaseUrl(),
      `GRANT USAGE, CREATE ON SCHEMA "${schema}" TO ${weak}; GRANT SELECT, INSERT, UPDATE ON "${schema}"._load_runs, "${schema}"._load_stats, "${schema}"._company TO ${weak}`,
    );
    const result = await runTargetCli(
      { database_url: as(weak, secret), schema },
      singer(S('mine'), S('locked'), { type: 'RECORD', stream: 'mine', record: { Id: '1' } }, { type: 'RECORD', stream: 'locked', record: { Id: '1' } }),
    );
    expect(result.code).toBe(2);
    expect(fatalLine(result.stderr)).toMatch(
      new RegExp(`^FATAL .*as user ${weak} refused committing 2 records .*: permission denied for (table|relation) locked \\[42501\\]; grant this user`),
    );
    expect(await query(databaseUrl(), `SELECT count(*)::int AS n FROM "${schema}".mine`)).toEqual([{ n: 0 }]);
  });
});

describe('target-postgres-raw: its sessions compile no statement with JIT', () => {
  // With LLVM on the server, JIT compiling each commit's upsert cost more than running it (3 s per
  // 100,000 changed invoices on PostgreSQL 15). A trigger records the setting of the session that writes each row.
  it('rows copied straight in and rows upserted are written by a session with jit off, whatever the server default', async () => {
    const schema = scratchSchema();
    const url = databaseUrl();
    expect((await runTargetCli({ database_url: url, schema }, singer(S('x'), R('x', { Id: '1', v: 1 })))).code).toBe(0);
    await query(
      url,
      `ALTER TABLE "${schema}".x ADD COLUMN session_jit text;
       CREATE FUNCTION "${schema}".note_jit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.session_jit := current_setting('jit'); RETURN NEW; END$$;
       CREATE TRIGGER note_jit BEFORE INSERT OR UPDATE ON "${schema}".x FOR EACH ROW EXECUTE FUNCTION "${schema}".note_jit();
       INSERT INTO "${schema}".x (id, payload, ingested_at_utc) VALUES ('before', '{}', now())`,
    );
    // The server default, seen by a session the target did not open.
    expect(await query(url, `SELECT session_jit FROM "${schema}".x WHERE id = 'before'`)).toEqual([{ session_jit: 'on' }]);
    const result = await runTargetCli({ database_url: url, schema }, singer(S('x'), R('x', { Id: '1', v: 2 }), R('x', { Id: '2', v: 1 })));
    expect(result.code).toBe(0);
    expect(await query(url, `SELECT id, session_jit FROM "${schema}".x WHERE id <> 'before' ORDER BY id`)).toEqual([
      { id: '1', session_jit: 'off' },
      { id: '2', session_jit: 'off' },
    ]);
  });
});
