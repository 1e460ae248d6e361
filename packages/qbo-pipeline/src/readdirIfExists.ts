import { readdir } from 'node:fs/promises';

/** The names in a folder, or none when the folder does not exist (yet); any other error is thrown. */
export async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
