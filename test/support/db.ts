import { inject, afterAll, beforeAll } from 'vitest';
import { startLocalPostgres, type LocalPostgres, type LocalPostgresVersion } from 'local-postgres';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** `../shared/fixtures` next to the checkout; CI has it, a bare clone may not. */
export const FIXTURES_DIR = path.resolve(REPO_ROOT, '../shared/fixtures');
export const HAVE_FIXTURES = existsSync(FIXTURES_DIR);
export const NO_FIXTURES_REASON = `shared fixtures not found at ${FIXTURES_DIR}; skipping tests that need them`;

export function databaseUrl(): string {
  return inject('databaseUrl');
}

/**
 * A fresh schema name for one test file, dropped when the file's tests end.
 * Works the same on the embedded server and on a user's DATABASE_URL.
 */
export function scratchSchema(prefix = 't'): string {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  afterAll(async () => {
    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    } finally {
      await client.end();
    }
  });
  return name;
}

/**
 * A login role of its own for one describe (`<prefix>_<random>`, password `pw-<name>`, allowed to
 * create schemas in the suite's database; `attributes` such as `CONNECTION LIMIT 2` and role
 * `settings` such as `statement_timeout = '300ms'` as a DBA would set them), dropped with all it
 * owns after the describe's tests. `url()` signs in as it.
 */
export function scratchRole(
  prefix: string,
  options: { readonly attributes?: string; readonly settings?: readonly string[] } = {},
): { readonly name: string; readonly url: () => string } {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    const database = new URL(databaseUrl()).pathname.slice(1) || 'postgres';
    await withClient((c) =>
      c.query(
        [
          `CREATE ROLE ${name} LOGIN PASSWORD 'pw-${name}' ${options.attributes ?? ''}`,
          `GRANT CREATE ON DATABASE ${pg.escapeIdentifier(database)} TO ${name}`,
          ...(options.settings ?? []).map((setting) => `ALTER ROLE ${name} SET ${setting}`),
        ].join('; '),
      ),
    );
  });
  afterAll(async () => {
    await withClient((c) => c.query(`DROP OWNED BY ${name}; DROP ROLE ${name}`));
  });
  const url = () => {
    const u = new URL(databaseUrl());
    u.username = name;
    u.password = `pw-${name}`;
    return u.toString();
  };
  return { name, url };
}

export async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL server of the test file's own (for tests that restart it or need another
 * version), started before its tests and stopped after; call the result inside a test.
 */
export function ownPostgres(version: LocalPostgresVersion): () => LocalPostgres {
  let server: LocalPostgres | undefined;
  beforeAll(async () => {
    server = await startLocalPostgres({ version, fast: true });
  });
  afterAll(async () => server?.stop());
  return () => {
    if (!server) throw new Error(`PostgreSQL ${version} did not start`);
    return server;
  };
}
