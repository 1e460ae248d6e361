import { check } from 'proper-lockfile';

/** How long a job's lock outlives a runner that stopped renewing it (killed), unless the runner says otherwise. */
export const DEFAULT_LOCK_STALE_MS = 30_000;

/** The lock beside a job's state file (`<job>.lock`): held by the one runner working on the job. */
export function jobLockFile(stateFile: string): string {
  return stateFile.replace(/\.json$/, '.lock');
}

/** Whether some runner holds the job's lock now (a backfill by hand, a runner of another scheduler). */
export async function isJobLocked(stateFile: string, staleMs = DEFAULT_LOCK_STALE_MS): Promise<boolean> {
  return check(stateFile, { realpath: false, lockfilePath: jobLockFile(stateFile), stale: staleMs }).catch(() => false);
}
