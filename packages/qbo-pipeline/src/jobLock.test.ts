import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from 'singer-kit';
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
    } finally {
      await release();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
