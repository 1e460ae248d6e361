import { statSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCatalog } from 'qbo-catalog';
import { createLogger, Secret } from 'singer-kit';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { fingerprint, OAuthClient, QboClient, RateBudget, TokenStore, Transport } from 'tap-quickbooks';
import { catalogSelecting, recordsOf, runTapCli, tapSettings, tempDir, writeJson } from './tapHarness.js';
import { fatalLine } from './support/runProcess.js';

const NOW = '2025-03-10T12:00:00Z';

describe('tap-quickbooks authentication', () => {
  let emulator: Emulator;
  let dir: string;
  let catalog: string;
  let firstToken: string;
  const outputs: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      seed: 3,
      now: new Date(NOW),
      days: 2,
      counts: { terms: 3 },
      rotation: 'every-refresh',
      refreshTokenHardExpiresInSeconds: 10 * 86400,
    });
    dir = tempDir();
    catalog = writeJson(dir, 'catalog.json', catalogSelecting(discoverCatalog() as never, ['terms']));
    firstToken = emulator.currentRefreshToken();
  });
  afterAll(() => emulator?.close());

  const settings = (overrides: Record<string, unknown> = {}) =>
    tapSettings(emulator, dir, { refresh_token: firstToken, start_date: '2025-03-09', end_date: NOW, ...overrides });

  it('persists the rotated refresh token (0600) before use, and the next run uses it', async () => {
    const config = writeJson(dir, 'config.json', settings());
    const first = await runTapCli(['--config', config, '--catalog', catalog]);
    outputs.push(first.stdout, first.stderr);
    expect(first.code).toBe(0);
    const store = path.join(dir, 'tokens.json');
    expect(statSync(store).mode & 0o777).toBe(0o600);
    const rotated = JSON.parse(readFileSync(store, 'utf8')).refresh_token;
    expect(rotated).not.toBe(firstToken);
    expect(rotated).toBe(emulator.currentRefreshToken());
    expect(first.stderr).toMatch(/refresh token rotated; saved to/);

    // The config still holds the first (now dead) token: the store's newer one must win.
    const second = await runTapCli(['--config', config, '--catalog', catalog]);
    outputs.push(second.stdout, second.stderr);
    expect(second.code).toBe(0);
    expect(JSON.parse(readFileSync(store, 'utf8')).refresh_token).toBe(emulator.currentRefreshToken());
  });

  it('warns when the refresh token nears its hard expiry', () => {
    expect(outputs.join('\n')).toMatch(/WARN tap-quickbooks: the refresh token reaches its hard expiry in \d+ days; reconnect the app/);
  });

  it('serialises refreshes of two processes sharing one token store', async () => {
    const config = writeJson(dir, 'config.json', settings());
    const [a, b] = await Promise.all([runTapCli(['--config', config, '--catalog', catalog]), runTapCli(['--config', config, '--catalog', catalog])]);
    outputs.push(a.stdout, a.stderr, b.stdout, b.stderr);
    expect([a.code, b.code, a.stderr.match(/FATAL.*/)?.[0], b.stderr.match(/FATAL.*/)?.[0]]).toEqual([0, 0, undefined, undefined]);
  });

  it('exits 2 on invalid_grant telling the user to reconnect the app', async () => {
    const config = writeJson(dir, 'config-other-store.json', settings({ token_store: path.join(dir, 'elsewhere', 'tokens.json') }));
    const run = await runTapCli(['--config', config, '--catalog', catalog]);
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toMatch(
      /^FATAL tap-quickbooks: QuickBooks rejected the refresh token \(invalid_grant, intuit_tid \S+\): reconnect the app .* another process refreshed with this token first/,
    );
    expect(existsSync(path.join(dir, 'elsewhere', 'tokens.json'))).toBe(false);
  });

  it('a new refresh token QuickBooks rejects keeps the stored chain and notes the refusal (the console says it was tried)', async () => {
    const store = path.join(dir, 'tokens.json');
    const before = JSON.parse(readFileSync(store, 'utf8'));
    const config = writeJson(dir, 'config-bad-new-token.json', settings({ refresh_token: 'AB11-never-issued-by-qbo' }));
    const run = await runTapCli(['--config', config, '--catalog', catalog]);
    outputs.push(run.stdout, run.stderr);
    expect(run.code).toBe(2);
    const after = JSON.parse(readFileSync(store, 'utf8'));
    expect(after).toMatchObject({ refresh_token: before.refresh_token, seeded_from: before.seeded_from });
    expect(after.refresh_token_rejected_at).toBeUndefined();
    expect(after.new_token_rejected).toEqual({
      fingerprint: fingerprint('AB11-never-issued-by-qbo'),
      at: expect.stringMatching(/^\d{4}-/),
      tid: expect.stringMatching(/\S/),
    });
    expect(run.stderr).toContain(`intuit_tid ${after.new_token_rejected.tid}`);
  });

  it('a token store from another company app (e.g. a restarted emulator): 401, then invalid_grant, exit 2 with its FATAL line first', async () => {
    const other = await startEmulator({ seed: 4, now: new Date(NOW), days: 2 });
    try {
      // The store written by the first test holds tokens the other server never issued; a slow
      // rate keeps requests queued in the budget when the run stops, which once crashed the tap.
      const config = writeJson(dir, 'config-stale-store.json', {
        ...tapSettings(other, dir, { refresh_token: firstToken, start_date: '2025-03-09', end_date: NOW }),
        max_requests_per_minute: 30,
        max_concurrency: 4,
      });
      const run = await runTapCli(['--config', config]);
      outputs.push(run.stdout, run.stderr);
      expect(run.code).toBe(2);
      expect(run.stderr).not.toMatch(/AbortError|^\s+at /m);
      expect(run.stderr).toMatch(/^FATAL tap-quickbooks: QuickBooks rejected the refresh token \(invalid_grant/m);
    } finally {
      await other.close();
    }
  });

  it('answers a 401 with one refresh and one retry, counted as a retry', async () => {
    const store = new TokenStore(path.join(dir, 'inprocess.json'));
    const logger = createLogger('test', { sink: () => undefined });
    const transport = new Transport({ timeoutMs: 5000, userAgent: 'test', maxSockets: 2 });
    const retry = { maxRetries: 1, backoffMs: 10, throttleWaitMs: 10 };
    const auth = new OAuthClient({
      clientId: new Secret(emulator.clientId),
      clientSecret: new Secret(emulator.clientSecret),
      refreshToken: new Secret(emulator.currentRefreshToken()),
      tokenUrl: emulator.tokenUrl,
      realmId: emulator.realmId,
      store,
      transport,
      retry,
      logger,
    });
    const client = new QboClient({
      transport,
      auth,
      budget: new RateBudget({ requestsPerMinute: 100, maxInFlight: 2 }),
      retry,
      logger,
      baseUrl: emulator.baseUrl,
      realmId: emulator.realmId,
      minorVersion: 75,
      sandbox: false,
    });
    const stats = { attempts: 0, retries: 0 };
    await client.query('SELECT COUNT(*) FROM Term', stats);
    expect(auth.refreshes).toBe(1);
    emulator.expireAccessTokens();
    const { body } = await client.query('SELECT COUNT(*) FROM Term', stats);
    expect(JSON.parse(body).QueryResponse.totalCount).toBeGreaterThan(0);
    expect(auth.refreshes).toBe(2);
    expect(stats).toEqual({ attempts: 3, retries: 1 });
    transport.close();
  });

  it('two processes sharing a token store through a 401 storm: both finish, and each dead token is replaced by one refresh between them', async () => {
    const uses = 15;
    const storm = await startEmulator({ seed: 8, now: new Date(NOW), days: 3, counts: { invoices: 300 }, accessTokenMaxUses: uses, latencyMs: 10 });
    try {
      const invoices = writeJson(dir, 'catalog-invoices.json', catalogSelecting(discoverCatalog() as never, ['invoices']));
      const config = writeJson(
        dir,
        'config-storm.json',
        tapSettings(storm, dir, {
          token_store: path.join(dir, 'storm', 'tokens.json'),
          start_date: '2025-03-07',
          end_date: NOW,
          page_size: 10,
          max_concurrency: 5,
        }),
      );
      const [a, b] = await Promise.all([runTapCli(['--config', config, '--catalog', invoices]), runTapCli(['--config', config, '--catalog', invoices])]);
      outputs.push(a.stderr, b.stderr);
      expect([a.code, b.code, a.stderr.match(/FATAL.*/)?.[0], b.stderr.match(/FATAL.*/)?.[0]]).toEqual([0, 0, undefined, undefined]);
      const truth = storm.truth('invoices').length;
      for (const run of [a, b]) expect(new Set(recordsOf(run, 'invoices').map((r) => r.Id)).size).toBe(truth);
      const log = storm.requestLog();
      const data = log.filter((r) => r.kind !== 'token');
      const rejected = data.filter((r) => r.status === 401).length;
      const refreshes = log.filter((r) => r.kind === 'token').length;
      // Every token used up (uses successful requests each) was seen dead by a request, but perhaps the
      // last: how many requests were in flight at each death depends on timing, so that is not counted.
      const usedUp = Math.floor((data.length - rejected) / uses);
      expect(usedUp).toBeGreaterThan(2);
      expect(rejected).toBeGreaterThanOrEqual(usedUp - 1);
      // The first refresh, then one per token used up (the other process adopts it from the store).
      expect(refreshes).toBeLessThanOrEqual(2 + usedUp);
    } finally {
      await storm.close();
    }
  });

  it('exits 2 when two newly issued access tokens in a row die on their very first request, naming intuit_tid, token age and uses', async () => {
    emulator.setAccessTokenMaxUses(0);
    try {
      const fresh = settings({ refresh_token: emulator.currentRefreshToken(), token_store: path.join(dir, 'first-use', 'tokens.json') });
      const run = await runTapCli(['--config', writeJson(dir, 'config-first-use.json', fresh), '--catalog', catalog]);
      outputs.push(run.stdout, run.stderr);
      expect(run.code).toBe(2);
      expect(fatalLine(run.stderr)).toMatch(
        /^FATAL tap-quickbooks: QuickBooks rejected 2 newly issued access tokens in a row on their very first request \(HTTP 401; intuit_tid [0-9a-f-]{36}, token \d+\.\d s old, \d+ requests? made with it; intuit_tid [0-9a-f-]{36}, token \d+\.\d s old, \d+ requests? made with it\): .*check that base_url \(or sandbox\) and token_url belong together/,
      );
      expect(recordsOf(run, 'terms')).toEqual([]);
    } finally {
      emulator.setAccessTokenMaxUses(undefined);
    }
  });

  it('never prints a secret or token', () => {
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of [emulator.clientSecret, firstToken, emulator.currentRefreshToken()]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/eyJlbmMi/); // the emulator's access tokens start like this
  });
});
