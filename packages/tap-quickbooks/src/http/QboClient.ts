import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { RunError, UsageError, type Logger, type Secret } from 'singer-kit';
import { requestError } from './qboErrors.js';
import { decideRetry, type AttemptOutcome, type RetryOptions, type RetryReason } from './retryPolicy.js';
import type { RateBudget } from './RateBudget.js';

export interface RawRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface RawResponse {
  readonly status: number;
  /** The body as received (after content decoding): entities are cut out of these bytes. */
  readonly bytes: Buffer;
  /** The body decoded as UTF-8, for small answers and error messages. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly tid: string | undefined;
}

/** A failed attempt that never got an HTTP response. */
export class TransportError extends Error {
  readonly outcome: AttemptOutcome;
  constructor(outcome: AttemptOutcome, message: string) {
    super(message);
    this.outcome = outcome;
  }
}

export interface TransportOptions {
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly maxSockets: number;
}

/**
 * The one place that talks HTTP (axios over keep-alive agents). Bodies stay exact text:
 * entities are cut out of them by text so numbers keep their digits.
 */
export class Transport {
  readonly #axios: AxiosInstance;
  readonly #agents: ReadonlyArray<http.Agent>;

  constructor(options: TransportOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    const httpAgent = new http.Agent(agentOptions);
    const httpsAgent = new https.Agent(agentOptions);
    this.#agents = [httpAgent, httpsAgent];
    this.#axios = axios.create({
      timeout: options.timeoutMs,
      // Bytes, not text: a page is passed on byte for byte, never decoded and encoded again.
      responseType: 'arraybuffer',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      httpAgent,
      httpsAgent,
      headers: { 'User-Agent': options.userAgent },
    });
  }

  /** Ends kept-alive sockets (and requests still running), so the process can exit. */
  close(): void {
    for (const agent of this.#agents) agent.destroy();
  }

  async send(request: RawRequest): Promise<RawResponse> {
    try {
      const response = await this.#axios.request<Buffer>({
        method: request.method,
        url: request.url,
        params: request.params,
        headers: request.headers,
        data: request.body,
      });
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(response.headers)) headers[k.toLowerCase()] = v === undefined || v === null ? undefined : String(v);
      const bytes = Buffer.isBuffer(response.data) ? response.data : Buffer.alloc(0);
      return { status: response.status, bytes, get body() { return bytes.toString('utf8'); }, headers, tid: headers['intuit_tid'] };
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_NETWORK';
      if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') throw new TransportError({ kind: 'timeout' }, `timed out`);
      throw new TransportError({ kind: 'network', code }, `network error ${code}`);
    }
  }
}

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

export interface AccessTokenSource {
  accessToken(): Promise<Secret>;
  /** The token was rejected with 401: refresh (once, shared by concurrent callers) and return the new one. */
  refreshAfterRejection(rejected: Secret): Promise<Secret>;
}

export interface QboClientOptions {
  readonly transport: Transport;
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
  readonly onRetry?: (reason: RetryReason) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Data API calls for one realm: bearer token, minorversion, the shared rate budget, retries
 * (network, timeout, 429, 5xx) and one refresh-and-retry on 401. Callers never retry.
 */
export class QboClient {
  readonly #o: QboClientOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(options: QboClientOptions) {
    this.#o = options;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
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
    let token = await o.auth.accessToken();
    let refreshedAfter401 = false;
    for (let attempt = 1; ; attempt++) {
      const release = await o.budget.acquire();
      stats.attempts += 1;
      let response: RawResponse | undefined;
      let outcome: AttemptOutcome;
      try {
        response = await o.transport.send({
          method: 'GET',
          url,
          params: { ...params, minorversion: String(o.minorVersion) },
          headers: { Authorization: `Bearer ${token.reveal()}`, Accept: 'application/json' },
        });
        outcome = { kind: 'http', status: response.status, retryAfter: response.headers['retry-after'] };
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        outcome = error.outcome;
      } finally {
        release();
      }
      if (response && response.status >= 200 && response.status < 300) {
        const { bytes } = response;
        return { bytes, get body() { return bytes.toString('utf8'); }, tid: response.tid, receivedAt: new Date().toISOString() };
      }
      if (response?.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true;
        o.logger.info(`${what}: access token rejected (401, intuit_tid ${response.tid ?? 'none'}); refreshing once`);
        token = await o.auth.refreshAfterRejection(token);
        attempt -= 1;
        continue;
      }
      const decision = decideRetry(outcome, attempt, o.retry, this.#random());
      if (!decision.retry) {
        const failed = { what, status: response?.status, body: response?.body ?? '', tid: response?.tid, realmId: o.realmId, sandbox: o.sandbox };
        if (!response) {
          throw new RunError(`${what} failed after ${attempt} attempts: ${outcome.kind === 'network' ? `network error ${outcome.code}` : 'timed out'} (intuit_tid none); is ${o.baseUrl} reachable?`);
        }
        if (response.status === 401) {
          throw new UsageError(`${what} failed: HTTP 401 even with a freshly refreshed access token (intuit_tid ${response.tid ?? 'none'}); check client_id/client_secret and that the app is connected to company ${o.realmId}`);
        }
        throw requestError(decision.reason ? { ...failed, attempts: attempt } : failed);
      }
      stats.retries += 1;
      o.onRetry?.(decision.reason);
      if (decision.reason === 'throttled') o.budget.pauseFor(decision.delayMs);
      const cause = response ? `HTTP ${response.status} (intuit_tid ${response.tid ?? 'none'})` : outcome.kind === 'network' ? `network error ${outcome.code}` : 'timeout';
      o.logger.warn(`${what}: ${cause}; retry ${attempt}/${o.retry.maxRetries} in ${(decision.delayMs / 1000).toFixed(1)} s`);
      await this.#sleep(decision.delayMs);
    }
  }
}
