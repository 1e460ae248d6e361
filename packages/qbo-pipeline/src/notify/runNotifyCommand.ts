import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'singer-kit';
import type { NotifySettings } from './notifySettings.js';

/** A command that has not exited by then is killed (a mail relay may take a while; a load never waits on it longer). */
const TIMEOUT_MS = 30_000;
/** Lines of a command's stderr logged per notification; the rest are counted. */
const STDERR_LINES = 5;

/**
 * Runs the notification command once: `body` (the webhook's fields) as one JSON line on its stdin,
 * and QBO_PIPELINE_NOTIFY_KIND, _LEVEL and _COMPANY in its environment. Exit 0 is delivered; else
 * the problem: `exit 3: <its first stderr line>`, `no exit within 30 s (killed)`, `could not start
 * (ENOENT)`; `timeoutMs` is for tests. Its stdout is dropped (the scheduler's stdout is its summaries); its stderr lines are
 * logged with a prefix, at most STDERR_LINES of them.
 */
export async function runNotifyCommand(
  command: NonNullable<NotifySettings['command']>,
  body: Readonly<Record<string, string>>,
  logger: Logger,
  timeoutMs = TIMEOUT_MS,
): Promise<string | undefined> {
  const [program, ...args] = command.argv as [string, ...string[]];
  // Its own process group, so a timeout also ends what it started (a shell script's mail program).
  const child = spawn(program, args, {
    cwd: command.cwd,
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
    env: { ...process.env, QBO_PIPELINE_NOTIFY_KIND: body.kind, QBO_PIPELINE_NOTIFY_LEVEL: body.level, QBO_PIPELINE_NOTIFY_COMPANY: body.company },
  });
  let firstLine: string | undefined;
  let lines = 0;
  createInterface({ input: child.stderr }).on('line', (line) => {
    firstLine ??= line.trim() || undefined;
    if (++lines <= STDERR_LINES) logger.info(`notify command ${program}: ${line}`);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // It ended meanwhile.
    }
  }, timeoutMs);
  // A command that exits without reading its stdin is judged by its exit code, not by the broken pipe.
  child.stdin.on('error', () => undefined);
  child.stdin.end(JSON.stringify(body) + '\n');
  const problem = await new Promise<string | undefined>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve(`could not start (${error.code ?? error.message})`));
    child.once('close', (code, signal) =>
      resolve(
        timedOut
          ? `no exit within ${timeoutMs / 1000} s (killed)`
          : code === 0
            ? undefined
            : `${code !== null ? `exit ${code}` : `killed by ${signal}`}${firstLine !== undefined ? `: ${firstLine}` : ''}`,
      ),
    );
  });
  clearTimeout(timer);
  if (lines > STDERR_LINES) logger.info(`notify command ${program}: … ${lines - STDERR_LINES} more stderr lines`);
  return problem;
}
