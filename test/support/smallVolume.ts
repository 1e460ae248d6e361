import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import type { LocalPostgres } from 'local-postgres';

/** Runs `mount`/`umount`; when it failed, the first line it said (`mount: …: permission denied.`). */
function run(command: string, args: readonly string[]): string | undefined {
  const done = spawnSync(command, args, { encoding: 'utf8' });
  if (done.status === 0) return undefined;
  return done.stderr.split('\n')[0] || `${command} ${args.join(' ')}: ${done.error?.message ?? `exit ${done.status}`}`;
}

/**
 * Why this machine cannot give a test a size-limited volume (a tmpfs of its own), or undefined
 * when it can: it must run as root and the kernel must let it mount (a container without
 * CAP_SYS_ADMIN refuses). Tried once, at collection, with a 1 MiB mount that is removed at once.
 */
export function noSmallVolumeReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a size-limited tmpfs needs root; skipping the full-disk tests';
  const dir = mkdtempSync(path.join(tmpdir(), 'tmpfs-probe-'));
  try {
    const refused = run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    if (refused) return `cannot mount a size-limited tmpfs (${refused}); skipping the full-disk tests`;
    run('umount', [dir]);
    return undefined;
  } finally {
    rmdirSync(dir);
  }
}

export interface SmallFolder {
  /** Where the size-limited tmpfs is mounted. */
  readonly mountPoint: string;
  /** Grows (or shrinks) the mounted volume, keeping what is on it: `mount -o remount,size=…`, as a volume is grown. */
  resize(megabytes: number): void;
  /**
   * Fills every byte left on the volume with a file (`<mountPoint>/filler`, written until the disk
   * refuses it: ENOSPC), so the next write of any file there fails; returns the bytes it took.
   * `free()` removes it again, as a person frees space.
   */
  fill(): number;
  free(): void;
}

/**
 * A folder that is a disk of its own of `megabytes` MiB: a tmpfs of that size mounted for the
 * describe (owned by `owner`, default this process's user, mode 0700), unmounted after its tests
 * whether they passed or not. Call inside a describe that `noSmallVolumeReason()` let run; the
 * result's getter is for use inside tests.
 */
export function smallFolder(
  megabytes: number,
  owner: () => { readonly uid: number; readonly gid: number } = () => ({ uid: process.getuid!(), gid: process.getgid!() }),
): () => SmallFolder {
  let folder: SmallFolder | undefined;
  let mountPoint: string | undefined;
  let mounted = false;
  beforeAll(() => {
    const { uid, gid } = owner();
    mountPoint = mkdtempSync(path.join(tmpdir(), 'small-volume-'));
    const refused = run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0700,uid=${uid},gid=${gid}`, 'tmpfs', mountPoint]);
    if (refused) throw new Error(refused);
    mounted = true;
    const at = mountPoint;
    const filler = path.join(at, 'filler');
    folder = {
      mountPoint: at,
      resize(size) {
        const refusedResize = run('mount', ['-o', `remount,size=${size}m`, at]);
        if (refusedResize) throw new Error(refusedResize);
      },
      fill() {
        const fd = openSync(filler, 'a');
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let written = 0;
        try {
          // Smaller and smaller pieces once a chunk is refused: not a byte left, whatever page the last one ended in.
          for (let size = chunk.length; size > 0;) {
            try {
              written += writeSync(fd, chunk, 0, size);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
              size = Math.floor(size / 2);
            }
          }
        } finally {
          closeSync(fd);
        }
        return written;
      },
      free() {
        rmSync(filler, { force: true });
      },
    };
  });
  afterAll(() => {
    if (mounted) {
      const stuck = run('umount', [mountPoint!]);
      if (stuck) process.stderr.write(`small volume: ${stuck}\n`);
    }
    if (mountPoint) rmdirSync(mountPoint);
  });
  return () => {
    if (!folder) throw new Error(`the ${megabytes} MiB volume was not made`);
    return folder;
  };
}

export interface SmallVolume {
  /** A database of `server` whose new tables land on the volume (its default_tablespace), as a DBA would set it. */
  readonly url: string;
  readonly database: string;
  readonly tablespace: string;
  readonly mountPoint: string;
  /** Grows (or shrinks) the mounted volume, keeping what is on it: `mount -o remount,size=…`, as a volume is grown. */
  resize(megabytes: number): void;
}

/**
 * A warehouse whose data disk is `megabytes` MiB: a `smallFolder` owned by the server's OS user
 * (that of its data folder: PostgreSQL, run as root, runs as user postgres), as CREATE TABLESPACE
 * requires, a TABLESPACE on it, and a database whose `default_tablespace` is that tablespace, so
 * every table the target and the runner create there lands on the small disk; the catalog, the WAL
 * and temporary tables stay on the server's own disk, as with a data volume apart from the
 * system's. Removed after the describe's tests (database, tablespace, mount), whether they passed
 * or not. Call inside a describe that `noSmallVolumeReason()` let run; the result's getter is for
 * use inside tests.
 */
export function smallVolume(server: () => LocalPostgres, megabytes: number): () => SmallVolume {
  const folder = smallFolder(megabytes, () => statSync(server().dataDir));
  let volume: SmallVolume | undefined;
  let tablespace: string | undefined;
  let database: string | undefined;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: server().url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    const disk = folder();
    const mountPoint = disk.mountPoint;
    const name = path.basename(mountPoint).replace(/\W/g, '_').toLowerCase();
    const names = { database: `${name}_db`, tablespace: `${name}_ts` };
    await admin(async (c) => {
      await c.query(`CREATE TABLESPACE ${names.tablespace} LOCATION ${pg.escapeLiteral(mountPoint)}`);
      tablespace = names.tablespace;
      await c.query(`CREATE DATABASE ${names.database}`);
      database = names.database;
      await c.query(`ALTER DATABASE ${names.database} SET default_tablespace = ${names.tablespace}`);
    });
    const url = new URL(server().url);
    url.pathname = `/${names.database}`;
    volume = { url: url.toString(), ...names, mountPoint, resize: (size) => disk.resize(size) };
  });
  // Registered after the folder's: vitest runs afterAll hooks in reverse, so these go before the unmount.
  afterAll(async () => {
    if (!tablespace) return;
    await admin(async (c) => {
      if (database) await c.query(`DROP DATABASE ${database} WITH (FORCE)`);
      await c.query(`DROP TABLESPACE ${tablespace}`);
    }).catch((error: unknown) =>
      process.stderr.write(`small volume: could not drop database ${database} or tablespace ${tablespace}: ${(error as Error).message}\n`),
    );
  });
  return () => {
    if (!volume) throw new Error(`the ${megabytes} MiB volume was not made`);
    return volume;
  };
}
