import { mkdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { jsonSyntaxProblem, UsageError, writeFileAtomic } from 'singer-kit';
import type { Schedule } from './Schedule.js';
import { ifExists, readdirIfExists } from '../ifExists.js';

const SCHEDULE_FILE = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\.json$/;
export const SCHEDULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** The schedules of a state folder (a job's `--state-dir`, or a company's folder under it): `<stateDir>/schedules/`. */
export const scheduleStore = (stateDir: string) => new ScheduleStore(path.resolve(stateDir, 'schedules'));

/** Schedules as files in `state/schedules/`, one per name, rewritten atomically. */
export class ScheduleStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #file(name: string): string {
    // A name becomes a file name: nothing that could leave the folder (`../x`) gets that far.
    if (!SCHEDULE_NAME.test(name)) throw new UsageError(`schedule name ${JSON.stringify(name)} may hold only letters, digits, _ and -`);
    return path.join(this.dir, `${name}.json`);
  }

  async save(schedule: Schedule): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.#file(schedule.name), JSON.stringify(schedule, null, 2) + '\n', 0o644);
  }

  /** The schedule, or undefined when there is none of that name. */
  async find(name: string): Promise<Schedule | undefined> {
    const text = await ifExists(() => readFile(this.#file(name), 'utf8'));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as Schedule;
    } catch (error) {
      throw new UsageError(
        `schedule file ${this.#file(name)} is not valid JSON (${jsonSyntaxProblem(error)}); repair it, or remove it and add the schedule again`,
      );
    }
  }

  /** The schedule; a UsageError listing the known names when there is none. */
  async get(name: string): Promise<Schedule> {
    const found = await this.find(name);
    if (found) return found;
    const known = (await this.list()).map((s) => s.name);
    throw new UsageError(
      `no schedule ${JSON.stringify(name)} in ${this.dir}; ${known.length > 0 ? `schedules: ${known.join(', ')}` : 'there are none (add one with schedule add)'}`,
    );
  }

  /** Every schedule, by name. */
  async list(): Promise<Schedule[]> {
    const names = await readdirIfExists(this.dir);
    const found = await Promise.all(
      names
        .map((n) => SCHEDULE_FILE.exec(n)?.[1])
        .filter((n): n is string => n !== undefined)
        .map((n) => this.find(n)),
    );
    return found.filter((s): s is Schedule => s !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(name: string): Promise<void> {
    await this.get(name);
    await unlink(this.#file(name));
  }
}
