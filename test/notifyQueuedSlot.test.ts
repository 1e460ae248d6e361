/**
 * A firm's nightly slot queued behind a long backfill by hand, with notifications on (a webhook):
 * nobody is woken while the backfill it waits for is alive, since the slot runs when it ends; one
 * `overdue` message once that backfill dies (kill -9: its runner gone), since then the night's sync
 * waits for a scheduler to notice; and nothing more once the slot ran. Real processes throughout:
 * the schedulers (`scheduler --once`, as cron starts them, each looking at what needs a person as
 * it ends), the backfill by hand, the emulator over HTTP, PostgreSQL, the webhook receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunJournal, type Trigger } from '../packages/qbo-pipeline/src/index.js';
import { ageLocks, pastDailySlot, suiteFirm } from './companiesHarness.js';
import { killRunningClis, startRunnerCli, waitFor } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';
import { suiteWebhookReceiver } from './support/webhookReceiver.js';

const prefix = `nqs_${Math.random().toString(16).slice(2, 8)}`;
const SECRET_PATH = '/services/T0/B0/queuedSlotPath';
/** The slot of a daily schedule: due for 12 hours already (the overdue rule is 15 minutes); its next is 11 hours away. */
const daily = pastDailySlot();
const { start: START, end: END, trigger: TRIGGER } = daily;
/** The console's (and notifications') judgement of a runner that stopped refreshing its job's lock. */
const RUNNER_SILENT_MS = 30_000;

const receiver = suiteWebhookReceiver(SECRET_PATH);
const firm = suiteFirm({ names: ['acme'], seed: 74, days: 3, counts: { invoices: 20 } });
beforeAll(async () => {
  writeFileSync(path.join(firm.dir, 'secrets/notify_webhook'), `${receiver.url}\n`);
  await daily.writeCompanies(firm, prefix, '\nnotify:\n  webhook_url_file: secrets/notify_webhook');
});
afterAll(killRunningClis);

describe('a nightly slot queued behind a long backfill by hand, with notifications on', () => {
  it('tells nothing while the backfill runs; one overdue message when it dies; nothing more once the slot ran', { timeout: 300_000 }, async () => {
    const acme = path.join(firm.dir, 'state/companies/acme');
    const env = { ...userEnv() };
    const kinds = (from: number) => receiver.received.slice(from).map((r) => [r.kind, r.company]);
    const scheduler = async (...more: string[]) => {
      const run = await firm.cli(['scheduler', '--companies', 'companies.yaml', '--once', ...more]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(/not delivered|could not look/);
      return run;
    };
    const backfill = ['backfill', '--companies', 'companies.yaml', '--company', 'acme', '--start', START, '--end', END];

    // The company's first load (its token store then holds a live access token: the backfill killed below has no refresh in flight),
    // and notifications turned on with nothing to tell.
    const first = await firm.cli(backfill);
    expect(first.code, first.stderr).toBe(0);
    await scheduler();
    expect(receiver.received).toEqual([]);
    // The schedule counts slots from just before the slot: due for hours.
    daily.countFromJustBefore(acme);

    // A long backfill by hand (QBO answers nothing meanwhile) holds the company's job.
    const release = firm.emulator.holdAnswers();
    try {
      const long = startRunnerCli([...backfill, '--fresh'], { cwd: firm.dir, env });
      const handRun = await waitFor(
        'the backfill by hand running',
        async () => (await RunJournal.of(acme).list({ limit: 1 })).find((r) => r.status === 'running' && r.pid === long.child.pid),
        60_000,
        long.output,
      );
      // The scheduler cron started at the slot queues it behind that backfill and waits (a long lease: it starts nothing below).
      const waiting = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--once', '--lease-seconds', '600'], { cwd: firm.dir, env });
      const triggerFile = path.join(acme, 'triggers', `${TRIGGER}.json`);
      const triggerNow = () => JSON.parse(readFileSync(triggerFile, 'utf8')) as Trigger;
      await waitFor('the slot queued', () => existsSync(triggerFile) && triggerNow().queued !== undefined, 60_000, waiting.output);
      expect(triggerNow().queued?.behind).toContain(`run ${handRun.id} (backfill, `);

      // Another scheduler looks at what needs a person: the slot, due for hours, waits for a live backfill: nothing to tell.
      // (Old versions sent `overdue` here, waking someone though the slot runs when the backfill ends.)
      const before = receiver.received.length;
      await scheduler();
      expect(kinds(before)).toEqual([]);

      // The backfill dies (kill -9, with its tap and target): once its lock has gone unrefreshed as long as a runner is
      // given, the slot waits for nothing that will end: one overdue message, saying so. Nothing refreshes its locks
      // (the job's, and the realm's, whose staleness is the same 30 s) once it is dead, so their last refresh is set
      // that long ago rather than waited out (half of this test's time).
      process.kill(-long.child.pid!, 'SIGKILL');
      await long.exited;
      ageLocks(acme, ['qb_company.lock', 'realm.lock'], RUNNER_SILENT_MS / 1000 + 1);
      await scheduler('--lease-seconds', '600');
      const overdue = receiver.received.slice(before).filter((r) => r.kind === 'overdue');
      expect(overdue.map((r) => [r.kind, r.company])).toEqual([['overdue', 'acme']]);
      expect(overdue[0]!.reason).toMatch(
        new RegExp(
          `^schedule company's .* slot was due .* ago and is queued behind run ${handRun.id} \\(backfill, .*, but the job's run ${handRun.id} lost its runner \\(killed, or its machine restarted\\)`,
        ),
      );

      // The waiting scheduler is stopped; the next one runs the slot (its lock long stale): nothing more is overdue.
      process.kill(-waiting.child.pid!, 'SIGTERM');
      await waiting.exited;
      release();
      const after = receiver.received.length;
      await scheduler('--lease-seconds', '2');
      expect(triggerNow()).toMatchObject({ status: 'completed', late: true });
      expect(kinds(after).filter(([kind]) => kind === 'overdue')).toEqual([]);
      await scheduler();
      expect(kinds(after).filter(([kind]) => kind === 'overdue')).toEqual([]);
    } finally {
      release();
    }
  });
});
