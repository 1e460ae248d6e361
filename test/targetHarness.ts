import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { REPO_ROOT } from './support/db.js';

/** The built CLI; end-to-end tests run what users run. */
export const TARGET_CLI = path.join(REPO_ROOT, 'packages/target-postgres-raw/dist/cli.js');

export interface TargetResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A config file for the target (in a fresh temp dir). */
function writeConfig(settings: Record<string, unknown>): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'target-cfg-')), 'config.json');
  writeFileSync(file, JSON.stringify(settings));
  return file;
}

export function spawnTarget(settings: Record<string, unknown>, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [TARGET_CLI, '--config', writeConfig(settings), ...extraArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
}

export function finished(child: ChildProcess): Promise<TargetResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Runs the target to the end on `input` (Singer lines). */
export async function runTargetCli(settings: Record<string, unknown>, input: string, env: NodeJS.ProcessEnv = {}): Promise<TargetResult> {
  const child = spawnTarget(settings, [], env);
  const done = finished(child);
  child.stdin?.on('error', () => undefined); // the target may stop reading after a bad line
  child.stdin?.end(input);
  return done;
}

export function stateLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** Singer message lines from objects. */
export function singer(...messages: object[]): string {
  return messages.map((m) => JSON.stringify(m)).join('\n') + '\n';
}

export const S = (stream: string, keys: string[] = ['Id'], properties: object = {}): object => ({
  type: 'SCHEMA',
  stream,
  key_properties: keys,
  schema: { type: 'object', properties },
});
export const R = (stream: string, record: object): object => ({ type: 'RECORD', stream, record });
export const ST = (value: unknown): object => ({ type: 'STATE', value });

export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Waits until a target's COPY into `schema` waits on a row lock (another transaction's uncommitted ids). */
export async function copyWaitsOnLock(url: string, schema: string): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    const [w] = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [
      `COPY "${schema}".%`,
    ]);
    if (w?.n === 1) return;
    if (waited > 20_000) throw new Error('the target never waited on the concurrent insert');
    await new Promise((r) => setTimeout(r, 50));
  }
}
