import { stat } from 'node:fs/promises';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { diskFullText, RunError, type Logger } from 'singer-kit';

/** How long a job's lock outlives a runner that stopped renewing it (killed), unless the runner says otherwise. */
export const DEFAULT_LOCK_STALE_MS = 30_000;

/**
 * How often a runner touches the lock it holds, whatever staleness it was given. A lock is judged
 * stale by whoever wants it, with that one's own staleness (a backfill by hand 30 s, a scheduler's
 * run its lease, which may be 2 s or 10 min), so every holder must refresh faster than the shortest
 * of them: a scheduler with a 10-minute lease refreshing every 5 minutes would look dead to a
 * backfill by hand after 30 s, and two runners would work on the job at once (and the second would
 * close the first's run as one whose runner is gone). 1 s is proper-lockfile's shortest.
 */
const LOCK_REFRESH_MS = 1_000;

/** The lock beside a state file (`<job>.lock`, `notifications.lock`): held by the one process working on it. */
export function jobLockFile(stateFile: string): string {
  return stateFile.replace(/\.json$/, '.lock');
}

/**
 * Until when the job's lock holds if its runner stops refreshing it now: its last refresh plus
 * `staleMs`, judged as the lock itself judges it; undefined when no runner holds it (no lock, or
 * one that went stale by `staleMs`).
 */
export async function jobLockedUntil(stateFile: string, staleMs = DEFAULT_LOCK_STALE_MS): Promise<Date | undefined> {
  const refreshed = await stat(jobLockFile(stateFile)).catch(() => undefined);
  // proper-lockfile never judges a lock stale under 2 s.
  const until = refreshed && new Date(refreshed.mtime.getTime() + Math.max(staleMs, 2_000));
  return until && until.getTime() > Date.now() ? until : undefined;
}

/** Whether some runner holds the job's lock now (a backfill by hand, a runner of another scheduler). */
export async function isJobLocked(stateFile: string, staleMs = DEFAULT_LOCK_STALE_MS): Promise<boolean> {
  return (await jobLockedUntil(stateFile, staleMs)) !== undefined;
}

/** The job's state file is locked by another runner: nothing was run; try again when it is done. */
export class JobBusyError extends RunError {}

/**
 * Takes the lock beside a state file (`<name>.lock`) for this process: refreshed every
 * LOCK_REFRESH_MS while held, so it holds however long the holder works, and taken over from a
 * holder that stopped refreshing it `staleMs` ago (killed). Undefined when another process holds
 * it; else the release. A lock lost meanwhile (its file removed or taken over) is `onCompromised`.
 */
export async function lockStateFile(
  stateFile: string,
  options: { readonly staleMs?: number; readonly onCompromised: (error: Error) => void },
): Promise<(() => Promise<void>) | undefined> {
  try {
    return await lock(stateFile, {
      realpath: false,
      lockfilePath: jobLockFile(stateFile),
      stale: options.staleMs ?? DEFAULT_LOCK_STALE_MS,
      update: LOCK_REFRESH_MS,
      onCompromised: options.onCompromised,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw error;
  }
}

/**
 * Takes the job's lock for the one runner that may work on it now (a backfill, sync or
 * reconcile of the job); JobBusyError when another holds it. Returns the release.
 */
export async function lockJob(stateFile: string, job: string, options: { readonly staleMs?: number; readonly logger: Logger }): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const lockFile = jobLockFile(stateFile);
  const release = await lockStateFile(stateFile, { staleMs, onCompromised: (error) => options.logger.warn(`lock of job ${job} lost: ${error.message}`) }).catch(
    (error: unknown) => {
      // Not another runner: the folder refused the lock (a full disk, not writable), which a person must hear of in one line.
      const dir = path.dirname(lockFile);
      throw new RunError(
        `cannot take the lock of job ${job} (${lockFile}): ${diskFullText(error, dir) ?? `${(error as Error).message}; make ${dir} writable`}, then run again: it resumes`,
        { cause: error },
      );
    },
  );
  if (release) return release;
  // When it frees: after a kill -9, the console already says the runner is gone, and the person retrying needs the time, not a guess.
  const until = await jobLockedUntil(stateFile, staleMs);
  throw new JobBusyError(
    `job ${job} is already running: its state file ${stateFile} is locked by another runner (a lock left by a killed runner expires after ${Math.round(staleMs / 1000)} s${until ? `: this one at ${until.toISOString().replace(/\.\d+Z$/, 'Z')} unless its runner refreshes it` : ''})`,
  );
}
