#!/usr/bin/env node
// First: it must run before pg is loaded (see the file).
import './nodeNavigator.js';
import { ABOUT_FORMATS, createLogger, formatAbout, loadSettings, openUserFile, plural, runCli, cliYargs, hideBin } from 'singer-kit';
import { TARGET_ABOUT, TARGET_VERSION } from './about.js';
import { parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS } from './settings.js';

runCli('target-postgres-raw', async () => {
  const argv = await cliYargs(hideBin(process.argv))
    .scriptName('target-postgres-raw')
    .usage('$0 --config FILE [--input FILE] < messages.singer > state.jsonl')
    .option('config', { type: 'string', describe: 'JSON settings file (settings may also come from TARGET_POSTGRES_RAW_* env vars)' })
    .option('input', { type: 'string', describe: 'read Singer messages from FILE instead of stdin' })
    .option('about', { type: 'boolean', describe: 'print what this target is and its settings' })
    .option('format', { choices: ABOUT_FORMATS, default: 'text' as const, describe: 'format of --about' })
    .version(TARGET_VERSION)
    .parse();
  if (argv.about) {
    process.stdout.write(formatAbout(TARGET_ABOUT, argv.format) + '\n');
    return 0;
  }
  // Loaded only to run: --help and --about (Meltano asks for it) need neither pg nor ajv.
  const { runTarget } = await import('./runTarget.js');
  const settings = parseTargetSettings(loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, configFile: argv.config }));
  const logger = createLogger('target-postgres-raw');
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stop.signal.aborted) {
        // A second signal while committing: stop now; the open transaction rolls back, no state is printed for it.
        logger.warn(`second ${signal}: exiting without waiting for the commit`);
        process.exit(1);
      }
      logger.info(`${signal} received`);
      stop.abort(`${signal} received`);
    });
  }
  const input = argv.input ? await openUserFile(argv.input, (reason) => `cannot read --input ${argv.input}: ${reason}`) : 'stdin';
  try {
    const summary = await runTarget({ settings, input, output: process.stdout, logger, signal: stop.signal });
    logger.info(
      `done (${summary.stoppedBy}): ${plural(summary.commits, 'commit')}, ${plural(summary.statesPrinted, 'state')} printed, load run ${summary.loadRunId}`,
    );
    return 0;
  } finally {
    if (input !== 'stdin') await input.close();
  }
});
