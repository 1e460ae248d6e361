import type { Logger } from 'singer-kit';
import { describeGarbled, GarbledBody } from './GarbledBody.js';
import { decideRetry, type AttemptOutcome, type RetryOptions, type RetryReason } from './retryPolicy.js';
import { TransportError, type RawResponse } from './Transport.js';

/** How a request that will not be retried (any more) ended. */
export interface RequestFailure {
  /** Undefined when no HTTP answer came (network error, timeout). */
  readonly response: RawResponse | undefined;
  readonly outcome: AttemptOutcome;
  readonly attempts: number;
  /** Set when the failure was retriable and the retries ran out. */
  readonly reason: RetryReason | undefined;
}

export interface RetriedRequest<T = RawResponse> {
  /** One attempt. An HTTP answer of any status, or a TransportError; anything else thrown ends the loop as it is. */
  send(attempt: number): Promise<RawResponse>;
  /**
   * Reads a 2xx answer into what the caller wants. A GarbledBody thrown here (the body is not
   * what was asked for) is retried like a 5xx; anything else thrown ends the loop as it is.
   * Without it the answer itself is returned.
   */
  read?(response: RawResponse): T;
  /** Runs before each retry, e.g. to get a new access token after a 401 or pause the budget after a 429. */
  beforeRetry?(reason: RetryReason, delayMs: number, response: RawResponse | undefined): Promise<void> | void;
  /** The error to throw when the request is not retried (any more). */
  fail(failure: RequestFailure): Error;
}

export interface RetryLoopOptions {
  readonly retry: RetryOptions;
  readonly logger: Logger;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

function causeOf(response: RawResponse | undefined, outcome: AttemptOutcome): string {
  if (response && outcome.kind === 'garbled') return describeGarbled(response, outcome.problem);
  if (response) return `HTTP ${response.status} (intuit_tid ${response.tid ?? 'none'})`;
  return outcome.kind === 'network' ? `network error ${outcome.code}` : 'timeout';
}

/**
 * The one retry loop, for the token endpoint and the data API: send, and on a failure
 * `decideRetry` says whether and when to try again (network, timeout, 429, 5xx, a 2xx whose body
 * `read` finds garbled, and 401 with a new token), up to `max_retries`. Returns the first 2xx
 * answer, as `read` reads it.
 */
export async function sendWithRetries<T = RawResponse>(what: string, request: RetriedRequest<T>, options: RetryLoopOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    let response: RawResponse | undefined;
    let outcome: AttemptOutcome;
    try {
      response = await request.send(attempt);
      outcome = { kind: 'http', status: response.status, retryAfter: response.headers['retry-after'] };
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      outcome = error.outcome;
    }
    if (response && response.status >= 200 && response.status < 300) {
      if (!request.read) return response as T;
      try {
        return request.read(response);
      } catch (error) {
        if (!(error instanceof GarbledBody)) throw error;
        outcome = { kind: 'garbled', status: response.status, problem: error.message };
      }
    }
    const decision = decideRetry(outcome, attempt, options.retry, random(), now());
    if (!decision.retry) throw request.fail({ response, outcome, attempts: attempt, reason: decision.reason });
    await request.beforeRetry?.(decision.reason, decision.delayMs, response);
    const next = `retry ${attempt}/${options.retry.maxRetries}`;
    if (decision.reason === 'unauthorized') {
      // Routine when a token expires mid-run: one refresh serves every request that saw it die.
      options.logger.info(`${what}: access token rejected, ${causeOf(response, outcome)}; ${next} with a new token`);
    } else {
      options.logger.warn(`${what}: ${causeOf(response, outcome)}; ${next} in ${(decision.delayMs / 1000).toFixed(1)} s`);
    }
    if (decision.delayMs > 0) await options.sleep(decision.delayMs);
  }
}
