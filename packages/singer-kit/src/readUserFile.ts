import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/**
 * The text of a file the user named (a config, a state, a password file…). When it cannot be
 * read, a UsageError (exit 2) with the one line `problem(reason)`, where reason is `no such file`
 * or the error's code (`EACCES`, `EISDIR`…): only the user can fix that.
 */
export function readUserFile(file: string, problem: (reason: string) => string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(problem(code === 'ENOENT' ? 'no such file' : String(code ?? error)), { cause: error });
  }
}
