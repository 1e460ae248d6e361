import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { envFileName, withoutSettingEnv } from 'singer-kit';
import { SET_NEW_REFRESH_TOKEN, ENV_PREFIX as TAP_ENV_PREFIX } from 'tap-quickbooks';
import { TARGET_ENV_PREFIX } from 'target-postgres-raw';
import { SECRET_FILES, SECRET_FILE_KEYS } from './companiesSchema.js';
import type { Company, SettingValue } from './parseCompanies.js';
import { ifExists } from '../ifExists.js';

/** The folder holding every company's state folder. */
export function companiesStateDir(stateRoot: string): string {
  return path.join(stateRoot, 'companies');
}

/** A company's own state folder: job state files, triggers, runs and its token store. */
export function companyStateDir(stateRoot: string, name: string): string {
  return path.join(companiesStateDir(stateRoot), name);
}

/** The state folders of companies the file no longer lists (taken out of it), by name; `listed` are the file's companies. */
export async function companiesNotInFile(listed: readonly string[], stateRoot: string): Promise<Array<{ readonly name: string; readonly stateDir: string }>> {
  const folders = (await ifExists(() => readdir(companiesStateDir(path.resolve(stateRoot)), { withFileTypes: true }))) ?? [];
  return folders
    .filter((f) => f.isDirectory() && !listed.includes(f.name))
    .map((f) => ({ name: f.name, stateDir: companyStateDir(path.resolve(stateRoot), f.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * What became of a company taken out of the companies file (`company list` and the scheduler say
 * it): nothing runs it, and nothing of it is deleted. `folder` is its state folder as shown,
 * `schema` its schema when known.
 */
export function notInFile(name: string, file: string, folder: string, schema?: string): string {
  return (
    `company ${name} is not in companies file ${file} any more: nothing of it runs (its pending triggers wait, unrun: trigger list --companies ${file} shows them); ` +
    `its state folder ${folder} (bookmarks, token store, runs) and its rows${schema === undefined ? '' : ` in schema ${schema}`} are kept. ` +
    `Put it back in the file to go on from its bookmarks, or delete the folder and drop the schema to forget it`
  );
}

/** The company's token store: one per realm, in its state folder (the tap's default layout, `tokens/<realm_id>.json`). */
export function companyTokenStore(stateDir: string, company: Pick<Company, 'realmId'>): string {
  return path.join(stateDir, 'tokens', `${company.realmId}.json`);
}

export interface CompanyChildSettings {
  /** Goes into the tap's config file, over `--tap-config`. */
  readonly tap: Readonly<Record<string, SettingValue>>;
  /** Goes into the target's config file, over `--target-config`. */
  readonly target: Readonly<Record<string, SettingValue>>;
  /** The children's environment: secrets as `<PREFIX>_<SETTING>_FILE`, and no variable that would override what the company says. */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * What the tap and target of one company's run get. For a company, the companies file wins over
 * the environment: every setting it gives (realm, schema, token store, tap and target settings,
 * secrets) is taken out of the inherited environment, where it would otherwise win over the
 * config files. Secrets reach the children as file paths only; the runner never reads them.
 */
export function companyChildSettings(company: Company, stateDir: string, env: NodeJS.ProcessEnv): CompanyChildSettings {
  const tap = { ...company.tap, realm_id: company.realmId, token_store: companyTokenStore(stateDir, company) };
  const target = { ...company.target, schema: company.schema };
  let childEnv = withoutSettingEnv(withoutSettingEnv(env, TAP_ENV_PREFIX, Object.keys(tap)), TARGET_ENV_PREFIX, Object.keys(target));
  for (const key of SECRET_FILE_KEYS) {
    const file = company.secretFiles[key];
    if (!file) continue;
    const { prefix, setting } = SECRET_FILES[key];
    childEnv = { ...withoutSettingEnv(childEnv, prefix, [setting]), [envFileName(prefix, setting)]: file.path };
  }
  return { tap, target, env: childEnv };
}

/** Where a company's new refresh token goes after a reconnect: its refresh_token_file, as the companies file names it. */
export function newRefreshTokenGoes(company: Pick<Company, 'secretFiles'>): string | undefined {
  const secret = company.secretFiles.refresh_token_file;
  return secret ? `its refresh_token_file ${secret.given} (companies file ${secret.where})` : undefined;
}

/**
 * The tap's words after invalid_grant, for a company's run: "set the new refresh_token" names a
 * setting its runs never read; the company's refresh_token_file is where the new token goes.
 */
export function withCompanyTokenAdvice(text: string, company: Pick<Company, 'secretFiles'>): string {
  const goes = newRefreshTokenGoes(company);
  return goes ? text.replace(SET_NEW_REFRESH_TOKEN, `put the new refresh token in ${goes}`) : text;
}
