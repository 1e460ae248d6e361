import { readdir } from 'node:fs/promises';

/** `op`'s result, or undefined when it fails because the file or folder does not exist (ENOENT); any other error is thrown. */
export async function ifExists<T>(op: () => Promise<T>): Promise<T | undefined> {
  try {
    return await op();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The names in a folder, or none when the folder does not exist (yet). */
export async function readdirIfExists(dir: string): Promise<string[]> {
  return (await ifExists(() => readdir(dir))) ?? [];
}
