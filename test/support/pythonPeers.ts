/**
 * Real Python tools for the ecosystem tests: Meltano 4.2.2, singer-check-tap and two peer
 * PostgreSQL targets, installed without PyPI by ../shared/tools/python-peers/install.sh into the
 * git-ignored .data/python-peers (about a minute the first time, seconds after). A test that
 * needs them skips, saying why, when they cannot be installed here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { REPO_ROOT } from './db.js';

const PYTHON_PEERS_TOOLS_DIR = path.resolve(REPO_ROOT, '../shared/tools/python-peers');
const PYTHON_PEERS_PREFIX = path.join(REPO_ROOT, '.data', 'python-peers');

interface PythonPeers {
  readonly meltano: string;
  /** pipelinewise-target-postgres 2.1.2 */
  readonly pipelinewise: string;
  /** MeltanoLabs target-postgres 0.8.0 */
  readonly meltanolabs: string;
  readonly singerCheckTap: string;
}

export type PythonPeersResult = { readonly ok: true; readonly tools: PythonPeers } | { readonly ok: false; readonly reason: string };

/** The environment every tool runs with: no telemetry calls, and no `uv` (not installable offline). */
export const PYTHON_TOOLS_ENV = { MELTANO_SEND_ANONYMOUS_USAGE_STATS: 'false', MELTANO_VENV_BACKEND: 'virtualenv' } as const;

function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, output: error.message }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

let installing: Promise<PythonPeersResult> | undefined;

/** Installs (or checks) the tools once per test process; test files running in parallel take turns. */
export function pythonPeers(): Promise<PythonPeersResult> {
  installing ??= install();
  return installing;
}

async function install(): Promise<PythonPeersResult> {
  const installer = path.join(PYTHON_PEERS_TOOLS_DIR, 'install.sh');
  if (!existsSync(installer))
    return { ok: false, reason: `${installer} not found (../shared/tools beside the checkout); skipping the tests that run Meltano and peer targets` };
  mkdirSync(PYTHON_PEERS_PREFIX, { recursive: true });
  const release = await lock(PYTHON_PEERS_PREFIX, { realpath: false, stale: 300_000, retries: { retries: 120, minTimeout: 1000, maxTimeout: 5000 } });
  try {
    const { code, output } = await run('bash', [installer, PYTHON_PEERS_PREFIX, 'all']);
    if (code !== 0) {
      const why = output.split('\n').find((line) => line.includes('ERROR')) ?? output.trim().split('\n').at(-1) ?? `exit ${code}`;
      return { ok: false, reason: `python-peers could not install into ${PYTHON_PEERS_PREFIX}: ${why}; skipping the tests that run Meltano and peer targets` };
    }
  } finally {
    await release();
  }
  return {
    ok: true,
    tools: {
      meltano: path.join(PYTHON_PEERS_PREFIX, 'meltano/bin/meltano'),
      pipelinewise: path.join(PYTHON_PEERS_PREFIX, 'pipelinewise/bin/target-postgres'),
      meltanolabs: path.join(PYTHON_PEERS_PREFIX, 'meltanolabs/bin/target-postgres'),
      singerCheckTap: path.join(PYTHON_PEERS_PREFIX, 'singer-tools/bin/singer-check-tap'),
    },
  };
}
