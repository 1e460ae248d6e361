import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { diskFullText, jsonSyntaxProblem, registerSecret, reserveFileAtomic, RunError, UsageError, type ReservedFileWrite } from 'singer-kit';

/** What is kept per realm. Tokens are plain strings only inside this file (mode 0600). */
export interface StoredTokens {
  readonly refresh_token: string;
  readonly access_token?: string;
  /** epoch ms */
  readonly access_token_expires_at?: number;
  readonly refresh_token_expires_at?: number;
  readonly refresh_token_hard_expires_at?: number;
  /** sha256 of the configured refresh token this chain of rotations started from. */
  readonly seeded_from: string;
  readonly updated_at: string;
  /**
   * When QuickBooks refused this chain's refresh token (`invalid_grant`) and the refusal's
   * intuit_tid: the chain is broken until a new refresh token is configured, which starts a new
   * chain without them.
   */
  readonly refresh_token_rejected_at?: string;
  readonly refresh_token_rejected_tid?: string;
  /**
   * A configured refresh token that would have started a new chain (a reconnect) and that
   * QuickBooks refused: its SHA-256, when and the intuit_tid. The stored chain is kept as it was
   * (it may still be good); the console reads that this token was tried, not that it waits for a run.
   */
  readonly new_token_rejected?: { readonly fingerprint: string; readonly at: string; readonly tid: string | undefined };
}

/** Disk held for the store's next write: a stored chain is under 2 KiB. */
const RESERVED_BYTES = 16 * 1024;

/** The store's next write, its disk space already taken (`TokenStore.reserve`). */
export interface ReservedTokenWrite {
  /** Replaces the store with `tokens`, atomically; once. Fails only if the disk itself does (an I/O error, a folder made read-only meanwhile). */
  write(tokens: StoredTokens): Promise<void>;
  /** Gives the space back when nothing is to be written. */
  discard(): Promise<void>;
}

const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

export function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Whether the stored chain of rotations goes on from this configured refresh token: it started
 * from it, or holds it. Otherwise the user reconnected the app, and the next refresh starts a new
 * chain from the configured token.
 */
export function continuesChain(stored: StoredTokens, configuredRefreshToken: string): boolean {
  const configured = fingerprint(configuredRefreshToken);
  return stored.seeded_from === configured || fingerprint(stored.refresh_token) === configured;
}

/**
 * The rotated refresh token on disk (0600), replaced with writeFileAtomic, so a crash leaves
 * either the old or the new file, never half of one. `withLock`
 * serialises refreshes across processes for the same realm (proper-lockfile, stale after 30 s).
 */
export class TokenStore {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  async read(): Promise<StoredTokens | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      // A file we may not read, or a folder in its place: only the user can fix that (exit 2).
      if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR')
        throw new UsageError(
          `cannot read token store ${this.file} (${code}); the user running the tap must own it (mode 0600), or set token_store to a file it can read`,
        );
      throw new RunError(`cannot read token store ${this.file}: ${code ?? (error as Error).message}`);
    }
    // Rerunning cannot repair it: exit 2, with what to do (never an excerpt of the file: it holds tokens).
    const damaged = (why: string, cause?: unknown) =>
      new UsageError(`token store ${this.file} is damaged (${why}); restore it from a backup, or delete it to start again from the configured refresh_token`, {
        cause,
      });
    let stored: StoredTokens;
    try {
      stored = JSON.parse(text) as StoredTokens;
    } catch (error) {
      throw damaged(`not valid JSON: ${jsonSyntaxProblem(error)}`, error);
    }
    if (stored === null || typeof stored !== 'object' || typeof stored.refresh_token !== 'string') throw damaged('no refresh_token');
    registerSecret(stored.refresh_token);
    registerSecret(stored.access_token);
    return stored;
  }

  /**
   * Takes the disk space of the store's next write, before QuickBooks is asked for new tokens:
   * a refresh rotates the refresh token, the old one may die at once, and the new one exists only
   * in that answer, so a disk that is full (or a folder that is not writable) must refuse before
   * the request, while the stored token still works. A RunError saying so, naming the file.
   */
  async reserve(): Promise<ReservedTokenWrite> {
    const dir = path.dirname(this.file);
    let reserved: ReservedFileWrite;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      reserved = await reserveFileAtomic(this.file, RESERVED_BYTES, 0o600);
    } catch (error) {
      const problem = diskFullText(error, dir) ?? `${errorCode(error)}: the user running the tap must be able to write in ${dir}; fix that`;
      throw new RunError(
        `cannot save a new refresh token in token store ${this.file}: ${problem}, then run again: it resumes; the refresh token was not used, so the one stored still works`,
        { cause: error },
      );
    }
    return {
      write: (tokens) => reserved.write(JSON.stringify(tokens, null, 2) + '\n'),
      discard: () => reserved.discard(),
    };
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.file, {
        realpath: false,
        stale: 30_000,
        retries: { retries: 60, minTimeout: 100, maxTimeout: 1000 },
      });
    } catch (error) {
      const dir = path.dirname(this.file);
      const held = (error as NodeJS.ErrnoException).code === 'ELOCKED';
      throw new RunError(
        held
          ? `cannot lock token store ${this.file} (another tap for this realm holds it): ${(error as Error).message}`
          : `cannot lock token store ${this.file}: ${diskFullText(error, dir) ?? `${errorCode(error)}: the user running the tap must be able to write in ${dir}; fix that`}, then run again: it resumes`,
        { cause: error },
      );
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }
}
