import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { RunError } from 'singer-kit';
import { writeFileAtomic } from '../writeFileAtomic.js';
import type { Trigger } from './Trigger.js';

const TRIGGER_FILE = /^(trg-[\w-]+)\.json$/;

/**
 * Triggers as files in `state/triggers/`: `<id>.json` (atomic rewrites) and, once some
 * scheduler takes it, `<id>.claim`, created with O_EXCL. Creating the claim is the only way to
 * run a trigger, so two schedulers can never both run it, whatever they read before.
 */
export class TriggerStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  static newId(at: Date): string {
    return `trg-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
  }

  #file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  async save(trigger: Trigger): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.#file(trigger.id), JSON.stringify(trigger, null, 2) + '\n', 0o644);
  }

  async get(id: string): Promise<Trigger> {
    const file = this.#file(id);
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Trigger;
    } catch (error) {
      throw new RunError(`cannot read trigger ${file}: ${(error as Error).message}`);
    }
  }

  /** Every trigger, earliest first. */
  async list(): Promise<Trigger[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const ids = names.map((n) => TRIGGER_FILE.exec(n)?.[1]).filter((id): id is string => id !== undefined);
    const triggers = await Promise.all(ids.map((id) => this.get(id)));
    return triggers.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }

  /** Takes the trigger for this process; false when another scheduler already has (or had) it. */
  async claim(id: string, claimant: { pid: number; host: string }): Promise<boolean> {
    try {
      const handle = await open(path.join(this.dir, `${id}.claim`), 'wx', 0o644);
      try {
        await handle.writeFile(JSON.stringify(claimant) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }
}
