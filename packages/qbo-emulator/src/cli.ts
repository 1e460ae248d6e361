#!/usr/bin/env node
import { LineWriter, RunError, UsageError, createLogger, runCli } from 'singer-kit';
import { parseCliOptions } from './cliOptions.js';
import { startEmulator } from './startEmulator.js';

runCli('qbo-emulator', async () => {
  const options = parseCliOptions(process.argv.slice(2));
  const log = createLogger('qbo-emulator');
  const emulator = await startEmulator(options).catch((error: unknown) => {
    // Bad counts or dates in the options are usage errors; anything else (port taken…) is not.
    if (error instanceof RangeError) throw new UsageError(error.message, { cause: error });
    throw new RunError(`could not start: ${(error as Error).message}`, { cause: error });
  });
  // One JSON line shaped like the tap's settings, so a script can use it as they are.
  const out = new LineWriter(process.stdout);
  await out.writeJson({
    base_url: emulator.baseUrl,
    token_url: emulator.tokenUrl,
    realm_id: emulator.realmId,
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    refresh_token: emulator.currentRefreshToken(),
    admin_url: `${emulator.baseUrl}/__admin/`,
  });
  await out.flush();
  log.info(`serving QuickBooks Online realm ${emulator.realmId} at ${emulator.baseUrl} (token URL ${emulator.tokenUrl}); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.close();
  log.info('stopped');
});
