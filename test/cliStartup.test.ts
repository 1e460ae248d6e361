import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './support/db.js';

const RECORD_MODULES = pathToFileURL(path.join(REPO_ROOT, 'test/support/recordModules.mjs')).href;
const PIPELINE = path.join(REPO_ROOT, 'packages/qbo-pipeline/dist/cli.js');
const TAP = path.join(REPO_ROOT, 'packages/tap-quickbooks/dist/cli.js');
const TARGET = path.join(REPO_ROOT, 'packages/target-postgres-raw/dist/cli.js');

const scratch = mkdtempSync(path.join(tmpdir(), 'cli-startup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the CLI with these arguments; returns its exit code and every file it loaded. */
function loadedBy(cli: string, args: readonly string[]) {
  const to = path.join(scratch, `${path.basename(path.dirname(path.dirname(cli)))}_${args.join('_').replace(/[^\w.-]/g, '_')}.txt`);
  const result = spawnSync(process.execPath, ['--import', RECORD_MODULES, cli, ...args], {
    cwd: scratch,
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
    // --discover prints the whole catalog, more than spawnSync's default 1 MB
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, RECORD_MODULES_TO: to },
  });
  return { status: result.status, files: new Set(readFileSync(to, 'utf8').split('\n').filter(Boolean)) };
}

/** What only some commands need: the console's web server, the runner's HTTP client and database driver, the YAML parser, ajv. */
const HEAVY = ['fastify', 'axios', 'pg', 'yaml', 'ajv'].map((name) => `${path.sep}node_modules${path.sep}${name}${path.sep}`);
const [AXIOS, AJV] = ['axios', 'ajv'].map((name) => HEAVY.filter((dir) => dir.includes(`${path.sep}${name}${path.sep}`)));
const heavyIn = (files: ReadonlySet<string>, heavy = HEAVY) => [...files].filter((file) => heavy.some((dir) => file.includes(dir)));

/**
 * Every start of qbo-pipeline (a user, cron, the scheduler's children, hundreds in the tests) pays for
 * the modules it loads: --help and a usage error load none of any command's (the console's fastify above all).
 */
describe('qbo-pipeline starts with only what the command needs', () => {
  it.each([
    ['--help', ['--help'], 0],
    ['a usage error', ['no-such-command'], 2],
    ['console --help', ['console', '--help'], 0],
  ] as const)('%s loads no command module', (_, args, status) => {
    const run = loadedBy(PIPELINE, args);
    expect(run.status).toBe(status);
    // The recording worked: the CLI itself is in it.
    expect(run.files).toContain(PIPELINE);
    expect(heavyIn(run.files)).toEqual([]);
    expect([...run.files].filter((file) => file.includes(`qbo-pipeline${path.sep}dist${path.sep}console${path.sep}consoleServer.js`))).toEqual([]);
  });

  it('a companies command reads the tap settings the file may hold without loading the HTTP client the tap loads to make a request', () => {
    mkdirSync(path.join(scratch, 'secrets'), { recursive: true });
    for (const secret of ['client_id', 'client_secret', 'refresh_token']) writeFileSync(path.join(scratch, 'secrets', secret), 'x');
    writeFileSync(
      path.join(scratch, 'companies.yaml'),
      [
        'defaults:',
        '  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret, refresh_token_file: secrets/refresh_token}',
        'companies:',
        '  - name: acme',
        '    realm_id: "9341453050000000"',
      ].join('\n'),
    );
    const run = loadedBy(PIPELINE, ['company', 'list', '--companies', 'companies.yaml']);
    expect(run.status).toBe(0);
    expect(run.files).toContain(path.join(REPO_ROOT, 'packages/tap-quickbooks/dist/settings.js'));
    expect(heavyIn(run.files, AXIOS)).toEqual([]);
  });
});

/** Meltano asks the tap for --about and --discover often; neither makes a request, so neither loads the HTTP client. */
describe('tap-quickbooks starts with only what the command needs', () => {
  it.each([['--about'], ['--discover']] as const)('%s loads no HTTP client', (arg) => {
    const run = loadedBy(TAP, [arg]);
    expect(run.status).toBe(0);
    expect(run.files).toContain(TAP);
    expect(heavyIn(run.files)).toEqual([]);
  });
});

/** Meltano asks the target for --about; neither it nor --help checks a record or writes one. */
describe('target-postgres-raw starts with only what the command needs', () => {
  it.each([['--about'], ['--help']] as const)('%s loads neither ajv nor the loading of records', (arg) => {
    const run = loadedBy(TARGET, [arg]);
    expect(run.status).toBe(0);
    expect(run.files).toContain(TARGET);
    expect(heavyIn(run.files, AJV)).toEqual([]);
    expect(run.files).not.toContain(path.join(REPO_ROOT, 'packages/target-postgres-raw/dist/runTarget.js'));
  });
});
