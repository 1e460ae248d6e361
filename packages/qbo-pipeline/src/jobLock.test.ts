import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger, RunError } from 'singer-kit';
import { isJobLocked, JobBusyError, lockJob } from './jobLock.js';

describe('lockJob', () => {
  it('a runner with a long staleness (a scheduler with a long lease) still looks alive to one judging with a short one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'job-lock-'));
    const stateFile = path.join(dir, 'qb_invoices.json');
    const logger = createLogger('qbo-pipeline', { sink: () => undefined });
    const release = await lockJob(stateFile, 'qb_invoices', { staleMs: 600_000, logger });
    try {
      // Longer than a short staleness: a holder refreshing only every half of its own 10 minutes would look dead by now.
      await sleep(3_500);
      expect(await isJobLocked(stateFile, 2_500)).toBe(true);
      await expect(lockJob(stateFile, 'qb_invoices', { staleMs: 2_500, logger })).rejects.toThrow(JobBusyError);
      // It says when the lock frees if its holder stops refreshing it (killed): when to run again.
      await expect(lockJob(stateFile, 'qb_invoices', { staleMs: 2_500, logger })).rejects.toThrow(
        /is locked by another runner \(a lock left by a killed runner expires after 3 s: this one at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ unless its runner refreshes it\)$/,
      );
    } finally {
      await release();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a folder that refuses the lock (here a file where the state folder should be) is one line naming the lock and the folder, not another runner', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'job-lock-'));
    const notAFolder = path.join(dir, 'state');
    await writeFile(notAFolder, '');
    const logger = createLogger('qbo-pipeline', { sink: () => undefined });
    try {
      const refused = lockJob(path.join(notAFolder, 'qb_invoices.json'), 'qb_invoices', { logger });
      await expect(refused).rejects.toThrow(RunError);
      await expect(refused).rejects.not.toThrow(JobBusyError);
      await expect(refused).rejects.toThrow(
        `cannot take the lock of job qb_invoices (${notAFolder}/qb_invoices.lock): ENOTDIR: not a directory, mkdir '${notAFolder}/qb_invoices.lock'; make ${notAFolder} writable, then run again: it resumes`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
