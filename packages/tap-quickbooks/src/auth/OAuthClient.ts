import { RunError, Secret, UsageError, registerSecret, type Logger } from 'singer-kit';
import { parseFault } from '../http/qboErrors.js';
import { decideRetry, type AttemptOutcome, type RetryOptions } from '../http/retryPolicy.js';
import { TransportError, type AccessTokenSource, type RawResponse, type Transport } from '../http/QboClient.js';
import { fingerprint, type StoredTokens, type TokenStore } from './TokenStore.js';

export interface OAuthClientOptions {
  readonly clientId: Secret;
  readonly clientSecret: Secret;
  /** The configured refresh token; the token store's newer one wins once present. */
  readonly refreshToken: Secret;
  readonly tokenUrl: string;
  readonly realmId: string;
  readonly store: TokenStore;
  readonly transport: Transport;
  readonly retry: RetryOptions;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const DAY_MS = 86_400_000;
/** Warn when the refresh token's absolute (5-year) expiry is this close. */
export const HARD_EXPIRY_WARNING_MS = 30 * DAY_MS;
const MAX_REFRESH_MARGIN_MS = 5 * 60_000;

interface Current {
  readonly accessToken: Secret;
  readonly expiresAt: number;
  readonly margin: number;
}

/**
 * Access tokens for one realm. Refreshes at start and before expiry; every refresh holds the
 * realm's token-store lock, and the rotated refresh token is on disk before the new access
 * token is used. Within a process concurrent callers share one refresh.
 */
export class OAuthClient implements AccessTokenSource {
  readonly #o: OAuthClientOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #current: Current | undefined;
  #refreshing: Promise<Secret> | undefined;
  refreshes = 0;

  constructor(options: OAuthClientOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async accessToken(): Promise<Secret> {
    const current = this.#current;
    if (current && current.expiresAt - current.margin > this.#now()) return current.accessToken;
    return this.#refresh(undefined);
  }

  async refreshAfterRejection(rejected: Secret): Promise<Secret> {
    const current = this.#current;
    if (current && current.accessToken.reveal() !== rejected.reveal()) return current.accessToken;
    return this.#refresh(rejected);
  }

  #refresh(rejected: Secret | undefined): Promise<Secret> {
    this.#refreshing ??= this.#o.store
      .withLock(() => this.#refreshLocked(rejected))
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  async #refreshLocked(rejected: Secret | undefined): Promise<Secret> {
    const o = this.#o;
    const configured = o.refreshToken.reveal();
    const configuredPrint = fingerprint(configured);
    const stored = await o.store.read();
    // The store continues the configured token's chain of rotations; a different configured
    // token means the user reconnected the app, and the new chain starts from it.
    const chain = stored && (stored.seeded_from === configuredPrint || fingerprint(stored.refresh_token) === configuredPrint) ? stored : undefined;
    if (stored && !chain) o.logger.info(`refresh_token in the settings is new; starting a new chain in ${o.store.file}`);
    if (chain?.access_token && chain.access_token_expires_at !== undefined && chain.access_token !== rejected?.reveal()) {
      // Another process refreshed moments ago: reuse its access token instead of rotating again.
      const margin = Math.min(MAX_REFRESH_MARGIN_MS, (chain.access_token_expires_at - this.#now()) / 4);
      if (chain.access_token_expires_at - this.#now() > Math.max(margin, 10_000)) {
        return this.#adopt(new Secret(chain.access_token), chain.access_token_expires_at, margin);
      }
    }
    const refreshToken = chain?.refresh_token ?? configured;
    const response = await this.#post(refreshToken);
    const body = this.#parseTokenResponse(response);
    const now = this.#now();
    const expiresInMs = body.expires_in * 1000;
    const tokens: StoredTokens = {
      refresh_token: body.refresh_token,
      access_token: body.access_token,
      access_token_expires_at: now + expiresInMs,
      ...(body.x_refresh_token_expires_in !== undefined ? { refresh_token_expires_at: now + body.x_refresh_token_expires_in * 1000 } : {}),
      ...(body.x_refresh_token_hard_expires_in !== undefined ? { refresh_token_hard_expires_at: now + body.x_refresh_token_hard_expires_in * 1000 } : {}),
      seeded_from: chain?.seeded_from ?? configuredPrint,
      updated_at: new Date(now).toISOString(),
    };
    // Persist before use: if the process dies right after, the next run has the rotated token.
    await o.store.write(tokens);
    this.refreshes += 1;
    if (body.refresh_token !== refreshToken) o.logger.info(`refresh token rotated; saved to ${o.store.file}`);
    this.#warnExpiry(body.x_refresh_token_hard_expires_in);
    return this.#adopt(new Secret(body.access_token), now + expiresInMs, Math.min(MAX_REFRESH_MARGIN_MS, expiresInMs / 4));
  }

  #adopt(token: Secret, expiresAt: number, margin: number): Secret {
    this.#current = { accessToken: token, expiresAt, margin };
    return token;
  }

  #warnExpiry(hardExpiresInSeconds: number | undefined): void {
    if (hardExpiresInSeconds === undefined) return;
    const ms = hardExpiresInSeconds * 1000;
    if (ms < HARD_EXPIRY_WARNING_MS) {
      this.#o.logger.warn(`the refresh token reaches its hard expiry in ${Math.max(0, Math.floor(ms / DAY_MS))} days; reconnect the app to company ${this.#o.realmId} before then`);
    }
  }

  async #post(refreshToken: string): Promise<RawResponse> {
    const o = this.#o;
    const basic = Buffer.from(`${o.clientId.reveal()}:${o.clientSecret.reveal()}`).toString('base64');
    for (let attempt = 1; ; attempt++) {
      let response: RawResponse | undefined;
      let outcome: AttemptOutcome;
      try {
        response = await o.transport.send({
          method: 'POST',
          url: o.tokenUrl,
          headers: {
            Authorization: `Basic ${basic}`,
            Accept: 'application/json',
            'Content-Type': 'application/x-www-form-urlencoded',
            'x-include-refresh-token-hard-expires-in': 'true',
          },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
        });
        outcome = { kind: 'http', status: response.status, retryAfter: response.headers['retry-after'] };
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        outcome = error.outcome;
      }
      if (response && response.status < 300) return response;
      this.#failOnGrantError(response);
      const decision = decideRetry(outcome, attempt, o.retry, Math.random(), this.#now());
      if (!decision.retry) {
        const cause = response ? `HTTP ${response.status} ${response.body.slice(0, 200)}` : outcome.kind === 'network' ? `network error ${outcome.code}` : 'timeout';
        throw new RunError(`token refresh at ${o.tokenUrl} failed after ${attempt} attempts: ${cause} (intuit_tid ${response?.tid ?? 'none'})`);
      }
      o.logger.warn(`token refresh: ${response ? `HTTP ${response.status}` : outcome.kind}; retry ${attempt}/${o.retry.maxRetries} in ${(decision.delayMs / 1000).toFixed(1)} s`);
      await this.#sleep(decision.delayMs);
    }
  }

  #failOnGrantError(response: RawResponse | undefined): void {
    if (!response || (response.status !== 400 && response.status !== 401)) return;
    const fault = parseFault(response.body);
    const tid = `intuit_tid ${response.tid ?? 'none'}`;
    if (fault?.code === 'invalid_grant') {
      throw new UsageError(
        `QuickBooks rejected the refresh token (invalid_grant, ${tid}): reconnect the app to company ${this.#o.realmId} and set the new refresh_token; ` +
          `if another process refreshed with this token first (a second tap run without the shared token store ${this.#o.store.file}), it has been superseded`,
      );
    }
    if (fault?.code === 'invalid_client' || response.status === 401) {
      throw new UsageError(`QuickBooks rejected the client credentials (${fault?.code ?? `HTTP ${response.status}`}, ${tid}): check client_id and client_secret (sandbox and production apps have different keys)`);
    }
  }

  #parseTokenResponse(response: RawResponse): { access_token: string; refresh_token: string; expires_in: number; x_refresh_token_expires_in?: number; x_refresh_token_hard_expires_in?: number } {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(response.body) as Record<string, unknown>;
    } catch {
      throw new RunError(`token endpoint ${this.#o.tokenUrl} answered HTTP ${response.status} with a body that is not JSON (intuit_tid ${response.tid ?? 'none'})`);
    }
    const access = body.access_token;
    const refresh = body.refresh_token;
    if (typeof access !== 'string' || typeof refresh !== 'string') {
      throw new RunError(`token endpoint ${this.#o.tokenUrl} answered without access_token/refresh_token (intuit_tid ${response.tid ?? 'none'})`);
    }
    // Register before anything could log them.
    registerSecret(access);
    registerSecret(refresh);
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    return {
      access_token: access,
      refresh_token: refresh,
      expires_in: num(body.expires_in) ?? 3600,
      ...(num(body.x_refresh_token_expires_in) !== undefined ? { x_refresh_token_expires_in: num(body.x_refresh_token_expires_in)! } : {}),
      ...(num(body.x_refresh_token_hard_expires_in) !== undefined ? { x_refresh_token_hard_expires_in: num(body.x_refresh_token_hard_expires_in)! } : {}),
    };
  }
}
