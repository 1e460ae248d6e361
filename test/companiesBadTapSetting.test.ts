/**
 * A companies file whose `tap: end_lag` the tap would refuse (`soon`, `-PT5M`, `5`) is refused when
 * it is read, like every other mistake in the file: each command that reads it stops with exit 2
 * and one line naming the file, the line and column, the company's key and what the tap accepts,
 * before any request to QuickBooks and without a state folder. A scheduler or console already
 * running when an edit breaks the file says so and goes on. The built CLI against the emulator.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl } from './support/db.js';
import { startFirm, type Firm } from './companiesHarness.js';
import { send } from './consoleHttp.js';
import { killRunningClis, startRunnerCli, waitFor, type RunningCli } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';

/** What tap-quickbooks says an end_lag must be (its `endLagSetting`). */
const ACCEPTS = 'must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (PT5M, PT0S), from PT0S to P1D';

let firm: Firm;
const prefix = `bl_${Math.random().toString(16).slice(2, 8)}`;
/** The firm's file; `globexLag` puts `end_lag: <it>` under globex's own `tap:` (line 21, its value at column 16). */
const companies = (globexLag?: string) => {
  const good = firm.companiesYaml({ schemaPrefix: prefix, streams: ['invoices'], extra: '  start: 2025-02-01' });
  if (globexLag === undefined) return good;
  return good.replace('  - name: globex\n', `  - name: globex\n    tap:\n      end_lag: ${globexLag}\n`);
};

beforeAll(async () => {
  firm = await startFirm({ names: ['acme', 'globex'], databaseUrl: databaseUrl(), seed: 81, now: new Date('2025-03-01T00:00:00Z'), days: 5 });
});
afterAll(async () => {
  killRunningClis();
  await firm?.close();
});

const requests = () => firm.emulator.requestLog().length;
/** The one line: `bad.yaml`, as given (the scheduler and the console name the file by its absolute path). */
const firstLine = (output: string) => output.split('\n')[0]?.replace(`${firm.dir}/`, '');
/** What the tap says of globex's `end_lag: <value>` (a number unquoted, as the tap quotes it). */
const refused = (file: string, value: string) =>
  `FATAL qbo-pipeline: companies file ${file}:21:16: companies[1] (globex).tap.end_lag: ${ACCEPTS}, got ${/^\d+$/.test(value) ? value : JSON.stringify(value)}`;

describe('a companies file with an end_lag the tap refuses: every command that reads it stops, before anything runs', () => {
  // Each command with one of the values (the tap refuses each for its own reason: not a duration, negative, a number).
  it.each([
    ['company list', ['company', 'list'], 'soon'],
    ['sync of one company', ['sync', '--company', 'globex'], '-PT5M'],
    ['sync of every company (acme, whose own settings are fine, does not run either)', ['sync'], '5'],
    ['backfill of every company', ['backfill', '--start', '2025-02-20', '--end', '2025-02-21'], 'soon'],
    ['trigger add', ['trigger', 'add', '--start', '2025-02-20', '--end', '2025-02-21', '--at', '2031-01-01T00:00:00Z'], '-PT5M'],
    ['scheduler --once', ['scheduler', '--once'], '5'],
    ['schedule list', ['schedule', 'list'], 'soon'],
    ['export meltano (which would write the value into meltano.yml)', ['export', 'meltano'], '-PT5M'],
    ['evidence', ['evidence'], '5'],
  ])('%s: exit 2, one line naming the file, line, column, company, key and what is accepted; no request, no state', async (_what, args, value) => {
    await firm.writeCompanies(companies(value), 'bad.yaml');
    const before = requests();
    const run = await firm.cli([...args, '--companies', 'bad.yaml']);
    expect(run.code, run.stderr).toBe(2);
    expect(firstLine(run.stderr)).toBe(refused('bad.yaml', value));
    expect(run.stdout).toBe('');
    expect(requests()).toBe(before);
    expect(existsSync(path.join(firm.dir, 'state')), 'no state folder').toBe(false);
  });

  it('console: exit 2 with that line, and it never listens', async () => {
    await firm.writeCompanies(companies('soon'), 'bad.yaml');
    const web = startRunnerCli(['console', '--companies', 'bad.yaml', '--port', '0'], { cwd: firm.dir, env: userEnv() });
    expect(await web.exited, web.output()).toBe(2);
    expect(firstLine(web.output())).toBe(refused('bad.yaml', 'soon'));
    expect(web.output()).not.toContain('console at');
  });
});

describe('an edit that breaks the file under a running scheduler or console', () => {
  /** Waits for `line` in a running CLI's output, after what it had written when called. */
  const saysNext = (cli: RunningCli, line: string) => {
    const from = cli.output().length;
    return waitFor(`"${line}"`, () => cli.output().slice(from).includes(line), 30_000, cli.output);
  };

  it('the scheduler says once what is wrong and goes on with the companies as they were; once fixed, it reads the file again', async () => {
    await firm.writeCompanies(companies(), 'running.yaml');
    const scheduler = startRunnerCli(['scheduler', '--companies', 'running.yaml', '--state-dir', 'scheduler-state', '--interval', '0.2'], {
      cwd: firm.dir,
      env: userEnv(),
    });
    await waitFor('the scheduler', () => scheduler.output().includes('scheduler for 2 companies of running.yaml'), 30_000, scheduler.output);
    const broken = `ERROR qbo-pipeline scheduler: companies file running.yaml:21:16: companies[1] (globex).tap.end_lag: ${ACCEPTS}, got "-PT5M"; going on with the companies as they were`;
    const saidBroken = saysNext(scheduler, broken);
    await firm.writeCompanies(companies('-PT5M'), 'running.yaml');
    await saidBroken;
    const readsAgain = saysNext(scheduler, 'INFO qbo-pipeline scheduler: companies file running.yaml reads again');
    await firm.writeCompanies(companies('PT1M'), 'running.yaml');
    await readsAgain;
    expect(scheduler.output().split(broken).length - 1, 'said once, not at every pass').toBe(1);
    scheduler.child.kill('SIGTERM');
    expect(await scheduler.exited).toBe(0);
  });

  it('the console shows the line on its pages instead of the overview, answering still; once fixed, the overview again', async () => {
    await firm.writeCompanies(companies(), 'console.yaml');
    const web = startRunnerCli(['console', '--companies', 'console.yaml', '--state-dir', 'console-state', '--port', '0'], { cwd: firm.dir, env: userEnv() });
    const url = await waitFor('the console', () => /console at (http:\/\/\S+)/.exec(web.output())?.[1], 30_000, web.output);
    expect((await send(url, '/')).status).toBe(200);
    await firm.writeCompanies(companies('soon'), 'console.yaml');
    const page = await send(url, '/');
    expect(page.status).toBe(400);
    expect(page.text.replace(`${firm.dir}/`, '')).toContain(
      `companies file console.yaml:21:16: companies[1] (globex).tap.end_lag: ${ACCEPTS}, got &quot;soon&quot; Nothing was changed.`,
    );
    await firm.writeCompanies(companies('PT1M'), 'console.yaml');
    const fixed = await send(url, '/');
    expect(fixed.status).toBe(200);
    expect(fixed.text).toContain('<h2 id="company-globex">');
    expect(fixed.text).not.toContain('role="alert"');
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
  });
});
