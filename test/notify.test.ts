import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { consoleOptions, startConsole } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl } from './support/db.js';
import { suiteFirm } from './companiesHarness.js';
import { send } from './consoleHttp.js';
import { killRunningClis, startRunnerCli } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';
import { suiteWebhookReceiver } from './support/webhookReceiver.js';
import { query } from './targetHarness.js';

/**
 * A firm's nightly scheduler with a webhook (a local HTTP receiver standing in for Slack): a
 * company whose refresh token QuickBooks rejects is told once, not every night it keeps failing,
 * nor again by a restarted scheduler; once its token is fixed, one "recovered". A receiver that
 * answers 500 or never answers costs the load nothing: the runs complete, the exit code is the
 * same, one WARN names the notification, and a later pass delivers it. The webhook URL (a
 * credential) is never printed, stored or shown.
 */
const START = '2025-02-27T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const prefix = `ntf_${Math.random().toString(16).slice(2, 8)}`;
/** The path is the credential, as in a Slack incoming-webhook URL. */
const SECRET_PATH = '/services/T0SECRET/B0SECRET/xoxSecretWebhookPath';

const outputs: string[] = [];

async function cli(args: readonly string[]) {
  const run = await firm.cli(args);
  outputs.push(run.stdout, run.stderr);
  return run;
}

/** One trigger per company due now, and a scheduler --once over them: a night's run (`--fresh`: a range loaded already is read again from QBO). */
async function night(...extra: string[]) {
  const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const added = await cli(['trigger', 'add', '--companies', 'companies.yaml', '--at', due, '--start', START, '--end', END, ...extra]);
  expect(added.code, added.stderr).toBe(0);
  return cli(['scheduler', '--companies', 'companies.yaml', '--once']);
}

const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.includes('not delivered'));

const receiver = suiteWebhookReceiver(SECRET_PATH);
const firm = suiteFirm({ names: ['acme', 'globex'], seed: 7, now: new Date(END), days: 2, counts: { customers: 5 } });
beforeAll(async () => {
  await writeFile(path.join(firm.dir, 'secrets/notify_webhook'), `${receiver.url}\n`, { mode: 0o600 });
  await firm.writeCompanies(
    firm.companiesYaml({
      schemaPrefix: prefix,
      streams: ['customers'],
      extra: 'notify:\n  webhook_url_file: secrets/notify_webhook\n  console_url: https://console.example.com/',
    }),
  );
});
afterAll(killRunningClis);

// Each test here runs the runner's CLIs several times over (a scheduler, taps and targets): 20-50 s on a
// loaded 2-core machine with one test file at a time; beside another file, the default minute is too short.
describe('the scheduler notifies a webhook', { timeout: 180_000 }, () => {
  it('notify test posts one message to the configured webhook', async () => {
    const run = await cli(['notify', 'test', '--companies', 'companies.yaml']);
    expect(run.code, run.stderr).toBe(0);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ kind: 'test', company: 'acme, globex', console_url: 'https://console.example.com/' });
    expect(receiver.received[0]!.text).toMatch(/^qbo-pipeline: company acme, globex: test notification/);
    // One company, no companies file: the option names the file.
    const alone = await cli(['notify', 'test', '--notify-webhook-file', 'secrets/notify_webhook']);
    expect(alone.code, alone.stderr).toBe(0);
    expect(receiver.received[1]).toMatchObject({ kind: 'test', company: 'default' });
    receiver.received.length = 0;
  });

  it('a revoked company: one failure message naming it and why; a second failed night and a restart tell nothing more; a fixed token one "recovered"', async () => {
    firm.company('acme').revokeTokens();
    const first = await night();
    expect(first.code, first.stderr.slice(-2000)).toBe(2);
    expect(receiver.received).toHaveLength(1);
    const failed = receiver.received[0]!;
    expect(failed).toMatchObject({ kind: 'run-failed', level: 'error', company: 'acme', job: 'qb_company' });
    expect(failed.reason).toMatch(
      /^last run of job qb_company failed \(started by trigger \S+\): tap-quickbooks: QuickBooks rejected the refresh token \(invalid_grant/,
    );
    expect(failed.reason).toContain('reconnect the app to company');
    expect(failed.text).toBe(`qbo-pipeline: company acme: ${failed.reason}\nhttps://console.example.com/runs/${failed.run_id}`);
    expect(failed.console_url).toBe(`https://console.example.com/runs/${failed.run_id}`);

    // Another night (a new scheduler process: a restart), still failing: nothing new to tell.
    const second = await night();
    expect(second.code).toBe(2);
    expect(receiver.received).toHaveLength(1);

    await writeFile(path.join(firm.dir, 'secrets/acme/refresh_token'), `${firm.company('acme').reconnect()}\n`);
    const fixed = await night();
    expect(fixed.code, fixed.stderr.slice(-2000)).toBe(0);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]).toMatchObject({ kind: 'recovered', level: 'ok', company: 'acme', job: 'qb_company' });
    expect(receiver.received[1]!.reason).toMatch(/^job qb_company recovered: run \S+ succeeded/);

    const quiet = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(quiet.code).toBe(0);
    expect(receiver.received).toHaveLength(2);
  });

  it('a receiver that never answers, then answers 500: the load completes with the same exit code, one WARN, delivered by a later pass', async () => {
    firm.company('acme').revokeTokens();
    receiver.answer = 'hang';
    const run = await night('--fresh');
    // The same as without notifications: acme needs a fix first (2); globex loaded.
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stdout).toMatch(/2 companies: 1 ok, 1 failed/);
    const [{ n }] = (await query(databaseUrl(), `SELECT count(*)::int AS n FROM "${prefix}_globex".customers`)) as [{ n: number }];
    expect(n).toBeGreaterThan(0);
    expect(warnings(run.stderr)).toEqual([
      expect.stringMatching(
        /^WARN qbo-pipeline notify: notification run-failed for company acme \(job qb_company, run \S+\) not delivered to the webhook \(notify\.webhook_url_file secrets\/notify_webhook\): no answer within 5 s; it waits for the next check$/,
      ),
    ]);
    expect(receiver.received).toHaveLength(2);

    receiver.answer = '500';
    const again = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(again.code).toBe(0);
    expect(warnings(again.stderr)).toEqual([]);
    expect(receiver.received).toHaveLength(2);

    receiver.answer = 'ok';
    const later = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(later.stderr).toMatch(/INFO qbo-pipeline notify: notification run-failed for company acme \(job qb_company, run \S+\) delivered/);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received[2]).toMatchObject({ kind: 'run-failed', company: 'acme' });

    // The fix's "recovered" meets a receiver that answers 500: the same, said once, delivered later.
    receiver.answer = '500';
    await writeFile(path.join(firm.dir, 'secrets/acme/refresh_token'), `${firm.company('acme').reconnect()}\n`);
    const fixed = await night('--fresh');
    expect(fixed.code, fixed.stderr.slice(-2000)).toBe(0);
    expect(warnings(fixed.stderr)).toEqual([
      expect.stringMatching(
        /^WARN qbo-pipeline notify: notification recovered for company acme \(job qb_company, run \S+\) not delivered to the webhook \(notify\.webhook_url_file secrets\/notify_webhook\): HTTP 500; it waits for the next check$/,
      ),
    ]);
    receiver.answer = 'ok';
    await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(receiver.received.map((r) => r.kind)).toEqual(['run-failed', 'recovered', 'run-failed', 'recovered']);
  });

  it('a running scheduler (the compose service) tells a failure as its run ends, and stops cleanly', async () => {
    firm.company('acme').revokeTokens();
    const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const added = await cli(['trigger', 'add', '--companies', 'companies.yaml', '--company', 'acme', '--at', due, '--start', START, '--end', END, '--fresh']);
    expect(added.code, added.stderr).toBe(0);
    const before = receiver.received.length;
    const scheduler = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--interval', '1'], { cwd: firm.dir, env: userEnv() });
    const deadline = Date.now() + 60_000;
    while (receiver.received.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    process.kill(-scheduler.child.pid!, 'SIGTERM');
    expect(await scheduler.exited).toBe(0);
    outputs.push(scheduler.output());
    expect(receiver.received.slice(before)).toEqual([expect.objectContaining({ kind: 'run-failed', company: 'acme' })]);
  });

  it('never shows the webhook URL: not in any output, state file, runs journal or console page', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else files.push(full);
      }
    };
    await walk(path.join(firm.dir, 'state'));
    expect(files.some((f) => f.endsWith(path.join('notify', 'notifications.json')))).toBe(true);
    expect(files.some((f) => f.includes(`${path.sep}runs${path.sep}`))).toBe(true);
    const web = await startConsole(
      consoleOptions({ port: 0, stateDir: path.join(firm.dir, 'state'), companiesFile: path.join(firm.dir, 'companies.yaml') }, {}),
    );
    try {
      const pages = [(await send(web.url, '/')).text, (await send(web.url, `/runs/${receiver.received[0]!.run_id}`)).text];
      expect(pages[0]).toContain('acme');
      for (const text of [...outputs, ...pages, ...(await Promise.all(files.map((f) => readFile(f, 'utf8'))))]) {
        expect(text).not.toContain('xoxSecretWebhookPath');
      }
    } finally {
      await web.close();
    }
  });
});
