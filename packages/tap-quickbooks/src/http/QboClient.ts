import { RunError, type Logger } from 'singer-kit';
import type { AccessToken, AccessTokenSource } from '../auth/AccessToken.js';
import { describeGarbled, GarbledBody, objectBodyProblem } from './GarbledBody.js';
import { requestError } from './qboErrors.js';
import type { RateBudget } from './RateBudget.js';
import type { RetryOptions, RetryReason } from './retryPolicy.js';
import { sendWithRetries, type RequestFailure, type RetryLoopOptions } from './sendWithRetries.js';
import { sleep } from './sleep.js';
import type { RawResponse, RequestSender } from './Transport.js';

/** Facts about one logical request (all its attempts), for `_volumetry` and the run summary. */
export interface RequestStats {
  attempts: number;
  retries: number;
}

interface CallResult {
  /** The body as received; `body` is it decoded as UTF-8. */
  readonly bytes: Buffer;
  readonly body: string;
  readonly tid: string | undefined;
  readonly receivedAt: string;
}

/**
 * A data request as it is sent, and as each record it returned says it was
 * (`_sdc_request_payload`): described here once, with nothing that could be a credential.
 * `query` is the SELECT (or, for CDC, `entities=…&changedSince=…`).
 */
export interface RequestDescription {
  readonly method: 'GET';
  readonly path: string;
  readonly query: string;
  readonly minorversion: number;
}

export interface DataResult extends CallResult {
  readonly request: RequestDescription;
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

/** Reads a data answer; throws GarbledBody when its body is not what was asked for (then it is asked again). */
export type AnswerReader<T> = (answer: DataResult) => T;

/**
 * Data API calls for one realm: bearer token, minorversion, the shared rate budget, and retries
 * (network, timeout, 429, 5xx, a 200 whose body is garbled, and 401 with a new token) through
 * the one retry loop. Callers never retry: a caller's reader runs inside the loop, so a body it
 * cannot read (GarbledBody) is asked for again like a 5xx, within the same retries and budget.
 */
export class QboClient {
  readonly #o: QboClientOptions;
  readonly #now: () => number;
  readonly #loop: RetryLoopOptions;

  constructor(options: QboClientOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#loop = {
      retry: options.retry,
      logger: options.logger,
      sleep: options.sleep ?? sleep,
      now: this.#now,
      ...(options.random ? { random: options.random } : {}),
    };
  }

  /** A SELECT (DESIGN §3), read by `read` (by default only checked to be a whole JSON object). */
  query(query: string, stats: RequestStats): Promise<DataResult>;
  query<T>(query: string, stats: RequestStats, read: AnswerReader<T>): Promise<T>;
  query<T>(query: string, stats: RequestStats, read?: AnswerReader<T>): Promise<T | DataResult> {
    const request: RequestDescription = { method: 'GET', path: `${this.#companyPath}/query`, query, minorversion: this.#o.minorVersion };
    return this.#get<T | DataResult>(request, { query }, `query "${query}"`, stats, read ?? ((answer) => answer));
  }

  /** Changes since an instant, for some entities (QBO's CDC endpoint). */
  cdc<T>(entities: readonly string[], changedSince: string, stats: RequestStats, read: AnswerReader<T>): Promise<T> {
    const params = { entities: entities.join(','), changedSince };
    const request: RequestDescription = {
      method: 'GET',
      path: `${this.#companyPath}/cdc`,
      query: `entities=${params.entities}&changedSince=${changedSince}`,
      minorversion: this.#o.minorVersion,
    };
    return this.#get(request, params, `CDC since ${changedSince} for ${params.entities}`, stats, read);
  }

  get #companyPath(): string {
    return `/v3/company/${encodeURIComponent(this.#o.realmId)}`;
  }

  /** Sends `request` (its path and minorversion, with `params`) and returns the answer with it. */
  async #get<T>(request: RequestDescription, params: Readonly<Record<string, string>>, what: string, stats: RequestStats, read: AnswerReader<T>): Promise<T> {
    const o = this.#o;
    const url = `${o.baseUrl}${request.path}`;
    let token: AccessToken | undefined;
    return sendWithRetries(
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
              params: { ...params, minorversion: String(request.minorversion) },
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
        // Every answer is one JSON object: a body that is not (empty, an HTML page, cut short) is garbled before `read` sees it.
        read: (response) => {
          const problem = objectBodyProblem(response.bytes);
          if (problem) throw new GarbledBody(problem);
          return read(dataResult(response, request));
        },
        fail: (failure) => this.#failure(what, failure, token),
      },
      this.#loop,
    );
  }

  #failure(what: string, { response, outcome, attempts, reason }: RequestFailure, token: AccessToken | undefined): Error {
    const o = this.#o;
    if (!response) {
      return new RunError(
        `${what} failed after ${attempts} attempts: ${outcome.kind === 'network' ? `network error ${outcome.code}` : 'timed out'} (intuit_tid none); is ${o.baseUrl} reachable?`,
      );
    }
    if (outcome.kind === 'garbled') {
      return new RunError(
        `${what} failed after ${attempts} attempts: ${describeGarbled(response, outcome.problem)}; QBO or a proxy in front of it answered so ${attempts === 1 ? 'once' : 'each time'}; running again resumes`,
      );
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

function dataResult(response: RawResponse, request: RequestDescription): DataResult {
  const { bytes } = response;
  return {
    bytes,
    get body() {
      return bytes.toString('utf8');
    },
    tid: response.tid,
    receivedAt: new Date().toISOString(),
    request,
  };
}
