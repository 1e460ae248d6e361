import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { runBackfill } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, scratchSchema } from './support/db.js';
import { diffWithTruth, loggedHooks, RUNNER_CLI, runnerArgs, startHarness, type Harness } from './pipelineHarness.js';

/**
 * A runner killed alone with SIGKILL (`kill -9 <pid>`, the OOM killer: not its process group)
 * cannot stop its tap and target. They stop themselves within a second or two, so no orphan goes
 * on loading beside the job's next run, and that run makes the table exact.
 */
const START = '2025-02-26T00:00:00Z';
const END = '2025-03-01T00:00:00Z';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ databaseUrl: databaseUrl(), seed: 34, now: new Date(END), days: 3, counts: { invoices: 40 }, tap: { request_timeout_seconds: 60 } });
});
afterAll(() => h?.close());

/** The processes whose parent is `pid` (Linux /proc), living (not zombies). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === pid && state !== 'Z' ? [Number(d)] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}
const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

describe.skipIf(process.platform !== 'linux')('a runner killed with kill -9', () => {
  it('leaves no tap or target running: they stop once their runner is gone, and the next run is exact', async () => {
    const schema = scratchSchema('orphan');
    const request = {
      streams: ['invoices'],
      start: START,
      end: END,
      tapConfig: h.tapConfig,
      targetConfig: await h.targetConfig(schema),
      stateDir: path.join(h.dir, 'state'),
    };
    // QBO does not answer: the tap waits (up to its 60 s timeout, then retries).
    h.emulator.setFaults({ rules: [{ fault: 'stall', kinds: ['query', 'count', 'cdc'], from: 1 }] });
    const runner = spawn(process.execPath, [RUNNER_CLI, ...runnerArgs('backfill', { ...request, streams: 'invoices' })], { detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => runner.on('close', resolve));
    let children: number[] = [];
    try {
      for (let k = 0; k < 300 && !((h.emulator.stats().faults.stall ?? 0) > 0 && (children = childrenOf(runner.pid!)).length === 2); k++) await sleep(50);
      expect(children, 'the tap and target run, the tap waiting on QBO').toHaveLength(2);
      process.kill(runner.pid!, 'SIGKILL'); // the runner alone
      await exited;
      for (let k = 0; k < 50 && children.some(alive); k++) await sleep(100);
      expect(children.filter(alive), 'tap or target still running 5 s after their runner was killed').toEqual([]);
    } finally {
      for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
      h.emulator.setFaults({ rules: [] });
    }
    // The killed runner's lock goes stale 2 s after its last refresh; then the next run goes on from the state file.
    const { hooks } = loggedHooks();
    await sleep(2_500);
    const result = await runBackfill(request, { ...hooks, lockStaleMs: 2_000 });
    expect(result.ok, result.failure?.reason).toBe(true);
    const diff = await diffWithTruth(databaseUrl(), schema, h.emulator, 'invoices', START, END);
    expect({ missing: diff.missing, extra: diff.extra, different: diff.different, rows: diff.rows }).toEqual({
      missing: [],
      extra: [],
      different: [],
      rows: diff.expected,
    });
  });
});
