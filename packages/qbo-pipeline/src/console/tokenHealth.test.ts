import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret } from 'singer-kit';
import { fingerprint } from 'tap-quickbooks';
import { readTokenHealth, tokenHealth } from './tokenHealth.js';

const DAY = 86_400_000;
const now = new Date('2025-06-01T00:00:00Z');
const stored = (hardInDays: number | undefined, rollingInDays = 100) => ({
  refresh_token: 'AB11-refresh-token-value-never-shown',
  access_token: 'eyJ-access-token-value-never-shown',
  access_token_expires_at: now.getTime() + 3_600_000,
  refresh_token_expires_at: now.getTime() + rollingInDays * DAY,
  ...(hardInDays === undefined ? {} : { refresh_token_hard_expires_at: now.getTime() + hardInDays * DAY }),
  seeded_from: 'abc',
  updated_at: '2025-05-31T23:00:00.000Z',
});

describe('tokenHealth', () => {
  it('gives dates and days only, never a token', () => {
    const health = tokenHealth('9130', '/s/tokens/9130.json', stored(400), now);
    expect(health).toMatchObject({
      realmId: '9130',
      level: 'ok',
      daysToHardExpiry: 400,
      daysToRefreshExpiry: 100,
      lastRefreshAt: '2025-05-31T23:00:00.000Z',
      hardExpiresAt: '2026-07-06T00:00:00.000Z',
    });
    expect(JSON.stringify(health)).not.toMatch(/never-shown/);
  });

  it('warns under 30 days to the soonest expiry, and asks to reconnect under 7 or after it', () => {
    expect(tokenHealth('1', 'f', stored(29), now)).toMatchObject({
      level: 'warn',
      advice: expect.stringMatching(/expires in 29 days \(QBO's 5-year limit\): reconnect the app to company 1/),
    });
    // The rolling expiry first: no reconnect needed, a run renews it.
    expect(tokenHealth('1', 'f', stored(400, 20), now)).toMatchObject({
      level: 'warn',
      advice: 'the refresh token expires in 20 days (unused for 100 days, it lapses): run a sync (any run of the tap renews it) before then',
    });
    expect(tokenHealth('1', 'f', stored(6), now)).toMatchObject({ level: 'error', advice: expect.stringMatching(/expires in 6 days/) });
    expect(tokenHealth('1', 'f', stored(-1), now)).toMatchObject({ level: 'error', advice: expect.stringMatching(/has expired/) });
    expect(tokenHealth('1', 'f', stored(undefined), now)).toMatchObject({
      level: 'ok',
      daysToHardExpiry: undefined,
      advice: expect.stringMatching(/has not said/),
    });
  });

  it('says the refresh token was rejected (invalid_grant) whatever its expiries, until a new chain starts', () => {
    const rejected = { ...stored(400), refresh_token_rejected_at: '2025-05-31T23:30:00.000Z', refresh_token_rejected_tid: 'tid-1' };
    expect(tokenHealth('1', 'f', rejected, now)).toMatchObject({
      level: 'error',
      advice:
        "QuickBooks rejected the refresh token at 2025-05-31 23:30:00Z (invalid_grant, intuit_tid tid-1): reconnect the app to company 1 and put the new refresh token in the tap's refresh_token setting",
    });
  });

  it('says a new refresh token configured for the realm waits for the next run, amber, without showing it or asking QuickBooks', () => {
    const rejected = { ...stored(400), refresh_token_rejected_at: '2025-05-31T23:30:00.000Z', refresh_token_rejected_tid: 'tid-1' };
    const where = 'its refresh_token_file secrets/acme (companies file c.yaml:3:5)';
    const configured = (token: string, realmId = '1') => ({ where, realmId, token: new Secret(token), savedAt: '2025-05-31T23:45:00.000Z' });
    const waiting = tokenHealth('1', 'f', rejected, now, configured('AB11-new-token-never-shown'));
    expect(waiting).toMatchObject({
      level: 'warn',
      newToken: { savedAt: '2025-05-31T23:45:00.000Z' },
      rejected: { tid: 'tid-1' },
      advice: `QuickBooks rejected the refresh token at 2025-05-31 23:30:00Z; a new refresh token was saved in ${where} at 2025-05-31 23:45:00Z, not used yet: the next run starts from it`,
    });
    expect(JSON.stringify(waiting)).not.toMatch(/never-shown/);
    // The token the rejected chain started from, or holds, is no new one; nor is another realm's.
    const sameSeed = { ...rejected, seeded_from: fingerprint('AB11-old-configured') };
    expect(tokenHealth('1', 'f', sameSeed, now, configured('AB11-old-configured'))).toMatchObject({
      level: 'error',
      advice: expect.stringMatching(/^QuickBooks rejected.*: reconnect the app/),
    });
    expect(tokenHealth('1', 'f', rejected, now, configured(rejected.refresh_token)).newToken).toBeUndefined();
    expect(tokenHealth('1', 'f', rejected, now, configured('AB11-new', '2')).level).toBe('error');
    // A reconnect ahead of the 5-year limit: the stored dates no longer count once the next run starts from it.
    expect(tokenHealth('1', 'f', stored(5), now, configured('AB11-new'))).toMatchObject({
      level: 'warn',
      advice: `a new refresh token was saved in ${where} at 2025-05-31 23:45:00Z, not used yet: the next run starts from it (the dates here are the stored token's)`,
    });
  });

  it('says a new refresh token QuickBooks already rejected is rejected, not waiting for the next run', () => {
    // The run that tried it kept the stored chain (still good, or rejected before) and noted the new token's refusal.
    const where = 'its refresh_token_file secrets/acme (companies file c.yaml:3:5)';
    const tried = { ...stored(400), new_token_rejected: { fingerprint: fingerprint('AB11-tried'), at: '2025-05-31T23:50:00.000Z', tid: 'tid-2' } };
    const configured = (token: string) => ({ where, realmId: '1', token: new Secret(token), savedAt: '2025-05-31T23:45:00.000Z' });
    const health = tokenHealth('1', 'f', tried, now, configured('AB11-tried'));
    expect(health).toMatchObject({
      level: 'error',
      rejected: { at: '2025-05-31T23:50:00.000Z', tid: 'tid-2' },
      advice: `QuickBooks rejected the refresh token at 2025-05-31 23:50:00Z (invalid_grant, intuit_tid tid-2): reconnect the app to company 1 and put the new refresh token in ${where}`,
    });
    expect(health.newToken).toBeUndefined();
    // Another new token after it waits for the next run, beside the refusal the last run met.
    expect(tokenHealth('1', 'f', tried, now, configured('AB11-next'))).toMatchObject({
      level: 'warn',
      newToken: {},
      rejected: { at: '2025-05-31T23:50:00.000Z', tid: 'tid-2' },
      advice: `QuickBooks rejected the refresh token at 2025-05-31 23:50:00Z; a new refresh token was saved in ${where} at 2025-05-31 23:45:00Z, not used yet: the next run starts from it`,
    });
  });

  it('reads every token store of a folder, reporting a damaged one without its content', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'token-health-'));
    try {
      expect(await readTokenHealth(path.join(dir, 'none'), now)).toEqual([]);
      await mkdir(path.join(dir, 'tokens.json.lock'));
      await writeFile(path.join(dir, '111.json'), JSON.stringify(stored(400)));
      await writeFile(path.join(dir, '222.json'), '{"refresh_token": "AB11-half-written-secret');
      const [good, bad] = await readTokenHealth(dir, now);
      expect(good).toMatchObject({ realmId: '111', level: 'ok' });
      expect(bad).toMatchObject({ realmId: '222', problem: expect.stringMatching(/is damaged/) });
      expect(JSON.stringify(bad)).not.toContain('half-written-secret');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
