import { access, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'singer-kit';
import { companyTokenStore } from './companyRun.js';
import type { Company } from './parseCompanies.js';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * A company that ran before it was in a companies file kept its rotated refresh token in the tap's
 * default store, `<state-dir>/tokens/<realm_id>.json`. The company's first run moves that file to
 * its own folder: the configured refresh token is usually superseded by then, and two stores for
 * one realm would break each other. Not while another process holds the old store's lock.
 */
export async function adoptLegacyTokenStore(stateRoot: string, stateDir: string, company: Company, logger: Logger): Promise<void> {
  const legacy = path.join(stateRoot, 'tokens', `${company.realmId}.json`);
  const own = companyTokenStore(stateDir, company);
  if ((await exists(own)) || !(await exists(legacy)) || (await exists(`${legacy}.lock`))) return;
  await mkdir(path.dirname(own), { recursive: true, mode: 0o700 });
  await rename(legacy, own);
  logger.info(`company ${company.name}: moved the token store of realm ${company.realmId} from ${legacy} to ${own} (one token store per realm)`);
}
