import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { scratchSchema } from './support/db.js';
import { killRunningClis, startRunnerCli, suiteHarness, waitFor } from './pipelineHarness.js';

/**
 * `kill -INT <pid>` of a backfill's runner alone (not its process group, as Ctrl-C on a terminal
 * is): the runner stops its tap with SIGTERM, and its summary said `tap-quickbooks stopped on
 * SIGTERM`, a signal nobody sent; and each stream's window that was not committed on a line of its
 * own, every line the same window.
 */
const START = '2025-02-26T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const STREAMS = ['invoices', 'customers', 'items', 'vendors'];

const h = suiteHarness({
  seed: 41,
  now: new Date(END),
  days: 3,
  counts: { invoices: 20, customers: 5, items: 5, vendors: 5 },
  tap: { request_timeout_seconds: 60, max_concurrency: 1 },
});
afterAll(killRunningClis);

describe('a backfill whose runner alone receives SIGINT', () => {
  it("names the runner's signal, and says the window its streams stopped at once", async () => {
    const schema = scratchSchema('stopped');
    const stalls = () => h.emulator.stats().faults.stall ?? 0;
    // QBO does not answer: nothing is committed, and every stream stops at its first window.
    h.emulator.setFaults({ rules: [{ fault: 'stall', kinds: ['query', 'count', 'cdc'], from: 1 }] });
    try {
      const runner = startRunnerCli(await h.backfillArgs(schema, { streams: STREAMS.join(','), start: START, end: END, stateDir: path.join(h.dir, 'state') }));
      await waitFor('QBO to stall the tap', () => stalls() > 0, 60_000, runner.output);
      runner.child.kill('SIGINT'); // the runner alone
      expect(await runner.exited, runner.output()).toBe(1);
      const output = runner.output();
      expect(output).toContain('INFO qbo-pipeline: SIGINT received; stopping after the current commit');
      expect(output).toContain('\nSTOPPED: tap-quickbooks stopped on SIGINT\n');
      expect(output.split('\n').filter((line) => line.includes('not committed'))).toEqual([
        '  4 streams: window [2025-02-26T00:00:00Z, 2025-02-27T00:00:00Z) not committed',
      ]);
    } finally {
      h.emulator.setFaults({ rules: [] });
    }
  });
});
