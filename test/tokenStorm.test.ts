import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { expectExactly, runCliProcess, suiteHarness } from './pipelineHarness.js';

/**
 * Issue 9's 401 storm: access tokens die every 40 requests while 10 requests are in flight.
 * Each death must cost one refresh shared by every request that saw it, those requests are
 * retried, and the backfill ends with exit 0 and the raw tables equal to the emulator's truth.
 */
const STREAMS = ['invoices', 'customers', 'items', 'payments', 'bills', 'vendors', 'accounts', 'employees'] as const;
const START = '2025-04-01T00:00:00Z';
const END = '2025-04-11T00:00:00Z';
const USES = 40;

const h = suiteHarness({
  seed: 21,
  now: new Date(END),
  days: 10,
  counts: { invoices: 1500, payments: 400 },
  accessTokenMaxUses: USES,
  // Requests spend time in flight, so several are out with a token when it dies.
  latencyMs: 15,
  // Spans of at most 50 rows: enough COUNTs and pages for the tokens to die many times.
  tap: { max_concurrency: 10, page_size: 10, max_requests_per_minute: 100_000, max_span_rows: 50 },
});

describe('401 storm: access tokens dying every 40 requests, 10 in flight', () => {
  const schema = scratchSchema('storm');

  it('qbo-pipeline backfill of 8 streams ends with exit 0, one refresh per dead token, and tables equal to the truth', async () => {
    const run = await runCliProcess(await h.backfillArgs(schema, { streams: STREAMS.join(','), start: START, end: END, stateDir: path.join(h.dir, 'state') }));
    expect(
      run.code,
      run.stderr
        .split('\n')
        .filter((l) => /FATAL|ERROR/.test(l))
        .join('\n'),
    ).toBe(0);
    await expectExactly(databaseUrl(), schema, h.emulator, STREAMS, START, END);

    const log = h.emulator.requestLog();
    const data = log.filter((r) => r.kind !== 'token');
    const rejected = data.filter((r) => r.status === 401).length;
    const accepted = data.length - rejected;
    const refreshes = log.filter((r) => r.kind === 'token').length;
    // The storm happened, with several requests caught by one death…
    expect(accepted).toBeGreaterThan(8 * USES);
    expect(rejected).toBeGreaterThanOrEqual(Math.floor(accepted / USES));
    // …and each dead token was replaced once: the first refresh, then one per 40 accepted requests.
    expect(refreshes).toBeLessThanOrEqual(2 + Math.floor(accepted / USES));
    // Every 401 was retried and counted, in the tap's summary and in _volumetry.
    expect(run.stderr).toMatch(new RegExp(`summary: .* retries network=0 timeout=0 throttled=0 server=0 unauthorized=${rejected}\\b`));
    const retries = await withClient((c) => c.query<{ n: number }>(`SELECT sum((payload->>'retries')::int)::int AS n FROM "${schema}"._volumetry`));
    expect(retries.rows[0]?.n).toBe(rejected);
    process.stderr.write(
      `token storm: ${data.length} data requests, ${rejected} answered 401, ${refreshes} token refreshes (tokens die every ${USES} requests)\n`,
    );
  });
});
