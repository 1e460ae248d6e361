import { hostname } from 'node:os';
import type { Logger } from 'singer-kit';
import type { TargetSettings } from 'target-postgres-raw';
import { removeAbandonedConfigDirs } from '../childConfigs.js';
import { JobBusyError, lockJob } from '../jobLock.js';
import { visitWarehouse } from '../visitWarehouse.js';
import type { RunJournal } from './RunJournal.js';
import { warehouseText, type RunRecord, type RunWarehouse } from './RunRecord.js';

export interface RunSweeperOptions {
  /** The state folder's runs journal (a company's, with a companies file). */
  readonly journal: RunJournal;
  /** A job's lock not refreshed for this long has no runner: the scheduler's lease (`--lease-seconds`). */
  readonly staleMs: number;
  /**
   * The warehouse a run's target would load into with `targetConfig` (default: the scheduler's own
   * --target-config) and the scheduler's environment (TARGET_POSTGRES_RAW_*, DATABASE_URL) and, for
   * a company, its settings, as the console works it out; throws when nothing says where it is.
   */
  readonly warehouse: (targetConfig?: string) => TargetSettings;
  readonly logger: Logger;
  /**
   * False: a sweep leaves the config folders of gone runners (`removeAbandonedConfigDirs`) to its
   * caller. They are the host's, not a state folder's: a companies scheduler removes them once a
   * pass in its own name, not once per company in the name of the company that swept first.
   */
  readonly removeConfigDirs?: boolean;
}

/**
 * Closes the runs of a state folder whose runner died (kill -9, out of memory, a lost machine)
 * between runs of their job, so that neither the journal nor the console nor `_pipeline_runs`
 * says `running` about them until the job's next run, up to a day later for a nightly sync.
 *
 * The scheduler sweeps at each pass, not the console: the scheduler writes the state folder
 * anyway (triggers, leases, its runs), and already judges job locks and takes them; a console may
 * be given a folder it only reads, and a page view should change nothing. A console with no
 * scheduler beside it shows such a run as `running` · runner gone? (`RunJournal.runnerMissing`).
 *
 * For each job with a run still `running`, it takes the job's lock, as a run of the job would: a
 * live runner holds it (refreshed every second), so the sweep leaves its job alone, as does a
 * second sweeper or a runner that got the lock first; a lock unrefreshed for `staleMs` is a dead
 * runner's. Holding it, `RunJournal.closeGone` closes the job's running runs, and the lock is let
 * go at once; then `Warehouse.closeGoneRuns` brings their rows up to date (from the closed records,
 * which nothing changes any more), again at the next sweep while the warehouse cannot be reached.
 * A run's row is closed where the run recorded it went (`RunRecord.warehouse`: a backfill by hand
 * with its own --target-config may load elsewhere), connected as `#settingsFor` says.
 *
 * A run that ended while its warehouse could not be reached (its record says `rowBehind`) left a
 * row saying running: the same `Warehouse.closeGoneRuns` copies its record in (no lock needed, the
 * record is final), and then the record's mark is removed.
 */
export class RunSweeper {
  /** Names the sweeper in what it closes: `the scheduler (pid 12 on host)`. */
  readonly name = `the scheduler (pid ${process.pid} on ${hostname()})`;
  readonly #o: RunSweeperOptions;
  /**
   * Jobs (and their company) whose rows in `_pipeline_runs` are still to be closed, per warehouse the
   * rows went to; `behind`, the finished runs among them whose record says `rowBehind`; `warned` once a failure to was logged.
   */
  readonly #rows = new Map<
    string,
    { readonly job: string; readonly company: string | undefined; readonly where: RunWarehouse | undefined; readonly behind: Set<string>; warned: boolean }
  >();

  constructor(options: RunSweeperOptions) {
    this.#o = options;
  }

  /**
   * One sweep: the runs it closed in the journal (their rows follow, or at a later sweep). Jobs in
   * `except` are left to the run about to start for them, which closes them as it starts. First,
   * the config folders (secrets included) that runners on this host left as they died are removed
   * (`removeAbandonedConfigDirs`), also those of a scheduler killed with its runs.
   */
  async sweep(except: ReadonlySet<string> = new Set()): Promise<RunRecord[]> {
    const { journal, staleMs, logger, removeConfigDirs = true } = this.#o;
    if (removeConfigDirs) await removeAbandonedConfigDirs(logger);
    const jobs = new Set<string>();
    for (const r of await journal.list()) {
      if (except.has(r.job)) continue;
      if (r.status === 'running') jobs.add(r.job);
      // A run that ended while its warehouse was down: its row still says running until this record is copied in.
      else if (r.rowBehind) this.#pending(r).behind.add(r.id);
    }
    const closed: RunRecord[] = [];
    for (const job of jobs) {
      let release: () => Promise<void>;
      try {
        release = await lockJob(journal.jobStateFile(job), job, { staleMs, logger });
      } catch (error) {
        if (error instanceof JobBusyError) continue; // its runner is alive, or one is starting
        throw error;
      }
      try {
        const gone = await journal.closeGone(job, { sweeper: this.name });
        for (const r of gone.closed) {
          logger.warn(
            `run ${r.id} of job ${job} (started ${r.startedAt}) still said running, but its runner (pid ${r.pid} on ${r.host}) was gone and no runner held the job's lock; closed it as failed`,
          );
        }
        for (const r of gone.closed) this.#pending(r);
        closed.push(...gone.closed);
      } finally {
        await release();
      }
    }
    await this.#closeRows();
    return closed;
  }

  /** The rows still to close of a run's job in the warehouse the run's row went to. */
  #pending(r: RunRecord) {
    const key = JSON.stringify([r.job, r.warehouse ?? null]);
    const pending = this.#rows.get(key) ?? { job: r.job, company: r.company, where: r.warehouse, behind: new Set<string>(), warned: false };
    this.#rows.set(key, pending);
    return pending;
  }

  async #closeRows(): Promise<void> {
    for (const [key, pending] of this.#rows) {
      const { job, company, where, behind } = pending;
      try {
        await visitWarehouse(this.#settingsFor(where), 'qbo-pipeline scheduler', (warehouse) =>
          warehouse.closeGoneRuns({ job, company }, { sweeper: this.name }, this.#o.journal),
        );
        this.#rows.delete(key);
        for (const id of behind) await this.#o.journal.rowCaughtUp(id);
      } catch (error) {
        if (!pending.warned)
          this.#o.logger.warn(
            `could not close the runs of job ${job} in _pipeline_runs${where ? ` of ${warehouseText(where)}` : ''}: ${(error as Error).message}; the scheduler tries again at each pass`,
          );
        pending.warned = true;
      }
    }
  }

  /**
   * How to reach the PostgreSQL a run's row went to (`where`; unknown for an older runner's run:
   * the scheduler's own warehouse, as before). Credentials only ever go to the server they were
   * given for: the scheduler's own settings when they name that server (host, port, database; the
   * run's schema then), else the run's own --target-config as this scheduler reads it, when it
   * names that server still. Otherwise the error says what each of them names instead.
   */
  #settingsFor(where: RunWarehouse | undefined): TargetSettings {
    if (where === undefined) return this.#o.warehouse();
    const problems: string[] = [];
    for (const targetConfig of [undefined, ...(where.targetConfig !== undefined ? [where.targetConfig] : [])]) {
      const whose = targetConfig === undefined ? "this scheduler's target settings" : `the run's --target-config ${targetConfig}`;
      try {
        const settings = this.#o.warehouse(targetConfig);
        const { host, port, database } = settings.connection;
        if (host === where.host && port === where.port && database === where.database) return { ...settings, schema: where.schema };
        problems.push(`${whose} name ${host}:${port}/${database}`);
      } catch (error) {
        problems.push(`${whose}: ${(error as Error).message}`);
      }
    }
    throw new Error(
      `no settings of this scheduler reach it (${problems.join('; ')}): give the scheduler that warehouse's settings, or run the job again with the same target settings, which closes the row`,
    );
  }
}
