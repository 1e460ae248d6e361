import { stat } from 'node:fs/promises';
import { envFileName, loadSettings, Secret } from 'singer-kit';
import { ENV_PREFIX as TAP_ENV_PREFIX, TAP_SETTINGS } from 'tap-quickbooks';
import { newRefreshTokenGoes } from '../companies/companyRun.js';
import type { ConsoleCompany, ConsoleReading } from './ConsoleContext.js';

/** Where a new refresh token goes when the console knows of no companies file entry. */
export const TAP_REFRESH_TOKEN_SETTING = "the tap's refresh_token setting";

/**
 * The refresh token a company's next run starts from, as the console can tell it: where a person
 * puts a new one, and, when it can be read, the token (never shown) of which realm and when its
 * file was saved. Token health compares it with the stored chain: no request to QuickBooks.
 */
export interface ConfiguredRefreshToken {
  readonly where: string;
  readonly realmId?: string;
  readonly token?: Secret;
  readonly savedAt?: string;
}

/** The realm and refresh token these tap settings give, read as the tap reads them (undefined when they give none). */
function fromTapSettings(read: () => Record<string, unknown>): Pick<ConfiguredRefreshToken, 'realmId' | 'token'> {
  try {
    const raw = read();
    const realm = raw.realm_id;
    const token = raw.refresh_token;
    return {
      ...(typeof realm === 'string' || typeof realm === 'number' ? { realmId: String(realm) } : {}),
      ...(typeof token === 'string' && token !== '' ? { token: new Secret(token) } : {}),
    };
  } catch {
    // A file that cannot be read is said elsewhere (the secret file problems, a run's own error).
    return {};
  }
}

/**
 * A company's configured refresh token: its refresh_token_file with a companies file, else the
 * settings the console's own `--tap-config` and environment give (the scheduler's, under
 * `scheduler --console`).
 */
export async function configuredRefreshToken(company: ConsoleCompany, reading: ConsoleReading): Promise<ConfiguredRefreshToken> {
  const env = reading.env ?? process.env;
  const settings = company.entry?.settings;
  if (!settings) {
    const tap = fromTapSettings(() =>
      loadSettings({ specs: TAP_SETTINGS, envPrefix: TAP_ENV_PREFIX, env, ...(reading.tapConfig ? { configFile: reading.tapConfig } : {}) }),
    );
    return { where: TAP_REFRESH_TOKEN_SETTING, ...tap };
  }
  const where = newRefreshTokenGoes(settings) ?? TAP_REFRESH_TOKEN_SETTING;
  const file = settings.secretFiles.refresh_token_file?.path;
  if (file === undefined) return { where };
  const fileEnv = { [envFileName(TAP_ENV_PREFIX, 'refresh_token')]: file };
  const { token } = fromTapSettings(() => loadSettings({ specs: TAP_SETTINGS, envPrefix: TAP_ENV_PREFIX, env: fileEnv }));
  const savedAt = await stat(file).then(
    (s) => s.mtime.toISOString(),
    () => undefined,
  );
  return { where, realmId: settings.realmId, ...(token ? { token } : {}), ...(savedAt ? { savedAt } : {}) };
}
