import { link, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { diskFullText, jsonSyntaxProblem, RunError, tempPathFor, writeFileAtomic, type Logger } from 'singer-kit';
import { TRIGGER_STATUSES, type Lease, type Trigger } from './Trigger.js';
import { readdirIfExists } from '../ifExists.js';

const TRIGGER_FILE = /^((?:trg|sch)-[\w.-]+)\.json$/;
const SET_ASIDE_SUFFIX = '.unreadable';
const LEASE_FILE = /^(.+)\.claim(?:\.(\d+))?$/;

/** A lease's default length: a scheduler that has not renewed its lease for this long is taken for dead. */
export const DEFAULT_LEASE_MS = 60_000;

/** A trigger file that could not be read, moved aside so that the other triggers still run. */
export interface SetAside {
  /** The file as it is now: `<name>.unreadable` once set aside; `<name>` while a listing only reports it. */
  readonly file: string;
  /** What is wrong with it, e.g. `not valid JSON (unexpected end of JSON input)`: no excerpt of its text beyond an unknown status. */
  readonly problem: string;
  /** `earlier`: found set aside; `now`: this scan set it aside; `next pass`: a listing found it, the scheduler sets it aside at its next pass. */
  readonly when: 'earlier' | 'now' | 'next pass';
}

export interface TriggerScan {
  /** Every readable trigger, earliest first. */
  readonly triggers: readonly Trigger[];
  /** Files set aside, now or earlier (`<name>.unreadable`). */
  readonly setAside: readonly SetAside[];
}

function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const t = value as Partial<Trigger>;
  if (typeof t.id !== 'string' || typeof t.at !== 'string' || Number.isNaN(Date.parse(t.at))) return 'no id or no valid "at"';
  if (!TRIGGER_STATUSES.includes(t.status as never)) return `unknown status ${JSON.stringify(t.status)}`;
  if ((t.backfill === undefined) === (t.sync === undefined)) return 'needs exactly one of "backfill" and "sync"';
  return undefined;
}

/** A trigger file's trigger, or what is wrong with it (`missing` when it is gone). */
type ReadTrigger = { readonly trigger: Trigger } | { readonly problem: string; readonly missing: boolean };

async function readTrigger(file: string): Promise<ReadTrigger> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { problem: (error as Error).message, missing: (error as NodeJS.ErrnoException).code === 'ENOENT' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `not valid JSON (${jsonSyntaxProblem(error)})`, missing: false };
  }
  const problem = shapeProblem(value);
  return problem === undefined ? { trigger: value as Trigger } : { problem, missing: false };
}

/**
 * `write` of `file`, whose failure (a full disk, a folder not writable) is one line naming the file
 * and the folder with what to do, not a stack: the trigger stays as it was, due for a later pass.
 */
async function writingTriggerFile<T>(file: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const dir = path.dirname(file);
    throw new RunError(
      `cannot write ${file}: ${diskFullText(error, dir) ?? `${(error as Error).message}; make ${dir} writable`}, then run again: the trigger is left as it was, for a later pass`,
      { cause: error },
    );
  }
}

/** Creates `file` with `text` only if it does not exist, never showing a partial file: a private temp file, then link(2). */
async function createExclusive(file: string, text: string): Promise<boolean> {
  const temp = tempPathFor(file);
  await writeFileAtomic(temp, text, 0o644);
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The triggers of a state folder (a job's `--state-dir`, or a company's folder under it): `<stateDir>/triggers/`. */
export const triggerStore = (stateDir: string) => new TriggerStore(path.resolve(stateDir, 'triggers'));

/**
 * Triggers as files in `state/triggers/`: `<id>.json` (atomic rewrites) and, for each attempt to
 * run one, a lease file created exclusively (`<id>.claim` for the first, `<id>.claim.<n>` after).
 * Creating the lease file is the only way to run a trigger, so two schedulers never both run the
 * same attempt; its holder renews it (heartbeat), and once it has expired the next attempt's file
 * may be created by whoever finds it so.
 */
export class TriggerStore {
  readonly dir: string;
  readonly #legacyLeaseMs: number;

  constructor(dir: string, options: { readonly legacyLeaseMs?: number } = {}) {
    this.dir = dir;
    this.#legacyLeaseMs = options.legacyLeaseMs ?? DEFAULT_LEASE_MS;
  }

  static newId(at: Date): string {
    return `trg-${at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  }

  #file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  #leaseFile(id: string, attempt: number): string {
    return path.join(this.dir, attempt === 1 ? `${id}.claim` : `${id}.claim.${attempt}`);
  }

  async save(trigger: Trigger): Promise<void> {
    const file = this.#file(trigger.id);
    await writingTriggerFile(file, async () => {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(file, JSON.stringify(trigger, null, 2) + '\n', 0o644);
    });
  }

  /** Saves a new trigger unless one with its id exists (two schedulers making the same slot's trigger); false then. */
  async create(trigger: Trigger): Promise<boolean> {
    const file = this.#file(trigger.id);
    return writingTriggerFile(file, async () => {
      await mkdir(this.dir, { recursive: true });
      return createExclusive(file, JSON.stringify(trigger, null, 2) + '\n');
    });
  }

  async get(id: string): Promise<Trigger> {
    const file = this.#file(id);
    const read = await readTrigger(file);
    if ('problem' in read) throw new RunError(`cannot read trigger ${file}: ${read.problem}`);
    return read.trigger;
  }

  async #names(): Promise<string[]> {
    return readdirIfExists(this.dir);
  }

  /**
   * Every trigger, earliest first. A file that cannot be read (not JSON, not a trigger) is moved
   * to `<name>.unreadable` and reported, so one damaged file never stops the others (with
   * `setAside: false`, for listings, it is only reported).
   */
  async scan(options: { readonly setAside?: boolean } = {}): Promise<TriggerScan> {
    const move = options.setAside ?? true;
    const names = await this.#names();
    const triggers: Trigger[] = [];
    const setAside: SetAside[] = [];
    for (const name of names.filter((n) => n.endsWith(SET_ASIDE_SUFFIX))) {
      // Read again to say why: the scheduler's ERROR line is long gone.
      const file = path.join(this.dir, name);
      const read = await readTrigger(file);
      if ('problem' in read && read.missing) continue; // removed since the listing
      const problem = 'problem' in read ? read.problem : `readable now: rename it to ${name.slice(0, -SET_ASIDE_SUFFIX.length)} for the scheduler to run it`;
      setAside.push({ file, problem, when: 'earlier' });
    }
    for (const name of names) {
      const id = TRIGGER_FILE.exec(name)?.[1];
      if (id === undefined) continue;
      const file = this.#file(id);
      const read = await readTrigger(file);
      if (!('problem' in read)) {
        triggers.push(read.trigger);
        continue;
      }
      if (read.missing) continue; // removed since the listing
      if (!move) {
        setAside.push({ file, problem: read.problem, when: 'next pass' });
        continue;
      }
      const aside = file + SET_ASIDE_SUFFIX;
      await rename(file, aside).catch(() => undefined);
      setAside.push({ file: aside, problem: read.problem, when: 'now' });
    }
    triggers.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
    return { triggers, setAside };
  }

  /** Every readable trigger, earliest first (unreadable ones are only skipped; see `scan`). */
  async list(): Promise<Trigger[]> {
    return [...(await this.scan({ setAside: false })).triggers];
  }

  /** Takes attempt `lease.attempt` of the trigger; false when another scheduler already has (or had) that attempt. */
  async claim(id: string, lease: Lease): Promise<boolean> {
    const file = this.#leaseFile(id, lease.attempt);
    return writingTriggerFile(file, async () => {
      await mkdir(this.dir, { recursive: true });
      return createExclusive(file, JSON.stringify(lease) + '\n');
    });
  }

  /** Renews a lease held by this process (heartbeat). */
  async renew(id: string, lease: Lease): Promise<void> {
    await writeFileAtomic(this.#leaseFile(id, lease.attempt), JSON.stringify(lease) + '\n', 0o644);
  }

  /** Deletes a trigger and its lease files (old schedule slots). */
  async remove(id: string): Promise<void> {
    const files = (await this.#names()).filter((n) => n === `${id}.json` || LEASE_FILE.exec(n)?.[1] === id);
    for (const name of files) await unlink(path.join(this.dir, name)).catch(() => undefined);
  }

  /** Gives an attempt up without running it (its job was busy), so a later pass may claim again. */
  async release(id: string, attempt: number): Promise<void> {
    await unlink(this.#leaseFile(id, attempt)).catch(() => undefined);
  }

  /**
   * The newest attempt's lease, or undefined when nobody ever claimed the trigger. A first-version
   * claim (`{pid, host}`, no heartbeat) counts as heartbeating when it was written.
   */
  async latestLease(id: string): Promise<Lease | undefined> {
    const attempts = (await this.#names())
      .map((n) => LEASE_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === id)
      .map((m) => Number(m[2] ?? 1));
    if (attempts.length === 0) return undefined;
    const attempt = Math.max(...attempts);
    const file = this.#leaseFile(id, attempt);
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<Lease> & { pid: number; host: string };
    if (value.expiresAt !== undefined && value.owner !== undefined) return value as Lease;
    const written = (await stat(file)).mtime;
    return {
      owner: value.owner ?? `pid ${value.pid}@${value.host}`,
      host: value.host,
      pid: value.pid,
      attempt,
      claimedAt: written.toISOString(),
      heartbeatAt: written.toISOString(),
      expiresAt: new Date(written.getTime() + this.#legacyLeaseMs).toISOString(),
    };
  }
}

/**
 * `scheduler --once`'s last word on trigger files it cannot run (set aside now or earlier): one
 * ERROR line each, saying what to do, so a cron wrapper sees exit 2 until they are dealt with.
 * Returns how many there are.
 */
export async function reportUnreadableTriggers(store: TriggerStore, logger: Logger): Promise<number> {
  const { setAside } = await store.scan({ setAside: false });
  for (const file of setAside) {
    logger.error(`trigger file ${file.file} cannot be read (${file.problem}); repair it and give it back its .json name, or delete it; the other triggers ran`);
  }
  return setAside.length;
}
