import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createLogger, UsageError } from 'singer-kit';
import { configDirHost } from '../childConfigs.js';
import { JobBusyError, type BackfillResult } from '../runBackfill.js';
import { triggerStore } from '../triggers/TriggerStore.js';
import type { Trigger } from '../triggers/Trigger.js';
import { CompaniesScheduler, COMPANY_SCHEDULE } from './CompaniesScheduler.js';

const dir = await mkdtemp(path.join(tmpdir(), 'companies-scheduler-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
for (const name of ['client_id', 'client_secret', 'a/refresh_token', 'b/refresh_token', 'c/refresh_token']) {
  await mkdir(path.dirname(path.join(dir, 'secrets', name)), { recursive: true });
  await writeFile(path.join(dir, 'secrets', name), 'x\n');
}

const FILE = (extra = '') => `defaults:
  streams: [invoices]
  start: 2025-01-01
  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret}
scheduler: {max_parallel: 1}
companies:
  - {name: a, realm_id: "1", schedule: {cron: "0 3 * * *"}, secrets: {refresh_token_file: secrets/a/refresh_token}}
  - {name: b, realm_id: "2", schedule: {cron: "0 3 * * *", tz: America/New_York}, secrets: {refresh_token_file: secrets/b/refresh_token}}
  - {name: c, realm_id: "3", secrets: {refresh_token_file: secrets/c/refresh_token}}
${extra}`;

/** A fourth company on a's schedule (03:00 UTC). */
const D = '  - {name: d, realm_id: "4", schedule: {cron: "0 3 * * *"}, secrets: {refresh_token_file: secrets/a/refresh_token}}';

const quiet = createLogger('test', { sink: () => undefined });
const done = (trigger: Trigger): BackfillResult =>
  ({ exitCode: 0, ok: true, progress: [], runIds: [], totals: [], failure: undefined, runId: `run-${trigger.id}` }) as unknown as BackfillResult;

/** A scheduler over `folder` whose runs are stand-ins that finish when released. */
async function harness(folder: string, clock: { now: Date }) {
  const file = path.join(dir, `${folder}.yaml`);
  await writeFile(file, FILE());
  const started: Array<{ company: string; trigger: Trigger }> = [];
  const releases: Array<() => void> = [];
  const scheduler = await CompaniesScheduler.start({
    file,
    stateRoot: path.join(dir, folder),
    logger: quiet,
    now: () => clock.now,
    runTrigger: (trigger) =>
      new Promise((resolve) => {
        started.push({ company: trigger.sync?.company?.name ?? '?', trigger });
        releases.push(() => resolve(done(trigger)));
      }),
  });
  const releaseAll = async () => {
    for (const r of releases.splice(0)) r();
    await scheduler.idle();
  };
  return { scheduler, started, releaseAll, file };
}

describe('CompaniesScheduler', () => {
  it("runs each company's schedule: from the file, at its slot in its time zone, within max_parallel, taking turns", async () => {
    const clock = { now: new Date('2025-03-01T02:00:00Z') };
    const { scheduler, started, releaseAll } = await harness('slots', clock);
    expect(await scheduler.pass()).toEqual([]);
    clock.now = new Date('2025-03-01T03:00:30Z'); // a's 03:00 UTC slot; b's is 08:00 UTC (03:00 in New York)
    expect(await scheduler.pass()).toEqual([`a/sch-${COMPANY_SCHEDULE}-20250301T030000Z`]);
    expect(started[0]?.company).toBe('a');
    expect(started[0]?.trigger.sync).toMatchObject({ streams: [], job: 'qb_company', company: { name: 'a', file: expect.stringMatching(/slots\.yaml$/) } });
    await releaseAll();
    clock.now = new Date('2025-03-01T08:00:10Z');
    expect(await scheduler.pass()).toHaveLength(1);
    expect(started.map((s) => s.company)).toEqual(['a', 'b']);
    await releaseAll();
    // The next day both are due at once, but max_parallel is 1: one now, the other at a later pass.
    clock.now = new Date('2025-03-02T09:00:00Z');
    const first = await scheduler.pass();
    expect(first).toHaveLength(1);
    expect(await scheduler.pass()).toEqual([]); // the limit holds while it runs
    await releaseAll();
    const second = await scheduler.pass();
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    await releaseAll();
    expect(
      started
        .map((s) => s.company)
        .slice(2)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('after a restart, slots missed while no scheduler ran are run once, late; a company added to the file starts at its next slot', async () => {
    const clock = { now: new Date('2025-03-01T02:00:00Z') };
    const first = await harness('restart', clock);
    await first.scheduler.pass(); // the companies are seen: their slots count from now
    clock.now = new Date('2025-03-04T10:00:00Z'); // three days down
    const again = await harness('restart', clock);
    expect((await again.scheduler.pass()).sort()).toEqual([`a/sch-${COMPANY_SCHEDULE}-20250304T030000Z`]);
    expect(again.started[0]?.trigger.schedule).toMatchObject({ slots: 4, firstSlot: '2025-03-01T03:00:00Z' });
    expect(again.started[0]?.trigger.late).toBe(true);
    await again.releaseAll();
    await writeFile(again.file, FILE(D));
    expect(await again.scheduler.pass()).toHaveLength(1); // b's missed slots, run once
    expect(again.started.at(-1)?.company).toBe('b');
    await again.releaseAll();
    expect(await again.scheduler.pass()).toEqual([]); // d was added after its 03:00: its first slot is tomorrow's
    clock.now = new Date('2025-03-05T03:00:05Z');
    expect(await again.scheduler.pass()).toHaveLength(1);
    await again.releaseAll();
    expect(await again.scheduler.pass()).toHaveLength(1);
    await again.releaseAll();
    expect(
      again.started
        .slice(-2)
        .map((s) => s.company)
        .sort(),
    ).toEqual(['a', 'd']);
  });

  it('names a company taken out of the file once, saying nothing of it runs and its folder and schema are kept; it runs no more', async () => {
    const clock = { now: new Date('2025-03-01T02:00:00Z') };
    const file = path.join(dir, 'leaves.yaml');
    await writeFile(file, FILE());
    const lines: string[] = [];
    const started: string[] = [];
    const scheduler = await CompaniesScheduler.start({
      file,
      stateRoot: path.join(dir, 'leaves'),
      logger: createLogger('test', { sink: (line) => lines.push(line) }),
      now: () => clock.now,
      runTrigger: (trigger) => {
        started.push(trigger.sync?.company?.name ?? '?');
        return Promise.resolve(done(trigger));
      },
    });
    await scheduler.pass();
    await writeFile(file, FILE().replace(/^ {2}- \{name: a, .*\n/m, ''));
    clock.now = new Date('2025-03-01T03:00:30Z'); // a's slot
    expect(await scheduler.pass()).toEqual([]);
    await scheduler.pass();
    expect(started).toEqual([]);
    expect(lines).toEqual([
      `WARN test: company a is not in companies file ${file} any more: nothing of it runs (its pending triggers wait, unrun: trigger list --companies ${file} shows them); its state folder ${path.join(dir, 'leaves/companies/a')} (bookmarks, token store, runs) and its rows in schema raw_a are kept. Put it back in the file to go on from its bookmarks, or delete the folder and drop the schema to forget it`,
    ]);
  });

  it('attempts a trigger once and reports the runs that finished their trigger, not an attempt that found its job busy (its trigger waits, pending)', async () => {
    const clock = { now: new Date('2025-03-01T02:00:00Z') };
    const file = path.join(dir, 'busy.yaml');
    await writeFile(file, FILE());
    const runs: Array<{ company: string; ok: boolean }> = [];
    const scheduler = await CompaniesScheduler.start({
      file,
      stateRoot: path.join(dir, 'busy'),
      logger: quiet,
      maxParallel: 3,
      now: () => clock.now,
      // a's job is taken by another runner as its attempt starts (after the pass looked at the lock): found busy a moment later.
      runTrigger: (trigger) =>
        trigger.sync?.company?.name === 'a'
          ? new Promise((_, reject) => setTimeout(() => reject(new JobBusyError('job qb_company is already running')), 30))
          : Promise.resolve(done(trigger)),
      onRun: (run) => runs.push({ company: run.company.name, ok: run.error === undefined }),
    });
    await scheduler.pass(); // first sight of the companies: their schedules count from now
    clock.now = new Date('2025-03-01T08:00:30Z'); // after a's slot (03:00 UTC) and b's (03:00 New York)
    await scheduler.runOnce(10);
    expect(runs).toEqual([{ company: 'b', ok: true }]);
    const [a] = await triggerStore(path.join(dir, 'busy/companies/a')).list();
    expect(a?.status).toBe('pending');
    // Once, not again at every pass while the other runner holds the job: that one would never let --once end.
    expect(a?.attempts?.map((t) => t.outcome)).toEqual(['job busy']);
  });

  it('--once runs every due trigger, however the runs holding max_parallel end during a pass (one that saw no room must not be the last)', async () => {
    // The first run ends at the k-th look at the clock after it started: somewhere in a later pass,
    // before or after that pass looked for room for the waiting company. Each k is one night: a's
    // slot (03:00 UTC) and b's (03:00 New York); then a's and d's, both 03:00 UTC, whose triggers
    // have the same id in their own folders (sch-company-<slot>).
    const nights = [
      { name: 'ab', text: FILE(), at: '2025-03-01T08:00:30Z', companies: ['a', 'b'] },
      { name: 'ad', text: FILE(D), at: '2025-03-01T03:00:30Z', companies: ['a', 'd'] },
    ];
    for (const night of nights) {
      for (let k = 1; k <= 16; k++) {
        const folder = `once-room-${night.name}-${k}`;
        const file = path.join(dir, `${folder}.yaml`);
        await writeFile(file, night.text);
        const clock = { now: new Date('2025-03-01T02:00:00Z') };
        let looks = -1;
        let endFirst: (() => void) | undefined;
        const started: string[] = [];
        const scheduler = await CompaniesScheduler.start({
          file,
          stateRoot: path.join(dir, folder),
          logger: quiet,
          maxParallel: 1,
          now: () => {
            if (looks >= 0 && ++looks === k) endFirst?.();
            return clock.now;
          },
          runTrigger: (trigger) => {
            started.push(trigger.sync?.company?.name ?? '?');
            if (started.length > 1) return Promise.resolve(done(trigger));
            looks = 0;
            return new Promise((resolve) => (endFirst = () => resolve(done(trigger))));
          },
        });
        await scheduler.pass(); // first sight of the companies: their schedules count from now
        clock.now = new Date(night.at);
        await scheduler.runOnce(1);
        expect({ night: night.name, k, started: started.sort() }).toEqual({ night: night.name, k, started: night.companies });
      }
    }
  });

  it("removes the config folders of a runner that died once a pass, in its own name: they are no company's", async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const left = path.join(tmpdir(), `qbo-pipeline-${configDirHost()}-${dead}-x-Kil1ed`);
    await mkdir(left);
    const lines: string[] = [];
    const file = path.join(dir, 'killed.yaml');
    await writeFile(file, FILE());
    const scheduler = await CompaniesScheduler.start({
      file,
      stateRoot: path.join(dir, 'killed'),
      logger: createLogger('test', { sink: (line) => lines.push(line) }),
      now: () => new Date('2025-03-01T02:00:00Z'),
    });
    await scheduler.pass();
    expect(existsSync(left)).toBe(false);
    expect(lines.filter((l) => l.includes(left))).toEqual([
      `INFO test: removed ${left}: the config files (secrets included) of a runner on this host that is gone (killed)`,
    ]);
  });

  it("starts when a company's secret file is missing, naming it (the other companies go on)", async () => {
    const file = path.join(dir, 'missing.yaml');
    await writeFile(file, FILE().replace('secrets/c/refresh_token', 'secrets/nobody'));
    const lines: string[] = [];
    const logger = createLogger('test', { sink: (line) => lines.push(line) });
    const scheduler = await CompaniesScheduler.start({ file, stateRoot: path.join(dir, 'missing'), logger });
    expect(scheduler.companies.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(lines).toEqual([
      expect.stringMatching(
        /^ERROR test: companies file .*missing\.yaml:\d+:\d+: company c: refresh_token_file secrets\/nobody does not exist; its runs fail until it is there/,
      ),
    ]);
  });

  it('keeps the companies it had when an edit breaks the file (an end_lag the tap refuses), saying so once; takes the file once it reads again', async () => {
    const file = path.join(dir, 'edited.yaml');
    await writeFile(file, FILE());
    const lines: string[] = [];
    const scheduler = await CompaniesScheduler.start({
      file,
      stateRoot: path.join(dir, 'edited'),
      logger: createLogger('test', { sink: (line) => lines.push(line) }),
      now: () => new Date('2025-03-01T02:00:00Z'),
    });
    await scheduler.pass();
    // d added in the same edit: it waits for the file to read again.
    await writeFile(file, FILE(D).replace('{name: b, realm_id: "2",', '{name: b, realm_id: "2", tap: {end_lag: soon},'));
    await scheduler.pass();
    await scheduler.pass();
    expect(scheduler.companies.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(lines).toEqual([
      `ERROR test: companies file ${file}:8:45: companies[1] (b).tap.end_lag: must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (PT5M, PT0S), from PT0S to P1D, got "soon"; going on with the companies as they were`,
    ]);
    await writeFile(file, FILE(D));
    await scheduler.pass();
    expect(scheduler.companies.map((c) => c.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(lines.slice(1)).toEqual([`INFO test: companies file ${file} reads again`]);
  });

  it('refuses to start when the companies file itself is broken', async () => {
    const file = path.join(dir, 'broken.yaml');
    await writeFile(file, 'companies:\n  - name: a\n    realm_id: 1\n');
    await expect(CompaniesScheduler.start({ file, stateRoot: path.join(dir, 'broken'), logger: quiet })).rejects.toThrow(UsageError);
  });
});
