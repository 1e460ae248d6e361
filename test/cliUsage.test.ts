import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './support/db.js';

const CLIS = {
  'tap-quickbooks': 'packages/tap-quickbooks/dist/cli.js',
  'target-postgres-raw': 'packages/target-postgres-raw/dist/cli.js',
  'qbo-demo': 'packages/qbo-demo/dist/cli.js',
  'qbo-emulator': 'packages/qbo-emulator/dist/cli.js',
  'qbo-pipeline': 'packages/qbo-pipeline/dist/cli.js',
} as const;

/** Each run in an empty folder of its own, stdin closed: a command that wrongly went on would leave files there, or time out. */
const scratch = mkdtempSync(path.join(tmpdir(), 'cli-usage-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(name: keyof typeof CLIS, args: readonly string[]) {
  const cwd = mkdtempSync(path.join(scratch, 'run-'));
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, CLIS[name]), ...args], {
    cwd,
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  return { ...result, left: readdirSync(cwd) };
}

/**
 * Bad arguments of the plugins are a usage error (exit 2) whose first stderr line names what is
 * wrong, and nothing reaches stdout, the Singer channel: one rule (singer-kit's cliYargs) for
 * every CLI.
 */
describe.each(['tap-quickbooks', 'target-postgres-raw', 'qbo-demo'] as const)('%s', (name) => {
  it('refuses an unknown option: exit 2, one line naming it, nothing on stdout', () => {
    const result = run(name, ['--bogus']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')[0]).toBe(`FATAL ${name}: Unknown argument: bogus`);
    expect(result.stdout).toBe('');
  });
});

/**
 * An option that takes a value, given none (at the end, or followed by another option), an empty
 * one, a number option given a word, a single-value option given twice: each is a usage error
 * naming the option, never read as if the option were absent (its default silently used: the
 * demo's data in the current folder, the target at localhost:5432, the emulator on any port),
 * as NaN or 0, or as an array the program then chokes on. Every CLI, every kind of option, every
 * qbo-pipeline command.
 */
describe('an option without a usable value: exit 2, one FATAL line naming it, nothing on stdout, nothing done', () => {
  const cases: Array<[keyof typeof CLIS, string[], string]> = [
    ['tap-quickbooks', ['--config'], '--config needs a value'],
    ['tap-quickbooks', ['-c'], '-c needs a value'],
    // Meltano's order: the missing value must not swallow the next option.
    ['tap-quickbooks', ['--config', '--catalog', 'catalog.json', '--state', 'state.json'], '--config needs a value'],
    ['tap-quickbooks', ['--config', 'config.json', '--state', ''], '--state needs a value, not an empty one'],
    ['tap-quickbooks', ['--config', 'a.json', '--config', 'b.json'], '--config is given 2 times; give it once'],
    ['tap-quickbooks', ['--about', '--format'], '--format needs a value'],
    ['target-postgres-raw', ['--config'], '--config needs a value'],
    ['target-postgres-raw', ['--input', '--config', 'config.json'], '--input needs a value'],
    ['target-postgres-raw', ['--config='], '--config needs a value, not an empty one'],
    ['target-postgres-raw', ['--config', 'a.json', '--config', 'b.json'], '--config is given 2 times; give it once'],
    ['qbo-demo', ['--data-dir'], '--data-dir needs a value'],
    ['qbo-demo', ['--data-dir', ''], '--data-dir needs a value, not an empty one'],
    ['qbo-demo', ['--data-dir', 'a', '--data-dir', 'b'], '--data-dir is given 2 times; give it once'],
    ['qbo-emulator', ['--port'], '--port needs a value'],
    ['qbo-emulator', ['--port', 'abc'], '--port needs a number, got "abc"'],
    ['qbo-emulator', ['--port', ''], '--port needs a value, not an empty one'],
    ['qbo-emulator', ['--seed', '1', '--seed', '2'], '--seed is given 2 times; give it once'],
    ['qbo-emulator', ['--realm-id', '--seed', '1'], '--realm-id needs a value'],
    ['qbo-emulator', ['--count'], '--count needs a value'],
    ['qbo-emulator', ['--count', 'invoices=5', '--count'], '--count needs a value'],
    ['qbo-pipeline', ['backfill', '--end', '2025-01-02', '--start'], '--start needs a value'],
    ['qbo-pipeline', ['backfill', '--start', '2025-01-01', '--end', '2025-01-02', '--max-parallel'], '--max-parallel needs a value'],
    ['qbo-pipeline', ['sync', '--streams', '--tap-config', 'tap.json'], '--streams needs a value'],
    ['qbo-pipeline', ['sync', '--streams', 'invoices', '--target-config', ''], '--target-config needs a value, not an empty one'],
    ['qbo-pipeline', ['reconcile', '--streams', 'invoices', '--job'], '--job needs a value'],
    ['qbo-pipeline', ['trigger', 'add', '--start', '2025-01-01', '--end', '2025-01-02', '--at'], '--at needs a value'],
    ['qbo-pipeline', ['trigger', 'list', '--state-dir'], '--state-dir needs a value'],
    ['qbo-pipeline', ['trigger', 'list', '--state-dir', 'a', '--state-dir', 'b'], '--state-dir is given 2 times; give it once'],
    ['qbo-pipeline', ['schedule', 'add', '--streams', 'invoices', '--cron'], '--cron needs a value'],
    ['qbo-pipeline', ['schedule', 'list', '--state-dir', ''], '--state-dir needs a value, not an empty one'],
    ['qbo-pipeline', ['schedule', 'pause', 'daily', '--state-dir'], '--state-dir needs a value'],
    ['qbo-pipeline', ['schedule', 'resume', 'daily', '--state-dir'], '--state-dir needs a value'],
    ['qbo-pipeline', ['schedule', 'remove', 'daily', '--state-dir'], '--state-dir needs a value'],
    ['qbo-pipeline', ['scheduler', '--once', '--lease-seconds', 'x'], '--lease-seconds needs a number, got "x"'],
    ['qbo-pipeline', ['scheduler', '--once', '--interval'], '--interval needs a value'],
    ['qbo-pipeline', ['scheduler', '--once', '--notify-interval', '0'], '--notify-interval: 0 must be more than 0'],
    ['qbo-pipeline', ['scheduler', '--once', '--concurrency', '1', '--concurrency', '2'], '--concurrency is given 2 times; give it once'],
    ['qbo-pipeline', ['scheduler', '--once', '--state-dir'], '--state-dir needs a value'],
    [
      'qbo-pipeline',
      ['scheduler', '--once', '--console'],
      '--console with --once: scheduler --once exits when its due runs end, so no console would stay up; run console beside it, or scheduler --console without --once',
    ],
    ['qbo-pipeline', ['console', '--port', 'abc'], '--port needs a number, got "abc"'],
    ['qbo-pipeline', ['console', '--port'], '--port needs a value'],
    ['qbo-pipeline', ['evidence', '--companies', 'companies.yaml', '--since'], '--since needs a value'],
    ['qbo-pipeline', ['export', 'meltano', '--companies', 'companies.yaml', '--out'], '--out needs a value'],
    ['qbo-pipeline', ['company', 'list', '--companies'], '--companies needs a value'],
  ];
  it.each(cases)('%s %j', (name, args, message) => {
    const result = run(name, args);
    expect({ status: result.status, stderr: result.stderr, stdout: result.stdout, left: result.left }).toEqual({
      status: 2,
      stderr: `FATAL ${name}: ${message}\n`,
      stdout: '',
      left: [],
    });
  });
});

/**
 * A company's recurring sync is its `schedule:` in the companies file. `schedule add` refused a
 * companies file with that line, but pause, resume and remove answered `unknown argument
 * --companies`, leaving a firm that wants to pause a client's nightly sync with no way forward.
 */
describe('schedule add, pause, resume and remove with a companies file: exit 2, one line saying the schedule is in the file, nothing done', () => {
  const refusal = (command: string) =>
    `FATAL qbo-pipeline: schedule ${command}: with companies file companies.yaml, a company's recurring sync is its schedule: in that file (schedule: {cron: "15 3 * * *", tz: America/New_York}, under the company or defaults); edit it there: the scheduler reads it at its next pass, and schedule list --companies companies.yaml shows it\n`;
  it.each([
    [['schedule', 'add', '--cron', '15 3 * * *', '--streams', 'invoices', '--companies', 'companies.yaml'], 'add'],
    [['schedule', 'pause', 'qb_company', '--companies', 'companies.yaml'], 'pause'],
    [['schedule', 'resume', 'qb_company', '--companies', 'companies.yaml', '--company', 'acme'], 'resume'],
    [['schedule', 'remove', 'qb_company', '--companies', 'companies.yaml'], 'remove'],
  ])('%j', (args, command) => {
    const result = run('qbo-pipeline', args);
    expect({ status: result.status, stderr: result.stderr, stdout: result.stdout, left: result.left }).toEqual({
      status: 2,
      stderr: refusal(command),
      stdout: '',
      left: [],
    });
  });

  it('--company without a companies file says which file it needs', () => {
    const result = run('qbo-pipeline', ['schedule', 'pause', 'qb_company', '--company', 'acme']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('FATAL qbo-pipeline: --company acme: say which companies file holds it (--companies FILE, or QBO_PIPELINE_COMPANIES)\n');
  });
});
