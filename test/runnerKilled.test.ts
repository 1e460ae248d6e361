import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { RunJournal, runBackfill } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, scratchSchema } from './support/db.js';
import { diffWithTruth, loggedHooks, RUNNER_CLI, runnerArgs, suiteHarness, waitFor } from './pipelineHarness.js';

/**
 * A runner killed alone with SIGKILL (`kill -9 <pid>`, the OOM killer: not its process group)
 * cannot stop its tap and target. They stop themselves within a second or two, so no orphan goes
 * on loading beside the job's next run, and that run makes the table exact. Nor does its folder of
 * config files (the client secret and refresh token in tap.json) stay in the temporary folder:
 * the next run removes it, and never a live runner's.
 */
const START = '2025-02-26T00:00:00Z';
const END = '2025-03-01T00:00:00Z';

const h = suiteHarness({
  seed: 34,
  now: new Date(END),
  days: 3,
  counts: { invoices: 40 },
  tap: { request_timeout_seconds: 60, max_concurrency: 1 },
});
beforeAll(() => {
  // The runners' temporary folder (theirs, spawned, and this process's): only this suite's config folders are there.
  process.env.TMPDIR = path.join(h.dir, 'tmp');
  mkdirSync(process.env.TMPDIR);
});

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

/** A process's command line (none once gone); a child between fork and exec still shows its parent's. */
function argsOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
const execedWithConfig = (pid: number) => argsOf(pid).includes('--config');

/** The folder of the config file a process was started with (`--config <folder>/tap.json`), from its command line. */
function configDirOf(pid: number): string {
  const args = argsOf(pid);
  return path.dirname(args[args.indexOf('--config') + 1]!);
}

/**
 * A runner of `request` spawned alone (`detached`, no output), once its tap and target run and QBO
 * stalled one more request than before it started: its tap's, as another runner's tap, one request
 * in flight (`max_concurrency: 1`), waits on its stalled one for 60 s.
 */
async function stalledRunner(request: Record<string, string | undefined>): Promise<{ pid: number; children: number[]; exited: Promise<unknown> }> {
  const stalls = () => h.emulator.stats().faults.stall ?? 0;
  const stalledBefore = stalls();
  const runner = spawn(process.execPath, [RUNNER_CLI, ...runnerArgs('backfill', request)], { detached: true, stdio: 'ignore' });
  const exited = new Promise((resolve) => runner.on('close', resolve));
  let children: number[] = [];
  const ready = () => stalls() > stalledBefore && (children = childrenOf(runner.pid!)).length === 2 && children.every(execedWithConfig);
  await waitFor('the runner to run its tap and target, and QBO to stall its tap', ready);
  return { pid: runner.pid!, children, exited };
}

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
    let children: number[] = [];
    try {
      const runner = await stalledRunner({ ...request, streams: 'invoices' });
      children = runner.children;
      const exited = runner.exited;
      process.kill(runner.pid, 'SIGKILL'); // the runner alone
      await exited;
      await waitFor('the tap and target to stop once their runner is gone', () => !children.some(alive));
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

  it(
    "leaves no secrets in the temporary folder nor disk held in the state folder: the job's next run removes the killed runner's config folder and the space its run held for its end, not a live runner's",
    { timeout: 120_000 },
    async () => {
      const schema = scratchSchema('orphan_secrets');
      const stateDir = path.join(h.dir, 'state-secrets');
      const request = { streams: 'invoices', start: START, end: END, tapConfig: h.tapConfig, targetConfig: await h.targetConfig(schema), stateDir };
      h.emulator.setFaults({ rules: [{ fault: 'stall', kinds: ['query', 'count', 'cdc'], from: 1 }] });
      const killed = await stalledRunner({ ...request, job: 'qb_killed' });
      const live = await stalledRunner({ ...request, job: 'qb_live' });
      try {
        const killedDir = configDirOf(killed.children[0]!);
        const liveDir = configDirOf(live.children[0]!);
        expect(readFileSync(path.join(killedDir, 'tap.json'), 'utf8')).toContain('client_secret');
        // Each run holds 32 KiB beside its record from its start, for its last write: `.<run-id>.json.<pid>.<random>.tmp`.
        const journal = RunJournal.of(stateDir);
        const runOf = async (job: string) => (await journal.list({ job }))[0]!.id;
        /** The reserves in the journal's folder, as `.<run-id>.json.<pid>.` (their random part cut). */
        const reserves = () =>
          readdirSync(journal.dir)
            .filter((n) => n.endsWith('.tmp'))
            .map((n) => n.replace(/[0-9a-f]{8}\.tmp$/, ''));
        const killedRun = await runOf('qb_killed');
        const liveReserve = `.${await runOf('qb_live')}.json.${live.pid}.`;
        expect(reserves().sort()).toEqual([`.${killedRun}.json.${killed.pid}.`, liveReserve].sort());
        process.kill(killed.pid, 'SIGKILL'); // the runner alone, as the OOM killer
        await killed.exited;
        await waitFor("the killed runner's tap and target to stop", () => !killed.children.some(alive));
        expect(existsSync(killedDir), 'the killed runner could not remove its own folder').toBe(true);

        // The job's next run, once the killed runner's lock is stale (the live runner's tap still waits on its stalled request).
        h.emulator.setFaults({ rules: [] });
        await sleep(2_500);
        const { hooks, logs } = loggedHooks();
        const result = await runBackfill(
          { ...request, job: 'qb_killed', streams: ['invoices'], tapConfig: h.tapConfig, targetConfig: request.targetConfig },
          { ...hooks, lockStaleMs: 2_000 },
        );
        expect(result.ok, result.failure?.reason).toBe(true);
        expect(existsSync(killedDir), "the killed runner's config folder, with its client secret and refresh token").toBe(false);
        expect(logs.join('\n')).toContain(`removed ${killedDir}: the config files (secrets included) of a runner on this host that is gone (killed)`);
        expect(alive(live.pid), 'the live runner still runs').toBe(true);
        expect(existsSync(path.join(liveDir, 'tap.json')), "the live runner's config folder").toBe(true);
        // The killed run, closed as its runner gone, holds no disk any more; the live run still holds its own.
        expect((await journal.read(killedRun)).runnerGone).toBeDefined();
        expect(reserves()).toEqual([liveReserve]);
        // Nor did the run leave its own.
        expect(readdirSync(process.env.TMPDIR!).filter((n) => n.startsWith('qbo-pipeline-'))).toEqual([path.basename(liveDir)]);
      } finally {
        for (const pid of [killed.pid, ...killed.children, live.pid, ...live.children]) if (alive(pid)) process.kill(pid, 'SIGKILL');
        h.emulator.setFaults({ rules: [] });
      }
    },
  );
});
