import { hostname } from 'node:os';
import type { Logger } from 'singer-kit';
import type { TargetSettings } from 'target-postgres-raw';
import { removeAbandonedConfigDirs } from '../childConfigs.js';
import { JobBusyError, lockJob } from '../jobLock.js';
import { visitWarehouse } from '../visitWarehouse.js';
import type { RunJournal } from './RunJournal.js';
import type { RunRecord } from './RunRecord.js';

export interface RunSweeperOptions {
  /** The state folder's runs journal (a company's, with a companies file). */
  readonly journal: RunJournal;
  /** A job's lock not refreshed for this long has no runner: the scheduler's lease (`--lease-seconds`). */
  readonly staleMs: number;
  /**
   * The warehouse whose `_pipeline_runs` the folder's runs write, as the console works it out
   * (TARGET_POSTGRES_RAW_*, DATABASE_URL, a company's settings); throws when nothing says.
   */
  readonly warehouse: () => TargetSettings;
  readonly logger: Logger;
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
 */
export class RunSweeper {
  /** Names the sweeper in what it closes: `the scheduler (pid 12 on host)`. */
  readonly name = `the scheduler (pid ${process.pid} on ${hostname()})`;
  readonly #o: RunSweeperOptions;
  /** Jobs (and their company) whose rows in `_pipeline_runs` are still to be closed; `true` once a failure to was logged. */
  readonly #rows = new Map<string, { readonly company: string | undefined; warned: boolean }>();

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
    const { journal, staleMs, logger } = this.#o;
    await removeAbandonedConfigDirs(logger);
    const jobs = new Map<string, string | undefined>();
    for (const r of await journal.list()) if (r.status === 'running' && !except.has(r.job)) jobs.set(r.job, r.company);
    const closed: RunRecord[] = [];
    for (const [job, company] of jobs) {
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
        if (gone.closed.length > 0) this.#rows.set(job, { company, warned: false });
        closed.push(...gone.closed);
      } finally {
        await release();
      }
    }
    await this.#closeRows();
    return closed;
  }

  async #closeRows(): Promise<void> {
    for (const [job, pending] of this.#rows) {
      try {
        const settings = this.#o.warehouse();
        await visitWarehouse(settings, 'qbo-pipeline scheduler', (warehouse) =>
          warehouse.closeGoneRuns({ job, company: pending.company }, { sweeper: this.name }, this.#o.journal),
        );
        this.#rows.delete(job);
      } catch (error) {
        if (!pending.warned)
          this.#o.logger.warn(`could not close the runs of job ${job} in _pipeline_runs: ${(error as Error).message}; the scheduler tries again at each pass`);
        pending.warned = true;
      }
    }
  }
}
