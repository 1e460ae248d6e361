/**
 * A company's nightly slot whose own start loses the job's lock to a sync by hand: the scheduler's
 * pass finds the job free and decides to start the slot, and between that decision and the run's
 * taking of the lock, a person's `sync` takes it. The slot is queued behind that run, as a slot that
 * came while the job was busy, and the `scheduler --once` that cron started waits for it and runs it
 * once the run by hand has ended (late, saying why), instead of leaving it to the next night's
 * scheduler. Real processes throughout; the race is made certain, not hoped for, at a seam of the
 * pass: between its decision and its starts, the scheduler closes the runs whose runner died (a
 * backfill by hand of another job, killed with kill -9) and brings their rows in `_pipeline_runs`
 * up to date, which this test holds with a lock on that table while the sync by hand starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { RunJournal, type Trigger } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl } from './support/db.js';
import { ageLocks, suiteFirm, pastDailySlot } from './companiesHarness.js';
import { diffWithTruth, killRunningClis, startRunnerCli, waitFor } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';

const prefix = `lostrace_${Math.random().toString(16).slice(2, 8)}`;
/** The slot of a daily schedule, due for 12 hours; its next is 11 hours away, so the wait is never cut short here. */
const daily = pastDailySlot();
const { start: START, end: END, slot: SLOT, trigger: TRIGGER } = daily;
/** A short lease: the killed backfill's lock is stale for the scheduler's sweep two seconds after its death. */
const LEASE_SECONDS = 2;

const firm = suiteFirm({ names: ['acme'], seed: 73, days: 3, counts: { invoices: 30 } });
beforeAll(() => daily.writeCompanies(firm, prefix));
afterAll(killRunningClis);

describe("a company's slot whose start loses the job's lock to a sync by hand", () => {
  it(
    'is queued behind that sync and run by the same scheduler --once when it ends, late and saying why; its rows are in the table',
    { timeout: 300_000 },
    async () => {
      const acme = path.join(firm.dir, 'state/companies/acme');
      const schema = `${prefix}_acme`;
      const env = { ...userEnv() };
      const journal = RunJournal.of(acme);
      const running = (job: string) => async () => (await journal.list({ job, limit: 1 })).find((r) => r.status === 'running');

      // Another job of the company ran once (its token store holds a live access token, so no refresh is in
      // flight when its next run is killed below; its schema and `_pipeline_runs` exist).
      const other = ['backfill', '--companies', 'companies.yaml', '--company', 'acme', '--job', 'qb_other', '--start', START, '--end', END];
      const first = await firm.cli(other);
      expect(first.code, first.stderr).toBe(0);
      // The schedule counts slots from the first time a scheduler saw the company: just before the slot.
      daily.countFromJustBefore(acme);

      // QBO answers nothing until the slot is queued: no run by hand can end meanwhile.
      const release = firm.emulator.holdAnswers();
      try {
        // That job's next run is killed (kill -9, with its tap and target): its run says running, and its runner is gone.
        const killed = startRunnerCli([...other, '--fresh'], { cwd: firm.dir, env });
        await waitFor('the backfill to kill running', running('qb_other'), 60_000, killed.output);
        process.kill(-killed.child.pid!, 'SIGKILL');
        await killed.exited;
        // Its realm's lock, which every run of the company takes, is stale 30 s after its last refresh: aged rather
        // than waited out (by the sync by hand below, 30 s of this test, when the backfill was killed holding it).
        ageLocks(acme, ['realm.lock'], 31);
        const lock = path.join(acme, 'qb_other.lock');
        await waitFor('its lock stale by the scheduler lease', () => !existsSync(lock) || statSync(lock).mtimeMs + LEASE_SECONDS * 1000 + 500 < Date.now());

        const holder = new pg.Client({ connectionString: databaseUrl() });
        await holder.connect();
        try {
          await holder.query('BEGIN');
          await holder.query(`LOCK TABLE "${schema}"._pipeline_runs IN ACCESS EXCLUSIVE MODE`);
          const scheduler = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--once', '--lease-seconds', String(LEASE_SECONDS)], {
            cwd: firm.dir,
            env,
          });
          // Its pass decided (the job free) and is closing the killed run's row, before it records and starts the slot.
          await waitFor(
            "the scheduler's pass waiting on _pipeline_runs",
            async () =>
              (
                await holder.query<{ waiting: number }>('SELECT count(*)::int AS waiting FROM pg_locks WHERE relation = $1::regclass AND NOT granted', [
                  `"${schema}"._pipeline_runs`,
                ])
              ).rows[0]!.waiting > 0,
            60_000,
            scheduler.output,
          );
          const triggerFile = path.join(acme, 'triggers', `${TRIGGER}.json`);
          expect(existsSync(triggerFile)).toBe(false);

          // Now the person's sync takes the job's lock.
          const byHand = startRunnerCli(['sync', '--companies', 'companies.yaml', '--company', 'acme'], { cwd: firm.dir, env });
          const handRun = await waitFor('the sync by hand holding the job', running('qb_company'), 60_000, byHand.output);
          await holder.query('ROLLBACK');

          // The slot's start finds the job taken: queued behind the sync by hand, not left to the next night.
          const triggerNow = () => JSON.parse(readFileSync(triggerFile, 'utf8')) as Trigger;
          const busy = await waitFor(
            "the slot's start finding its job taken",
            () => existsSync(triggerFile) && triggerNow().attempts?.some((a) => a.outcome === 'job busy') && triggerNow(),
            60_000,
            scheduler.output,
          );
          // Old versions left it pending without a queue, and --once exited: the night's slot ran the next night.
          expect(busy).toMatchObject({
            status: 'pending',
            enabled: true,
            queued: { behind: expect.stringContaining(`run ${handRun.id} (sync, pid `), until: expect.any(String) },
            attempts: [{ attempt: 1, outcome: 'job busy' }],
          });
          expect(busy.startedAt).toBeUndefined();
          await waitFor('the queued line', () => /queued: job qb_company is busy/.test(scheduler.output()), 30_000, scheduler.output);
          expect(scheduler.output()).toMatch(
            new RegExp(
              `WARN qbo-pipeline scheduler acme: trigger ${TRIGGER}: job qb_company is already running: .*; queued: job qb_company is busy \\(run ${handRun.id} \\(sync, `,
            ),
          );
          expect(scheduler.child.exitCode).toBeNull(); // --once waits for the slot

          release();
          expect(await byHand.exited, byHand.output()).toBe(0);
          expect(await scheduler.exited, scheduler.output()).toBe(0);
          expect(scheduler.output()).not.toMatch(/waits: job qb_company is locked/); // the queued line said who holds it: not twice
          const done = triggerNow();
          expect(done).toMatchObject({ status: 'completed', late: true, schedule: { slot: SLOT, slots: 1 } });
          expect(done.attempts?.map((a) => a.outcome)).toEqual(['job busy', 'completed']);
          const slotRun = (await journal.list({ job: 'qb_company' })).find((r) => r.triggerId === TRIGGER)!;
          const hand = await journal.read(handRun.id);
          expect(slotRun).toMatchObject({
            status: 'succeeded',
            attempt: 2,
            late: expect.stringMatching(new RegExp(`^late by .+, queued behind run ${handRun.id} `)),
          });
          expect(Date.parse(slotRun.startedAt)).toBeGreaterThanOrEqual(Date.parse(hand.finishedAt!));
          const diff = await diffWithTruth(databaseUrl(), schema, firm.company('acme'), 'invoices', START, slotRun.range.end);
          expect({ missing: diff.missing, extra: diff.extra, different: diff.different }).toEqual({ missing: [], extra: [], different: [] });
        } finally {
          await holder.query('ROLLBACK').catch(() => undefined);
          await holder.end();
        }
      } finally {
        release();
      }
    },
  );
});
