#!/usr/bin/env node
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LineWriter, RunError, UsageError, createLogger, runCli } from 'singer-kit';
import { randomBytes } from 'node:crypto';
import { parseCliOptions } from './cliOptions.js';
import { settingsRange } from './settingsRange.js';
import type { Emulator } from './Emulator.js';
import { startEmulator } from './startEmulator.js';

/** The credentials as Docker-style secret files (one value per file, 0600): DIR/client_id, DIR/client_secret, DIR/<company>/refresh_token. */
async function writeSecrets(dir: string, emulator: Emulator, names: readonly string[]): Promise<void> {
  const write = async (file: string, value: string) => {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, `${value}\n`, { mode: 0o600 });
  };
  await write(path.join(dir, 'client_id'), emulator.clientId);
  await write(path.join(dir, 'client_secret'), emulator.clientSecret);
  for (const [i, company] of emulator.companies.entries()) await write(path.join(dir, names[i] as string, 'refresh_token'), company.currentRefreshToken());
}

runCli('qbo-emulator', async () => {
  const options = parseCliOptions(process.argv.slice(2));
  const log = createLogger('qbo-emulator');
  const startedAt = new Date();
  // A refresh token of this process's own for every company (but one given with --refresh-token):
  // a tap whose token store still holds an earlier emulator's chain sees a new configured token
  // and starts a new chain instead of invalid_grant.
  const { seed = 42, refreshToken, companies } = options.emulator;
  const thisProcess = randomBytes(4).toString('hex');
  const own = (index: number) => `AB11emulator-refresh-token-seed-${seed + index}-${thisProcess}`;
  const emulatorOptions = companies
    ? { ...options.emulator, companies: companies.map((c, i) => ({ ...c, refreshToken: c.refreshToken ?? (i === 0 ? refreshToken : undefined) ?? own(i) })) }
    : { ...options.emulator, refreshToken: refreshToken ?? own(0) };
  const emulator = await startEmulator(emulatorOptions).catch((error: unknown) => {
    // Bad counts or dates in the options are usage errors; anything else (port taken…) is not.
    if (error instanceof RangeError) throw new UsageError(error.message, { cause: error });
    throw new RunError(`could not start: ${(error as Error).message}`, { cause: error });
  });
  const names = options.companyNames ?? emulator.companies.map((c) => c.realmId);
  if (options.secretsDir !== undefined) {
    await writeSecrets(options.secretsDir, emulator, names).catch((error: unknown) => {
      throw new UsageError(`--secrets-dir ${options.secretsDir}: ${(error as Error).message}`, { cause: error });
    });
  }
  // Listening before the settings line goes out: whoever reads it may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // One JSON line shaped like the tap's settings (of the first company), with a range covering
  // its records, so `tap-quickbooks --config` can use it as it is.
  const out = new LineWriter(process.stdout);
  await out.writeJson({
    ...settingsRange({ now: options.emulator.now, days: options.emulator.days ?? 90 }, startedAt),
    ...emulator.tapSettings({
      admin_url: `${emulator.baseUrl}/__admin/`,
      ...(options.emulator.companies
        ? { companies: emulator.companies.map((c, i) => ({ name: names[i], realm_id: c.realmId, refresh_token: c.currentRefreshToken() })) }
        : {}),
    }),
  });
  await out.flush();
  const realms = emulator.companies.map((c) => c.realmId).join(', ');
  log.info(
    `serving QuickBooks Online ${emulator.companies.length > 1 ? 'realms' : 'realm'} ${realms} at ${emulator.baseUrl} (token URL ${emulator.tokenUrl}); Ctrl-C stops it`,
  );
  await stopped;
  await emulator.close();
  log.info('stopped');
});
