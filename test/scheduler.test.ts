/**
 * The daily operation end to end, with real processes: `sync` from the job's bookmarks up to now,
 * recurring schedules run by a real `scheduler` process (a cron expression with seconds, so three
 * slots take seconds, not minutes: the slot logic is the same function either way and is tested
 * minute by minute on an injected clock in src/schedules and src/scheduler), and a scheduler
 * SIGKILLed in the middle of a trigger whose run a second scheduler takes over (and whose run's
 * config folder, secrets included, it deletes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { shiftedClockEnv } from './support/shiftedClockEnv.js';
import { TriggerStore } from '../packages/qbo-pipeline/src/index.js';
import { configDirs, dayStart, expectExactly, killRunningClis, runCliProcess, runnerArgs, suiteHarness, startRunnerCli, waitFor } from './pipelineHarness.js';

afterAll(killRunningClis);

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
const triggersIn = (stateDir: string) =>
  existsSync(path.join(stateDir, 'triggers'))
    ? readdirSync(path.join(stateDir, 'triggers'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => readJson(path.join(stateDir, 'triggers', f)))
    : [];
const runsIn = (stateDir: string) =>
  existsSync(path.join(stateDir, 'runs'))
    ? readdirSync(path.join(stateDir, 'runs'))
        .filter((f) => f.endsWith('.json'))
        .map((f) => readJson(path.join(stateDir, 'runs', f)))
    : [];

// The company's clock is the real one, and QBO shows a change at once: a sync runs up to now (no end_lag; test/endLag has the lag).
const h = suiteHarness({ seed: 23, days: 3, counts: { invoices: 90, customers: 24, items: 9 }, tap: { end_lag: 'PT0S' } });
beforeAll(() => {
  // The temporary folder of the runners and schedulers: only this suite's config folders are there.
  process.env.TMPDIR = path.join(h.dir, 'tmp');
  mkdirSync(process.env.TMPDIR);
});

describe('qbo-pipeline sync', () => {
  const schema = scratchSchema('sync');
  const dirs = () => ({ stateDir: path.join(h.dir, `state-${schema}`) });
  const args = async (command: string, streams: string, extra: readonly string[] = []) => [
    ...runnerArgs(command, { streams, tapConfig: h.tapConfig, targetConfig: await h.targetConfig(schema), stateDir: dirs().stateDir }),
    ...extra,
  ];

  it('without bookmarks or --start: exit 2, one line naming the streams and the state file, nothing extracted or written', async () => {
    const before = h.emulator.requestLog().length;
    const run = await runCliProcess(await args('sync', 'invoices,customers'));
    expect(run.code).toBe(2);
    const first = run.stderr.split('\n')[0];
    expect(first).toBe(
      `FATAL qbo-pipeline: sync qb_customers_invoices: streams invoices, customers have no bookmark in ${path.join(dirs().stateDir, 'qb_customers_invoices.json')}; give --start for the first sync (e.g. --start 2025-01-01)`,
    );
    expect(h.emulator.requestLog().length).toBe(before);
    expect(existsSync(path.join(dirs().stateDir, 'qb_customers_invoices.json'))).toBe(false);
  });

  it(
    'goes on from where the backfill of the same streams ended (same default job), up to now; a second sync rewrites only what changed',
    { timeout: 180_000 },
    async () => {
      const now = Date.now();
      const start = dayStart(now - 3 * 86_400_000);
      const midnight = dayStart(now);
      const backfill = await runCliProcess(await args('backfill', 'invoices,customers', ['--start', start, '--end', midnight]));
      expect(backfill.code, backfill.stderr).toBe(0);
      expect(backfill.stdout).toMatch(/^backfill qb_customers_invoices: done/);

      // The other order of the streams is the same job: the sync starts at the backfill's end.
      const sync = await runCliProcess(await args('sync', 'customers,invoices'));
      expect(sync.code, sync.stderr).toBe(0);
      const syncedAt = Date.now();
      expect(sync.stdout).toMatch(
        new RegExp(
          `^sync qb_customers_invoices: done in .*\\nrange \\[${midnight}, (\\S+)\\); state file ${path.join(dirs().stateDir, 'qb_customers_invoices.json').replace(/[.]/g, '\\.')}`,
        ),
      );
      const end = /range \[\S+, (\S+)\)/.exec(sync.stdout)![1]!;
      expect(Date.parse(end)).toBeGreaterThan(now - 1000);
      expect(Date.parse(end)).toBeLessThanOrEqual(syncedAt);
      const state = readJson(path.join(dirs().stateDir, 'qb_customers_invoices.json'));
      expect(state.bookmarks.invoices.replication_key_value).toBe(end);
      expect(state.bookmarks.customers.replication_key_value).toBe(end);
      await expectExactly(databaseUrl(), schema, h.emulator, ['invoices', 'customers'], start, end);
      const journal = runsIn(dirs().stateDir).find((r) => r.kind === 'sync');
      expect(journal).toMatchObject({ kind: 'sync', job: 'qb_customers_invoices', status: 'succeeded', range: { start: midnight, end } });

      // Five invoices change in QBO; the next sync rewrites those five rows and no other.
      const rows = async () =>
        new Map(
          (await withClient((c) => c.query<{ id: string; xmin: string }>(`SELECT id, xmin::text AS xmin FROM "${schema}".invoices`))).rows.map((r) => [
            r.id,
            r.xmin,
          ]),
        );
      const before = await rows();
      const changed = h.emulator
        .truth('invoices')
        .slice(0, 5)
        .map((r) => r.id);
      for (const id of changed) h.emulator.touch('Invoice', id);
      await sleep(1100); // the touched rows' LastUpdatedTime is this second; the sync runs up to the next one
      const again = await runCliProcess(await args('sync', 'invoices,customers'));
      expect(again.code, again.stderr).toBe(0);
      // A range of seconds reads in seconds (or minutes on a slow machine), never as 0/0 days.
      expect(again.stdout).toMatch(/invoices\s+\| [\d.]+\/[\d.]+ (s|min)\s+\|\s+\d+ \|\s+5 \|\s+5 \|\s+5 \|\s+0 \|\s+5 \|\s+0 \|/);
      const after = await rows();
      expect(
        [...after]
          .filter(([id, xmin]) => before.get(id) !== xmin)
          .map(([id]) => id)
          .sort(),
      ).toEqual([...changed].sort());
      await expectExactly(databaseUrl(), schema, h.emulator, ['invoices', 'customers'], start, new Date().toISOString());

      // Nothing changed since: the next sync says it is up to date since the last one's end.
      const againEnd = /range \[\S+, (\S+)\)/.exec(again.stdout)![1]!;
      await sleep(1100);
      const quiet = await runCliProcess(await args('sync', 'invoices,customers'));
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stdout).toMatch(new RegExp(`\\nup to date: nothing changed in QBO since ${againEnd} \\([\\d.]+ (s|min) read\\)\\n`));
      expect(quiet.stdout).not.toMatch(/ 0\/0 /);
    },
  );
});

describe('schedules run by a real scheduler process', () => {
  const schema = scratchSchema('sched');
  // Each test its own state folder: a scheduler of one test never runs another's schedule.
  let folder = 'none';
  const stateDir = () => path.join(h.dir, `state-${schema}-${folder}`);
  const first = dayStart(Date.now() - 3 * 86_400_000);
  const add = async (name: string, cron: string, extra: readonly string[] = []) =>
    runCliProcess([
      ...runnerArgs(['schedule', 'add'], {
        name,
        cron,
        streams: 'items',
        start: first,
        tapConfig: h.tapConfig,
        targetConfig: await h.targetConfig(schema),
        stateDir: stateDir(),
      }),
      ...extra,
    ]);

  it('refuses a bad cron expression or time zone with one line and exit 2, writing nothing', async () => {
    folder = 'refused';
    for (const [cron, tz, message] of [
      ['61 3 * * *', 'UTC', /^FATAL qbo-pipeline: --cron: "61 3 \* \* \*" is not a valid cron expression: Invalid value for minute: 61$/],
      ['15 3 * *', 'UTC', /^FATAL qbo-pipeline: --cron: "15 3 \* \*" is not a cron expression; give 5 fields/],
      ['15 3 * * *', 'America/Guayaquill', /^FATAL qbo-pipeline: --tz: "America\/Guayaquill" is not an IANA time zone/],
    ] as const) {
      const run = await add('bad', cron, ['--tz', tz]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')[0]).toMatch(message);
      expect(run.stdout).toBe('');
    }
    expect(existsSync(path.join(stateDir(), 'schedules'))).toBe(false);
  });

  // Timeouts are generous: on a loaded machine a run can outlast its slot at any time (that slot then queues behind it, as it should).
  it(
    'a schedule every 6 s runs 3 times in 3 slots, never overlapping; a slot that comes while the last run still runs is queued, saying so, and runs when it ends, late',
    { timeout: 300_000 },
    async () => {
      folder = 'every6s';
      const added = await add('every6s', '*/6 * * * * *');
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toMatch(/^schedule every6s: added: sync qb_items \(items\) at "\*\/6 \* \* \* \* \*" UTC/);
      const scheduler = startRunnerCli(['scheduler', '--state-dir', stateDir(), '--interval', '0.3']);
      const mine = () => triggersIn(stateDir()).filter((t) => t.schedule?.name === 'every6s');
      try {
        // Three slots run one after the other, the third slowed down to outlast its slot (set once two
        // ran, not three: a slot less to wait for): the next slot is queued behind it and says why.
        await waitFor('two completed slots', () => mine().filter((t) => t.status === 'completed').length >= 2, 180_000);
        h.emulator.setLatency(4000);
        await waitFor('a queued slot', () => mine().some((t) => t.queued !== undefined), 90_000);
      } finally {
        h.emulator.setLatency(0);
      }
      // Paused, it starts nothing new; once the slow run is done, the scheduler stops idle.
      const pause = await runCliProcess(['schedule', 'pause', 'every6s', '--state-dir', stateDir()]);
      expect(pause.stdout).toBe('schedule every6s: paused\n');
      await waitFor('the slow run to finish', () => mine().every((t) => t.status !== 'running' && t.status !== 'pending'), 90_000);
      scheduler.child.kill('SIGTERM');
      expect(await scheduler.exited).toBe(0);

      const slots = mine().sort((a, b) => a.at.localeCompare(b.at));
      // Each slot at most once, on the 6-second grid.
      expect(new Set(slots.map((t) => t.schedule.slot)).size).toBe(slots.length);
      for (const t of slots) expect(new Date(t.schedule.slot).getUTCSeconds() % 6).toBe(0);
      // A queued slot ran once its job was free, late and saying why; none was skipped.
      const queued = slots.find((t) => t.queued !== undefined)!;
      expect(queued).toMatchObject({ status: 'completed', late: true, queued: { behind: "this scheduler's run of the job" } });
      expect(slots.every((t) => t.status === 'completed')).toBe(true);
      expect(scheduler.output()).toMatch(
        new RegExp(
          `WARN qbo-pipeline scheduler: schedule every6s slot ${queued.at} is due(?: \\([^)]*\\))?; queued: job qb_items is busy \\(this scheduler's run of the job\\), the slot runs when that ends`,
        ),
      );
      // Never overlapping: the runs of the job, in the runs journal, one after the other.
      const runs = runsIn(stateDir())
        .filter((r) => r.job === 'qb_items')
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
      expect(runs.length).toBeGreaterThanOrEqual(4);
      for (let i = 1; i < runs.length; i++) expect(Date.parse(runs[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1]!.finishedAt));
      expect(runs.every((r) => r.status === 'succeeded' && r.kind === 'sync' && r.scheduleId === 'every6s')).toBe(true);
      expect(runs.find((r) => r.triggerId === queued.id)?.late).toMatch(/^late by .*, queued behind this scheduler's run of the job$/);
      // Each completed slot says what its few seconds found, as `trigger list` and the console show it.
      for (const t of slots.filter((s) => s.status === 'completed')) {
        expect(t.result.message).toMatch(
          /^(done: items [\d.]+ (s|min|h|days?), \d+ records?|up to date: nothing changed in QBO since \S+ \([\d.]+ (s|min) read\))$/,
        );
      }
      expect(
        slots
          .filter((s) => s.status === 'completed')
          .slice(1)
          .some((t) => t.result.message.startsWith('up to date: nothing changed in QBO since ')),
      ).toBe(true);
      await expectExactly(databaseUrl(), schema, h.emulator, ['items'], first, runs[runs.length - 1]!.range.end);

      const list = await runCliProcess(['schedule', 'list', '--state-dir', stateDir()]);
      expect(list.stdout).toMatch(
        /every6s \| \*\/6 \* \* \* \* \* \| paused since \S+ \| qb_items \| items\s+\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: completed[^|]*\| \(paused\)/,
      );
    },
  );

  it('a scheduler stopped for 5 slots runs the schedule once when it starts again, marked late', { timeout: 180_000 }, async () => {
    folder = 'everysecond';
    const added = await add('everysecond', '* * * * * *');
    expect(added.code, added.stderr).toBe(0);
    const mine = () => triggersIn(stateDir()).filter((t) => t.schedule?.name === 'everysecond');
    // The seconds pass on the schedulers' clock (test/support/shiftClock.mjs), not in the test: 1.1 s after the schedule was added, then 5.5 s more.
    const passed = (ms: number) => ({ env: { ...process.env, ...shiftedClockEnv(ms) } });
    // A scheduler runs the slot that is due (the latest, if the command took more than a second to start), then stops.
    const before = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir()], passed(1100));
    expect(before.code, before.stderr).toBe(0);
    expect(mine()).toHaveLength(1);
    expect(mine()[0]).toMatchObject({ status: 'completed' });
    const stoppedAt = Date.now() + 1100;

    const restarted = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir()], passed(1100 + 5_500));
    expect(restarted.code, restarted.stderr).toBe(0);
    const made = mine().filter((t) => Date.parse(t.createdAt) >= stoppedAt);
    expect(made).toHaveLength(1);
    expect(mine()).toHaveLength(2);
    expect(made[0]).toMatchObject({ status: 'completed', late: true });
    expect(made[0]!.schedule.slots).toBeGreaterThanOrEqual(5);
    expect(restarted.stderr).toMatch(/schedule everysecond slot \S+ is due \(\d+ slots missed while no scheduler ran; run once\)/);
    const list = await runCliProcess(['trigger', 'list', '--state-dir', stateDir()]);
    expect(list.stdout).toMatch(new RegExp(`${made[0]!.id} \\| ${made[0]!.at} \\| completed \\(late by [\\d.]+ s, \\d+ slots run once\\)`));
    const removed = await runCliProcess(['schedule', 'remove', 'everysecond', '--state-dir', stateDir()]);
    expect(removed.stdout).toBe('schedule everysecond: removed\n');
  });
});

describe('a scheduler killed while running a trigger', () => {
  const schema = scratchSchema('takeover');
  const stateDir = () => path.join(h.dir, `state-${schema}`);
  const START = dayStart(Date.now() - 3 * 86_400_000);
  const END = dayStart(Date.now());

  it('scheduler --once within its lease starts nothing, exits 0, and says once until when the lease holds the trigger', async () => {
    const dir = path.join(h.dir, `state-${schema}-held`);
    const added = await runCliProcess(
      runnerArgs(['trigger', 'add'], {
        at: new Date(Date.now() - 1000).toISOString(),
        streams: 'invoices',
        start: START,
        end: END,
        tapConfig: h.tapConfig,
        targetConfig: await h.targetConfig(schema),
        stateDir: dir,
      }),
    );
    expect(added.code, added.stderr).toBe(0);
    const id = /^trigger (trg-\S+):/.exec(added.stdout)![1]!;
    // What a scheduler killed a moment after claiming it leaves: its lease, running for another hour.
    const heartbeat = new Date(Date.now() - 1000).toISOString();
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const lease = { owner: 'killed', host: 'old-host', pid: 4242, attempt: 1, claimedAt: heartbeat, heartbeatAt: heartbeat, expiresAt: expires };
    expect(await new TriggerStore(path.join(dir, 'triggers')).claim(id, lease)).toBe(true);
    const once = await runCliProcess(['scheduler', '--once', '--state-dir', dir]);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stderr.trim().split('\n')).toEqual([
      `INFO qbo-pipeline scheduler: trigger ${id}: attempt 1 is held by the scheduler on old-host pid 4242 (last heartbeat ${heartbeat}), whose lease expires at ${expires} unless renewed; if that scheduler is gone, a pass after then takes the trigger over and resumes its run`,
    ]);
    expect(readJson(path.join(dir, 'triggers', `${id}.json`)).status).toBe('pending');
  });

  it(
    'is taken over by a second scheduler once its lease expires: the trigger completes, the data equals the truth, trigger list shows both attempts',
    { timeout: 180_000 },
    async () => {
      const targetConfig = await h.targetConfig(schema, { batch_size_rows: 10 });
      // Pages of 3 records, spans of at most 6 rows, and every query from the 20th on stalls: the
      // first 19 pages complete spans (a span's records and state come out only when it is whole)
      // and bring enough records for commits, whatever the time of day (a span of the whole range,
      // after midnight, needed 30 pages and never committed), and the run cannot finish before the
      // kill however slow the machine (a latency only made that likely: once, the run finished first).
      const tapConfig = path.join(h.dir, 'tap-takeover.json');
      writeFileSync(tapConfig, JSON.stringify({ ...readJson(h.tapConfig), page_size: 3, max_span_rows: 6 }));
      const due = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      const added = await runCliProcess(
        runnerArgs(['trigger', 'add'], {
          at: due,
          streams: 'invoices,customers,items',
          start: START,
          end: END,
          tapConfig,
          targetConfig,
          stateDir: stateDir(),
        }),
      );
      expect(added.code, added.stderr).toBe(0);
      const id = /^trigger (trg-\S+):/.exec(added.stdout)![1]!;
      const stateFile = path.join(stateDir(), 'qb_customers_invoices_items.json');

      h.emulator.setFaults({ rules: [{ fault: 'stall', kinds: ['query'], from: 20 }] });
      const before = configDirs();
      const first = startRunnerCli(['scheduler', '--state-dir', stateDir(), '--interval', '0.2', '--lease-seconds', '2']);
      await waitFor('a first commit of the trigger', () => existsSync(stateFile), 60_000);
      process.kill(-first.child.pid!, 'SIGKILL'); // the scheduler and its tap and target, as a crashed container
      await first.exited;
      h.emulator.setFaults({ rules: [] });
      // Its run's config folder (the client secret and refresh token) outlived it: it could not delete it.
      expect(configDirs().filter((n) => !before.includes(n))).toHaveLength(1);
      const stranded = readJson(path.join(stateDir(), 'triggers', `${id}.json`));
      expect(stranded.status).toBe('running');
      expect(runsIn(stateDir()).map((r) => [r.triggerId, r.attempt, r.status])).toEqual([[id, 1, 'running']]);
      const lease = readJson(path.join(stateDir(), 'triggers', `${id}.claim`));
      expect(lease).toMatchObject({ attempt: 1, pid: first.child.pid });

      // (That a live lease is left alone is src/scheduler/Scheduler.test.ts's; here, starting a process can outlast a 2 s lease.)
      await sleep(Math.max(0, Date.parse(lease.expiresAt) - Date.now()) + 300);
      const second = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir(), '--lease-seconds', '2']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(
        new RegExp(
          `WARN qbo-pipeline scheduler: trigger ${id}: lease of attempt 1 \\(\\S+ pid ${first.child.pid}\\) expired at \\S+; taking it over as attempt 2`,
        ),
      );

      expect(configDirs(), "the killed scheduler's run's config folder, deleted by the second; and the second's own").toEqual([]);
      const done = readJson(path.join(stateDir(), 'triggers', `${id}.json`));
      expect(done).toMatchObject({ status: 'completed', enabled: false });
      expect(done.attempts.map((a: { attempt: number; outcome: string }) => [a.attempt, a.outcome])).toEqual([
        [1, 'lease expired'],
        [2, 'completed'],
      ]);
      await expectExactly(databaseUrl(), schema, h.emulator, ['invoices', 'customers', 'items'], START, END);
      const list = await runCliProcess(['trigger', 'list', '--state-dir', stateDir()]);
      expect(list.stdout).toMatch(new RegExp(`${id} \\| ${due} \\| completed`));
      expect(list.stdout).toMatch(
        new RegExp(
          ` {2}attempt 1 +\\| \\S+ \\| lease expired at \\S+ +\\| \\S+ pid ${first.child.pid} +\\| +\\| the scheduler on \\S+ pid ${first.child.pid} stopped renewing its lease`,
        ),
      );
      expect(list.stdout).toMatch(/ {2}attempt 2 +\| \S+ \| completed at \S+ +\| \S+ pid \d+ +\| +\| done: invoices/);
      // The runs journal has both attempts of the trigger.
      const runs = runsIn(stateDir())
        .filter((r) => r.triggerId === id)
        .sort((a, b) => a.attempt - b.attempt);
      expect(runs.map((r) => [r.attempt, r.status])).toEqual([
        [1, 'failed'],
        [2, 'succeeded'],
      ]);
      // Attempt 2's run, holding the job's lock as it started, closed attempt 1's: in the journal and in the warehouse.
      expect(runs[0]!.reason).toBe(
        `its runner (pid ${first.child.pid} on ${runs[0]!.host}) was gone (killed, or its machine restarted) before the run ended; when it stopped is unknown (last sign of life ${runs[0]!.runnerGone.lastSignOfLife}); run ${runs[1]!.id} went on from the job's state file`,
      );
      expect(runs[0]!.exitCode).toBeUndefined();
      const rows = await withClient((c) =>
        c.query(`SELECT attempt, status, exit_code, finished_at_utc, reason FROM "${schema}"._pipeline_runs WHERE trigger_id = $1 ORDER BY attempt`, [id]),
      );
      expect(rows.rows).toEqual([
        { attempt: 1, status: 'failed', exit_code: null, finished_at_utc: null, reason: runs[0]!.reason },
        { attempt: 2, status: 'succeeded', exit_code: 0, finished_at_utc: expect.any(Date), reason: null },
      ]);
    },
  );
});
