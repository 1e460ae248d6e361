import { spawn } from 'node:child_process';

/** How a program ended and what it printed. */
export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The shell of a user who has set none of this project's variables: process.env without
 * TAP_QUICKBOOKS_*, TARGET_POSTGRES_RAW_*, QBO_PIPELINE_*, DATABASE_URL and LOG_LEVEL.
 */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(TAP_QUICKBOOKS_|TARGET_POSTGRES_RAW_|QBO_PIPELINE_|DATABASE_URL$|LOG_LEVEL$)/.test(k)),
  );
}

/** The first FATAL line a program wrote on stderr (the one line every failure must start with). */
export const fatalLine = (stderr: string): string | undefined => stderr.split('\n').find((l) => l.startsWith('FATAL'));

/** Runs a program to its end, keeping its output; `input` is written to its stdin (empty when absent). */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; readonly input?: string } = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // decoded as a stream, so a character split between two chunks arrives whole
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
