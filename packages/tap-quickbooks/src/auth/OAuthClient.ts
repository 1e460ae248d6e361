import path from 'node:path';
import { holdingExit, jsonSyntaxProblem, RunError, Secret, UsageError, registerSecret, type Logger } from 'singer-kit';
import { describeGarbled, objectBodyProblem } from '../http/GarbledBody.js';
import { parseFault } from '../http/qboErrors.js';
import type { RetryOptions } from '../http/retryPolicy.js';
import { sendWithRetries } from '../http/sendWithRetries.js';
import { sleep } from '../http/sleep.js';
import type { RawResponse, RequestSender } from '../http/Transport.js';
import { AccessToken, type AccessTokenSource } from './AccessToken.js';

/**
 * Where the tap, which knows only its settings, says a new refresh token goes after invalid_grant.
 * qbo-pipeline, which knows a company's refresh_token_file, puts that in its place.
 */
export const SET_NEW_REFRESH_TOKEN = 'set the new refresh_token';
import { continuesChain, fingerprint, type ReservedTokenWrite, type StoredTokens, type TokenStore } from './TokenStore.js';

export interface OAuthClientOptions {
  readonly clientId: Secret;
  readonly clientSecret: Secret;
  /** The configured refresh token; the token store's newer one wins once present. */
  readonly refreshToken: Secret;
  readonly tokenUrl: string;
  readonly realmId: string;
  readonly store: TokenStore;
  readonly transport: RequestSender;
  readonly retry: RetryOptions;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const DAY_MS = 86_400_000;
/** Warn when the refresh token's absolute (5-year) expiry is this close. */
export const HARD_EXPIRY_WARNING_MS = 30 * DAY_MS;
const MAX_REFRESH_MARGIN_MS = 5 * 60_000;
/** Newly issued tokens rejected on their very first request, in a row, before the tap calls it a configuration problem. */
const DEAD_ON_ARRIVAL_LIMIT = 2;

/** The token endpoint refused the refresh token (`invalid_grant`): only a reconnected app helps (exit 2). */
class RefreshTokenRejectedError extends UsageError {
  readonly tid: string;

  constructor(message: string, tid: string) {
    super(message);
    this.tid = tid;
  }
}

/** The token endpoint's answer, as the tap keeps it. */
interface TokenAnswer {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly expires_in: number;
  readonly x_refresh_token_expires_in?: number;
  readonly x_refresh_token_hard_expires_in?: number;
}

interface Current {
  readonly token: AccessToken;
  readonly margin: number;
}

/**
 * Access tokens for one realm. Refreshes at start and before expiry; every refresh holds the
 * realm's token-store lock, and the rotated refresh token is on disk before the new access
 * token is used. A token rejected with 401 is replaced once for every request that saw it die:
 * within a process they share one refresh, and another process that already refreshed under the
 * lock hands its new token over through the store.
 */
export class OAuthClient implements AccessTokenSource {
  readonly #o: OAuthClientOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #current: Current | undefined;
  #refreshing: Promise<AccessToken> | undefined;
  readonly #replacements = new WeakMap<AccessToken, Promise<AccessToken>>();
  /** Access tokens seen rejected: never adopted from the store again. */
  readonly #rejected = new Set<string>();
  /** Evidence of the newly issued tokens rejected on their very first request, in a row. */
  #deadOnArrival: string[] = [];
  refreshes = 0;

  constructor(options: OAuthClientOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? sleep;
  }

  async accessToken(): Promise<AccessToken> {
    const current = this.#current;
    if (current) {
      const replacing = this.#replacements.get(current.token);
      if (replacing) return replacing;
      if (current.token.expiresAt - current.margin > this.#now()) return current.token;
    }
    return this.#refresh();
  }

  replaceRejected(token: AccessToken, tid: string | undefined): Promise<AccessToken> {
    let replacing = this.#replacements.get(token);
    if (!replacing) {
      replacing = this.#replace(token, tid);
      this.#replacements.set(token, replacing);
    }
    return replacing;
  }

  async #replace(token: AccessToken, tid: string | undefined): Promise<AccessToken> {
    this.#rejected.add(token.secret.reveal());
    // An older token: the current one (or its replacement) is the answer.
    if (this.#current?.token !== token) return this.accessToken();
    if (token.issuedHere) {
      // Whether its very first request got through tells a dying token (used up, expired,
      // invalidated mid-run: refresh and go on) from tokens that never work (configuration).
      const first = await token.firstAnswer();
      if (first.status === 401) this.#deadOnArrival.push(token.describe(this.#now(), first.tid));
      else this.#deadOnArrival = [];
      if (this.#deadOnArrival.length >= DEAD_ON_ARRIVAL_LIMIT) {
        throw new UsageError(
          `QuickBooks rejected ${this.#deadOnArrival.length} newly issued access tokens in a row on their very first request (HTTP 401; ${this.#deadOnArrival.join('; ')}): ` +
            `the API does not accept the tokens ${this.#o.tokenUrl} issues for company ${this.#o.realmId}; check that base_url (or sandbox) and token_url belong together, and reconnect the app to company ${this.#o.realmId} if it was disconnected`,
        );
      }
    }
    this.#o.logger.info(`access token rejected (HTTP 401; ${token.describe(this.#now(), tid)}); refreshing`);
    const next = await this.#refresh();
    // A refresh already in progress may have adopted the very token that died.
    return this.#rejected.has(next.secret.reveal()) ? this.#refresh() : next;
  }

  #refresh(): Promise<AccessToken> {
    // Not cut off by the runner's death (holdingExit): QBO's answer may rotate the refresh token.
    this.#refreshing ??= this.#o.store
      .withLock(() => holdingExit(() => this.#refreshLocked()))
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  async #refreshLocked(): Promise<AccessToken> {
    const o = this.#o;
    const configured = o.refreshToken.reveal();
    const configuredPrint = fingerprint(configured);
    const stored = await o.store.read();
    // The store continues the configured token's chain of rotations; a different configured
    // token means the user reconnected the app, and the new chain starts from it.
    const chain = stored && continuesChain(stored, configured) ? stored : undefined;
    if (stored && !chain) o.logger.info(`refresh_token in the settings is new; starting a new chain in ${o.store.file}`);
    const adoptable =
      chain?.access_token !== undefined && !this.#rejected.has(chain.access_token) && chain.access_token !== this.#current?.token.secret.reveal();
    if (adoptable && chain.access_token !== undefined && chain.access_token_expires_at !== undefined) {
      // Another process refreshed moments ago: use its access token instead of rotating again.
      const now = this.#now();
      const margin = Math.min(MAX_REFRESH_MARGIN_MS, (chain.access_token_expires_at - now) / 4);
      if (chain.access_token_expires_at - now > Math.max(margin, 10_000)) {
        const issuedAt = Date.parse(chain.updated_at);
        const token = new AccessToken({
          secret: new Secret(chain.access_token),
          issuedAt: Number.isNaN(issuedAt) ? now : issuedAt,
          expiresAt: chain.access_token_expires_at,
          issuedHere: false,
        });
        return this.#adopt(token, margin);
      }
    }
    const refreshToken = chain?.refresh_token ?? configured;
    // The store's disk space first: once QuickBooks answers, the rotated token must reach the disk.
    const reserved = await o.store.reserve();
    try {
      const response = await this.#post(refreshToken).catch(async (error: unknown) => {
        // The chain is broken: the store says so (the console's token health) until a new token is configured.
        // A new token refused leaves the stored chain as it was and is noted apart, so the console does not
        // say it waits for a run. Its own failure must not hide the refusal, which says what to do.
        const at = new Date(this.#now()).toISOString();
        if (error instanceof RefreshTokenRejectedError && stored)
          await reserved
            .write(
              chain
                ? { ...chain, refresh_token_rejected_at: at, refresh_token_rejected_tid: error.tid }
                : { ...stored, new_token_rejected: { fingerprint: configuredPrint, at, tid: error.tid } },
            )
            .catch(() => undefined);
        throw error;
      });
      return await this.#keep(this.#parseTokenResponse(response), refreshToken, reserved, chain?.seeded_from ?? configuredPrint);
    } finally {
      await reserved.discard();
    }
  }

  /** Saves a token answer in the space reserved for it, before its access token is used (persist before use). */
  async #keep(body: TokenAnswer, sent: string, reserved: ReservedTokenWrite, seededFrom: string): Promise<AccessToken> {
    const o = this.#o;
    const now = this.#now();
    const expiresInMs = body.expires_in * 1000;
    const tokens: StoredTokens = {
      refresh_token: body.refresh_token,
      access_token: body.access_token,
      access_token_expires_at: now + expiresInMs,
      ...(body.x_refresh_token_expires_in !== undefined ? { refresh_token_expires_at: now + body.x_refresh_token_expires_in * 1000 } : {}),
      ...(body.x_refresh_token_hard_expires_in !== undefined ? { refresh_token_hard_expires_at: now + body.x_refresh_token_hard_expires_in * 1000 } : {}),
      seeded_from: seededFrom,
      updated_at: new Date(now).toISOString(),
    };
    await reserved.write(tokens).catch((error: unknown) => {
      // Not for want of space (that was taken before the request): the disk failing, the folder made read-only meanwhile.
      throw new UsageError(
        `QuickBooks issued a new refresh token that could not be saved in token store ${o.store.file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
          `the one stored may no longer work: make ${path.dirname(o.store.file)} writable, then reconnect the app to company ${o.realmId} and ${SET_NEW_REFRESH_TOKEN}`,
        { cause: error },
      );
    });
    this.refreshes += 1;
    if (body.refresh_token !== sent) o.logger.info(`refresh token rotated; saved to ${o.store.file}`);
    this.#warnExpiry(body.x_refresh_token_hard_expires_in);
    const token = new AccessToken({ secret: new Secret(body.access_token), issuedAt: now, expiresAt: now + expiresInMs, issuedHere: true });
    return this.#adopt(token, Math.min(MAX_REFRESH_MARGIN_MS, expiresInMs / 4));
  }

  #adopt(token: AccessToken, margin: number): AccessToken {
    this.#current = { token, margin };
    return token;
  }

  #warnExpiry(hardExpiresInSeconds: number | undefined): void {
    if (hardExpiresInSeconds === undefined) return;
    const ms = hardExpiresInSeconds * 1000;
    if (ms < HARD_EXPIRY_WARNING_MS) {
      this.#o.logger.warn(
        `the refresh token reaches its hard expiry in ${Math.max(0, Math.floor(ms / DAY_MS))} days; reconnect the app to company ${this.#o.realmId} before then`,
      );
    }
  }

  #post(refreshToken: string): Promise<RawResponse> {
    const o = this.#o;
    const basic = Buffer.from(`${o.clientId.reveal()}:${o.clientSecret.reveal()}`).toString('base64');
    const what = `token refresh at ${o.tokenUrl}`;
    return sendWithRetries(
      what,
      {
        send: async () => {
          const response = await o.transport.send({
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
          this.#failOnGrantError(response);
          return response;
        },
        fail: ({ response, outcome, attempts }) => {
          const cause = response
            ? `HTTP ${response.status} ${response.body.slice(0, 200)}`
            : outcome.kind === 'network'
              ? `network error ${outcome.code}`
              : 'timeout';
          return new RunError(`${what} failed after ${attempts} attempts: ${cause} (intuit_tid ${response?.tid ?? 'none'})`);
        },
      },
      { retry: o.retry, logger: o.logger, sleep: this.#sleep, now: this.#now },
    );
  }

  #failOnGrantError(response: RawResponse): void {
    if (response.status !== 400 && response.status !== 401) return;
    const fault = parseFault(response.body);
    const tid = `intuit_tid ${response.tid ?? 'none'}`;
    if (fault?.code === 'invalid_grant') {
      throw new RefreshTokenRejectedError(
        `QuickBooks rejected the refresh token (invalid_grant, ${tid}): reconnect the app to company ${this.#o.realmId} and ${SET_NEW_REFRESH_TOKEN}; ` +
          `if another process refreshed with this token first (a second tap run without the shared token store ${this.#o.store.file}), it has been superseded`,
        response.tid ?? 'none',
      );
    }
    if (fault?.code === 'invalid_client' || response.status === 401) {
      throw new UsageError(
        `QuickBooks rejected the client credentials (${fault?.code ?? `HTTP ${response.status}`}, ${tid}): check client_id and client_secret (sandbox and production apps have different keys)`,
      );
    }
  }

  #parseTokenResponse(response: RawResponse): TokenAnswer {
    // A garbled 200 is not retried, unlike the data API's: its lost body may have carried the
    // rotated refresh token, and the one sent may be dead already (QBO can invalidate it at once).
    const garbled = (problem: string) =>
      new RunError(
        `token refresh at ${this.#o.tokenUrl} failed: ${describeGarbled(response, problem)}; not retried, as the lost answer may have held a rotated refresh token; ` +
          `running again refreshes with the same refresh token (the newest in ${this.#o.store.file}, else the configured one) and resumes (if QuickBooks then answers invalid_grant, the rotated token was lost: reconnect the app to company ${this.#o.realmId})`,
      );
    const problem = objectBodyProblem(response.bytes);
    if (problem) throw garbled(problem);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(response.body) as Record<string, unknown>;
    } catch (error) {
      throw garbled(`not valid JSON (${jsonSyntaxProblem(error)})`);
    }
    const access = body.access_token;
    const refresh = body.refresh_token;
    if (typeof access !== 'string' || typeof refresh !== 'string') throw garbled('JSON without access_token or refresh_token');
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
