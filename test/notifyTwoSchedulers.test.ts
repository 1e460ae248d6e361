import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_LOCK_STALE_MS } from '../packages/qbo-pipeline/src/jobLock.js';
import { suiteFirm } from './companiesHarness.js';
import { killRunningClis, startRunnerCli, waitFor } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';
import { suiteWebhookReceiver } from './support/webhookReceiver.js';

/**
 * Two schedulers over one state folder (the compose service and a `scheduler --once` from cron,
 * or two from cron): a due trigger runs once between them, and so is each notification sent once.
 * The race is made certain: the webhook holds its answer to the first scheduler's post, and to
 * each try again of it (a try gives up after 5 s), while the second looks. The first holds its lock
 * through all its tries (some 17 s), so a second scheduler slow to start on a loaded machine still
 * looks meanwhile (with only the first try held, one that took over 5 s looked after the lock was
 * let go, and the test failed), and sees the same new failure in the journal and the same message
 * in the outbox; only an answered try counts as received. And a scheduler killed while posting
 * leaves a lock that the next one takes over once stale, then sends what the killed one could not.
 */
const START = '2025-02-27T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const prefix = `ntw_${Math.random().toString(16).slice(2, 8)}`;
const SECRET_PATH = '/services/T0/B0/twoSchedulersWebhookPath';

const cli = (args: readonly string[]) => firm.cli(args);
const kinds = () => receiver.received.map((r) => [r.kind, r.company]);
const notificationsFile = () => path.join(firm.dir, 'state/notify/notifications.json');
const outbox = () =>
  existsSync(notificationsFile()) ? (JSON.parse(readFileSync(notificationsFile(), 'utf8')) as { outbox: Array<{ event: { kind: string } }> }).outbox : [];
const SKIPPED = /INFO qbo-pipeline notify: notifications: another scheduler of this state folder is sending them now \(\S+notifications\.lock is held\)/;

/** A trigger for acme due now (`--fresh`: its run asks QBO, so a revoked token fails it). */
async function acmeDue() {
  const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const added = await cli(['trigger', 'add', '--companies', 'companies.yaml', '--company', 'acme', '--at', due, '--start', START, '--end', END, '--fresh']);
  expect(added.code, added.stderr).toBe(0);
}

const receiver = suiteWebhookReceiver(SECRET_PATH);
const firm = suiteFirm({ names: ['acme', 'globex'], seed: 63, now: new Date(END), days: 2, counts: { customers: 3 } });
beforeAll(async () => {
  await writeFile(path.join(firm.dir, 'secrets/notify_webhook'), `${receiver.url}\n`, { mode: 0o600 });
  await firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, streams: ['customers'], extra: 'notify:\n  webhook_url_file: secrets/notify_webhook' }));
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.answer = 'ok';
});
afterAll(killRunningClis);

describe('two schedulers over one state folder', () => {
  it('the compose service posting a failure and a scheduler --once looking meanwhile: one run-failed; notify test is not held up', async () => {
    firm.company('acme').revokeTokens();
    const held = receiver.holdNext();
    await acmeDue();
    const service = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--interval', '1'], { cwd: firm.dir, env: userEnv() });
    let cron;
    try {
      await held.arrived;
      // The webhook has not answered it: a scheduler --once from cron looks now, at the same failure and outbox.
      cron = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
      expect(cron.code, cron.stderr).toBe(0);
      // `notify test` posts and records nothing: the lock does not concern it.
      const test = await cli(['notify', 'test', '--companies', 'companies.yaml']);
      expect(test.code, test.stderr).toBe(0);
      held.answer();
      await waitFor('the service recording the delivery', () => outbox().length === 0, 30_000, service.output);
    } finally {
      held.answer();
      process.kill(-service.child.pid!, 'SIGTERM');
    }
    expect(await service.exited).toBe(0);
    expect(kinds().sort()).toEqual([
      ['run-failed', 'acme'],
      ['test', 'acme, globex'],
    ]);
    expect(cron.stderr).toMatch(SKIPPED);
  });

  it('two scheduler --once, the second looking while the first posts the recovery: one recovered', async () => {
    await writeFile(path.join(firm.dir, 'secrets/acme/refresh_token'), `${firm.company('acme').reconnect()}\n`);
    const held = receiver.holdNext();
    await acmeDue();
    const first = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--once'], { cwd: firm.dir, env: userEnv() });
    let second;
    try {
      await held.arrived;
      second = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
      expect(second.code, second.stderr).toBe(0);
    } finally {
      held.answer();
    }
    expect(await first.exited).toBe(0);
    expect(kinds()).toEqual([['recovered', 'acme']]);
    expect(second.stderr).toMatch(SKIPPED);
    expect(outbox()).toEqual([]);
    receiver.received.length = 0;
  });

  it('a scheduler killed (SIGKILL) while posting: the next skips while its lock is fresh, and sends once it is stale', async () => {
    firm.company('acme').revokeTokens();
    receiver.answer = 'hang';
    await acmeDue();
    const killed = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--interval', '1'], { cwd: firm.dir, env: userEnv() });
    // The outbox is written, under the lock, before the post that never gets an answer.
    await waitFor("the scheduler posting acme's failure", () => outbox().some((q) => q.event.kind === 'run-failed'), 60_000, killed.output);
    process.kill(-killed.child.pid!, 'SIGKILL');
    await killed.exited;
    receiver.answer = 'ok';
    const fresh = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(receiver.received).toEqual([]);
    expect(fresh.stderr).toMatch(SKIPPED);
    // The lock as it is once the killed scheduler's last refresh is older than its staleness (30 s on).
    const stale = new Date(Date.now() - DEFAULT_LOCK_STALE_MS - 1_000);
    await utimes(path.join(firm.dir, 'state/notify/notifications.lock'), stale, stale);
    const next = await cli(['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(next.stderr).not.toMatch(SKIPPED);
    expect(kinds()).toEqual([['run-failed', 'acme']]);
    expect(outbox()).toEqual([]);
  });
});
