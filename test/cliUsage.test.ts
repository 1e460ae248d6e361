import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './support/db.js';

/**
 * Bad arguments of the plugins are a usage error (exit 2) whose first stderr line names what is
 * wrong, and nothing reaches stdout, the Singer channel: one rule (singer-kit's
 * failWithUsageError) for tap-quickbooks, target-postgres-raw and qbo-demo.
 */
describe.each([
  ['tap-quickbooks', 'packages/tap-quickbooks/dist/cli.js'],
  ['target-postgres-raw', 'packages/target-postgres-raw/dist/cli.js'],
  ['qbo-demo', 'packages/qbo-demo/dist/cli.js'],
])('%s', (name, cli) => {
  const run = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO_ROOT, cli), ...args], { encoding: 'utf8', timeout: 30_000 });

  it('refuses an unknown option: exit 2, one line naming it, nothing on stdout', () => {
    const result = run('--bogus');
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')[0]).toBe(`FATAL ${name}: Unknown argument: bogus`);
    expect(result.stdout).toBe('');
  });
});
