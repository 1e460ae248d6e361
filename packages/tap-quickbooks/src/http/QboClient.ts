import { RunError, type Logger } from 'singer-kit';
import type { AccessToken, AccessTokenSource } from '../auth/AccessToken.js';
import { requestError } from './qboErrors.js';
import type { RateBudget } from './RateBudget.js';
import type { RetryOptions, RetryReason } from './retryPolicy.js';
import { sendWithRetries, type RequestFailure, type RetryLoopOptions } from './sendWithRetries.js';
import { sleep } from './sleep.js';
import type { RequestSender } from './Transport.js';

/** Facts about one logical request (all its attempts), for `_volumetry` and the run summary. */
export interface RequestStats {
  attempts: number;
  retries: number;
}

export interface CallResult {
  /** The body as received; `body` is it decoded as UTF-8. */
  readonly bytes: Buffer;
  readonly body: string;
  readonly tid: string | undefined;
  readonly receivedAt: string;
}

export interface QboClientOptions {
  readonly transport: RequestSender;
  readonly auth: AccessTokenSource;
  readonly budget: RateBudget;
  readonly retry: RetryOptions;
  readonly logger: Logger;
  readonly baseUrl: string;
  readonly realmId: string;
  readonly minorVersion: number;
  readonly sandbox: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly onRetry?: (reason: RetryReason) => void;
}

/**
 * Data API calls for one realm: bearer token, minorversion, the shared rate budget, and retries
 * (network, timeout, 429, 5xx, and 401 with a new token) through the one retry loop. Callers
 * never retry.
 */
export class QboClient {
  readonly #o: QboClientOptions;
  readonly #now: () => number;
  readonly #loop: RetryLoopOptions;

  constructor(options: QboClientOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#loop = { retry: options.retry, logger: options.logger, sleep: options.sleep ?? sleep, now: this.#now, ...(options.random ? { random: options.random } : {}) };
  }

  get companyPath(): string {
    return `/v3/company/${encodeURIComponent(this.#o.realmId)}`;
  }

  query(query: string, stats: RequestStats): Promise<CallResult> {
    return this.get('query', { query }, `query "${query}"`, stats);
  }

  cdc(entities: readonly string[], changedSince: string, stats: RequestStats): Promise<CallResult> {
    return this.get('cdc', { entities: entities.join(','), changedSince }, `CDC since ${changedSince} for ${entities.join(',')}`, stats);
  }

  async get(endpoint: string, params: Record<string, string>, what: string, stats: RequestStats): Promise<CallResult> {
    const o = this.#o;
    const url = `${o.baseUrl}${this.companyPath}/${endpoint}`;
    let token: AccessToken | undefined;
    const response = await sendWithRetries(
      what,
      {
        send: async () => {
          const release = await o.budget.acquire();
          let use = 0;
          try {
            // Taken once the request may go: a token that died meanwhile is already replaced.
            token = await o.auth.accessToken();
            stats.attempts += 1;
            use = token.use();
            const answer = await o.transport.send({
              method: 'GET',
              url,
              params: { ...params, minorversion: String(o.minorVersion) },
              headers: { Authorization: `Bearer ${token.secret.reveal()}`, Accept: 'application/json' },
            });
            token.answered(use, answer.status, answer.tid);
            return answer;
          } catch (error) {
            if (use > 0) token?.answered(use, undefined, undefined);
            throw error;
          } finally {
            release();
          }
        },
        beforeRetry: async (reason, delayMs, answer) => {
          stats.retries += 1;
          o.onRetry?.(reason);
          if (reason === 'throttled') o.budget.pauseFor(delayMs);
          // Every request that saw this token die shares its one replacement.
          if (reason === 'unauthorized' && token) await o.auth.replaceRejected(token, answer?.tid);
        },
        fail: (failure) => this.#failure(what, failure, token),
      },
      this.#loop,
    );
    const { bytes } = response;
    return { bytes, get body() { return bytes.toString('utf8'); }, tid: response.tid, receivedAt: new Date().toISOString() };
  }

  #failure(what: string, { response, outcome, attempts, reason }: RequestFailure, token: AccessToken | undefined): Error {
    const o = this.#o;
    if (!response) {
      return new RunError(`${what} failed after ${attempts} attempts: ${outcome.kind === 'network' ? `network error ${outcome.code}` : 'timed out'} (intuit_tid none); is ${o.baseUrl} reachable?`);
    }
    if (response.status === 401) {
      // Run-time, not configuration: the tokens worked, but died faster than the retries allowed.
      return new RunError(
        `${what} failed after ${attempts} attempts: HTTP 401 each time, with a new access token after each (last: ${token?.describe(this.#now(), response.tid) ?? 'none'}); ` +
          `access tokens are being invalidated faster than they can be used (another process of this app refreshing without the shared token store?); running again resumes`,
      );
    }
    const failed = { what, status: response.status, body: response.body, tid: response.tid, realmId: o.realmId, sandbox: o.sandbox };
    return requestError(reason ? { ...failed, attempts } : failed);
  }
}
