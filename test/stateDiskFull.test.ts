import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { userEnv } from './support/runProcess.js';
import path from 'node:path';
import { RunJournal } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, scratchSchema } from './support/db.js';
import { noSmallVolumeReason, smallFolder } from './support/smallVolume.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver.js';
import {
  diffWithTruth,
  expectExactly,
  killRunningClis,
  runCliProcess,
  runnerArgs,
  suiteHarness,
  startRunnerCli,
  waitFor,
  type RunningCli,
} from './pipelineHarness.js';

/**
 * The runner's own disk fills up, for real: its state folder (state files, runs journal, locks,
 * and the token store in `tokens/`, as by default) is an 8 MiB tmpfs, filled to the last byte at
 * the moment that matters. What a person must read: one FATAL line naming the folder, the file it
 * could not write and what to do (exit 1, a run-time failure; no record blamed, no stack trace);
 * nothing lost (a state file never ahead of the rows, never half-written, no temporary file left
 * filling the disk; a rotated refresh token never lost); and once there is room, the same command
 * resuming to exactly the emulator's truth.
 */
const CANNOT_MOUNT = noSmallVolumeReason();
if (CANNOT_MOUNT) console.warn(CANNOT_MOUNT);

const DAY = 86_400_000;
/** The company's history, from START: a few spans of invoices at 75 a day (max_span_rows below), so a run writes several states. */
const DAYS = 5;
const NOW = Date.now();
const START = new Date(Math.floor(NOW / DAY) * DAY - DAYS * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
/** Midnight UTC today: the end of the scheduled backfill's range. */
const TODAY = new Date(Math.floor(NOW / DAY) * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
/** After every record the emulator serves (their LastUpdatedTime lies before its now, which runs on from NOW). */
const FAR = '2100-01-01T00:00:00Z';
const STREAMS = ['customers', 'invoices'];
const JOB = 'qb_customers_invoices';
/** How long each emulator answer takes while a test waits for a run's first state (fillOnceStateWritten). */
const ANSWER_MS = 250;

/** A run's lines without `    at …`: a full disk is a condition to report, never a crash. */
const noStackTrace = (text: string) => expect(text.split('\n').filter((l) => /^\s+at /.test(l))).toEqual([]);

describe.skipIf(CANNOT_MOUNT !== undefined)(`the runner's state folder on a disk that fills up${CANNOT_MOUNT ? ` (${CANNOT_MOUNT})` : ''}`, () => {
  const volume = smallFolder(8);
  const schema = scratchSchema('statedisk');
  const scheduledSchema = scratchSchema('statedisk_scheduled');
  const companySchema = scratchSchema('statedisk_company');
  const scheduledStateSchema = scratchSchema('statedisk_scheduled_state');
  const notifiedSchema = scratchSchema('statedisk_notified');
  const h = suiteHarness({
    seed: 69,
    now: new Date(NOW),
    days: DAYS,
    counts: { invoices: DAYS * 75, customers: DAYS * 8 },
    // Many small spans and commits: a state line every few hundred rows, so a run has many. The
    // records a test makes are synced at once, from an emulator that shows them at once: no end_lag (test/endLag has the lag).
    // One request at a time: see fillOnceStateWritten.
    tap: { max_span_rows: 200, end_lag: 'PT0S', max_concurrency: 1 },
  });
  afterAll(killRunningClis);

  const stateDir = () => path.join(volume().mountPoint, 'state');
  const stateFile = () => path.join(stateDir(), `${JOB}.json`);
  /** A trigger due now of `job` over the whole range into `schema`, added by the CLI; its output (the id) is returned. */
  const addTriggerNow = async (job: string, schema: string, target: Record<string, unknown> = {}) => {
    const added = await runCliProcess(
      runnerArgs(['trigger', 'add'], {
        at: new Date(Date.now() - 1000).toISOString(),
        streams: STREAMS.join(','),
        job,
        start: START,
        end: TODAY,
        tapConfig: await tapConfig(),
        targetConfig: await h.targetConfig(schema, target),
        stateDir: stateDir(),
      }),
    );
    expect(added.code, added.stderr).toBe(0);
    return added;
  };
  const tokenStore = () => path.join(stateDir(), 'tokens', `${h.emulator.realmId}.json`);
  const syncArgs = async () =>
    runnerArgs('sync', {
      streams: STREAMS.join(','),
      start: START,
      tapConfig: await tapConfig(),
      targetConfig: await h.targetConfig(schema, { batch_size_rows: 100 }),
      stateDir: stateDir(),
    });
  /** The harness's tap settings with the token store in the state folder, where qbo-pipeline keeps it by default. */
  const tapConfig = async () => {
    const file = path.join(h.dir, 'tap-state-disk.json');
    const settings = JSON.parse(await readFile(h.tapConfig, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...settings, token_store: tokenStore() }));
    return file;
  };
  /** Temporary files a write left behind (`.<name>.<pid>.<random>.tmp`), anywhere in the state folder. */
  const leftovers = async () => (await readdir(stateDir(), { recursive: true })).filter((n) => n.endsWith('.tmp'));
  /** Every record before each stream's bookmark in the state file is in its table, as the emulator has it. */
  const expectStateNotAhead = async () => {
    const text = await readFile(stateFile(), 'utf8');
    const state = JSON.parse(text) as { bookmarks: Record<string, { replication_key_value: string }> };
    for (const stream of STREAMS) {
      const bookmark = state.bookmarks[stream]?.replication_key_value;
      if (bookmark === undefined) continue;
      const diff = await diffWithTruth(databaseUrl(), schema, h.emulator, stream, START, bookmark);
      expect({ stream, bookmark, missing: diff.missing, different: diff.different }).toEqual({ stream, bookmark, missing: [], different: [] });
    }
    return text;
  };

  /**
   * Fills the disk once the first state of a running sync is in its state `file`, its next commits
   * still to come; returns that state. Until then each answer takes ANSWER_MS, one at a time
   * (max_concurrency 1 above): a run whose rows are all unchanged otherwise read and committed
   * everything between two looks at the file, and ended on a disk never filled (it did in CI).
   */
  const fillOnceStateWritten = async (running: RunningCli, file: string) => {
    h.emulator.setLatency(ANSWER_MS);
    try {
      const first = await waitFor('the first state in the state file', () => readFile(file, 'utf8').catch(() => undefined), 60_000, running.output);
      const release = h.emulator.holdAnswers();
      volume().fill();
      release();
      return first;
    } finally {
      h.emulator.setLatency(0);
    }
  };

  /**
   * Fills the disk once the first state of a running sync is in its state `file`, with its next
   * commits still to come; returns that state and the sync's output once it stopped as it must:
   * exit 1, no stack trace.
   */
  const fillAfterFirstState = async (running: RunningCli, file: string) => {
    const first = await fillOnceStateWritten(running, file);
    const code = await running.exited;
    const output = running.output();
    expect(code, output).toBe(1);
    noStackTrace(output);
    return { first, output };
  };

  it('the disk fills between two state lines of a sync: one FATAL line naming the state file and the folder, exit 1, the state file whole and behind the rows; freed, the same command loads the truth', async () => {
    const args = await syncArgs();
    const { first, output } = await fillAfterFirstState(startRunnerCli(args), stateFile());
    const fatal = output.split('\n').filter((l) => l.includes('FATAL'));
    expect(fatal).toEqual([
      `FATAL qbo-pipeline: cannot write state file ${stateFile()}: the disk of ${stateDir()} is full (ENOSPC): free space there or grow its volume, then run again: it resumes from the last state written (rows committed since are read again and left unchanged)`,
    ]);
    expect(output).toMatch(/^FAILED: cannot write state file .*: the disk of .* is full \(ENOSPC\)/m);
    expect(output.split('\n')[output.split('\n').indexOf('resume with:') + 1]).toMatch(/^ {2}\S.* sync --job qb_customers_invoices /);
    // Whole (the last state written before the disk filled, or a later one), behind the rows, and no temporary file left taking space.
    expect(await leftovers()).toEqual([]);
    expect(JSON.parse(first)).toHaveProperty('bookmarks');
    await expectStateNotAhead();

    volume().free();
    const again = await runCliProcess(args);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectExactly(databaseUrl(), schema, h.emulator, STREAMS, START, FAR);
    // The journal (console, notifications) says why the full run failed: its last record was written into space held from its start.
    const [succeeded, failed] = await RunJournal.of(stateDir()).list({});
    expect(failed).toMatchObject({ status: 'failed', exitCode: 1, reason: fatal[0]!.replace('FATAL qbo-pipeline: ', ''), resumeCommand: expect.any(String) });
    expect(failed?.runnerGone).toBeUndefined();
    expect(succeeded).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });

  it('a full disk where the token store is: the refresh token is not rotated away unsaved; one line saying so (the summary FAILED line), exit 1; freed, the same command goes on with the same chain', async () => {
    const args = await syncArgs();
    // Work for the sync: records a user made since the last one.
    for (let i = 0; i < 5; i++) h.emulator.create('Invoice');
    const before = h.emulator.currentRefreshToken();
    volume().fill();
    // The access token the store holds dies: the run must refresh, and QuickBooks rotates the refresh token on every refresh.
    h.emulator.expireAccessTokens();
    const full = await runCliProcess(args);
    const output = full.stdout + full.stderr;
    // Not rotated: the token in the store is the one QuickBooks takes, and nothing was left on the disk.
    expect(h.emulator.currentRefreshToken()).toBe(before);
    expect((JSON.parse(await readFile(tokenStore(), 'utf8')) as { refresh_token: string }).refresh_token).toBe(before);
    expect(await leftovers()).toEqual([]);
    expect(full.code, output).toBe(1);
    noStackTrace(output);
    const tokens = path.dirname(tokenStore());
    // Said once, on the summary's FAILED line: the tap's FATAL line is not passed through again (the run's log keeps it).
    expect(output.split('\n').filter((l) => l.includes('FATAL'))).toEqual([]);
    expect(full.stdout.split('\n').filter((l) => l.startsWith('FAILED: '))).toEqual([
      `FAILED: tap-quickbooks: cannot save a new refresh token in token store ${tokenStore()}: the disk of ${tokens} is full (ENOSPC): free space there or grow its volume, then run again: it resumes; the refresh token was not used, so the one stored still works`,
    ]);

    volume().free();
    const again = await runCliProcess(args);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectExactly(databaseUrl(), schema, h.emulator, STREAMS, START, FAR);
  });

  it("a full temporary folder, where the runner writes the tap's and target's config files: one FATAL line naming it, exit 1, nothing started and nothing left there; freed, the same command goes on", async () => {
    const tmp = path.join(volume().mountPoint, 'tmp');
    await mkdir(tmp, { recursive: true });
    const env = { ...process.env, TMPDIR: tmp };
    // The state folder elsewhere: only the temporary folder is full.
    const args = runnerArgs('sync', {
      streams: STREAMS.join(','),
      start: START,
      tapConfig: await tapConfig(),
      targetConfig: await h.targetConfig(schema),
      stateDir: path.join(h.dir, 'state-tmp-full'),
    });
    for (let i = 0; i < 5; i++) h.emulator.create('Invoice');
    volume().fill();
    const full = await runCliProcess(args, { env });
    const output = full.stdout + full.stderr;
    expect(full.code, output).toBe(1);
    noStackTrace(output);
    expect(output.split('\n').filter((l) => l.includes('FATAL'))).toEqual([
      `FATAL qbo-pipeline: cannot write the tap's and target's config files in ${tmp}: the disk of ${tmp} is full (ENOSPC): free space there or grow its volume, then run again: it resumes`,
    ]);
    expect(await readdir(tmp)).toEqual([]);
    volume().free();
    const again = await runCliProcess(args, { env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectExactly(databaseUrl(), schema, h.emulator, STREAMS, START, FAR);
  });

  it('scheduler --once on a full state folder: one FATAL line naming the lease file it could not write, exit 1, the trigger left due; freed, the next pass runs it to the truth', async () => {
    // A job and schema of its own: the runs above hold the others' rows and bookmarks up to now.
    const added = await addTriggerNow('qb_scheduled', scheduledSchema);
    const id = /^trigger (trg-\S+):/.exec(added.stdout)![1]!;
    const triggers = path.join(stateDir(), 'triggers');
    volume().fill();
    const once = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir()]);
    const output = once.stdout + once.stderr;
    expect(once.code, output).toBe(1);
    noStackTrace(output);
    expect(output.split('\n').filter((l) => l.includes('FATAL'))).toEqual([
      `FATAL qbo-pipeline: cannot write ${path.join(triggers, `${id}.claim`)}: the disk of ${triggers} is full (ENOSPC): free space there or grow its volume, then run again: the trigger is left as it was, for a later pass`,
    ]);
    expect(await readdir(triggers)).toEqual([`${id}.json`]);
    expect(JSON.parse(await readFile(path.join(triggers, `${id}.json`), 'utf8'))).toMatchObject({ status: 'pending' });
    expect(await leftovers()).toEqual([]);

    volume().free();
    const fixed = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir()]);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stderr).toMatch(new RegExp(`trigger ${id} completed`));
    await expectExactly(databaseUrl(), scheduledSchema, h.emulator, STREAMS, START, TODAY);
  });

  it("scheduler --once whose run's state file the disk refuses: the same one FATAL line as sync, once, exit 1, no stack trace; freed, the printed command resumes it to the truth", async () => {
    const job = 'qb_scheduled_state';
    await addTriggerNow(job, scheduledStateSchema, { batch_size_rows: 100 });
    const file = path.join(stateDir(), `${job}.json`);
    const { output } = await fillAfterFirstState(startRunnerCli(['scheduler', '--once', '--state-dir', stateDir()]), file);
    expect(output.split('\n').filter((l) => l.includes('FATAL'))).toEqual([
      `FATAL qbo-pipeline: cannot write state file ${file}: the disk of ${stateDir()} is full (ENOSPC): free space there or grow its volume, then run again: it resumes from the last state written (rows committed since are read again and left unchanged)`,
    ]);
    expect(output).toMatch(/^FAILED: cannot write state file .*: the disk of .* is full \(ENOSPC\)/m);
    expect(await leftovers()).toEqual([]);

    // Freed, the printed command resumes the trigger's job to the truth.
    volume().free();
    const resume = output.split('\n')[output.split('\n').indexOf('resume with:') + 1]!.trim();
    expect(resume).toMatch(new RegExp(` backfill --job ${job} `));
    const again = await runCliProcess(resume.split(' ').slice(2));
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectExactly(databaseUrl(), scheduledStateSchema, h.emulator, STREAMS, START, TODAY);
  });

  describe("a scheduler's alerts while the disk stays full", () => {
    let receiver: WebhookReceiver;
    const webhookFile = () => path.join(h.dir, 'notify_webhook');
    beforeAll(async () => {
      receiver = await startWebhookReceiver('/services/T0/B0/stateDiskWebhookPath');
      await writeFile(webhookFile(), `${receiver.url}\n`, { mode: 0o600 });
    });
    afterAll(() => receiver?.close());
    const notifications = () => path.join(stateDir(), 'notify', 'notifications.json');
    const notifyLock = () => path.join(stateDir(), 'notify', 'notifications.lock');
    const schedulerArgs = (...extra: string[]) => ['scheduler', '--state-dir', stateDir(), '--notify-webhook-file', webhookFile(), ...extra];
    const addTrigger = (job: string) => addTriggerNow(job, notifiedSchema, { batch_size_rows: 100 });
    const alerts = (kind: string, job: string) => receiver.received.filter((r) => r.kind === kind && r.job === job);
    const notificationsWarning = () =>
      `WARN qbo-pipeline notify: notifications: cannot write ${notifications()}: the disk of ${path.dirname(notifications())} is full (ENOSPC): free space there or grow its volume; notifications are sent all the same (those waiting are kept in memory), and the file is written at the first look once there is room (a scheduler stopped before then sends them once more)`;
    const failedReason = (job: string) =>
      new RegExp(`^last run of job ${job} failed \\(started by trigger \\S+\\): cannot write state file \\S+: the disk of \\S+ is full \\(ENOSPC\\)`);
    /**
     * Runs a trigger of `job` in the scheduler `start` starts and fills the disk after its first
     * state, so the run fails; its looks until after the run's end (`looked`: one after the end is
     * done) find the notifications lock held (as by another scheduler sending), and the disk is
     * filled again behind them: the run's end gave back the space its journal held, which a disk
     * that something keeps filling does not keep. The scheduler's next look is on a full disk.
     */
    const failOnFullDisk = async (job: string, start: () => RunningCli, looked: (scheduler: RunningCli) => Promise<unknown>) => {
      await addTrigger(job);
      await mkdir(notifyLock(), { recursive: true });
      const scheduler = start();
      await fillOnceStateWritten(scheduler, path.join(stateDir(), `${job}.json`));
      await looked(scheduler);
      expect(scheduler.output()).toContain('another scheduler of this state folder is sending them now');
      volume().fill();
      await rm(notifyLock(), { recursive: true });
      return scheduler;
    };
    afterEach(async () => {
      // A scheduler a failed test left running would look at the next test's state folder too.
      killRunningClis();
      volume().free();
      await rm(notifyLock(), { recursive: true, force: true });
    });

    it('a running scheduler: the alert reaches the webhook all the same, one WARN says the notifications file could not be written, the scheduler goes on; freed, its next look writes the file and sends nothing twice', async () => {
      const job = 'qb_notified';
      // A look every second besides the one after each run, instead of every minute: the test waits for the next look, not a minute.
      const scheduler = await failOnFullDisk(
        job,
        () => startRunnerCli(schedulerArgs('--interval', '1', '--notify-interval', '1')),
        // The run's end recorded in its trigger (nothing of it writes to the disk after that), then a look, the one the run's end asked for or a later one.
        (running) =>
          waitFor(
            "the run's end recorded, then a look",
            () => /^ERROR qbo-pipeline scheduler: trigger \S+ failed: [^]*another scheduler of this state folder/m.test(running.output()),
            60_000,
            running.output,
          ),
      );
      const [failed] = await waitFor(
        'the alert of the failed run (the next look)',
        () => alerts('run-failed', job).length > 0 && alerts('run-failed', job),
        90_000,
        scheduler.output,
      );
      expect(failed!.reason).toMatch(failedReason(job));
      expect(
        scheduler
          .output()
          .split('\n')
          .filter((l) => l.includes(notifications())),
      ).toEqual([notificationsWarning()]);
      expect(scheduler.child.exitCode).toBeNull();

      volume().free();
      await addTrigger(job);
      await waitFor('the alert of the recovery', () => alerts('recovered', job).length > 0, 60_000, scheduler.output);
      const written = await waitFor(
        'the notifications file, nothing waiting',
        async () => {
          const file = JSON.parse(await readFile(notifications(), 'utf8').catch(() => '{}')) as { outbox?: unknown[] };
          return file.outbox?.length === 0 && file;
        },
        30_000,
        scheduler.output,
      );
      // Written from what this scheduler kept: the failure told and then its recovery, nothing left to send.
      expect(written).toEqual({ sent: { default: {} }, outbox: [] });
      expect(alerts('run-failed', job)).toHaveLength(1);
      expect(alerts('recovered', job)).toHaveLength(1);
      process.kill(-scheduler.child.pid!, 'SIGTERM');
      expect(await scheduler.exited).toBe(0);
      noStackTrace(scheduler.output());
      expect(await leftovers()).toEqual([]);
    }, 240_000);

    it('scheduler --once: the failed run exits 1; the next --once on the full disk delivers the alert with the one WARN, exit 0; freed, the next sends it once more (its memory went with it) and writes the file, then nothing', async () => {
      const job = 'qb_notified_once';
      // The notifications file is there before (a first look ever would sum up the failure instead).
      expect((await runCliProcess(schedulerArgs('--once'))).code).toBe(0);
      const failing = await failOnFullDisk(
        job,
        () => startRunnerCli(schedulerArgs('--once')),
        (running) => running.exited,
      );
      expect(await failing.exited, failing.output()).toBe(1);
      expect(alerts('run-failed', job)).toEqual([]);

      const full = await runCliProcess(schedulerArgs('--once'));
      const output = full.stdout + full.stderr;
      expect(full.code, output).toBe(0);
      noStackTrace(output);
      expect(alerts('run-failed', job)).toEqual([expect.objectContaining({ reason: expect.stringMatching(failedReason(job)) })]);
      expect(output.split('\n').filter((l) => l.includes(notifications()))).toEqual([notificationsWarning()]);
      expect(await leftovers()).toEqual([]);

      volume().free();
      const freed = await runCliProcess(schedulerArgs('--once'));
      expect(freed.code, freed.stderr).toBe(0);
      expect(alerts('run-failed', job)).toHaveLength(2);
      expect(JSON.parse(await readFile(notifications(), 'utf8'))).toMatchObject({ outbox: [] });
      expect((await runCliProcess(schedulerArgs('--once'))).code).toBe(0);
      expect(alerts('run-failed', job)).toHaveLength(2);
    });
  });

  // Last: its first refresh rotates the realm's refresh token, which the runs above keep in their token store.
  it('sync --companies (and scheduler --companies --once): a state file the disk refuses is the same one FATAL line, naming the company, beside its FAILED: line; freed, the same command loads the truth', async () => {
    // A firm's folder of one company (this realm) with its secrets, as companies.md shows; its state under the full folder.
    const firm = path.join(h.dir, 'firm');
    const settings = JSON.parse(await readFile(h.tapConfig, 'utf8')) as Record<string, string>;
    const secrets = {
      qbo_client_id: settings.client_id,
      qbo_client_secret: settings.client_secret,
      warehouse_url: databaseUrl(),
      refresh_token: h.emulator.currentRefreshToken(),
    };
    await mkdir(path.join(firm, 'secrets'), { recursive: true });
    for (const [name, value] of Object.entries(secrets)) await writeFile(path.join(firm, 'secrets', name), `${value}\n`, { mode: 0o600 });
    await writeFile(
      path.join(firm, 'companies.yaml'),
      [
        'defaults:',
        `  streams: [${STREAMS.join(', ')}]`,
        '  secrets:',
        '    client_id_file: secrets/qbo_client_id',
        '    client_secret_file: secrets/qbo_client_secret',
        '    database_url_file: secrets/warehouse_url',
        '  tap:',
        `    base_url: ${settings.base_url}`,
        `    token_url: ${settings.token_url}`,
        // Many small spans and commits, as above: a state line every few hundred rows (a commit every 100
        // rows: a run's first commit would otherwise wait for 1,000, more than this history holds); no end_lag, as above.
        '    max_span_rows: 200',
        '    max_concurrency: 1', // as above: see fillOnceStateWritten
        '    end_lag: PT0S',
        '  target: {batch_size_rows: 100}',
        'companies:',
        '  - name: acme',
        `    realm_id: "${settings.realm_id}"`,
        `    schema: ${companySchema}`,
        '    secrets:',
        '      refresh_token_file: secrets/refresh_token',
        '',
      ].join('\n'),
    );
    const companyState = path.join(stateDir(), 'companies', 'acme');
    const companyStateFile = path.join(companyState, 'qb_company.json');
    const args = ['sync', '--companies', 'companies.yaml', '--start', START, '--state-dir', stateDir()];
    const { output } = await fillAfterFirstState(startRunnerCli(args, { cwd: firm, env: userEnv() }), companyStateFile);
    const reason = `cannot write state file ${companyStateFile}: the disk of ${companyState} is full (ENOSPC): free space there or grow its volume, then run again: it resumes from the last state written (rows committed since are read again and left unchanged)`;
    expect(output.split('\n').filter((l) => l.includes('FATAL'))).toEqual([`FATAL qbo-pipeline acme: ${reason}`]);
    expect(output).toContain(`FAILED: ${reason}`);

    volume().free();
    const again = await runCliProcess(args, { cwd: firm, env: userEnv() });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectExactly(databaseUrl(), companySchema, h.emulator, STREAMS, START, FAR);

    // The same under scheduler --companies --once: a trigger's backfill of a job of its own, its state file refused.
    const job = 'qb_company_scheduled';
    const added = await runCliProcess(
      [
        'trigger',
        'add',
        '--companies',
        'companies.yaml',
        '--at',
        new Date(Date.now() - 1000).toISOString(),
        '--job',
        job,
        '--start',
        START,
        '--end',
        TODAY,
        '--state-dir',
        stateDir(),
      ],
      { cwd: firm, env: userEnv() },
    );
    expect(added.code, added.stderr).toBe(0);
    const scheduledFile = path.join(companyState, `${job}.json`);
    const once = ['scheduler', '--companies', 'companies.yaml', '--once', '--state-dir', stateDir()];
    const scheduled = await fillAfterFirstState(startRunnerCli(once, { cwd: firm, env: userEnv() }), scheduledFile);
    expect(scheduled.output.split('\n').filter((l) => l.includes('FATAL'))).toEqual([
      `FATAL qbo-pipeline acme: ${reason.replace(companyStateFile, scheduledFile)}`,
    ]);
    volume().free();
  });
});
