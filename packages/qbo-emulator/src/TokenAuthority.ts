import { randomBytes } from 'node:crypto';

export type RotationMode = 'every-refresh' | { readonly everyHours: number };

export interface TokenOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  readonly accessTokenTtlSeconds: number;
  readonly rotation: RotationMode;
  /** When set, refresh tokens die this many seconds after the consent (the emulator's start, or the last `reconnect`), and responses say so. */
  readonly refreshTokenHardExpiresInSeconds?: number;
  /**
   * Fault: each access token dies after this many API requests made with it (the next one gets
   * 401, and so do requests already in flight that arrive later), as when another process of the
   * app invalidates tokens mid-run. Unset: tokens live their whole lifetime.
   */
  readonly accessTokenMaxUses?: number | undefined;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

export interface TokenResponse {
  readonly status: number;
  readonly body: Readonly<Record<string, string | number>>;
}

/** Rolling refresh-token lifetime QBO reports (about 101 days). */
const REFRESH_TOKEN_EXPIRES_IN = 8726400;

const invalidGrant: TokenResponse = { status: 400, body: { error_description: 'Incorrect or invalid refresh token', error: 'invalid_grant' } };

const newRefreshToken = (): string => `AB11${Date.now()}${randomBytes(18).toString('base64url')}`;
const newAccessToken = (): string => `eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..${randomBytes(32).toString('base64url')}`;

/**
 * QBO's OAuth 2.0 token endpoint behaviour: refresh-token grant only, client credentials by
 * HTTP Basic or in the form, rotating refresh tokens whose superseded values die at once
 * (`invalid_grant`), and access tokens that expire.
 */
export class TokenAuthority {
  #refresh: { value: string; issuedAt: number };
  readonly #accessTokens = new Map<string, { readonly expiresAt: number; uses: number; dead: boolean }>();
  /** The consent the refresh-token chain comes from: the hard expiry counts from it. */
  #consentAt: number;
  #maxUses: number | undefined;
  #revoked = false;

  constructor(private readonly options: TokenOptions) {
    this.#consentAt = options.now();
    this.#refresh = { value: options.refreshToken, issuedAt: this.#consentAt };
    this.setAccessTokenMaxUses(options.accessTokenMaxUses);
  }

  /** The fault of `TokenOptions.accessTokenMaxUses`, from now on (undefined turns it off). */
  setAccessTokenMaxUses(uses: number | undefined): void {
    if (uses !== undefined && !(Number.isInteger(uses) && uses >= 0)) throw new RangeError(`access token max uses must be a whole number >= 0, got ${uses}`);
    this.#maxUses = uses;
  }

  currentRefreshToken(): string {
    return this.#refresh.value;
  }

  /** Every access token issued so far is expired from now on. */
  expireAccessTokens(): void {
    this.#accessTokens.clear();
  }

  /** The company disconnected the app: the refresh token chain and every access token die. */
  revoke(): void {
    this.#revoked = true;
    this.#accessTokens.clear();
  }

  /** The company connects the app again (OAuth consent): a new chain starts with a new refresh token, and a new hard expiry. */
  reconnect(): string {
    this.#revoked = false;
    this.#consentAt = this.options.now();
    this.#refresh = { value: newRefreshToken(), issuedAt: this.#consentAt };
    return this.#refresh.value;
  }

  /** Handles `POST /oauth2/v1/tokens/bearer` (form already parsed). */
  refresh(form: URLSearchParams, authorization: string | undefined): TokenResponse {
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      id = decoded.slice(0, colon);
      secret = decoded.slice(colon + 1);
    }
    if (id !== this.options.clientId || secret !== this.options.clientSecret) return { status: 401, body: { error: 'invalid_client' } };
    if (form.get('grant_type') !== 'refresh_token') return { status: 400, body: { error: 'unsupported_grant_type' } };
    const presented = form.get('refresh_token');
    if (!presented) return { status: 400, body: { error: 'invalid_request' } };
    if (this.#revoked || presented !== this.#refresh.value) return invalidGrant;
    const now = this.options.now();
    const hard = this.options.refreshTokenHardExpiresInSeconds;
    const hardLeft = hard === undefined ? undefined : Math.floor((this.#consentAt + hard * 1000 - now) / 1000);
    if (hardLeft !== undefined && hardLeft <= 0) return invalidGrant;

    const rotation = this.options.rotation;
    const rotate = rotation === 'every-refresh' || now - this.#refresh.issuedAt >= rotation.everyHours * 3600 * 1000;
    if (rotate) this.#refresh = { value: newRefreshToken(), issuedAt: now };
    const access = newAccessToken();
    this.#accessTokens.set(access, { expiresAt: now + this.options.accessTokenTtlSeconds * 1000, uses: 0, dead: false });
    return {
      status: 200,
      body: {
        token_type: 'bearer',
        expires_in: this.options.accessTokenTtlSeconds,
        refresh_token: this.#refresh.value,
        x_refresh_token_expires_in: REFRESH_TOKEN_EXPIRES_IN,
        access_token: access,
        ...(hardLeft === undefined ? {} : { x_refresh_token_hard_expires_in: hardLeft }),
      },
    };
  }

  /** Undefined when the bearer is valid, else the 401 detail (never echoing the token). Each call is one use. */
  checkBearer(authorization: string | undefined): string | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return 'Malformed bearer token: too short or too long';
    const token = this.#accessTokens.get(m[1] as string);
    if (token === undefined) return 'Token invalid';
    token.uses += 1;
    // A token the fault killed stays dead, as an invalidated token does.
    if (this.#maxUses !== undefined && token.uses > this.#maxUses) token.dead = true;
    if (token.dead || this.options.now() >= token.expiresAt) return 'Token expired';
    return undefined;
  }
}
