import { CliError, EXIT, OutputClosedError } from './errors.js';
import { redact } from './redact.js';

/**
 * Set by a process that runs a tap or target as its child (qbo-pipeline's runner) to its own pid:
 * the child stops within a second once that process is gone. A runner killed with SIGKILL (kill -9,
 * the OOM killer) cannot stop its children, which would otherwise run on unseen, beside the next
 * run of the same job and within the same request budget.
 */
export const PARENT_PID_ENV = 'SINGER_PARENT_PID';

let exitHeld = 0;

/**
 * Runs `work` with the exit for a gone parent held off until it settles: a rotated refresh token
 * between QBO's answer and the token store is never cut off (the old one no longer works).
 */
export async function holdingExit<T>(work: () => Promise<T>): Promise<T> {
  exitHeld += 1;
  try {
    return await work();
  } finally {
    exitHeld -= 1;
  }
}

/** Exits (1) once the process named by PARENT_PID_ENV is no longer this one's parent (outside `holdingExit`); nothing when it is not set. */
function exitWithParent(name: string, write: (text: string) => void): void {
  const parent = Number(process.env[PARENT_PID_ENV]);
  if (!Number.isInteger(parent) || parent <= 0) return;
  setInterval(() => {
    if (process.ppid === parent || exitHeld > 0) return;
    write(`FATAL ${name}: the process that started it (pid ${parent}, ${PARENT_PID_ENV}) is gone; stopping`);
    process.exit(EXIT.runFailed);
  }, 1000).unref();
}

/**
 * Runs a CLI's main function: a CliError prints its one-line message first (details after)
 * and exits with its code; anything else is a bug, printed with its stack, exit 1.
 * Everything goes to stderr; secrets are redacted. With PARENT_PID_ENV set, it stops when its parent does.
 */
export function runCli(name: string, main: () => Promise<number | void>): void {
  const write = (text: string) => process.stderr.write(redact(text) + '\n');
  // A closed stdout must end the process, not crash it with an unhandled 'error'.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      write(`FATAL ${name}: ${new OutputClosedError().message}`);
      process.exit(EXIT.runFailed);
    }
  });
  exitWithParent(name, write);
  main().then(
    (code) => {
      process.exitCode = code ?? EXIT.ok;
    },
    (error: unknown) => {
      if (error instanceof CliError) {
        write(`FATAL ${name}: ${error.message}`);
        if (error.details) write(error.details);
        if (process.env.LOG_LEVEL?.toLowerCase() === 'debug' && error.stack) write(error.stack);
        process.exitCode = error.exitCode;
      } else {
        const err = error as Error;
        write(`FATAL ${name}: unexpected error: ${err?.message ?? String(error)}`);
        if (err?.stack) write(err.stack);
        process.exitCode = EXIT.runFailed;
      }
    },
  );
}
