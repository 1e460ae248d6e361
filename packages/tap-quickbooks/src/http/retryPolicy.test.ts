import { describe, expect, it } from 'vitest';
import { decideRetry, parseRetryAfter } from './retryPolicy.js';

const options = { maxRetries: 5, backoffMs: 1000, throttleWaitMs: 60_000 };

describe('decideRetry', () => {
  it.each([
    [{ kind: 'network', code: 'ECONNRESET' } as const, 'network'],
    [{ kind: 'timeout' } as const, 'timeout'],
    [{ kind: 'http', status: 500 } as const, 'server'],
    [{ kind: 'http', status: 503 } as const, 'server'],
    [{ kind: 'garbled', status: 200, problem: 'empty body' } as const, 'garbled'],
  ])('retries %j with exponential backoff and jitter', (outcome, reason) => {
    expect(decideRetry(outcome, 1, options, 0)).toEqual({ retry: true, delayMs: 500, reason });
    expect(decideRetry(outcome, 3, options, 0.999)).toMatchObject({ retry: true, reason });
    expect((decideRetry(outcome, 3, options, 0.999) as { delayMs: number }).delayMs).toBe(3998);
  });

  it('waits Retry-After on 429 when sent, else the configured throttle wait', () => {
    expect(decideRetry({ kind: 'http', status: 429, retryAfter: '7' }, 1, options, 0.5)).toEqual({ retry: true, delayMs: 7000, reason: 'throttled' });
    expect(decideRetry({ kind: 'http', status: 429 }, 1, options, 0.5)).toEqual({ retry: true, delayMs: 60_000, reason: 'throttled' });
  });

  it('retries a 401 at once (with a new token), within max_retries', () => {
    expect(decideRetry({ kind: 'http', status: 401 }, 1, options, 0.5)).toEqual({ retry: true, delayMs: 0, reason: 'unauthorized' });
    expect(decideRetry({ kind: 'http', status: 401 }, 6, options, 0.5)).toEqual({ retry: false, reason: 'unauthorized' });
  });

  it('gives up after max_retries, and never retries other 4xx', () => {
    expect(decideRetry({ kind: 'http', status: 502 }, 5, options, 0).retry).toBe(true);
    expect(decideRetry({ kind: 'http', status: 502 }, 6, options, 0)).toEqual({ retry: false, reason: 'server' });
    expect(decideRetry({ kind: 'http', status: 400 }, 1, options, 0)).toEqual({ retry: false });
    expect(decideRetry({ kind: 'http', status: 403 }, 1, options, 0)).toEqual({ retry: false });
  });

  it('caps the backoff', () => {
    expect((decideRetry({ kind: 'timeout' }, 20, { ...options, maxRetries: 30 }, 0.999) as { delayMs: number }).delayMs).toBeLessThanOrEqual(60_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
