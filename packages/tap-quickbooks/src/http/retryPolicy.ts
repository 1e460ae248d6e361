/** What one attempt ended with, as far as retrying is concerned. */
export type AttemptOutcome =
  | { readonly kind: 'network'; readonly code: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'http'; readonly status: number; readonly retryAfter?: string | undefined }
  /** A 2xx answer whose body is not what was asked for (see GarbledBody); `problem` never quotes the body. */
  | { readonly kind: 'garbled'; readonly status: number; readonly problem: string };

/**
 * Fault classes counted in the run summary and in `_volumetry.retries`. `unauthorized` is a 401
 * from the data API: the access token died (expired, or invalidated mid-run); retried at once
 * with a new token. `garbled` is a 2xx answer whose body is not what was asked for (truncated,
 * an HTML page, empty, JSON of another shape); retried like a 5xx.
 */
export type RetryReason = 'network' | 'timeout' | 'throttled' | 'server' | 'unauthorized' | 'garbled';

export type RetryDecision =
  { readonly retry: true; readonly delayMs: number; readonly reason: RetryReason } | { readonly retry: false; readonly reason?: RetryReason };

export interface RetryOptions {
  readonly maxRetries: number;
  /** First backoff; doubles each attempt. */
  readonly backoffMs: number;
  /** Wait after a 429 without Retry-After (QBO says 60 s). */
  readonly throttleWaitMs: number;
}

/** No backoff waits longer than this, however many attempts. */
const MAX_BACKOFF_MS = 60_000;

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function reasonOf(outcome: AttemptOutcome): RetryReason | undefined {
  if (outcome.kind === 'network') return 'network';
  if (outcome.kind === 'timeout') return 'timeout';
  if (outcome.kind === 'garbled') return 'garbled';
  if (outcome.status === 429) return 'throttled';
  if (outcome.status === 401) return 'unauthorized';
  if (outcome.status >= 500) return 'server';
  return undefined;
}

/**
 * Pure: after attempt number `attempt` (1-based) ended with `outcome`, retry after how long, or
 * give up. A 401 is retried without waiting (the caller gets a new token first); other 4xx never.
 * `random` ∈ [0,1) supplies the jitter: full-range jitter on the upper half of the backoff.
 */
export function decideRetry(outcome: AttemptOutcome, attempt: number, options: RetryOptions, random: number, nowMs = Date.now()): RetryDecision {
  const reason = reasonOf(outcome);
  if (reason === undefined) return { retry: false };
  if (attempt > options.maxRetries) return { retry: false, reason };
  if (reason === 'throttled') {
    const after = outcome.kind === 'http' ? parseRetryAfter(outcome.retryAfter, nowMs) : undefined;
    return { retry: true, delayMs: after ?? options.throttleWaitMs, reason };
  }
  if (reason === 'unauthorized') return { retry: true, delayMs: 0, reason };
  const base = Math.min(MAX_BACKOFF_MS, options.backoffMs * 2 ** (attempt - 1));
  return { retry: true, delayMs: Math.round(base / 2 + (base / 2) * random), reason };
}
