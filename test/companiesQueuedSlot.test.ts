/**
 * A company's nightly slot that comes while a sync by hand holds the company's job: the scheduler
 * (`scheduler --companies … --once`, a real process, as cron starts it at the slot) records the
 * slot `pending`, queued behind that run, waits for it, and runs the slot once it has ended — late,
 * saying so and why in the trigger, `trigger list`, the runs journal, `_pipeline_runs` and `company
 * list` — instead of skipping the night. The slot's sync goes on from the bookmark the run by hand
 * left, and loads what changed in QBO after that run's end: an invoice created while the slot
 * waited is in the table, and every row equals QBO's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunJournal, type Trigger } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, withClient } from './support/db.js';
import { suiteFirm, pastDailySlot } from './companiesHarness.js';
import { diffWithTruth, killRunningClis, startRunnerCli, tableCell, waitFor } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';

const prefix = `queued_${Math.random().toString(16).slice(2, 8)}`;
/** The slot of a daily schedule, due for 12 hours; its next is 11 hours away, so the wait is never cut short here. */
const daily = pastDailySlot();
const { start: START, slot: SLOT, trigger: TRIGGER } = daily;

const firm = suiteFirm({ names: ['acme'], seed: 70, days: 2, counts: { invoices: 30 } });
beforeAll(() => daily.writeCompanies(firm, prefix));
afterAll(killRunningClis);

describe("a company's slot that comes while a sync by hand holds its job", () => {
  it('is queued behind that run and runs once it has ended, late and saying why everywhere; its rows are in the table', { timeout: 300_000 }, async () => {
    const acme = path.join(firm.dir, 'state/companies/acme');
    // The schedule counts slots from the first time a scheduler saw the company: just before the slot.
    daily.countFromJustBefore(acme);
    const triggerFile = path.join(acme, 'triggers', `${TRIGGER}.json`);
    const triggerNow = () => JSON.parse(readFileSync(triggerFile, 'utf8')) as Trigger;

    // The sync by hand, slowed by a QBO that answers late, holds the job when the scheduler starts.
    firm.emulator.setLatency(400);
    const env = { ...userEnv() };
    const byHand = startRunnerCli(['sync', '--companies', 'companies.yaml', '--company', 'acme'], { cwd: firm.dir, env });
    const handRun = await waitFor(
      'the sync by hand running',
      async () => {
        const [run] = await RunJournal.of(acme).list({ limit: 1 });
        return run?.status === 'running' && run;
      },
      60_000,
      byHand.output,
    );

    const scheduler = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--once'], { cwd: firm.dir, env });
    await waitFor('the slot recorded', () => existsSync(triggerFile), 60_000, scheduler.output);
    // Old versions recorded it `skipped` here, and the night had no run of its own.
    expect(triggerNow()).toMatchObject({ status: 'pending', enabled: true, queued: { behind: expect.stringContaining(`run ${handRun.id} (sync, pid `) } });
    await waitFor('the queued line', () => /queued: job qb_company is busy/.test(scheduler.output()), 30_000, scheduler.output);
    expect(scheduler.output()).toMatch(
      new RegExp(
        `WARN qbo-pipeline scheduler acme: schedule company slot ${SLOT} is due; queued: job qb_company is busy \\(run ${handRun.id} \\(sync, pid \\d+ on \\S+, last sign of life \\S+\\), until \\S+ unless its runner refreshes it\\), the slot runs when that ends \\(its next slot, \\S+, replaces it if it still waits then\\)`,
      ),
    );
    expect(scheduler.output()).not.toMatch(/waits: job qb_company is locked/); // the queued line said who holds it: not twice
    expect(scheduler.child.exitCode).toBeNull(); // --once waits for the slot it queued

    // A user creates an invoice in QBO after the run by hand began (a second later: LastUpdatedTime has whole
    // seconds, and that run's range ends at its start), so only the slot's run can load it.
    await sleep(Math.max(0, Date.parse(handRun.startedAt) + 1500 - Date.now()));
    const created = firm.company('acme').create('Invoice');
    firm.emulator.setLatency(0);

    expect(await byHand.exited, byHand.output()).toBe(0);
    expect(await scheduler.exited, scheduler.output()).toBe(0);
    const trigger = triggerNow();
    expect(trigger).toMatchObject({ status: 'completed', late: true, schedule: { slot: SLOT, slots: 1 } });
    const runs = await RunJournal.of(acme).list({ limit: 10 });
    const slotRun = runs.find((r) => r.triggerId === TRIGGER)!;
    const hand = runs.find((r) => r.id === handRun.id)!;
    expect(runs).toHaveLength(2);
    expect(hand).toMatchObject({ status: 'succeeded', kind: 'sync' });
    expect(slotRun).toMatchObject({
      status: 'succeeded',
      kind: 'sync',
      scheduleId: 'company',
      late: expect.stringMatching(/^late by .+, queued behind run /),
    });
    expect(slotRun.late).toContain(handRun.id);
    // After the run by hand, from where it ended: one catch-up run covers everything up to its own start.
    expect(Date.parse(slotRun.startedAt)).toBeGreaterThanOrEqual(Date.parse(hand.finishedAt!));
    expect(slotRun.range.start <= hand.range.end).toBe(true);
    expect(scheduler.output()).toMatch(new RegExp(`trigger ${TRIGGER} \\(due ${SLOT}, late by [^)]*queued behind run ${handRun.id}`));

    const schema = `${prefix}_acme`;
    const diff = await diffWithTruth(databaseUrl(), schema, firm.company('acme'), 'invoices', START, slotRun.range.end);
    expect({ missing: diff.missing, extra: diff.extra, different: diff.different }).toEqual({ missing: [], extra: [], different: [] });
    const loaded = await withClient((c) =>
      c.query<{ id: string; late: string | null }>(
        `SELECT i.id, r.late FROM "${schema}".invoices i, "${schema}"._pipeline_runs r WHERE i.id = $1 AND r.run_id = $2`,
        [created, slotRun.id],
      ),
    );
    expect(loaded.rows).toEqual([{ id: created, late: slotRun.late }]);

    // What a person reads in the morning: the night ran, late, and why.
    const list = await firm.cli(['company', 'list', '--companies', 'companies.yaml']);
    expect(tableCell(list.stdout, 'acme', 'last run')).toMatch(/^succeeded \(late by .+, queued behind run .+\) sync qb_company /);
    const triggers = await firm.cli(['trigger', 'list', '--companies', 'companies.yaml']);
    expect(triggers.stdout).toMatch(new RegExp(`${TRIGGER} \\| ${SLOT} \\| completed \\(late by [^|]*, queued behind run ${handRun.id}`));
    expect(triggers.stdout).not.toContain('skipped');
  });
});
