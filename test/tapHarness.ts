/**
 * Helpers for the tap's end-to-end tests (test/tap*.test.ts): a config file pointing at an
 * emulator, and the built CLI run as a child process with its stdout parsed line by line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { Emulator } from 'qbo-emulator';
import { REPO_ROOT } from './support/db.js';

export const TAP_CLI = path.join(REPO_ROOT, 'packages/tap-quickbooks/dist/cli.js');

/** A temporary directory removed after the file's tests. */
export function tempDir(prefix = 'tap-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Settings for a run against `emulator`, with waits shrunk so tests never sleep for long. */
export function tapSettings(emulator: Emulator, dir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return emulator.tapSettings({
    token_store: path.join(dir, 'tokens.json'),
    max_requests_per_minute: 100_000,
    max_concurrency: 4,
    retry_backoff_seconds: 0.01,
    throttle_wait_seconds: 0.05,
    request_timeout_seconds: 5,
    ...overrides,
  });
}

export interface TapRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout split on newlines, without the final empty string. */
  readonly lines: string[];
  readonly messages: Array<Record<string, any>>;
}

export function runTapCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<TapRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TAP_CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const lines = stdout === '' ? [] : stdout.replace(/\n$/, '').split('\n');
      let messages: Array<Record<string, any>>;
      try {
        messages = lines.map((l) => JSON.parse(l));
      } catch {
        messages = [];
      }
      resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), lines, messages });
    });
  });
}

export const recordsOf = (run: TapRun, stream: string) => run.messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);
export const statesOf = (run: TapRun) => run.messages.filter((m) => m.type === 'STATE').map((m) => m.value);
export const lastState = (run: TapRun) => statesOf(run).at(-1);

/** The discovered catalog with only `streams` selected (stream-level metadata). */
export function catalogSelecting(
  catalog: { streams: Array<{ tap_stream_id: string; metadata: Array<{ breadcrumb: string[]; metadata: Record<string, unknown> }> }> },
  streams: readonly string[],
) {
  for (const stream of catalog.streams) {
    const root = stream.metadata.find((m) => m.breadcrumb.length === 0)!;
    root.metadata.selected = streams.includes(stream.tap_stream_id);
  }
  return catalog;
}
