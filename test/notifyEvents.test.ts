import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { suiteFirm } from './companiesHarness.js';
import { killRunningClis, startRunnerCli, waitFor } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';
import { suiteWebhookReceiver } from './support/webhookReceiver.js';

/**
 * A firm of five companies turns notifications on over a state folder with history, then meets,
 * night after night, each event the scheduler tells besides a failed run: its refresh tokens
 * crossing 30 and then 7 days before QBO's 5-year limit, a reconnect and a later crossing, a
 * reconcile a sync advised (done, then advised again), a trigger overdue behind a backfill by hand.
 * Each is one message with the company and the console's own text, never again after a restart.
 * The days pass on the emulator's clock (`setNow`): the tap stores the expiry QBO answers.
 */
const START = '2025-02-27T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const DAY = 86_400_000;
const T0 = Date.parse(END);
/** QBO's 5-year limit, shortened: 40 days from the consent (the emulator's start, or a reconnect). */
const HARD_DAYS = 40;
const NAMES = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const prefix = `nev_${Math.random().toString(16).slice(2, 8)}`;
const SECRET_PATH = '/services/T0/B0/eventsWebhookPath';

const cli = (args: readonly string[]) => firm.cli(args);
/** What the webhook receiver.received since `from`, as [kind, company]. */
const since = (from: number) => receiver.received.slice(from).map((r) => [r.kind, r.company]);
/** The emulator's clock at `days` after its start, an hour early: the tap is told a whole number of days and some. */
const dayOf = (days: number) => firm.emulator.setNow(new Date(T0 + days * DAY - 3_600_000));
const scheduler = async () => {
  const run = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
  expect(run.stderr).not.toMatch(/not delivered|could not look/);
  return run;
};

/** A trigger per company (or for those of `extra`) due now, and a scheduler --once over it: a night (`--fresh`: its run asks QBO, refreshing the token). */
async function night(...extra: string[]) {
  const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const added = await cli(['trigger', 'add', '--companies', 'companies.yaml', '--at', due, '--start', START, '--end', END, '--fresh', ...extra]);
  expect(added.code, added.stderr).toBe(0);
  return scheduler();
}

const companiesYaml = (notify: boolean) =>
  firm.companiesYaml({
    schemaPrefix: prefix,
    streams: ['invoices'],
    extra: notify ? 'notify:\n  webhook_url_file: secrets/notify_webhook\n  console_url: https://console.example.com/' : '',
  });

const receiver = suiteWebhookReceiver(SECRET_PATH);
const firm = suiteFirm({
  names: NAMES,
  seed: 61,
  now: new Date(END),
  days: 2,
  counts: { invoices: 6 },
  refreshTokenHardExpiresInSeconds: HARD_DAYS * 86_400,
});
beforeAll(async () => {
  await writeFile(path.join(firm.dir, 'secrets/notify_webhook'), `${receiver.url}\n`);
  await firm.writeCompanies(companiesYaml(false));
});
afterAll(killRunningClis);

/** The runs journal of `company` has a run of process `pid` going on. */
const runningRun = (company: string, pid: number) => {
  const runs = path.join(firm.dir, 'state/companies', company, 'runs');
  return readdirSync(runs)
    .filter((f) => f.endsWith('.json'))
    .some((f) => {
      const run = JSON.parse(readFileSync(path.join(runs, f), 'utf8')) as { pid: number; status: string };
      return run.pid === pid && run.status === 'running';
    });
};
const realm = (name: string) => firm.company(name).realmId;
/** The console's token line: where the new token goes names the companies file (an absolute path) and the line of the company's entry. */
const tokenText = (name: string, days: number, then = '') =>
  new RegExp(
    `^realm ${realm(name)}: the refresh token expires in ${days} days \\(QBO's 5-year limit\\): reconnect the app to company ${realm(name)} and put the new refresh token in its refresh_token_file secrets/${name}/refresh_token \\(companies file companies\\.yaml:\\d+:\\d+\\)${then}$`,
  );

// A test here is nights in a row, each a scheduler process and five companies' taps and targets: 25-30 s
// on a loaded 2-core machine with one test file at a time; beside another file, the default minute was too short.
describe('the notifications of a firm of five companies', { timeout: 180_000 }, () => {
  it('turned on over a history (a failed company, four tokens under 30 days): one summary of what already needed you, not five messages', async () => {
    // Months of nights: every company loads; then acme disconnects the app, and every other token nears QBO's limit.
    expect((await night()).code).toBe(0);
    firm.company('acme').revokeTokens();
    dayOf(HARD_DAYS - 29);
    const history = await night();
    expect(history.code, history.stderr.slice(-2000)).toBe(2);
    expect(receiver.received).toEqual([]);

    await firm.writeCompanies(companiesYaml(true));
    const on = await scheduler();
    expect(on.code, on.stderr).toBe(0);
    expect(since(0)).toEqual([['summary', NAMES.join(', ')]]);
    const lines = receiver.received[0]!.reason!.split('\n');
    expect(lines[0]).toBe(
      "notifications are on; 5 items already needed you before then (the console's overview keeps them; from now on each new one is sent as it comes up):",
    );
    expect(lines[1]).toMatch(
      /^- acme: last run of job qb_company failed \(started by trigger \S+\): QuickBooks rejected the refresh token at [^(]+ \(invalid_grant, intuit_tid \S+\): reconnect the app to company \d+ and put the new refresh token in its refresh_token_file secrets\/acme\/refresh_token /,
    );
    expect(lines).toHaveLength(6);
    for (const [i, name] of NAMES.slice(1).entries()) {
      expect(lines[2 + i]!.startsWith(`- ${name}: `)).toBe(true);
      expect(lines[2 + i]!.slice(`- ${name}: `.length)).toMatch(tokenText(name, 29, ' before then'));
    }
    expect(receiver.received[0]).toMatchObject({ level: 'error', console_url: 'https://console.example.com/' });

    // A restart: nothing is told again.
    await scheduler();
    expect(receiver.received).toHaveLength(1);
  });

  it('tokens crossing 7 days: one message per company, none after a restart; a reconnect, then 30 days again: one more', async () => {
    dayOf(HARD_DAYS - 6);
    const before = receiver.received.length;
    expect((await night()).code).toBe(2);
    // acme's failure goes on: nothing new; the four others' tokens are under 7 days now.
    // In the order the runs ended.
    const crossed = receiver.received.slice(before).sort((a, b) => NAMES.indexOf(a.company!) - NAMES.indexOf(b.company!));
    expect(crossed.map((r) => [r.kind, r.company])).toEqual(NAMES.slice(1).map((name) => ['token', name]));
    for (const [i, name] of NAMES.slice(1).entries()) expect(crossed[i]).toMatchObject({ level: 'error', reason: expect.stringMatching(tokenText(name, 6)) });
    await scheduler();
    expect(receiver.received).toHaveLength(before + 4);

    // globex reconnects (a new consent: 40 days again): its token is fine, nothing to tell. Its consent is at a whole
    // day, an hour past the nights' clock (dayOf): 11 days later the tap is told 29 days and an hour. A consent an hour
    // early as well left it the real seconds between this consent and the later night's refresh, fewer on a loaded
    // machine when the night is slow to start: 28 days.
    firm.emulator.setNow(new Date(T0 + (HARD_DAYS - 6) * DAY));
    await writeFile(path.join(firm.dir, 'secrets/globex/refresh_token'), `${firm.company('globex').reconnect()}\n`);
    expect((await night('--company', 'globex')).code).toBe(0);
    expect(receiver.received).toHaveLength(before + 4);
    // 11 days later its new token crosses 30 days: told again, once.
    dayOf(HARD_DAYS - 6 + 11);
    expect((await night('--company', 'globex')).code).toBe(0);
    expect(since(before + 4)).toEqual([['token', 'globex']]);
    expect(receiver.received.at(-1)).toMatchObject({ level: 'warn', reason: expect.stringMatching(tokenText('globex', 29, ' before then')) });
    await scheduler();
    expect(receiver.received).toHaveLength(before + 5);
  });

  it("a revoked company's next run going on is no news: its token's rejection was told with the failure, not again alone each night", async () => {
    const before = receiver.received.length;
    for (const night of [1, 2]) {
      const release = firm.emulator.holdAnswers();
      const retry = startRunnerCli(['backfill', '--companies', 'companies.yaml', '--company', 'acme', '--start', START, '--end', END, '--fresh'], {
        cwd: firm.dir,
        env: userEnv(),
      });
      try {
        await waitFor(`acme's run of night ${night} going on`, () => runningRun('acme', retry.child.pid!));
        // A look while it runs (another company's run ended, the minute's look): the console shows the rejection alone now.
        await scheduler();
      } finally {
        release();
      }
      expect(await retry.exited).toBe(2);
      await scheduler();
    }
    expect(since(before)).toEqual([]);
  });

  it('a reconcile a sync advised: one message with the command; done, it goes; advised again, one more', async () => {
    // A backfill up to END, then a sync: to the tap, whose clock is today, its bookmark is older than CDC's 30 days.
    const sync = async () => {
      const backfill = await cli(['backfill', '--companies', 'companies.yaml', '--company', 'globex', '--start', START, '--end', END, '--fresh']);
      expect(backfill.code, backfill.stderr.slice(-2000)).toBe(0);
      const run = await cli(['sync', '--companies', 'companies.yaml', '--company', 'globex']);
      expect(run.code, run.stderr.slice(-2000)).toBe(0);
      expect(run.stdout).toMatch(/WARNING: deletions QBO's change data capture could not give/);
    };
    const before = receiver.received.length;
    await sync();
    await scheduler();
    expect(since(before)).toEqual([['reconcile', 'globex']]);
    const advised = receiver.received.at(-1)!;
    expect(advised).toMatchObject({ level: 'error', job: 'qb_company' });
    expect(advised.reason).toMatch(new RegExp(`^invoices of job qb_company \\(run ${advised.run_id}\\): `));
    expect(advised.console_url).toBe(`https://console.example.com/runs/${advised.run_id}#reconcile`);
    // The command to paste, as the overview shows it under the text: the message is no sentence ending in "run".
    expect(advised.command).toMatch(/^node \S+cli\.js reconcile --companies companies\.yaml --company globex --job qb_company --streams invoices$/);
    expect(advised.text).toBe(`qbo-pipeline: company globex: ${advised.reason}: ${advised.command}\n${advised.console_url}`);
    await scheduler();
    expect(receiver.received).toHaveLength(before + 1);

    // Pasted from the message, it runs; done, the item goes, and nothing is told.
    const reconcile = await cli(advised.command!.split(' ').slice(2));
    expect(reconcile.code, reconcile.stderr.slice(-2000)).toBe(0);
    await scheduler();
    expect(receiver.received).toHaveLength(before + 1);

    await sync();
    await scheduler();
    expect(since(before + 1)).toEqual([['reconcile', 'globex']]);
    expect(receiver.received.at(-1)!.run_id).not.toBe(advised.run_id);
  });

  it('a trigger overdue behind a backfill by hand: one message; a restart tells nothing more; once it ran, nothing', async () => {
    const release = firm.emulator.holdAnswers();
    const backfill = startRunnerCli(['backfill', '--companies', 'companies.yaml', '--company', 'globex', '--start', START, '--end', END, '--fresh'], {
      cwd: firm.dir,
      env: userEnv(),
    });
    try {
      await waitFor('the backfill by hand running', () => runningRun('globex', backfill.child.pid!));
      const due = new Date(Date.now() - 20 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const added = await cli(['trigger', 'add', '--companies', 'companies.yaml', '--company', 'globex', '--at', due, '--start', START, '--end', END]);
      expect(added.code, added.stderr).toBe(0);
      const trigger = /trg-[\w-]+/.exec(added.stdout + added.stderr)![0];
      const before = receiver.received.length;
      const waits = await scheduler();
      expect(waits.code, waits.stderr).toBe(0);
      expect(since(before)).toEqual([['overdue', 'globex']]);
      expect(receiver.received.at(-1)!.reason).toMatch(
        new RegExp(`^trigger ${trigger} was due 20 min[^:]* ago and has not started: is a scheduler running for this state folder\\? `),
      );
      await scheduler();
      expect(receiver.received).toHaveLength(before + 1);
    } finally {
      release();
    }
    expect(await backfill.exited).toBe(0);
    const before = receiver.received.length;
    expect((await scheduler()).code).toBe(0);
    expect(receiver.received).toHaveLength(before);
  });

  it('a scheduler started after a night down runs the trigger it missed, and does not call it overdue as it starts it', async () => {
    const due = new Date(Date.now() - 20 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const added = await cli(['trigger', 'add', '--companies', 'companies.yaml', '--company', 'globex', '--at', due, '--start', START, '--end', END, '--fresh']);
    expect(added.code, added.stderr).toBe(0);
    const trigger = /trg-[\w-]+/.exec(added.stdout + added.stderr)![0];
    const before = receiver.received.length;
    // QBO answers nothing meanwhile: the run goes on until the scheduler is stopped.
    const release = firm.emulator.holdAnswers();
    const running = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--interval', '1'], { cwd: firm.dir, env: userEnv() });
    try {
      const file = path.join(firm.dir, 'state/companies/globex/triggers', `${trigger}.json`);
      await waitFor(
        'the missed trigger started',
        () => (JSON.parse(readFileSync(file, 'utf8')) as { status: string }).status === 'running',
        60_000,
        running.output,
      );
    } finally {
      process.kill(-running.child.pid!, 'SIGTERM');
      release();
    }
    expect(await running.exited).toBe(0);
    expect(since(before)).toEqual([]);
  });
});
