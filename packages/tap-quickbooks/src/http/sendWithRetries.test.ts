import { describe, expect, it } from 'vitest';
import { createLogger } from 'singer-kit';
import { sendWithRetries, type RequestFailure } from './sendWithRetries.js';
import { GarbledBody, objectBodyProblem } from './GarbledBody.js';
import { TransportError, type RawResponse } from './Transport.js';

const answer = (status: number): RawResponse => ({ status, bytes: Buffer.from('{}'), body: '{}', headers: {}, tid: `tid-${status}` });

type Answer = number | 'reset' | RawResponse;

/** A retry loop answering `answers` in turn (then 200), recording its sleeps, retries, log lines and failure; `read` as the tap's reader. */
function loop(answers: readonly Answer[], options: { readonly maxRetries?: number; readonly read?: (response: RawResponse) => unknown } = {}) {
  const sleeps: number[] = [];
  const before: string[] = [];
  const lines: string[] = [];
  let failure: RequestFailure | undefined;
  const run = sendWithRetries<unknown>(
    'test request',
    {
      send: async (attempt) => {
        const next = answers[attempt - 1] ?? 200;
        if (next === 'reset') throw new TransportError({ kind: 'network', code: 'ECONNRESET' }, 'reset');
        return typeof next === 'number' ? answer(next) : next;
      },
      ...(options.read ? { read: options.read } : {}),
      beforeRetry: (reason, delayMs) => void before.push(`${reason}:${delayMs}`),
      fail: (f) => {
        failure = f;
        return new Error('gave up');
      },
    },
    {
      retry: { maxRetries: options.maxRetries ?? 5, backoffMs: 100, throttleWaitMs: 60_000 },
      logger: createLogger('test', { sink: (l) => lines.push(l) }),
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0,
    },
  );
  return { run, sleeps, before, lines, failure: () => failure };
}

describe('sendWithRetries', () => {
  it('retries network errors and 5xx with backoff, 429 after the throttle wait, 401 at once, then returns the 2xx answer', async () => {
    const l = loop(['reset', 503, 429, 401, 200]);
    expect(await l.run).toMatchObject({ status: 200 });
    expect(l.before).toEqual(['network:50', 'server:100', 'throttled:60000', 'unauthorized:0']);
    expect(l.sleeps).toEqual([50, 100, 60_000]);
    expect(l.lines).toEqual([
      'WARN test: test request: network error ECONNRESET; retry 1/5 in 0.1 s',
      'WARN test: test request: HTTP 503 (intuit_tid tid-503); retry 2/5 in 0.1 s',
      'WARN test: test request: HTTP 429 (intuit_tid tid-429); retry 3/5 in 60.0 s',
      'INFO test: test request: access token rejected, HTTP 401 (intuit_tid tid-401); retry 4/5 with a new token',
    ]);
  });

  it('gives up after max_retries with the last answer, and at once on other 4xx', async () => {
    const spent = loop([401, 401, 401], { maxRetries: 2 });
    await expect(spent.run).rejects.toThrow('gave up');
    expect(spent.failure()).toMatchObject({ attempts: 3, reason: 'unauthorized', response: { status: 401 } });
    const bad = loop([400]);
    await expect(bad.run).rejects.toThrow('gave up');
    expect(bad.failure()).toMatchObject({ attempts: 1, reason: undefined, response: { status: 400 } });
    expect(bad.before).toEqual([]);
  });

  it('retries a 200 whose body its reader finds garbled like a 5xx, logging what is safe (never the body), and gives up with the last one', async () => {
    const secret = '{"QueryResponse":{"Invoice":[{"Id":"1","CustomerRef":{"name":"Amy secret';
    const garbled: RawResponse = { status: 200, bytes: Buffer.from(secret), body: secret, headers: { 'content-type': 'application/json' }, tid: 'tid-g' };
    const read = (response: RawResponse) => {
      const problem = objectBodyProblem(response.bytes);
      if (problem) throw new GarbledBody(problem);
      return response.status;
    };
    const recovered = loop([garbled, garbled], { read });
    expect(await recovered.run).toBe(200);
    expect(recovered.before).toEqual(['garbled:50', 'garbled:100']);
    expect(recovered.lines[0]).toBe(
      `WARN test: test request: HTTP 200 with a garbled body: truncated JSON (it does not end with "}") (content-type application/json, ${secret.length} bytes, intuit_tid tid-g); retry 1/5 in 0.1 s`,
    );
    expect(recovered.lines.join('\n')).not.toMatch(/Amy|secret|CustomerRef/);
    const spent = loop([garbled, garbled, garbled], { maxRetries: 2, read });
    await expect(spent.run).rejects.toThrow('gave up');
    expect(spent.failure()).toMatchObject({ attempts: 3, reason: 'garbled', outcome: { kind: 'garbled', status: 200 } });
  });
});
