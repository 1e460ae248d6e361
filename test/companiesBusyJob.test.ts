/**
 * A company's job whose lock a runner killed a moment ago still holds (kill -9: the lock stays until
 * it goes stale), and a scheduler over the companies file started then. Each pass leaves the job's
 * due trigger alone and says so once — the company, the job, the killed run holding the lock and until
 * when — with no attempt in the trigger's file; `--once` exits 0, as the single-company scheduler does
 * for a job busy elsewhere; the long-running scheduler does the same at every pass. Once the lock is
 * stale, the trigger runs, and the run's line that closes the killed run names the company. The
 * single-company scheduler does the same. (A lock is judged by its age, so the test ages the killed
 * runner's locks to stand for the seconds after the kill.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Emulator } from '../packages/qbo-emulator/src/index.js';
import { RunJournal, type RunRecord, type Trigger } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, withClient } from './support/db.js';
import { ageLocks, suiteFirm } from './companiesHarness.js';
import { diffWithTruth, killRunningClis, runCliProcess, runnerArgs, startHarness, startRunnerCli, waitFor } from './pipelineHarness.js';

const START = '2025-02-27T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const prefix = `busy_${Math.random().toString(16).slice(2, 8)}`;

const firm = suiteFirm({ names: ['acme', 'globex'], seed: 46, now: new Date(END), days: 2, counts: { invoices: 20 } });
beforeAll(() => firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, streams: ['invoices'] })));
afterAll(async () => {
  killRunningClis();
  await withClient((c) => c.query(`DROP SCHEMA IF EXISTS ${prefix}_single CASCADE`));
});

/**
 * A runner of `args` whose tap waits on a QBO that does not answer (the realm's requests stall),
 * killed with kill -9 (the OOM killer) once its run is in the journal of `stateDir`: its job's lock stays.
 */
async function killedMidRun(
  emulator: Emulator,
  realmId: string,
  stateDir: string,
  args: readonly string[],
  cwd: string,
): Promise<{ killed: RunRecord; pid: number }> {
  emulator.setFaults({ rules: [{ fault: 'stall', from: 1, realms: [realmId] }] });
  const runner = startRunnerCli(args, { cwd });
  const killed = await waitFor(
    'the run going on, its tap waiting on QBO',
    async () => {
      const [run] = await RunJournal.of(stateDir).list({ limit: 1 });
      return run?.status === 'running' && (emulator.stats().faults.stall ?? 0) > 0 && run;
    },
    60_000,
    runner.output,
  );
  process.kill(-runner.child.pid!, 'SIGKILL');
  await runner.exited;
  emulator.setFaults({ rules: [] });
  return { killed, pid: runner.child.pid! };
}

describe("a scheduler over a companies file, started while a killed runner's lock still holds a company's job", () => {
  it(
    'leaves the busy job for a later pass with one line naming company, job, holder and until when, no attempt, exit 0; runs it once the lock is stale',
    { timeout: 300_000 },
    async () => {
      const acme = path.join(firm.dir, 'state/companies/acme');
      const triggerOf = (id: string) => JSON.parse(readFileSync(path.join(acme, 'triggers', `${id}.json`), 'utf8')) as Trigger;
      const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const added = await firm.cli(['trigger', 'add', '--companies', 'companies.yaml', '--at', due, '--start', START, '--end', END]);
      expect(added.code, added.stderr).toBe(0);
      const trigger = /^company acme: trigger (trg-[^:]+):/m.exec(added.stdout)?.[1] ?? '';
      expect(trigger, added.stdout).not.toBe('');

      // acme's backfill by hand, its tap waiting on a QBO that does not answer, killed with kill -9.
      const { killed, pid } = await killedMidRun(
        firm.emulator,
        firm.company('acme').realmId,
        acme,
        ['backfill', '--companies', 'companies.yaml', '--company', 'acme', '--start', START, '--end', END],
        firm.dir,
      );
      const age = (seconds: number) => ageLocks(acme, ['qb_company.lock', 'realm.lock'], seconds);
      // As 5 s after the kill: 55 s before the lock is stale, for a scheduler that is slow to start on a loaded machine.
      age(5);

      const once = await firm.cli(['scheduler', '--companies', 'companies.yaml', '--once']);
      expect(once.code, once.stderr).toBe(0);
      expect(triggerOf(trigger)).toMatchObject({ status: 'pending', enabled: true });
      expect(triggerOf(trigger).attempts ?? []).toEqual([]);
      const about = once.stderr.split('\n').filter((l) => l.includes(trigger));
      expect(about).toEqual([
        expect.stringMatching(
          new RegExp(
            `^WARN qbo-pipeline scheduler acme: trigger ${trigger} \\(due ${due}\\) waits: job qb_company is locked by run ${killed.id} \\(backfill, pid ${pid} on \\S+, last sign of life \\S+\\), until \\S+Z unless its runner refreshes it; a scheduler pass after then runs it$`,
          ),
        ),
      ]);
      expect(once.stdout).not.toMatch(/acme/);
      expect(once.stdout).toMatch(/1 company: 1 ok, 0 failed/);

      // The long-running scheduler: pass after pass, the same one line and still no attempt. The
      // lock again as 5 s after the kill: the --once before may have taken seconds of the 55 s left.
      age(5);
      const service = startRunnerCli(['scheduler', '--companies', 'companies.yaml', '--interval', '0.3'], { cwd: firm.dir });
      await waitFor('the service to pass a few times', async () => /waits: job qb_company/.test(service.output()), 30_000, service.output);
      await sleep(2_000);
      service.child.kill('SIGTERM');
      await service.exited;
      expect(
        service
          .output()
          .split('\n')
          .filter((l) => l.includes(trigger)),
      ).toHaveLength(1);
      expect(triggerOf(trigger).attempts ?? []).toEqual([]);

      // Stale (as 70 s after the kill, past the lease): the next --once runs it, and closes the killed run naming the company.
      age(70);
      const later = await firm.cli(['scheduler', '--companies', 'companies.yaml', '--once']);
      expect(later.code, later.stderr).toBe(0);
      expect(triggerOf(trigger)).toMatchObject({ status: 'completed', attempts: [expect.objectContaining({ attempt: 1, outcome: 'completed' })] });
      expect(later.stderr).toMatch(
        new RegExp(`^WARN qbo-pipeline acme: run ${killed.id} of job qb_company \\(started \\S+\\) still said running, but its runner \\(pid ${pid}`, 'm'),
      );
      const diff = await diffWithTruth(databaseUrl(), `${prefix}_acme`, firm.company('acme'), 'invoices', START, END);
      expect({ missing: diff.missing.length, extra: diff.extra.length, different: diff.different.length }).toEqual({ missing: 0, extra: 0, different: 0 });
    },
  );

  it('the single-company scheduler --once does the same: no attempt, one line, exit 0', { timeout: 120_000 }, async () => {
    const h = await startHarness({ databaseUrl: databaseUrl(), seed: 47, now: new Date(END), days: 2, counts: { invoices: 10 } });
    try {
      const stateDir = path.join(h.dir, 'state');
      const request = { streams: 'invoices', start: START, end: END, tapConfig: h.tapConfig, targetConfig: await h.targetConfig(`${prefix}_single`), stateDir };
      const added = await runCliProcess(runnerArgs(['trigger', 'add'], { at: new Date(Date.now() - 60_000).toISOString(), ...request }));
      expect(added.code, added.stderr).toBe(0);
      const trigger = /^trigger (trg-[^:]+):/.exec(added.stdout)?.[1] ?? '';
      const { killed, pid } = await killedMidRun(h.emulator, h.emulator.companies[0]!.realmId, stateDir, runnerArgs('backfill', request), h.dir);
      ageLocks(stateDir, ['qb_invoices.lock'], 40);

      const once = await runCliProcess(['scheduler', '--once', '--state-dir', stateDir]);
      expect(once.code, once.stderr).toBe(0);
      expect(once.stderr.split('\n').filter((l) => l.includes(trigger))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^WARN qbo-pipeline scheduler: trigger ${trigger} \\(due \\S+\\) waits: job qb_invoices is locked by run ${killed.id} \\(backfill, pid ${pid} on `,
          ),
        ),
      ]);
      expect(once.stderr).not.toContain('nothing due');
      const file = JSON.parse(readFileSync(path.join(stateDir, 'triggers', `${trigger}.json`), 'utf8')) as Trigger;
      expect(file).toMatchObject({ status: 'pending' });
      expect(file.attempts ?? []).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
