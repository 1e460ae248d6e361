import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { expect } from 'vitest';
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

/** The target CLI on `settings`; its stdin a pipe, or `stdin`, a file descriptor (of a file, say: `target < FILE`). */
export function spawnTarget(
  settings: Record<string, unknown>,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
  stdin: 'pipe' | number = 'pipe',
): ChildProcess {
  return spawn(process.execPath, [TARGET_CLI, '--config', writeConfig(settings), ...extraArgs], {
    stdio: [stdin, 'pipe', 'pipe'],
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

/** Counts the commits a running target logs from now on: the function returned resolves once it has logged its `n`-th. */
export function watchCommits(child: ChildProcess): (n: number) => Promise<void> {
  let seen = 0;
  const waiting: Array<{ readonly n: number; readonly resolve: () => void }> = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (!/ commit \d+ /.test(line)) return;
    seen += 1;
    for (const w of waiting) if (w.n <= seen) w.resolve();
  });
  return (n) => new Promise((resolve) => (n <= seen ? resolve() : waiting.push({ n, resolve })));
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
/** A record's `MetaData.LastUpdatedTime`, to spread into it: `R('items', { Id: '1', ...T('2024-01-01T00:00:00Z') })`. */
export const T = (updated: string) => ({ MetaData: { LastUpdatedTime: updated } });

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

const LOAD_COUNTS = ['received', 'inserted', 'updated', 'unchanged', 'skipped_older', 'deduplicated', 'deleted'] as const;
/** What a target run did with the records it received, as `_load_stats` counts it. */
export type LoadCounts = Record<(typeof LOAD_COUNTS)[number], number>;
/** Load counts, zero but for those given. */
export const counts = (c: Partial<LoadCounts>): LoadCounts => ({
  received: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  skipped_older: 0,
  deduplicated: 0,
  deleted: 0,
  ...c,
});

/**
 * The load counts of the schema's latest target run: the sum of its `_load_stats` rows, checked
 * against the run's totals in `_load_runs` (which has no `deleted`), and every record received
 * counted once as inserted, updated, unchanged, skipped as older or deduplicated.
 */
export async function lastRunCounts(url: string, schema: string): Promise<LoadCounts> {
  const [run] = await query<{ load_run_id: string }>(url, `SELECT load_run_id FROM "${schema}"._load_runs ORDER BY started_at_utc DESC LIMIT 1`);
  const [stats] = await query<LoadCounts>(
    url,
    `SELECT ${LOAD_COUNTS.map((c) => `coalesce(sum(${c}), 0)::int AS ${c}`).join(', ')} FROM "${schema}"._load_stats WHERE load_run_id = $1`,
    [run?.load_run_id],
  );
  const [totals] = await query<Omit<LoadCounts, 'deleted'>>(
    url,
    `SELECT ${LOAD_COUNTS.filter((c) => c !== 'deleted')
      .map((c) => `${c}::int`)
      .join(', ')} FROM "${schema}"._load_runs WHERE load_run_id = $1`,
    [run?.load_run_id],
  );
  const s = stats as LoadCounts;
  expect({ ...totals, deleted: s.deleted }).toEqual(s);
  expect(s.received).toBe(s.inserted + s.updated + s.unchanged + s.skipped_older + s.deduplicated);
  return s;
}
