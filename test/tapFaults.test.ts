import { afterEach, describe, expect, it } from 'vitest';
import { discoverCatalog } from 'qbo-catalog';
import { startEmulator, type Emulator, type EmulatorOptions } from 'qbo-emulator';
import { catalogSelecting, lastState, recordsOf, runTapCli, tapSettings, tempDir, writeJson, type TapRun } from './tapHarness.js';
import { fatalLine } from './support/runProcess.js';

const NOW = '2025-03-10T12:00:00Z';
const START = '2025-03-06T00:00:00Z';
const instant = (text: string) => Date.parse(text);

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function setup(options: EmulatorOptions, settings: Record<string, unknown>, streams: readonly string[]) {
  emulator = await startEmulator({ seed: 11, now: new Date(NOW), days: 4, counts: { invoices: 120, customers: 30 }, ...options });
  const dir = tempDir();
  const config = writeJson(dir, 'config.json', tapSettings(emulator, dir, { start_date: START, end_date: NOW, page_size: 10, ...settings }));
  const catalog = writeJson(dir, 'catalog.json', catalogSelecting(discoverCatalog() as never, [...streams, '_volumetry']));
  return { emu: emulator, dir, config, catalog };
}

const truthIds = (emu: Emulator, stream: string) =>
  emu
    .truth(stream)
    .filter((r) => instant(r.lastUpdated) < instant(NOW))
    .map((r) => r.id)
    .sort();
const summaryRetries = (stderr: string) => {
  const match = /retries network=(\d+) timeout=(\d+) throttled=(\d+) server=(\d+)/.exec(stderr);
  expect(match, stderr).not.toBeNull();
  const [network, timeout, throttled, server] = match!.slice(1).map(Number);
  return { network: network!, timeout: timeout!, throttled: throttled!, server: server! };
};

/**
 * A failed run's last STATE is a complete day's end, and every record written after it (a
 * piece of a crowded day whose later pieces never came) lies at or after that day.
 */
function expectNothingPastLastState(run: TapRun) {
  const last = run.messages.map((m) => m.type).lastIndexOf('STATE');
  expect(last).toBeGreaterThan(0);
  const bookmark = instant(run.messages[last]!.value.bookmarks.invoices.replication_key_value);
  expect(new Date(bookmark).toISOString()).toMatch(/T00:00:00\.000Z$/);
  for (const m of run.messages.slice(last + 1).filter((m) => m.stream === 'invoices'))
    expect(instant(m.record.MetaData.LastUpdatedTime)).toBeGreaterThanOrEqual(bookmark);
}

describe('tap-quickbooks against a failing QBO', () => {
  it('retries and counts every fault class (5xx, connection reset, timeout) and still loses nothing', async () => {
    const kinds = ['query', 'count'] as const;
    const { emu, config, catalog } = await setup(
      {
        faults: {
          rules: [
            { fault: '500', kinds, nth: [2] },
            { fault: '502', kinds, nth: [5] },
            { fault: '503', kinds, nth: [8] },
            { fault: '504', kinds, nth: [11] },
            { fault: 'reset', kinds, nth: [14] },
            { fault: 'stall', kinds, nth: [17] },
          ],
        },
      },
      // The stalled request times out once; every other answer has 4 s, however busy the machine.
      { request_timeout_seconds: 4, max_concurrency: 4 },
      ['invoices', 'customers'],
    );
    const run = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(run.stderr).not.toMatch(/FATAL/);
    expect(run.code).toBe(0);
    for (const stream of ['invoices', 'customers'])
      expect(
        recordsOf(run, stream)
          .map((r) => r.Id)
          .sort(),
      ).toEqual(truthIds(emu, stream));
    const retries = summaryRetries(run.stderr);
    expect(retries.server).toBe(4);
    expect(retries.network).toBe(1);
    expect(retries.timeout).toBe(1);
    expect(retries.throttled).toBe(0);
    // Every retry is in the evidence, on the first day of the span whose request it was.
    const evidence = recordsOf(run, '_volumetry').reduce((sum, e) => sum + e.retries, 0);
    expect(evidence).toBe(retries.server + retries.network + retries.timeout);
    expect(run.stderr).toMatch(/HTTP 503 \(intuit_tid [^)]+\); retry [1-5]\/5/);
  });

  it("stops with exit 1 after 5 straight failures, after the last complete day's STATE, and resumes without repeats", async () => {
    // From the 9th request on QBO answers only 503: the first request to fail 6 times ends the run.
    const { emu, dir, config, catalog } = await setup(
      { faults: { rules: [{ fault: '503', kinds: ['query', 'count'], from: 9 }] } },
      // Spans of at most 30 rows: the first ones are complete before the 9th request.
      { max_concurrency: 1, max_span_rows: 30 },
      ['invoices'],
    );
    const failed = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(failed.code).toBe(1);
    const fatal = fatalLine(failed.stderr)!;
    expect(fatal).toMatch(/^FATAL tap-quickbooks: query "SELECT .* FROM Invoice .*" failed after 6 attempts: HTTP 503 .*\(intuit_tid \S+\)$/);
    expect(failed.lines.every((l) => JSON.parse(l))).toBe(true);
    expectNothingPastLastState(failed);
    const bookmark = lastState(failed).bookmarks.invoices.replication_key_value as string;
    expect(instant(bookmark)).toBeLessThan(instant(NOW));
    const first = recordsOf(failed, 'invoices');
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((r) => instant(r.MetaData.LastUpdatedTime) < instant(bookmark))).toBe(true);

    emu.setFaults({ rules: [] });
    const state = writeJson(dir, 'state.json', lastState(failed));
    const resumed = await runTapCli(['--config', config, '--catalog', catalog, '--state', state]);
    expect(resumed.code).toBe(0);
    const second = recordsOf(resumed, 'invoices');
    const firstIds = new Set(first.map((r) => r.Id));
    expect(second.filter((r) => firstIds.has(r.Id))).toEqual([]);
    expect([...firstIds, ...second.map((r) => r.Id)].sort()).toEqual(truthIds(emu, 'invoices'));
  });

  it('re-reads a span whose rows shifted while it was paged, and loses nothing', async () => {
    const { emu, config, catalog } = await setup({}, { max_concurrency: 1 }, ['invoices']);
    emu.touchAfterPage({ entity: 'Invoice', afterPage: 1, count: 1 });
    const run = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(run.code).toBe(0);
    // The touched row moved past end_date; every row still in the range must have arrived.
    const emitted = new Set(recordsOf(run, 'invoices').map((r) => r.Id));
    expect(truthIds(emu, 'invoices').filter((id) => !emitted.has(id))).toEqual([]);
    expect(recordsOf(run, '_volumetry').some((e) => e.rereads > 0)).toBe(true);
    expect(run.stderr).toMatch(/rows moved while paging, reading the span again/);
  });

  it('stops before a span whose rows keep shifting on every re-read, and the resumed run reads it whole', async () => {
    // One span for the whole range (its 120 rows are few), so every hook hits one of its 4 attempts (the read and 3 re-reads).
    const { emu, dir, config, catalog } = await setup({}, { max_concurrency: 1 }, ['invoices']);
    for (let i = 0; i < 4; i++) emu.touchAfterPage({ entity: 'Invoice', afterPage: 1, count: 1 });
    const failed = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(
      /^FATAL tap-quickbooks: invoices span \S+: read \d+ distinct rows of \d+ counted after 3 re-reads .* so the next run reads it again$/m,
    );
    expect(recordsOf(failed, 'invoices')).toEqual([]); // the span was never accepted
    const state = writeJson(dir, 'state-shifting.json', lastState(failed) ?? {});
    const resumed = await runTapCli(['--config', config, '--catalog', catalog, '--state', state]);
    expect(resumed.code).toBe(0);
    const emitted = new Set(recordsOf(resumed, 'invoices').map((r) => r.Id));
    expect(truthIds(emu, 'invoices').filter((id) => !emitted.has(id))).toEqual([]);
  });

  it('retries 429s (XML body) after Retry-After, counts them, and names ThrottleExceeded when they never stop', async () => {
    // 12 requests a minute at the emulator: the 13th and every retry within the minute is refused.
    const { emu, config, catalog } = await setup(
      { requestsPerMinute: 12, retryAfterSeconds: 0.1 },
      { max_concurrency: 1, throttle_wait_seconds: 30, max_span_rows: 30 },
      ['invoices'],
    );
    const run = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(run.code).toBe(1);
    // Retry-After (0.1 s) was honoured instead of throttle_wait_seconds (30 s), else the test would time out.
    const fatal = fatalLine(run.stderr)!;
    expect(fatal).toMatch(
      /failed after 6 attempts: HTTP 429 code 3001: message=ThrottleExceeded; errorCode=003001; statusCode=429: The request limit was reached/,
    );
    expect(fatal).toMatch(/\(intuit_tid [0-9a-f-]{36}\)/);
    expect(emu.stats().throttled).toBe(6);
    expectNothingPastLastState(run);
  });
});
