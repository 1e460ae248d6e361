import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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
    throw userFileError(error, problem);
  }
}

/**
 * A file the user named, opened for reading before anything else starts (an input read as a
 * stream): when it cannot be, the same UsageError as readUserFile's, not a stream's late error.
 */
export async function openUserFile(file: string, problem: (reason: string) => string): Promise<FileHandle> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) throw Object.assign(new Error(`${file} is a directory`), { code: 'EISDIR' });
    return handle;
  } catch (error) {
    await handle?.close();
    throw userFileError(error, problem);
  }
}

function userFileError(error: unknown, problem: (reason: string) => string): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  return new UsageError(problem(code === 'ENOENT' ? 'no such file' : String(code ?? error)), { cause: error });
}
