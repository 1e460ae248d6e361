import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A fresh, hidden temporary file name next to `file` (same folder, so a rename over it is atomic). */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Whether `name`, a name in `file`'s folder, is a temporary file `tempPathFor(file)` made in
 * process `pid`: one left there by that process (killed before it renamed or removed it) is to be
 * removed once that process is known gone, and only then.
 */
export function isTempOf(name: string, file: string, pid: number): boolean {
  const prefix = `.${path.basename(file)}.${pid}.`;
  return name.startsWith(prefix) && /^[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length));
}

/** Writes `bytes` at the start of `handle`'s file, cuts it there and flushes it to the disk. */
async function writeWhole(handle: FileHandle, bytes: Buffer): Promise<void> {
  await handle.write(bytes, 0, bytes.length, 0);
  await handle.truncate(bytes.length);
  await handle.sync();
}

/** Renames `temp` over `file` and flushes the folder; on failure `temp` is removed. */
async function renameOver(temp: string, file: string): Promise<void> {
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  const dirHandle = await open(path.dirname(file), 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/**
 * A new temporary file next to `file` (created with `mode`) holding `content`, flushed to the
 * disk, still open; removed again when any step fails.
 */
async function writeTemp(file: string, content: Buffer, mode: number): Promise<{ readonly temp: string; readonly handle: FileHandle }> {
  const temp = tempPathFor(file);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'w', mode);
    await writeWhole(handle, content);
    return { temp, handle };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Replaces `file` with `text` so that a crash at any instant leaves either the old or the new
 * content, never a mix: write a temporary file next to it (created with `mode`), fsync, rename
 * over, fsync the folder. The temporary file is removed when any step fails (on a full disk it
 * would hold space the next attempt needs).
 */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const { temp, handle } = await writeTemp(file, Buffer.from(text, 'utf8'), mode);
  await closeAndRename(handle, temp, file);
}

/** Closes the written temporary file and renames it over `file`; on failure `temp` is removed. */
async function closeAndRename(handle: FileHandle, temp: string, file: string): Promise<void> {
  try {
    await handle.close();
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await renameOver(temp, file);
}

/** Space on the disk taken for one later atomic replacement of a file: `write` uses it, `discard` gives it back. */
export interface ReservedFileWrite {
  /** Replaces the file with `text` (at most the bytes reserved) as writeFileAtomic does, within the space taken; once. */
  write(text: string): Promise<void>;
  /** Removes the space taken without writing; nothing once `write` was called. */
  discard(): Promise<void>;
}

/**
 * Takes `bytes` of disk for a later atomic replacement of `file`: its temporary file is written
 * now, full of spaces, and flushed; `write` overwrites those blocks in place, cuts the file to the
 * text and renames it over `file`. For a write that must not fail after a step that cannot be
 * undone (QuickBooks rotating the refresh token): a full disk (ENOSPC, EDQUOT) refuses the
 * reservation, before that step. Overwriting blocks already taken needs no new ones on an ordinary
 * file system (a copy-on-write one, btrfs or ZFS, may still refuse). The temporary file is removed
 * when any step fails.
 */
export async function reserveFileAtomic(file: string, bytes: number, mode = 0o600): Promise<ReservedFileWrite> {
  const { temp, handle } = await writeTemp(file, Buffer.alloc(bytes, ' '), mode);
  let used = false;
  const give = async () => {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
  };
  return {
    async write(text) {
      if (used) throw new Error(`the reserved write of ${file} was used already`);
      used = true;
      const content = Buffer.from(text, 'utf8');
      try {
        if (content.length > bytes) throw new RangeError(`${content.length} bytes for ${file}, more than the ${bytes} reserved`);
        await writeWhole(handle, content);
      } catch (error) {
        await give();
        throw error;
      }
      await closeAndRename(handle, temp, file);
    },
    async discard() {
      if (used) return;
      used = true;
      await give();
    },
  };
}
