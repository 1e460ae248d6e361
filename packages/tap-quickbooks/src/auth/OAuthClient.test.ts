import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, RunError, Secret, UsageError } from 'singer-kit';
import { QboClient } from '../http/QboClient.js';
import { RateBudget } from '../http/RateBudget.js';
import type { RawRequest, RawResponse, RequestSender } from '../http/Transport.js';
import { OAuthClient } from './OAuthClient.js';
import { TokenStore } from './TokenStore.js';

const dir = mkdtempSync(path.join(tmpdir(), 'oauth-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let stores = 0;
/**
 * Secrets go into singer-kit's process-wide redaction list, which other test files share when
 * vitest runs them in one process (the unit project, isolate: false): values no other text
 * contains, so no other file's message is redacted by them (a plain "secret" was, mid-word).
 */
const CLIENT_SECRET = 'oauth-test-client-secret-value';
const REFRESH_TOKEN = 'oauth-test-refresh-token-value';

const answer = (status: number, body: unknown, tid: string): RawResponse => {
  const bytes = Buffer.from(JSON.stringify(body));
  return { status, bytes, body: bytes.toString('utf8'), headers: {}, tid };
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A token endpoint and a data API in memory: each access token works for `maxUses` requests;
 * a 401 comes back at once, a 200 after `okDelayMs` (so 401s can overtake earlier successes).
 */
function fakeQbo(options: { maxUses: number; okDelayMs?: number }): RequestSender & { refreshes: number; rejected: number } {
  const uses = new Map<string, number>();
  let tid = 0;
  const fake = {
    refreshes: 0,
    rejected: 0,
    async send(request: RawRequest): Promise<RawResponse> {
      tid += 1;
      if (request.method === 'POST') {
        fake.refreshes += 1;
        const access = `access-${fake.refreshes}`;
        uses.set(access, 0);
        return answer(200, { access_token: access, refresh_token: REFRESH_TOKEN, expires_in: 3600 }, `t${tid}`);
      }
      const bearer = String(request.headers?.Authorization).replace('Bearer ', '');
      const used = (uses.get(bearer) ?? Infinity) + 1;
      uses.set(bearer, used);
      if (used > options.maxUses) {
        fake.rejected += 1;
        return answer(401, { fault: { error: [{ code: '3200', detail: 'Token expired' }] } }, `t${tid}`);
      }
      await pause(options.okDelayMs ?? 0);
      return answer(200, { QueryResponse: { totalCount: 1 } }, `t${tid}`);
    },
  };
  return fake;
}

function clients(transport: RequestSender, maxRetries = 5) {
  const logger = createLogger('test', { sink: () => undefined });
  const retry = { maxRetries, backoffMs: 1, throttleWaitMs: 1 };
  const auth = new OAuthClient({
    clientId: new Secret('id'),
    clientSecret: new Secret(CLIENT_SECRET),
    refreshToken: new Secret(REFRESH_TOKEN),
    tokenUrl: 'http://qbo.test/token',
    realmId: '123',
    store: new TokenStore(path.join(dir, `tokens-${++stores}.json`)),
    transport,
    retry,
    logger,
  });
  const retries: string[] = [];
  const budget = new RateBudget({ requestsPerMinute: 1_000_000, maxInFlight: 10 });
  const client = new QboClient({
    transport,
    auth,
    budget,
    retry,
    logger,
    baseUrl: 'http://qbo.test',
    realmId: '123',
    minorVersion: 75,
    sandbox: false,
    onRetry: (r) => retries.push(r),
  });
  return { auth, client, retries };
}

describe('401 storms: one replacement per dying token', () => {
  it('ten requests in flight when the token dies share one refresh, and every request succeeds', async () => {
    const qbo = fakeQbo({ maxUses: 25, okDelayMs: 2 });
    const { auth, client, retries } = clients(qbo);
    const stats = { attempts: 0, retries: 0 };
    await Promise.all(Array.from({ length: 100 }, () => client.query('SELECT COUNT(*) FROM Term', stats)));
    expect(qbo.rejected).toBeGreaterThan(0);
    // 100 requests at 25 per token: 4 tokens would do; each death costs at most one refresh.
    expect(auth.refreshes).toBe(qbo.refreshes);
    expect(qbo.refreshes).toBeGreaterThanOrEqual(4);
    expect(qbo.refreshes).toBeLessThanOrEqual(6);
    expect(stats.retries).toBe(qbo.rejected);
    expect(stats.attempts).toBe(100 + qbo.rejected);
    expect(retries.every((r) => r === 'unauthorized')).toBe(true);
  });

  it('tokens dying faster than requests are answered (401s overtaking the successes) are not mistaken for bad configuration', async () => {
    const qbo = fakeQbo({ maxUses: 3, okDelayMs: 15 });
    const { client } = clients(qbo, 20);
    const stats = { attempts: 0, retries: 0 };
    await Promise.all(Array.from({ length: 30 }, () => client.query('SELECT COUNT(*) FROM Term', stats)));
    expect(qbo.rejected).toBeGreaterThan(5);
  });

  it('exits 2 (UsageError) when two newly issued tokens in a row are rejected on their very first request, naming the evidence', async () => {
    const qbo = fakeQbo({ maxUses: 0 });
    const { auth, client } = clients(qbo);
    const error = await client.query('SELECT COUNT(*) FROM Term', { attempts: 0, retries: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(
      /^QuickBooks rejected 2 newly issued access tokens in a row on their very first request \(HTTP 401; intuit_tid t\d+, token \d+\.\d s old, 1 request made with it; intuit_tid t\d+, token \d+\.\d s old, 1 request made with it\): .*base_url/,
    );
    expect(auth.refreshes).toBe(2);
  });

  it('retries a 401 only as often as max_retries allows, then fails as a run-time error (exit 1) naming the evidence', async () => {
    // Each token serves one request: of three in flight, one gets through per token.
    const qbo = fakeQbo({ maxUses: 1, okDelayMs: 5 });
    const { client } = clients(qbo, 1);
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => client.query('SELECT COUNT(*) FROM Term', { attempts: 0, retries: 0 })));
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const error = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(RunError);
    expect(error.message).toMatch(
      /^query "SELECT COUNT\(\*\) FROM Term" failed after 2 attempts: HTTP 401 each time, with a new access token after each \(last: intuit_tid t\d+, token \d+\.\d s old, 2 requests made with it\); .* running again resumes$/,
    );
  });
});
