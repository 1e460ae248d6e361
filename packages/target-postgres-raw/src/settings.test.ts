import { describe, expect, it } from 'vitest';
import { loadSettings, redact, UsageError } from 'singer-kit';
import { parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS } from './settings.js';

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
    for (const password of ['p/ss-word-9', 'p?ss@word-9', 'p#ss-word-9']) {
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
