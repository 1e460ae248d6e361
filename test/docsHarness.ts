import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { databaseUrl, REPO_ROOT } from './support/db.js';
import type { ProcessRun } from './support/runProcess.js';

/** A fenced code block of a Markdown file. */
export interface CodeBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly text: string;
}

/** Every fenced block of a Markdown file (fences may be indented, as inside a list item). */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i] as string);
    if (!open) continue;
    const indent = (open[1] as string).length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] as string); j++) body.push((lines[j] as string).slice(indent));
    blocks.push({ file, line: i + 1, lang: open[2] as string, text: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** The block's first command line: how the tests name a block (stable while the block is edited below it). */
export function blockId(block: CodeBlock): string {
  return (
    block.text
      .split('\n')
      .find((l) => l.trim() !== '' && !l.trim().startsWith('#'))
      ?.trim() ?? ''
  );
}

/** Lines of shell outside quotes and comments that pipe one command into another. */
export function pipesIn(shell: string): boolean {
  for (const raw of shell.split('\n')) {
    let quote: string | undefined;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (quote) {
        if (c === quote) quote = undefined;
        continue;
      }
      if (c === "'" || c === '"') quote = c;
      else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1] as string))) break;
      else if (c === '|' && raw[i + 1] !== '|' && raw[i - 1] !== '|') return true;
    }
  }
  return false;
}

/** What a documented failing example says it does: `# FATAL …` and `# exit status N` comment lines. */
export function documentedFailure(shell: string): { readonly exit: number; readonly fatal: string | undefined } | undefined {
  const exit = /^# exit status (\d+)/m.exec(shell);
  if (!exit) return undefined;
  return { exit: Number(exit[1]), fatal: /^# (FATAL .*)$/m.exec(shell)?.[1] };
}

/** A documented line as a pattern: literal text, `…` for anything, the whole line. */
export function documentedLine(line: string): RegExp {
  return new RegExp(
    `^${line
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/**
 * The documented substitutions of a walk, and nothing else: `npm install && npm run build` is
 * skipped (the suite runs on a built checkout), so is the build of `npm run demo` (it runs as
 * `node packages/qbo-demo/dist/cli.js`, its embedded PostgreSQL and all) and `npm test` (this
 * suite), and the example database URL is the test PostgreSQL.
 */
export function substituteDocumented(text: string): string {
  const DEMO = 'npm install && npm run demo';
  const walked = text.includes(DEMO) ? text.replace(DEMO, 'node packages/qbo-demo/dist/cli.js').replace(/^npm test\b.*$/m, ': npm test is this suite') : text;
  return walked
    .replace('npm install && npm run build', ': the suite runs on a built checkout')
    .replaceAll('postgres://warehouse:<password>@localhost:5432/warehouse', databaseUrl());
}

/**
 * Runs shell blocks as a reader pasting them into one terminal in `dir`: each in bash with the
 * variables earlier blocks exported (kept in `envFile`), under `set -e` when it should succeed.
 * `background: 'ended'` ends what a block leaves running (its process group) once it exits;
 * `'kept'` leaves it running, as a terminal does, until the walk stops it (the emulator).
 */
export function shellWalk(options: {
  readonly dir: string;
  readonly envFile: string;
  readonly env: NodeJS.ProcessEnv;
  readonly background: 'ended' | 'kept';
}): (text: string, expectSuccess: boolean) => Promise<ProcessRun> {
  const { dir, envFile, env, background } = options;
  return (text, expectSuccess) => {
    const script = [`[ -f ${envFile} ] && . ${envFile}`, expectSuccess ? 'set -e' : '', text, '__walk_rc=$?', `export -p > ${envFile}`, 'exit $__walk_rc'].join(
      '\n',
    );
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', script], { cwd: dir, env, detached: background === 'ended', stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      // Not 'close': a process left running keeps the pipes open.
      child.on('exit', (code) => {
        if (background === 'ended') {
          try {
            process.kill(-(child.pid as number), 'SIGTERM');
          } catch {
            // the group is gone: nothing was left running
          }
        }
        setTimeout(() => resolve({ code, stdout, stderr }), 200);
      });
    });
  };
}
