import { describe, expect, it } from 'vitest';
import { runCliProcess } from './pipelineHarness.js';
import { databaseUrl } from './support/db.js';

/**
 * `evidence` (and the console, through the same Warehouse) said only `cannot read schema raw:
 * database "…" does not exist` or `password authentication failed for user "postgres"`, with exit 1
 * as if running again could help: not which server, nor which setting to check.
 */
describe('evidence against a warehouse that refuses the connection for its settings', () => {
  it('is exit 2 and one line naming the server, database and user, and the setting to check', async () => {
    const url = new URL(databaseUrl());
    url.pathname = '/qbo_no_such_database';
    const { DATABASE_URL: _ignored, ...env } = process.env;
    const run = await runCliProcess(['evidence', '--since', '2025-01-01', '--until', '2025-01-02'], {
      env: { ...env, TARGET_POSTGRES_RAW_DATABASE_URL: url.toString(), TARGET_POSTGRES_RAW_SCHEMA: 'raw_refused' },
    });
    expect(run.code, run.stderr).toBe(2);
    // Without a companies file there is no company to name: the schema the settings gave is.
    expect(run.stdout).toContain('schema raw_refused could not be read (the error says why)');
    expect(run.stderr.trim()).toBe(
      `ERROR qbo-pipeline: cannot read schema raw_refused: PostgreSQL at ${url.hostname}:${url.port}/qbo_no_such_database as user ${decodeURIComponent(url.username)} refused the connection: database "qbo_no_such_database" does not exist [3D000]; check the database setting (or database_url), or create the database`,
    );
  });
});
