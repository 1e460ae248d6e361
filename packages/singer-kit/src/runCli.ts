import { CliError, EXIT, OutputClosedError } from './errors.js';
import { redact } from './redact.js';

/**
 * Runs a CLI's main function: a CliError prints its one-line message first (details after)
 * and exits with its code; anything else is a bug, printed with its stack, exit 1.
 * Everything goes to stderr; secrets are redacted.
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
