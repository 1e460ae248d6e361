import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { expect } from 'vitest';
import { startEmulator, type EmulatedCompany, type Emulator, type EmulatorOptions } from '../packages/qbo-emulator/src/index.js';
import { createLogger } from 'singer-kit';
import type { BackfillHooks } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, REPO_ROOT } from './support/db.js';
import { forSuite } from './support/forSuite.js';
import { runProcess, type ProcessRun } from './support/runProcess.js';

/** Shared by the pipeline and reliability suites: an emulator, configs in a temp folder, truth checks. */
/** Hooks for runBackfill that keep the runner's lines and its children's (`[tap] …`) in `logs`, off the test's output. */
export function loggedHooks(): { readonly logs: string[]; readonly hooks: BackfillHooks } {
  const logs: string[] = [];
  return {
    logs,
    hooks: {
      logger: createLogger('qbo-pipeline', { sink: (line) => logs.push(line) }),
      onChildLog: (role, line) => logs.push(`[${role}] ${line}`),
    },
  };
}

export const RUNNER_CLI = path.join(REPO_ROOT, 'packages/qbo-pipeline/dist/cli.js');

/** The start of the UTC day holding `ms`, as a runner's --start/--end takes it: `2025-03-01T00:00:00Z`. */
export const dayStart = (ms: number): string => new Date(Math.floor(ms / 86_400_000) * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');

/** The runners' config folders (`qbo-pipeline-<host>-<pid>-…`) in the temporary folder a suite set as TMPDIR. */
export const configDirs = (): string[] => readdirSync(process.env.TMPDIR!).filter((n) => n.startsWith('qbo-pipeline-'));

export interface Harness {
  readonly emulator: Emulator;
  readonly dir: string;
  readonly tapConfig: string;
  /** A target config for one schema (written on demand). */
  targetConfig(schema: string, extra?: Record<string, unknown>): Promise<string>;
  /** `backfill` of this company into `schema` as a user types it (runnerArgs), with this tap config and the schema's target config (plus `target`). */
  backfillArgs(schema: string, job: BackfillJob, target?: Record<string, unknown>): Promise<string[]>;
  close(): Promise<void>;
}

/** What a backfill command names besides the configs: its streams (`invoices,customers`), range and state folder. */
interface BackfillJob {
  readonly streams: string;
  readonly start: string;
  readonly end: string;
  readonly stateDir: string;
}

export type HarnessOptions = EmulatorOptions & { readonly tap?: Record<string, unknown>; readonly databaseUrl: string };

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const { tap, databaseUrl, ...emulatorOptions } = options;
  // Throttling is tested elsewhere; here many runs share one realm within a minute.
  const emulator = await startEmulator({ requestsPerMinute: 1_000_000, ...emulatorOptions });
  const dir = await mkdtemp(path.join(tmpdir(), 'pipeline-test-'));
  const tapConfig = path.join(dir, 'tap.json');
  await writeFile(
    tapConfig,
    JSON.stringify(emulator.tapSettings({ token_store: path.join(dir, 'tokens.json'), retry_backoff_seconds: 0.01, throttle_wait_seconds: 0.1, ...tap })),
  );
  const targetConfig = async (schema: string, extra: Record<string, unknown> = {}) => {
    const file = path.join(dir, `target-${schema}.json`);
    await writeFile(file, JSON.stringify({ database_url: databaseUrl, schema, ...extra }));
    return file;
  };
  return {
    emulator,
    dir,
    tapConfig,
    targetConfig,
    async backfillArgs(schema, { streams, start, end, stateDir }, target) {
      return runnerArgs('backfill', { streams, start, end, tapConfig, targetConfig: await targetConfig(schema, target), stateDir });
    },
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A harness for the suite (the file, or the describe it is called in), on the tests' database: see forSuite. */
export const suiteHarness = (options: Omit<HarnessOptions, 'databaseUrl'>): Harness =>
  forSuite('harness', () => startHarness({ databaseUrl: databaseUrl(), ...options }));

export interface TruthDiff {
  readonly expected: number;
  readonly rows: number;
  /** Ids in the truth but not in the table, in the table but not the truth, or whose payload differs (value or digits). */
  readonly missing: readonly string[];
  readonly extra: readonly string[];
  readonly different: readonly string[];
}

/**
 * Compares `<schema>.<stream>` with the emulator's records whose LastUpdatedTime lies in
 * [start, end). jsonb text output keeps numeric scale, so `payload::text` equal to the truth's
 * `::jsonb::text` means same structure, same values and the same digits (1234567.10 ≠ 1234567.1).
 */
export async function diffWithTruth(
  databaseUrl: string,
  schema: string,
  emulator: Pick<EmulatedCompany, 'truth'>,
  stream: string,
  start: string,
  end: string,
): Promise<TruthDiff> {
  const from = Date.parse(start);
  const to = Date.parse(end);
  const truth = emulator.truth(stream).filter((r) => Date.parse(r.lastUpdated) >= from && Date.parse(r.lastUpdated) < to);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(stream)}`;
    const result = await client.query<{ id: string; kind: 'missing' | 'extra' | 'different' }>(
      `SELECT coalesce(t.id, r.id) AS id,
              CASE WHEN r.id IS NULL THEN 'missing' WHEN t.id IS NULL THEN 'extra' ELSE 'different' END AS kind
       FROM unnest($1::text[], $2::text[]) AS t(id, text)
       FULL JOIN ${table} r ON r.id = t.id
       WHERE r.id IS NULL OR t.id IS NULL OR r.payload::text <> t.text::jsonb::text`,
      [truth.map((r) => r.id), truth.map((r) => r.text)],
    );
    const count = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    const of = (kind: string) => result.rows.filter((r) => r.kind === kind).map((r) => r.id);
    return { expected: truth.length, rows: count.rows[0]?.n ?? 0, missing: of('missing'), extra: of('extra'), different: of('different') };
  } finally {
    await client.end();
  }
}

/**
 * Each stream's table in `<schema>` holds exactly the company's records of [start, end) (none
 * missing, extra or different, digits included), and the range had some: a check that cannot
 * pass on an empty range by accident.
 */
export async function expectExactly(
  databaseUrl: string,
  schema: string,
  emulator: Pick<EmulatedCompany, 'truth'>,
  streams: readonly string[],
  start: string,
  end: string,
): Promise<void> {
  for (const stream of streams) {
    const diff = await diffWithTruth(databaseUrl, schema, emulator, stream, start, end);
    expect({ schema, stream, missing: diff.missing, extra: diff.extra, different: diff.different }).toEqual({
      schema,
      stream,
      missing: [],
      extra: [],
      different: [],
    });
    expect(diff.rows, `${schema}.${stream}`).toBe(diff.expected);
    expect(diff.expected, `${schema}.${stream}: no records in the range`).toBeGreaterThan(0);
  }
}

/**
 * A runner command line as a user types it: `runnerArgs('backfill', { streams: 'invoices', tapConfig })`
 * is `backfill --streams invoices --tap-config …`; an option without a value is left out.
 */
export function runnerArgs(command: string | readonly string[], options: Record<string, string | undefined>): string[] {
  const flags = Object.entries(options).flatMap(([name, value]) =>
    value === undefined ? [] : [`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, value],
  );
  return [...(typeof command === 'string' ? [command] : command), ...flags];
}

/** Runs the built runner CLI as a user would. */
export function runCliProcess(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessRun> {
  return runProcess(process.execPath, [RUNNER_CLI, ...args], options);
}

/** A runner CLI process that runs until it ends or is killed, its stdout and stderr kept together. */
export interface RunningCli {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

const runningClis: RunningCli[] = [];

/**
 * The built runner CLI as a long-running process (a scheduler, a runner to kill) in its own process
 * group, so a kill of the group reaches its tap and target too. `killRunningClis` ends those left.
 */
export function startRunnerCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const child = spawn(process.execPath, [RUNNER_CLI, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const running = { child, output: () => output, exited: new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))) };
  runningClis.push(running);
  return running;
}

/** Kills (with their taps and targets) the processes of `startRunnerCli` still running: for a suite's afterAll. */
export function killRunningClis(): void {
  for (const { child } of runningClis) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
}

/** Polls `probe` every 100 ms until it gives a value; after `timeoutMs`, fails naming `what` (with `output`, a process's lines, when given). */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
  output?: () => string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${output ? `\n${output()}` : ''}`);
    await sleep(100);
  }
}

/**
 * One cell of the tables the runner prints (`formatTable`: a header line, a rule, then rows): the
 * value in `column` of the first row, in any table with that column, whose first cell is `row`.
 */
export function tableCell(text: string, row: string, column: string): string | undefined {
  const lines = text.split('\n');
  const cells = (line: string) => line.split('|').map((c) => c.trim());
  for (const [header, line] of lines.entries()) {
    const at = cells(line).indexOf(column);
    if (at < 0 || !/^[-+]+$/.test(lines[header + 1] ?? '')) continue;
    for (const body of lines.slice(header + 2)) {
      if (!body.includes('|')) break;
      if (cells(body)[0] === row) return cells(body)[at];
    }
  }
  return undefined;
}
