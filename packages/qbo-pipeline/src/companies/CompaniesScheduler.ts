import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, writeFileAtomic, type Logger } from 'singer-kit';
import type { BackfillHooks, BackfillResult } from '../runBackfill.js';
import { runTrigger, Scheduler, type TriggerRunner } from '../scheduler/Scheduler.js';
import type { Schedule } from '../schedules/Schedule.js';
import { scheduleStore, type ScheduleStore } from '../schedules/ScheduleStore.js';
import { COMPANY_JOB } from '../BackfillRequest.js';
import { companyStateDir, notInFile } from './companyRun.js';
import { defaultMaxParallel } from './JobPool.js';
import { loadCompanies, secretProblems } from './loadCompanies.js';
import { companiesByWarehouse, companiesFileIdentity, namesOf, refreshViews, staleLines, viewCompaniesText } from './companyViews.js';
import { runDueOnce } from '../scheduler/runDueOnce.js';
import type { Companies, Company } from './parseCompanies.js';
import { DEFAULT_LEASE_MS, triggerStore } from '../triggers/TriggerStore.js';
import { RunJournal } from '../runs/RunJournal.js';
import { RunSweeper } from '../runs/RunSweeper.js';
import { removeAbandonedConfigDirs, warehouseSettings } from '../childConfigs.js';

/** The schedule a company's `schedule:` in the companies file stands for (triggers `sch-company-<slot>`). */
export const COMPANY_SCHEDULE = 'company';

/** A company's recurring sync as its file says it: its own streams, from its bookmarks (or its `start`) up to each slot. */
export function companySchedule(file: string, stateRoot: string, company: Company, activeSince: string): Schedule | undefined {
  if (!company.schedule) return undefined;
  return {
    name: COMPANY_SCHEDULE,
    cron: company.schedule.cron,
    tz: company.schedule.tz,
    sync: { streams: [], job: COMPANY_JOB, stateDir: stateRoot, company: { file, name: company.name } },
    paused: false,
    createdAt: activeSince,
    activeSince,
  };
}

/** A company's schedules: those in its folder (`folder`), and its `schedule:` in the companies file, active since `activeSince`. */
export async function companySchedules(folder: ScheduleStore, file: string, stateRoot: string, company: Company, activeSince: string): Promise<Schedule[]> {
  const own = companySchedule(file, stateRoot, company, activeSince);
  return [...(await folder.list()), ...(own ? [own] : [])];
}

/** What ran: one line per finished run, for the caller's summary and exit code. */
interface CompanyRun {
  readonly company: Company;
  readonly triggerId: string;
  readonly result: BackfillResult | undefined;
  readonly error: Error | undefined;
}

export interface CompaniesSchedulerOptions {
  /** As given (relative to the working directory, as it is shown). */
  readonly file: string;
  readonly stateRoot: string;
  /** Runs at once over all companies; default: the file's `scheduler.max_parallel`, else `defaultMaxParallel()`. */
  readonly maxParallel?: number;
  readonly leaseMs?: number;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** Hooks for one company's runs (its log prefix, progress), on top of the scheduler's. */
  readonly hooksFor?: (company: Company) => Partial<BackfillHooks>;
  /** Hears every trigger whose run ended it (completed or failed); not an attempt that found its job busy, or stopped with the scheduler. */
  readonly onRun?: (run: CompanyRun) => void;
  /** Runs a trigger (default: its sync or backfill, `runTrigger`); tests put a stand-in here. */
  readonly runTrigger?: TriggerRunner;
  /** Target settings under each company's own (`--target-config`): where its runs' rows are closed when their runner died. */
  readonly targetConfig?: string;
}

interface Entry {
  company: Company;
  readonly scheduler: Scheduler;
}

/**
 * Since when a company's `schedule:` counts its slots: the first time a scheduler saw the company,
 * kept in `<company folder>/schedule-since.json` so slots missed while no scheduler ran are still
 * run once (late) after a restart, and a company added to the file starts at its next slot.
 */
async function companyScheduleSince(stateDir: string, now: Date): Promise<string> {
  const file = path.join(stateDir, 'schedule-since.json');
  try {
    const since = (JSON.parse(await readFile(file, 'utf8')) as { since?: unknown }).since;
    if (typeof since === 'string' && !Number.isNaN(Date.parse(since))) return since;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
  }
  await mkdir(stateDir, { recursive: true });
  await writeFileAtomic(file, JSON.stringify({ since: now.toISOString() }) + '\n');
  return now.toISOString();
}

/**
 * One scheduler for every company of a companies file. Each company has its own `Scheduler` over
 * its own folder (triggers, schedules, and the `schedule:` of its file entry), running one job at
 * a time: a realm's jobs never overlap, so each has the realm's whole request budget. Together
 * they start at most `maxParallel` runs, taking turns so no company waits behind the others. The
 * file is read again at every pass (a company added or changed takes effect; one taken out is
 * named once, with what became of it; a file broken by an edit is reported and the last good one
 * kept). A company's failure is its own: its runs fail with their reason, and its pass failing is
 * logged for it while the others go on.
 */
export class CompaniesScheduler {
  readonly #o: CompaniesSchedulerOptions;
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  #companies: Companies;
  #fileProblem: string | undefined;
  #turn = 0;
  #cannotRun: ReadonlyArray<{ readonly company: Company; readonly problem: string }> = [];
  /** The views' refreshes, one after another (`#refreshViewsAfter`). */
  #views: Promise<void> = Promise.resolve();

  private constructor(options: CompaniesSchedulerOptions, companies: Companies) {
    this.#o = options;
    this.#logger = options.logger ?? createLogger('qbo-pipeline scheduler');
    this.#companies = companies;
  }

  /**
   * Reads the file (a broken file stops it: UsageError) and names every company whose secret
   * files cannot be used: that company's runs fail with the same line, the others run.
   */
  static async start(options: CompaniesSchedulerOptions): Promise<CompaniesScheduler> {
    const companies = loadCompanies(options.file);
    const scheduler = new CompaniesScheduler(options, companies);
    const cannotRun = [];
    for (const company of companies.companies) {
      const [problem] = await secretProblems(company);
      if (!problem) continue;
      scheduler.#logger.error(`${problem}; its runs fail until it is there (the other companies go on)`);
      cannotRun.push({ company, problem });
    }
    scheduler.#cannotRun = cannotRun;
    return scheduler;
  }

  /** The companies whose secret files could not be used when it started (named then): they cannot run, due or not. */
  get cannotRun(): ReadonlyArray<{ readonly company: Company; readonly problem: string }> {
    return this.#cannotRun;
  }

  get maxParallel(): number {
    return this.#o.maxParallel ?? this.#companies.maxParallel ?? defaultMaxParallel();
  }

  get companies(): readonly Company[] {
    return this.#companies.companies;
  }

  /** Runs going on now, over all companies. */
  get running(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.scheduler.runningJobs.size;
    return n;
  }

  /**
   * One pass over every company, starting with a different one each time; returns the triggers it
   * started as `<company>/<trigger id>` (never one in `skip`, given the same way, nor one due after
   * `dueBy`): a trigger id alone repeats across companies, every company's slot being `sch-company-<slot>`.
   * First, the config folders that runners on this host left as they died are removed, once, in the
   * scheduler's name: they are no company's (a killed scheduler's are those of all its runs).
   */
  async pass(skip: ReadonlySet<string> = new Set(), dueBy?: Date): Promise<string[]> {
    this.#reload();
    await removeAbandonedConfigDirs(this.#logger);
    const entries: Entry[] = [];
    for (const company of this.#companies.companies) {
      try {
        entries.push(await this.#entry(company));
      } catch (error) {
        this.#logger.error(`company ${company.name}: cannot be scheduled (the other companies go on): ${(error as Error).message}`);
      }
    }
    const turn = this.#turn++ % Math.max(1, entries.length);
    const started: string[] = [];
    for (const entry of [...entries.slice(turn), ...entries.slice(0, turn)]) {
      try {
        const prefix = `${entry.company.name}/`;
        const own = new Set([...skip].flatMap((key) => (key.startsWith(prefix) ? [key.slice(prefix.length)] : [])));
        for (const action of await entry.scheduler.pass(own, dueBy)) if (action.kind === 'start') started.push(prefix + action.trigger.id);
      } catch (error) {
        this.#logger.error(`company ${entry.company.name}: scheduler pass failed (the other companies go on): ${(error as Error).message}`);
      }
    }
    return started;
  }

  /** Resolves when every run started has finished, and the views refreshed after them. */
  async idle(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => e.scheduler.idle()));
    await this.#views;
  }

  /**
   * After a company's run, when the file says `views: {schema: …}`: the views over the companies of
   * its database (`refreshViews`), one refresh at a time. A refresh that finds every view as
   * planned (no table, company or column came or went) writes nothing. Its failure is one warning
   * line: the run's data is loaded and its outcome stands; the next run tries again.
   */
  #refreshViewsAfter(company: Company): void {
    const schema = this.#companies.viewsSchema;
    if (schema === undefined) return;
    this.#views = this.#views.then(async () => {
      try {
        const warehouse = companiesByWarehouse(this.#companies.companies, {
          stateRoot: this.#o.stateRoot,
          targetConfig: this.#o.targetConfig,
        }).find((w) => w.companies.some((c) => c.name === company.name));
        if (!warehouse) return;
        const outcome = await refreshViews(warehouse, { schema, file: companiesFileIdentity(this.#o.file) });
        const changed = outcome.views.filter((v) => v.change !== 'unchanged');
        // This file's views left in another schema (views.schema changed) are named with the change, not at every run.
        if (changed.length > 0)
          this.#logger.info(
            [
              `views in schema ${schema} at ${outcome.where}: ${changed.map((v) => `${v.stream} ${v.change} (${v.companies.length === 0 ? 'no company any more' : viewCompaniesText(v.companies, namesOf(outcome))})`).join(', ')}`,
              ...staleLines(outcome.stale),
            ].join('; '),
          );
      } catch (error) {
        this.#logger.warn(
          `after company ${company.name}'s run (its data is loaded; the next run tries again, or run qbo-pipeline views --companies ${this.#o.file}): ${(error as Error).message}`,
        );
      }
    });
  }

  /** `scheduler --once` (runDueOnce): every trigger due now of every company, within max_parallel, and the slots it queued behind a busy job; waits for them. */
  async runOnce(pollMs = 200): Promise<void> {
    const dueBy = this.#o.now?.() ?? new Date();
    const queued = async () => {
      let n = 0;
      for (const e of this.#entries.values()) n += await e.scheduler.queuedWaiting();
      return n;
    };
    await runDueOnce({ pass: (skip) => this.pass(skip, dueBy), running: () => this.running, queued, idle: () => this.idle() }, pollMs, this.#o.signal);
  }

  /** The `scheduler` service: a pass every `intervalMs` until the signal aborts, then waits for the runs it started. */
  async runUntilStopped(intervalMs: number): Promise<void> {
    while (!this.#o.signal?.aborted) {
      await this.pass().catch((error: unknown) =>
        this.#logger.error(`scheduler pass failed (next pass in ${intervalMs / 1000} s): ${(error as Error).message}`),
      );
      await sleep(intervalMs, undefined, this.#o.signal ? { signal: this.#o.signal } : {}).catch(() => undefined);
    }
    await this.idle();
  }

  #reload(): void {
    try {
      const before = this.#companies.companies;
      this.#companies = loadCompanies(this.#o.file);
      const now = new Set(this.#companies.companies.map((c) => c.name));
      for (const gone of before.filter((c) => !now.has(c.name))) {
        this.#logger.warn(notInFile(gone.name, this.#o.file, companyStateDir(path.resolve(this.#o.stateRoot), gone.name), gone.schema));
      }
      if (this.#fileProblem !== undefined) this.#logger.info(`companies file ${this.#o.file} reads again`);
      this.#fileProblem = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#fileProblem) this.#logger.error(`${message}; going on with the companies as they were`);
      this.#fileProblem = message;
    }
  }

  async #entry(company: Company): Promise<Entry> {
    const existing = this.#entries.get(company.name);
    if (existing) {
      existing.company = company;
      return existing;
    }
    const stateDir = companyStateDir(path.resolve(this.#o.stateRoot), company.name);
    const folder = scheduleStore(stateDir);
    const since = await companyScheduleSince(stateDir, this.#o.now?.() ?? new Date());
    const entry: Entry = {
      company,
      scheduler: new Scheduler({
        triggers: triggerStore(stateDir),
        schedules: {
          list: () => companySchedules(folder, path.resolve(this.#o.file), path.resolve(this.#o.stateRoot), entry.company, since),
        },
        run: (trigger, hooks) => (this.#o.runTrigger ?? runTrigger)(trigger, { ...this.#o.hooksFor?.(entry.company), ...hooks }),
        onFinished: (trigger, outcome) => {
          this.#o.onRun?.({
            company: entry.company,
            triggerId: trigger.id,
            result: outcome instanceof Error ? undefined : outcome,
            error: outcome instanceof Error ? outcome : undefined,
          });
          this.#refreshViewsAfter(entry.company);
        },
        concurrency: 1,
        sharedCapacity: () => this.maxParallel - this.running,
        logger: this.#logger.child(company.name),
        ...(this.#o.leaseMs !== undefined ? { leaseMs: this.#o.leaseMs } : {}),
        ...(this.#o.signal ? { signal: this.#o.signal } : {}),
        ...(this.#o.now ? { now: this.#o.now } : {}),
        sweeper: new RunSweeper({
          journal: RunJournal.of(stateDir),
          staleMs: this.#o.leaseMs ?? DEFAULT_LEASE_MS,
          warehouse: (targetConfig = this.#o.targetConfig) => warehouseSettings(targetConfig, process.env, { settings: entry.company, stateDir }),
          logger: this.#logger.child(company.name),
          removeConfigDirs: false,
        }),
      }),
    };
    this.#entries.set(company.name, entry);
    return entry;
  }
}
