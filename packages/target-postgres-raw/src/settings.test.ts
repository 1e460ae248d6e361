import { describe, expect, it } from 'vitest';
import { loadSettings, redact, UsageError } from 'singer-kit';
import { checkTargetSetting, parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS } from './settings.js';

const parse = (env: NodeJS.ProcessEnv) => parseTargetSettings(loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, env }));

describe('parseTargetSettings', () => {
  it('has documented defaults and reads the environment', () => {
    const s = parse({ TARGET_POSTGRES_RAW_DATABASE_URL: 'postgres://u:pw-in-url-1@db:6543/wh', TARGET_POSTGRES_RAW_BATCH_SIZE_ROWS: '500' });
    expect(s).toMatchObject({
      schema: 'raw',
      batchSizeRows: 500,
      batchSizeBytes: 64 * 1024 * 1024,
      maxBatchAgeMs: 60_000,
      reconnectTimeoutMs: 120_000,
      validateRecords: true,
    });
    expect(s.connection).toMatchObject({ host: 'db', port: 6543, user: 'u', database: 'wh' });
    expect(JSON.stringify(s)).not.toContain('pw-in-url-1');
    expect(redact('failed: pw-in-url-1')).toBe('failed: [redacted]');
  });

  it('refuses bad values with a UsageError naming the setting', () => {
    expect(() => parse({ TARGET_POSTGRES_RAW_BATCH_SIZE_ROWS: '0' })).toThrow(UsageError);
    expect(() => parse({ TARGET_POSTGRES_RAW_SSLMODE: 'maybe' })).toThrow(/sslmode must be one of/);
    expect(() => parse({ TARGET_POSTGRES_RAW_DATABASE_URL: 'mysql://x' })).toThrow(/must start with postgres:\/\//);
    expect(() => parse({ TARGET_POSTGRES_RAW_MAX_BATCH_AGE_SECONDS: '-1' })).toThrow(/max_batch_age_seconds/);
    expect(() => parse({ TARGET_POSTGRES_RAW_RECONNECT_TIMEOUT_SECONDS: '-5' })).toThrow(/reconnect_timeout_seconds must be a number of seconds, 0 or more/);
    expect(parse({ TARGET_POSTGRES_RAW_RECONNECT_TIMEOUT_SECONDS: '0' }).reconnectTimeoutMs).toBe(0);
    expect(() => parse({ TARGET_POSTGRES_RAW_CONNECT_TIMEOUT_SECONDS: '0' })).toThrow(/connect_timeout_seconds must be a positive number of seconds, got 0/);
    expect(parse({ TARGET_POSTGRES_RAW_QUERY_TIMEOUT_SECONDS: '2.5' }).connection).toMatchObject({ connectTimeoutMs: 30_000, queryTimeoutMs: 2_500 });
  });

  it('refuses a port no TCP connection can use at once (exit 2), not after retrying it as a database that is down', () => {
    expect(() => parse({ TARGET_POSTGRES_RAW_PORT: '70000' })).toThrow(new UsageError('setting port must be an integer from 1 to 65535, got 70000'));
    expect(() => parse({ TARGET_POSTGRES_RAW_PORT: '0' })).toThrow(new UsageError('setting port must be an integer from 1 to 65535, got 0'));
    expect(parse({ TARGET_POSTGRES_RAW_PORT: '65535' }).connection.port).toBe(65_535);
  });

  it('refuses a schema PostgreSQL would not keep as named: past 63 bytes (cut silently) or with the pg_ prefix of its system schemas', () => {
    expect(parse({ TARGET_POSTGRES_RAW_SCHEMA: 'é'.repeat(31) + 'x' }).schema).toBe('é'.repeat(31) + 'x');
    expect(() => parse({ TARGET_POSTGRES_RAW_SCHEMA: 'é'.repeat(32) })).toThrow(
      /^setting schema: "é{32}" is 64 bytes long; PostgreSQL keeps the first 63 bytes of a name and would silently use another schema/,
    );
    expect(() => parse({ TARGET_POSTGRES_RAW_SCHEMA: 'pg_raw' })).toThrow(
      'setting schema: "pg_raw" starts with pg_, which PostgreSQL keeps for its system schemas; choose another name',
    );
    expect(() => parse({ TARGET_POSTGRES_RAW_SCHEMA: 'pg_raw' })).toThrow(UsageError);
  });

  it('refuses a URL whose password was not percent-encoded, without showing any part of it', () => {
    // A % not followed by two hex digits parses as a URL but cannot be decoded: it was a bare URIError, exit 1.
    for (const password of ['p/ss-word-9', 'p?ss@word-9', 'p#ss-word-9', 'p%ss-word-9', 'p%zz-word-9']) {
      const url = `postgres://loader:${password}@db.internal:5432/warehouse`;
      let message = '';
      try {
        parse({ TARGET_POSTGRES_RAW_DATABASE_URL: url });
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        message = (error as Error).message;
      }
      expect(message, url).toMatch(
        /^setting database_url (does not read as postgres:\/\/user:password@host:port\/database|is not a valid URL .*): a character of the user or password may need percent-encoding|; a character of the user or password may need percent-encoding/,
      );
      expect(message).not.toMatch(/ss-word|word-9/);
    }
    // Encoded, and an @ alone (the last @ ends the password), are fine.
    expect(parse({ TARGET_POSTGRES_RAW_DATABASE_URL: 'postgres://loader:p%2Fss@db.internal/warehouse' }).connection).toMatchObject({
      host: 'db.internal',
      database: 'warehouse',
    });
    expect(parse({ TARGET_POSTGRES_RAW_DATABASE_URL: 'postgres://loader:p@ss@db.internal/warehouse' }).connection).toMatchObject({
      host: 'db.internal',
      database: 'warehouse',
    });
  });
});

describe('checkTargetSetting', () => {
  /** The settings a run is given, defaults applied, with no database_url: host, port, user and database are read. */
  const defaults = loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, env: {} });

  // One value each, wrong for its own reason; a run (parseTargetSettings) refuses it with the very same line.
  it.each([
    ['host', ''],
    ['port', 0],
    ['port', 70_000],
    ['port', '5432'],
    ['user', 5],
    ['database', ''],
    ['sslmode', 'maybe'],
    ['schema', 'pg_raw'],
    ['schema', 'é'.repeat(32)],
    ['batch_size_rows', 0],
    ['batch_size_rows', 2.5],
    ['batch_size_bytes', -1],
    ['max_batch_age_seconds', -1],
    ['reconnect_timeout_seconds', -5],
    ['connect_timeout_seconds', 0],
    ['query_timeout_seconds', '300'],
    ['validate_records', 'yes'],
  ])('refuses %s: %j alone, as a run would', (name, value) => {
    let runSays: unknown;
    try {
      parseTargetSettings({ ...defaults, [name]: value });
    } catch (error) {
      runSays = error;
    }
    expect(runSays).toBeInstanceOf(UsageError);
    expect(() => checkTargetSetting(name, value)).toThrow(new UsageError((runSays as Error).message));
  });

  it('takes what a run takes, and leaves the secrets (never read here) and unknown keys to the run', () => {
    for (const [name, value] of Object.entries({
      host: 'db.internal',
      port: 65_535,
      sslmode: 'verify-full',
      schema: 'raw_acme',
      batch_size_rows: 1,
      max_batch_age_seconds: 0.5,
      reconnect_timeout_seconds: 0,
      validate_records: false,
    }))
      expect(() => checkTargetSetting(name, value)).not.toThrow();
    for (const name of ['database_url', 'password', 'not_a_setting']) expect(() => checkTargetSetting(name, 42)).not.toThrow();
  });
});
