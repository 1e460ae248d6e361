import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lock } from 'proper-lockfile';
import { RunError, type Logger } from 'singer-kit';
import type { Company } from './parseCompanies.js';

/**
 * Holds the company's realm for one run, across processes (a scheduler and a person's
 * `backfill --company`): one job per realm at a time, so each has the realm's whole budget and
 * two can never be over it together. Waits, logging once, while another job of the realm runs;
 * a stop while waiting ends the wait.
 */
export async function holdRealm(
  stateDir: string,
  company: Company,
  options: { readonly logger: Logger; readonly signal?: AbortSignal; readonly pollMs?: number },
): Promise<() => Promise<void>> {
  await mkdir(stateDir, { recursive: true });
  const file = path.join(stateDir, 'realm');
  let waited = false;
  for (;;) {
    try {
      return await lock(file, {
        realpath: false,
        lockfilePath: `${file}.lock`,
        stale: 30_000,
        onCompromised: (error) => options.logger.warn(`lock of realm ${company.realmId} (company ${company.name}) lost: ${error.message}`),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    }
    if (!waited) options.logger.info(`company ${company.name}: waiting for its other job to finish (one job per realm at a time, within its request budget)`);
    waited = true;
    if (options.signal?.aborted) throw new RunError(`company ${company.name}: stopped while waiting for its other job to finish`);
    await sleep(options.pollMs ?? 2000, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
  }
}
