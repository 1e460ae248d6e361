import { describe, expect, it } from 'vitest';
import { TokenAuthority, type TokenOptions } from './TokenAuthority.js';

function authority(overrides: Partial<TokenOptions> = {}) {
  let now = Date.parse('2025-03-01T00:00:00Z');
  const tokens = new TokenAuthority({
    clientId: 'id',
    clientSecret: 'secret',
    refreshToken: 'RT0',
    accessTokenTtlSeconds: 60,
    rotation: 'every-refresh',
    now: () => now,
    ...overrides,
  });
  const basic = `Basic ${Buffer.from('id:secret').toString('base64')}`;
  const refresh = (token: string, auth: string | undefined = basic, extra: Record<string, string> = {}) =>
    tokens.refresh(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, ...extra }), auth);
  return { tokens, refresh, advance: (ms: number) => (now += ms) };
}

describe('TokenAuthority', () => {
  it('rotates on every refresh and rejects the superseded token with invalid_grant', () => {
    const { tokens, refresh } = authority();
    const first = refresh('RT0');
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe('RT0');
    expect(tokens.currentRefreshToken()).toBe(first.body.refresh_token);
    expect(refresh('RT0')).toEqual({ status: 400, body: { error_description: 'Incorrect or invalid refresh token', error: 'invalid_grant' } });
    expect(refresh(String(first.body.refresh_token)).status).toBe(200);
  });

  it('keeps the same refresh token within the rotation period', () => {
    const { refresh, advance } = authority({ rotation: { everyHours: 24 } });
    expect(refresh('RT0').body.refresh_token).toBe('RT0');
    advance(24 * 3600_000);
    const rotated = refresh('RT0').body.refresh_token;
    expect(rotated).not.toBe('RT0');
    expect(refresh('RT0').status).toBe(400);
  });

  it('accepts credentials in the form body, and answers invalid_client for wrong ones', () => {
    const { refresh } = authority();
    expect(refresh('RT0', undefined, { client_id: 'id', client_secret: 'secret' }).status).toBe(200);
    expect(refresh('x', `Basic ${Buffer.from('id:wrong').toString('base64')}`)).toEqual({ status: 401, body: { error: 'invalid_client' } });
  });

  it('expires access tokens after their lifetime and on demand', () => {
    const { tokens, refresh, advance } = authority();
    const access = `Bearer ${refresh('RT0').body.access_token}`;
    expect(tokens.checkBearer(access)).toBeUndefined();
    advance(60_000);
    expect(tokens.checkBearer(access)).toBe('Token expired');
    expect(tokens.checkBearer('Bearer nope')).toBe('Token invalid');
    expect(tokens.checkBearer(undefined)).toMatch(/Malformed/);
    const again = `Bearer ${refresh(tokens.currentRefreshToken()).body.access_token}`;
    tokens.expireAccessTokens();
    expect(tokens.checkBearer(again)).toBe('Token invalid');
  });

  it('reports and enforces a hard expiry', () => {
    const { tokens, refresh, advance } = authority({ refreshTokenHardExpiresInSeconds: 100 });
    expect(refresh('RT0').body.x_refresh_token_hard_expires_in).toBe(100);
    advance(100_000);
    expect(refresh(tokens.currentRefreshToken()).body.error).toBe('invalid_grant');
    // A reconnect is a new consent: its chain has the whole hard expiry again.
    advance(40_000);
    expect(refresh(tokens.reconnect()).body.x_refresh_token_hard_expires_in).toBe(100);
  });

  it('with a max-uses fault, each access token dies after N requests; a new one lives its own N', () => {
    const { tokens, refresh } = authority({ accessTokenMaxUses: 2 });
    const first = `Bearer ${refresh('RT0').body.access_token}`;
    expect([tokens.checkBearer(first), tokens.checkBearer(first), tokens.checkBearer(first), tokens.checkBearer(first)]).toEqual([
      undefined,
      undefined,
      'Token expired',
      'Token expired',
    ]);
    const second = `Bearer ${refresh(tokens.currentRefreshToken()).body.access_token}`;
    expect(tokens.checkBearer(second)).toBeUndefined();
    tokens.setAccessTokenMaxUses(0);
    expect(tokens.checkBearer(second)).toBe('Token expired');
    tokens.setAccessTokenMaxUses(undefined);
    expect(tokens.checkBearer(second)).toBe('Token expired'); // dead stays dead
    const third = `Bearer ${refresh(tokens.currentRefreshToken()).body.access_token}`;
    for (let i = 0; i < 10; i++) expect(tokens.checkBearer(third)).toBeUndefined();
    expect(() => tokens.setAccessTokenMaxUses(-1)).toThrow(RangeError);
  });

  it('revoked, the chain and its access tokens die until the company reconnects the app', () => {
    const { tokens, refresh } = authority();
    const first = refresh('RT0');
    const access = `Bearer ${first.body.access_token}`;
    tokens.revoke();
    expect(tokens.checkBearer(access)).toBe('Token invalid');
    expect(refresh(String(first.body.refresh_token)).body.error).toBe('invalid_grant');
    const fresh = tokens.reconnect();
    expect(fresh).not.toBe(first.body.refresh_token);
    expect(refresh(String(first.body.refresh_token)).body.error).toBe('invalid_grant');
    expect(refresh(fresh).status).toBe(200);
  });
});
