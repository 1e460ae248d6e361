import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, RunError } from 'singer-kit';
import { Connection, RETRY_NOTICE_MS } from './Connection.js';

afterEach(() => vi.useRealTimers());

describe('Connection retrying a database nobody listens for (a mistyped port, one still starting)', () => {
  it('says so once with where, why, and for how long, then at most once per 30 s, then fails in one line', async () => {
    // The clock moves only by the waits between attempts, so two minutes of retrying take an instant.
    vi.useFakeTimers({ toFake: ['Date'] });
    const logged: string[] = [];
    const reconnectTimeoutMs = 120_000;
    const connection = new Connection({
      // Port 1 of the loopback: nothing listens there, every attempt is refused at once.
      settings: { host: '127.0.0.1', port: 1, user: 'loader', database: 'warehouse', sslmode: 'disable', connectTimeoutMs: 5_000, queryTimeoutMs: 5_000 },
      reconnectTimeoutMs,
      logger: createLogger('target-postgres-raw', { sink: (line) => logged.push(line) }),
      prepareSession: async () => undefined,
      sleep: async (ms) => {
        vi.setSystemTime(Date.now() + ms);
      },
    });
    const failed = await connection.run('starting', async () => 'never').catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(RunError);
    expect((failed as RunError).message).toMatch(
      /^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/warehouse as loader: connection refused \(connect ECONNREFUSED 127\.0\.0\.1:1 \[ECONNREFUSED\]\); still failing after 120 s of retrying \(reconnect_timeout_seconds 120 s\)/,
    );
    expect(logged[0]).toBe(
      'WARN target-postgres-raw: cannot connect to PostgreSQL at 127.0.0.1:1/warehouse as loader: connection refused (connect ECONNREFUSED 127.0.0.1:1 [ECONNREFUSED]); reconnecting for up to 120 s (reconnect_timeout_seconds), saying so every 30 s until it works',
    );
    // About 16 attempts (0.5 s doubling to 10 s): a line for the first, then one per 30 s at most.
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(logged.length).toBeLessThanOrEqual(1 + reconnectTimeoutMs / RETRY_NOTICE_MS);
    for (const line of logged.slice(1)) {
      expect(line).toMatch(
        /^WARN target-postgres-raw: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/warehouse as loader: connection refused \(.*\); still reconnecting after [\d.]+ s \(attempt \d+, giving up in [\d.]+ s\)$/,
      );
    }
    // In whole tenths of a second, as the lines print them: 32.3 * 1000 - 2.3 * 1000 is 29999.999999999996 in floating point.
    const after = logged.slice(1).map((line) => Math.round(Number(/after ([\d.]+) s/.exec(line)?.[1]) * 10) * 100);
    after.forEach((ms, i) => expect(ms - (after[i - 1] ?? 0)).toBeGreaterThanOrEqual(RETRY_NOTICE_MS));
  });
});
