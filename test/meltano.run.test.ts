/**
 * The plugins invoked the way `meltano run` invokes them (singer-meltano.md §7.3), without
 * Meltano: from a project root that is not this repository, through `./bin/<plugin>` symlinks,
 * with a config file, a discovered and then selected catalog, and the last line the target
 * printed fed back as `--state`. Secrets come from `*_FILE` paths relative to the project.
 * Needs no Python; test/meltano.tools.test.ts runs the real Meltano.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { databaseUrl, REPO_ROOT, scratchSchema, withClient } from './support/db.js';

interface Run {
  readonly tap: number | null;
  readonly target: number | null;
  /** The target's stdout lines: what Meltano stores as state, one line at a time. */
  readonly stateLines: string[];
  /** The tap's stderr: which spans it read. */
  readonly tapLog: string;
  /** Both programs' stderr, for failure messages. */
  readonly log: string;
}

const schema = scratchSchema('meltano');
let emulator: Emulator;
let project: string;

beforeAll(async () => {
  emulator = await startEmulator({ now: new Date('2025-01-10T00:00:00Z'), days: 9, counts: { invoices: 40, customers: 12, items: 6 } });
  project = mkdtempSync(path.join(tmpdir(), 'meltano-project-'));
  mkdirSync(path.join(project, 'bin'));
  for (const name of ['tap-quickbooks', 'target-postgres-raw']) symlinkSync(path.join(REPO_ROOT, 'bin', name), path.join(project, 'bin', name));
  mkdirSync(path.join(project, 'secrets'));
  writeFileSync(path.join(project, 'secrets/qbo_client_secret'), `${emulator.clientSecret}\n`);
  writeFileSync(path.join(project, 'secrets/qbo_refresh_token'), `${emulator.currentRefreshToken()}\n`);
});

afterAll(async () => {
  await emulator?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

const projectFile = (name: string, value: unknown) => {
  writeFileSync(path.join(project, name), typeof value === 'string' ? value : JSON.stringify(value));
  return name;
};

/** Meltano's environment for the plugins: ours plus the settings it does not hold itself. */
const pluginEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  TAP_QUICKBOOKS_CLIENT_SECRET_FILE: 'secrets/qbo_client_secret',
  TAP_QUICKBOOKS_REFRESH_TOKEN_FILE: 'secrets/qbo_refresh_token',
});

function tapConfig(endDate: string): string {
  // As Meltano writes it: the configured settings, nulls dropped; secrets are not among them.
  return projectFile('tap.config.json', {
    client_id: emulator.clientId,
    realm_id: emulator.realmId,
    base_url: emulator.baseUrl,
    token_url: emulator.tokenUrl,
    start_date: '2025-01-01T00:00:00Z',
    end_date: endDate,
    max_requests_per_minute: 100_000,
  });
}

async function exitCode(child: ReturnType<typeof spawn>): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function meltanoRun(tapArgs: string[]): Promise<Run> {
  const targetConfig = projectFile('target.config.json', { database_url: databaseUrl(), schema });
  const options = { cwd: project, env: pluginEnv() };
  const tap = spawn('./bin/tap-quickbooks', tapArgs, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const target = spawn('./bin/target-postgres-raw', ['--config', targetConfig], { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
  tap.stdout.pipe(target.stdin);
  let tapLog = '';
  let targetLog = '';
  let stdout = '';
  tap.stderr.on('data', (chunk: Buffer) => (tapLog += chunk.toString()));
  target.stderr.on('data', (chunk: Buffer) => (targetLog += chunk.toString()));
  target.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const [tapCode, targetCode] = await Promise.all([exitCode(tap), exitCode(target)]);
  return { tap: tapCode, target: targetCode, stateLines: stdout.split('\n').filter((l) => l !== ''), tapLog, log: `${tapLog}\n${targetLog}` };
}

async function discoverAndSelect(config: string, streams: readonly string[]): Promise<string> {
  const discover = spawn('./bin/tap-quickbooks', ['--config', config, '--discover'], { cwd: project, env: pluginEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  discover.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  expect(await exitCode(discover)).toBe(0);
  const catalog = JSON.parse(text) as {
    streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }>;
  };
  // Meltano's select rules mark every stream's root metadata selected or not.
  for (const stream of catalog.streams) {
    const root = stream.metadata.find((m) => m.breadcrumb.length === 0);
    if (root) root.metadata.selected = streams.includes(stream.tap_stream_id);
  }
  return projectFile('tap.properties.json', catalog);
}

const invoiceRows = () => withClient(async (client) => (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".invoices`)).rows[0]!.n);

const truthBefore = (stream: string, end: string) => emulator.truth(stream).filter((row) => Date.parse(row.lastUpdated) < Date.parse(end)).length;

describe('the plugins as `meltano run` invokes them, from another project', () => {
  it('discovers, syncs the selected stream, and resumes from the state the target printed', async () => {
    // Both runs have rows to load, the second more than the first.
    expect(truthBefore('invoices', '2025-01-05T00:00:00Z')).toBeGreaterThan(0);
    expect(truthBefore('invoices', '2025-01-10T00:00:00Z')).toBeGreaterThan(truthBefore('invoices', '2025-01-05T00:00:00Z'));
    const catalog = await discoverAndSelect(tapConfig('2025-01-05T00:00:00Z'), ['invoices']);

    const first = await meltanoRun(['--config', tapConfig('2025-01-05T00:00:00Z'), '--catalog', catalog]);
    expect([first.tap, first.target], first.log).toEqual([0, 0]);
    // Every line is a bare state value Meltano can store (never a {"type":"STATE"} wrapper).
    const states = first.stateLines.map((line) => JSON.parse(line) as { bookmarks: Record<string, { replication_key_value: string }> });
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((s) => typeof s.bookmarks === 'object' && !('type' in s))).toBe(true);
    const last = states[states.length - 1]!;
    expect(Object.keys(last.bookmarks)).toEqual(['invoices']);
    expect(last.bookmarks.invoices?.replication_key_value).toBe('2025-01-05T00:00:00Z');
    expect(await invoiceRows()).toBe(truthBefore('invoices', '2025-01-05T00:00:00Z'));
    const customersTable = await withClient((c) => c.query(`SELECT to_regclass('"${schema}".customers') AS t`));
    expect(customersTable.rows[0].t).toBeNull();
    // The rotated refresh token went to the default token store under the project root.
    expect(existsSync(path.join(project, 'state/tokens', `${emulator.realmId}.json`))).toBe(true);

    const state = projectFile('state.json', first.stateLines[first.stateLines.length - 1]!);
    const second = await meltanoRun(['--config', tapConfig('2025-01-10T00:00:00Z'), '--catalog', catalog, '--state', state]);
    expect([second.tap, second.target], second.log).toEqual([0, 0]);
    // Resumed at the bookmark: no span before 2025-01-05 was read again, the first starts there.
    expect(second.tapLog).not.toMatch(/invoices \[?2025-01-0[1-4]/);
    expect(second.tapLog).toMatch(/invoices \[?2025-01-05/);
    expect(JSON.parse(second.stateLines[second.stateLines.length - 1]!).bookmarks.invoices.replication_key_value).toBe('2025-01-10T00:00:00Z');
    expect(await invoiceRows()).toBe(truthBefore('invoices', '2025-01-10T00:00:00Z'));
  });
});
