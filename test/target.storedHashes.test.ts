import { hash } from 'node:crypto';
import { createLogger, loadSettings } from 'singer-kit';
import { describe, expect, it } from 'vitest';
import { StoredHashes } from '../packages/target-postgres-raw/src/db/StoredHashes.js';
import { parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS } from '../packages/target-postgres-raw/src/settings.js';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';

// The lookahead's lookup of stored payload hashes (issue 11) reads a whole list of ids in one
// result row; each id must get its own answer, in order, whatever it holds.

const schema = scratchSchema('sh');

function openStoredHashes(): StoredHashes {
  const env = { [`${TARGET_ENV_PREFIX}_DATABASE_URL`]: databaseUrl() };
  const settings = parseTargetSettings(loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, env }));
  return new StoredHashes({ connection: settings.connection, schema, reconnectTimeoutMs: 120_000, logger: createLogger('test', { level: 'error' }) });
}

describe('StoredHashes', () => {
  it('answers each id asked, in order: its stored hash, ~ for a row without one, - for no row', async () => {
    const odd = ['a,b', '"q"', 'back\\slash', '{x}', 'é 😀', '-', '~', ' ', 'NULL'];
    await withClient(async (client) => {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await client.query(`CREATE TABLE "${schema}".s (id text PRIMARY KEY, payload_sha256 bytea)`);
      await client.query(`INSERT INTO "${schema}".s SELECT id, sha256(convert_to(id, 'UTF8')) FROM unnest($1::text[]) AS id`, [odd]);
      await client.query(`INSERT INTO "${schema}".s VALUES ('nohash', NULL)`);
    });
    const hashes = openStoredHashes();
    try {
      const sha = (id: string) => hash('sha256', id, 'hex');
      const asked = ['absent', ...odd, 'nohash', 'a,b', 'absent too'];
      expect(await hashes.lookup('s', asked)).toEqual(['-', ...odd.map(sha), '~', sha('a,b'), '-']);
      expect(await hashes.lookup('s', ['absent'])).toEqual(['-']);
    } finally {
      await hashes.close();
    }
  });

  it('runs its lookups with jit off (compiling them cost more than running them where the server has LLVM)', async () => {
    await withClient((client) =>
      client.query(
        `CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE VIEW "${schema}".session AS SELECT 'jit' AS id, convert_to(current_setting('jit'), 'UTF8') AS payload_sha256`,
      ),
    );
    const hashes = openStoredHashes();
    try {
      expect(await hashes.lookup('session', ['jit'])).toEqual([Buffer.from('off').toString('hex')]);
    } finally {
      await hashes.close();
    }
  });
});
