import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { suiteFirm } from './companiesHarness.js';
import { killRunningClis } from './pipelineHarness.js';
import { suiteWebhookReceiver } from './support/webhookReceiver.js';

/**
 * A firm that alerts by e-mail, not a webhook: the companies file's `notify: {command: [...]}` is a
 * program given each notification's JSON on stdin (here a node script that appends it to a file,
 * standing in for msmtp or a PagerDuty CLI). A revoked company is one `run-failed` on its stdin; a
 * command that fails (the mail relay down) is one WARN naming the notification, its exit and first
 * stderr line, and the next look delivers it once; with a webhook beside it, each channel keeps its
 * own deliveries, and an outbox a version before the command channel wrote is sent, not lost.
 */
const START = '2025-02-27T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const prefix = `ncm_${Math.random().toString(16).slice(2, 8)}`;
const SECRET_PATH = '/services/T0/B0/commandWebhookPath';

/** Appends its stdin and QBO_PIPELINE_NOTIFY_KIND to mailed.jsonl; while `relay-down` exists, fails as a mail relay would. */
const MAIL_SCRIPT = `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
const body = readFileSync(0, 'utf8');
if (existsSync('relay-down')) {
  process.stderr.write('msmtp: server message: 554 relay access denied\\nmsmtp: could not send mail\\n');
  process.exit(3);
}
process.stdout.write('sent\\n');
appendFileSync('mailed.jsonl', JSON.stringify({ env: process.env.QBO_PIPELINE_NOTIFY_KIND, body: JSON.parse(body) }) + '\\n');
`;

const cli = (args: readonly string[]) => firm.cli(args);
const mailed = () =>
  existsSync(path.join(firm.dir, 'mailed.jsonl'))
    ? readFileSync(path.join(firm.dir, 'mailed.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { env: string; body: Record<string, string> })
    : [];
const mailedKinds = () => mailed().map((m) => m.body.kind);
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.includes('not delivered'));
const once = () => cli(['scheduler', '--companies', 'companies.yaml', '--once']);
const notifyYaml = (notify: string) =>
  firm.writeCompanies(
    firm.companiesYaml({ schemaPrefix: prefix, streams: ['customers'], extra: `notify:\n${notify}\n  console_url: https://console.example.com/` }),
  );
const COMMAND = '  command: [node, mail.mjs]';
const WEBHOOK = '  webhook_url_file: secrets/notify_webhook';

/** A trigger for acme due now, and a scheduler --once over it (`--fresh`: its run asks QBO). */
async function night() {
  const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const added = await cli(['trigger', 'add', '--companies', 'companies.yaml', '--company', 'acme', '--at', due, '--start', START, '--end', END, '--fresh']);
  expect(added.code, added.stderr).toBe(0);
  return once();
}

const receiver = suiteWebhookReceiver(SECRET_PATH);
const firm = suiteFirm({ names: ['acme', 'globex'], seed: 64, now: new Date(END), days: 2, counts: { customers: 3 } });
beforeAll(async () => {
  await writeFile(path.join(firm.dir, 'secrets/notify_webhook'), `${receiver.url}\n`, { mode: 0o600 });
  await writeFile(path.join(firm.dir, 'mail.mjs'), MAIL_SCRIPT);
  await notifyYaml(COMMAND);
});
afterAll(killRunningClis);

// Each test here runs the runner's CLIs several times over (a scheduler, taps and targets): 20-50 s on a
// loaded 2-core machine with one test file at a time; beside another file, the default minute is too short.
describe('a notification command', { timeout: 180_000 }, () => {
  it('notify test runs it; a revoked company is one run-failed on its stdin, with the webhook body fields; a fixed token one recovered', async () => {
    const test = await cli(['notify', 'test', '--companies', 'companies.yaml']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toBe('notify test: the command (notify.command node) exited 0; check that the message arrived\n');
    expect(mailed()).toEqual([{ env: 'test', body: expect.objectContaining({ kind: 'test', company: 'acme, globex' }) }]);
    await rm(path.join(firm.dir, 'mailed.jsonl'));

    firm.company('acme').revokeTokens();
    const failed = await night();
    expect(failed.code, failed.stderr.slice(-2000)).toBe(2);
    // Its stdout ("sent") is not the scheduler's.
    expect(failed.stdout).not.toMatch(/^sent$/m);
    expect(mailed()).toHaveLength(1);
    const [{ env, body }] = mailed() as [{ env: string; body: Record<string, string> }];
    expect(env).toBe('run-failed');
    expect(Object.keys(body).sort()).toEqual(['at', 'company', 'console_url', 'job', 'kind', 'level', 'reason', 'run_id', 'text']);
    expect(body).toMatchObject({
      kind: 'run-failed',
      level: 'error',
      company: 'acme',
      job: 'qb_company',
      console_url: `https://console.example.com/runs/${body.run_id}`,
    });
    expect(body.reason).toMatch(/^last run of job qb_company failed \(started by trigger \S+\): .*QuickBooks rejected the refresh token/);
    expect(body.text).toBe(`qbo-pipeline: company acme: ${body.reason}\n${body.console_url}`);
    await once();
    expect(mailedKinds()).toEqual(['run-failed']);

    await writeFile(path.join(firm.dir, 'secrets/acme/refresh_token'), `${firm.company('acme').reconnect()}\n`);
    expect((await night()).code).toBe(0);
    expect(mailedKinds()).toEqual(['run-failed', 'recovered']);
  });

  it('a command that fails (the relay down): one WARN with its exit and first stderr line, the load unchanged; the next look delivers it once', async () => {
    await rm(path.join(firm.dir, 'mailed.jsonl'));
    await writeFile(path.join(firm.dir, 'relay-down'), '');
    firm.company('acme').revokeTokens();
    const failed = await night();
    expect(failed.code).toBe(2);
    expect(warnings(failed.stderr)).toEqual([
      expect.stringMatching(
        /^WARN qbo-pipeline notify: notification run-failed for company acme \(job qb_company, run \S+\) not delivered to the command \(notify\.command node\): exit 3: msmtp: server message: 554 relay access denied; it waits for the next check$/,
      ),
    ]);
    expect(failed.stderr).toContain('INFO qbo-pipeline notify: notify command node: msmtp: could not send mail');
    expect(mailed()).toEqual([]);
    // Still down: tried again quietly.
    expect(warnings((await once()).stderr)).toEqual([]);
    await rm(path.join(firm.dir, 'relay-down'));
    const later = await once();
    expect(later.stderr).toMatch(/INFO qbo-pipeline notify: notification run-failed for company acme \(job qb_company, run \S+\) delivered to the command/);
    await once();
    expect(mailedKinds()).toEqual(['run-failed']);
  });

  it('with a webhook beside it: a webhook answering 500 does not make the command run again, nor the command the webhook post again', async () => {
    await rm(path.join(firm.dir, 'mailed.jsonl'));
    await notifyYaml(`${WEBHOOK}\n${COMMAND}`);
    await writeFile(path.join(firm.dir, 'secrets/acme/refresh_token'), `${firm.company('acme').reconnect()}\n`);
    receiver.answer = '500';
    const fixed = await night();
    expect(fixed.code, fixed.stderr.slice(-2000)).toBe(0);
    expect(warnings(fixed.stderr)).toEqual([expect.stringMatching(/ recovered for company acme .* not delivered to the webhook .*: HTTP 500; it waits/)]);
    expect(mailedKinds()).toEqual(['recovered']);
    await once();
    expect(mailedKinds()).toEqual(['recovered']);
    receiver.answer = 'ok';
    await once();
    expect(receiver.received.map((r) => r.kind)).toEqual(['recovered']);
    // Now the command fails and the webhook takes it: the webhook is not posted again while the command waits.
    await writeFile(path.join(firm.dir, 'relay-down'), '');
    firm.company('acme').revokeTokens();
    await night();
    await once();
    expect(receiver.received.map((r) => r.kind)).toEqual(['recovered', 'run-failed']);
    await rm(path.join(firm.dir, 'relay-down'));
    await once();
    expect(mailedKinds()).toEqual(['recovered', 'run-failed']);
    expect(receiver.received.map((r) => r.kind)).toEqual(['recovered', 'run-failed']);
  });

  it("an outbox written before the command channel (the webhook's shape) is sent to each channel, once, and what it had sent is not sent again", async () => {
    receiver.received.length = 0;
    await rm(path.join(firm.dir, 'mailed.jsonl'));
    const file = path.join(firm.dir, 'state/notify/notifications.json');
    const sent = (JSON.parse(readFileSync(file, 'utf8')) as { sent: unknown }).sent;
    // As the version before wrote it: a message the webhook had not taken, said once (`warned: true`).
    const waiting = { kind: 'overdue', level: 'warn', company: 'globex', reason: 'trigger trg-x was due 20 min ago and has not started', href: '/', at: END };
    await writeFile(file, JSON.stringify({ sent, outbox: [{ event: waiting, warned: true }] }, null, 2) + '\n');
    const later = await once();
    expect(later.stderr).toMatch(/notification overdue for company globex delivered to the webhook/);
    await once();
    expect(receiver.received.map((r) => [r.kind, r.company])).toEqual([['overdue', 'globex']]);
    expect(mailed().map((m) => [m.body.kind, m.body.company])).toEqual([['overdue', 'globex']]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ sent, outbox: [] });
  });
});
