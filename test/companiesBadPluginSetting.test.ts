/**
 * A companies file with a tap setting the tap would refuse (`end_lag: soon`, `window: soon`,
 * `page_size: 5000`, `sandbox: "yes"`, …) or a target setting the target would refuse
 * (`batch_size_rows: 0`, `sslmode: maybe`, `port: 70000`, …) is refused when it is read, like every
 * other mistake in the file: each command that reads it stops with exit 2 and one line naming the
 * file, the line and column, the company's key and what the plugin accepts, before any request to
 * QuickBooks, without a state folder or a row in the warehouse, and with no file exported. A scheduler or console already running when an edit
 * breaks the file says so and goes on. The built CLI against the emulator.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUrl } from './support/db.js';
import { startFirm, type Firm } from './companiesHarness.js';
import { send } from './consoleHttp.js';
import { killRunningClis, startRunnerCli, waitFor, type RunningCli } from './pipelineHarness.js';
import { userEnv } from './support/runProcess.js';
import { query } from './targetHarness.js';

/** What tap-quickbooks says an end_lag must be (its `endLagSetting`). */
const ACCEPTS = 'must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (PT5M, PT0S), from PT0S to P1D';
/** What tap-quickbooks says a window must be. */
const WINDOW_ACCEPTS = 'must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (P1D, PT6H)';

let firm: Firm;
const prefix = `bl_${Math.random().toString(16).slice(2, 8)}`;
type Section = 'tap' | 'target';
/** The firm's file; `globexSetting` (`end_lag: soon`) goes under globex's own `tap:` (or `target:`), on line 21. */
const companies = (globexSetting?: string, section: Section = 'tap') => {
  const good = firm.companiesYaml({ schemaPrefix: prefix, streams: ['invoices'], extra: '  start: 2025-02-01' });
  if (globexSetting === undefined) return good;
  return good.replace('  - name: globex\n', `  - name: globex\n    ${section}:\n      ${globexSetting}\n`);
};

beforeAll(async () => {
  firm = await startFirm({ names: ['acme', 'globex'], databaseUrl: databaseUrl(), seed: 81, now: new Date('2025-03-01T00:00:00Z'), days: 5 });
});
afterAll(async () => {
  killRunningClis();
  await firm?.close();
});

const requests = () => firm.emulator.requestLog().length;
/** Whether anything made a schema of this test's in the warehouse (a company's run would, at its first load). */
const schemasMade = async () =>
  (await query<{ n: number }>(databaseUrl(), 'SELECT count(*)::int AS n FROM pg_namespace WHERE starts_with(nspname, $1)', [`${prefix}_`]))[0]?.n;
/** The one line, naming the file as given (`bad.yaml`), the scheduler and the console as every other command. */
const firstLine = (output: string) => output.split('\n')[0];
/** What the tap (or target) says of globex's `<key>: <value>` (`says`: its message after the key), at the value's column. */
const refused = (file: string, setting: string, says: string, section: Section = 'tap') => {
  const key = setting.split(':')[0] as string;
  return `FATAL qbo-pipeline: companies file ${file}:21:${7 + key.length + 2}: companies[1] (globex).${section}.${key}: ${says}`;
};

/** Runs the CLI on `text` as bad.yaml: exit 2, `line` first, and nothing asked of QuickBooks, kept, loaded or exported. */
async function refusedBeforeAnything(args: readonly string[], text: string, line: string): Promise<void> {
  await firm.writeCompanies(text, 'bad.yaml');
  const before = requests();
  const run = await firm.cli([...args, '--companies', 'bad.yaml']);
  expect(run.code, run.stderr).toBe(2);
  expect(firstLine(run.stderr)).toBe(line);
  expect(run.stdout).toBe('');
  expect(requests()).toBe(before);
  expect(existsSync(path.join(firm.dir, 'state')), 'no state folder').toBe(false);
  expect(existsSync(path.join(firm.dir, 'meltano-companies.yml')), 'no Meltano file').toBe(false);
  expect(await schemasMade(), 'no schema in the warehouse').toBe(0);
}

describe('a companies file with a tap setting the tap refuses: every command that reads it stops, before anything runs', () => {
  // Each command with one of the settings (the tap refuses each for its own reason: not a duration,
  // negative, a number, out of range, not a URL, not true or false).
  it.each([
    ['company list', ['company', 'list'], 'end_lag: soon', `${ACCEPTS}, got "soon"`],
    ['sync of one company', ['sync', '--company', 'globex'], 'end_lag: -PT5M', `${ACCEPTS}, got "-PT5M"`],
    ['sync of every company (acme, whose own settings are fine, does not run either)', ['sync'], 'window: soon', `${WINDOW_ACCEPTS}, got "soon"`],
    [
      'backfill of every company',
      ['backfill', '--start', '2025-02-20', '--end', '2025-02-21'],
      'page_size: 5000',
      'must be an integer from 1 to 1000, got 5000',
    ],
    [
      'trigger add',
      ['trigger', 'add', '--start', '2025-02-20', '--end', '2025-02-21', '--at', '2031-01-01T00:00:00Z'],
      'max_concurrency: 11',
      'must be an integer from 1 to 10, got 11',
    ],
    ['scheduler --once', ['scheduler', '--once'], 'end_lag: 5', `${ACCEPTS}, got 5`],
    ['schedule list', ['schedule', 'list'], 'base_url: ftp://qbo.example', 'must be an http(s) URL, got "ftp://qbo.example"'],
    [
      'export meltano (which would write the value into the Meltano file)',
      ['export', 'meltano', '--out', 'meltano-companies.yml'],
      'window: soon',
      `${WINDOW_ACCEPTS}, got "soon"`,
    ],
    ['evidence', ['evidence'], 'sandbox: "yes"', 'must be true or false, got "yes"'],
  ])(
    '%s: exit 2, one line naming the file, line, column, company, key and what is accepted; no request, no state, nothing written',
    (_what, args, setting, says) => refusedBeforeAnything(args, companies(setting), refused('bad.yaml', setting, says)),
  );

  // The target's settings likewise, by the target's rule (a run of every company used to run acme
  // and fail globex alone; export wrote the value into the Meltano file).
  it.each([
    ['sync of every company (acme, whose own settings are fine, does not run either)', ['sync'], 'batch_size_rows: 0', 'must be a positive integer, got 0'],
    [
      'backfill of every company (a port the warehouse URL would have left unread at run time)',
      ['backfill', '--start', '2025-02-20', '--end', '2025-02-21'],
      'port: 70000',
      'must be an integer from 1 to 65535, got 70000',
    ],
    ['company list', ['company', 'list'], 'max_batch_age_seconds: -1', 'must be a positive number of seconds, got -1'],
    ['scheduler --once', ['scheduler', '--once'], 'connect_timeout_seconds: 0', 'must be a positive number of seconds, got 0'],
    ['export meltano', ['export', 'meltano', '--out', 'meltano-companies.yml'], 'sslmode: maybe', 'must be one of disable, require, verify-full, got "maybe"'],
  ])('%s, on a target setting: exit 2 and the one line; no request, no state, no schema, nothing written', (_what, args, setting, says) =>
    refusedBeforeAnything(args, companies(setting, 'target'), refused('bad.yaml', setting, says, 'target')),
  );

  it('export meltano, on a target setting under defaults: (every company takes it): exit 2 at its line, no file', () =>
    refusedBeforeAnything(
      ['export', 'meltano', '--out', 'meltano-companies.yml'],
      companies().replace('companies:\n', '  target:\n    batch_size_bytes: 0\ncompanies:\n'),
      'FATAL qbo-pipeline: companies file bad.yaml:14:23: defaults.target.batch_size_bytes: must be a positive integer, got 0',
    ));

  it('console: exit 2 with that line, and it never listens', async () => {
    await firm.writeCompanies(companies('end_lag: soon'), 'bad.yaml');
    const web = startRunnerCli(['console', '--companies', 'bad.yaml', '--port', '0'], { cwd: firm.dir, env: userEnv() });
    expect(await web.exited, web.output()).toBe(2);
    expect(firstLine(web.output())).toBe(refused('bad.yaml', 'end_lag: soon', `${ACCEPTS}, got "soon"`));
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
    const broken = `ERROR qbo-pipeline scheduler: companies file running.yaml:21:18: companies[1] (globex).tap.page_size: must be an integer from 1 to 1000, got 5000; going on with the companies as they were`;
    const saidBroken = saysNext(scheduler, broken);
    await firm.writeCompanies(companies('page_size: 5000'), 'running.yaml');
    await saidBroken;
    const readsAgain = saysNext(scheduler, 'INFO qbo-pipeline scheduler: companies file running.yaml reads again');
    await firm.writeCompanies(companies('page_size: 500'), 'running.yaml');
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
    await firm.writeCompanies(companies('end_lag: soon'), 'console.yaml');
    const page = await send(url, '/');
    expect(page.status).toBe(400);
    expect(page.text).toContain(`companies file console.yaml:21:16: companies[1] (globex).tap.end_lag: ${ACCEPTS}, got &quot;soon&quot; Nothing was changed.`);
    await firm.writeCompanies(companies('end_lag: PT1M'), 'console.yaml');
    const fixed = await send(url, '/');
    expect(fixed.status).toBe(200);
    expect(fixed.text).toContain('<h2 id="company-globex">');
    expect(fixed.text).not.toContain('role="alert"');
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
    // A console has no commits to stop after.
    expect(web.output()).toContain('INFO qbo-pipeline: SIGTERM received; closing the console\n');
  });
});
