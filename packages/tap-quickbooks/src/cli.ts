#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { createLogger, formatAbout, loadSettings, readJsonArgument, runCli, LineWriter, UsageError, cliYargs, hideBin } from 'singer-kit';
import { discoverCatalog } from 'qbo-catalog';
import { readStateArgument } from './state/readStateArgument.js';
import { ENV_PREFIX, parseTapSettings, TAP_SETTINGS } from './settings.js';

const NAME = 'tap-quickbooks';
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const CAPABILITIES = ['catalog', 'discover', 'state', 'about'] as const;

runCli(NAME, async () => {
  const argv = await cliYargs(hideBin(process.argv))
    .scriptName(NAME)
    .usage(`${NAME} --config FILE [--state FILE] [--catalog FILE | --properties FILE] [--discover] [--about [--format json|markdown]]`)
    .option('config', { alias: 'c', type: 'string', description: 'settings JSON (also TAP_QUICKBOOKS_* and *_FILE)' })
    .option('state', { alias: 's', type: 'string', description: 'Singer state JSON' })
    .option('catalog', { type: 'string', description: 'Singer catalog JSON' })
    .option('properties', { alias: 'p', type: 'string', description: 'legacy name for --catalog' })
    .option('discover', { alias: 'd', type: 'boolean', description: 'print the catalog and exit' })
    .option('about', { type: 'boolean', description: 'print name, version, capabilities and settings' })
    .option('format', { choices: ['text', 'json', 'markdown'] as const, default: 'text' as const, description: 'output of --about' })
    .version(VERSION)
    .parseAsync();

  const out = new LineWriter(process.stdout);
  if (argv.about) {
    await out.writeLine(
      formatAbout(
        {
          name: NAME,
          description: 'Singer tap for QuickBooks Online: every entity, complete over UTC windows, resumable',
          version: VERSION,
          capabilities: CAPABILITIES,
          settings: TAP_SETTINGS,
          envPrefix: ENV_PREFIX,
        },
        argv.format,
      ),
    );
    await out.flush();
    return;
  }
  if (argv.discover) {
    // Meltano may pass --state and a stale --catalog with --discover; both are ignored here.
    await out.writeLine(JSON.stringify(discoverCatalog(), null, 2));
    await out.flush();
    return;
  }
  if (argv.catalog !== undefined && argv.properties !== undefined) throw new UsageError('give either --catalog or --properties, not both');
  const catalogFile = argv.catalog ?? argv.properties;
  const raw = loadSettings({ specs: TAP_SETTINGS, envPrefix: ENV_PREFIX, configFile: argv.config });
  const settings = parseTapSettings(raw, DateTime.utc());
  const catalog = catalogFile === undefined ? undefined : readJsonArgument(catalogFile, 'catalog file');
  const given = argv.state === undefined ? undefined : readStateArgument(argv.state);
  const state = given?.value;
  const logger = createLogger(NAME);
  if (argv.state !== undefined && state === undefined)
    logger.info(`--state ${argv.state} is empty (nothing had been committed yet): every stream starts at start_date`);
  // stdout writes to a pipe are synchronous on Linux, so between two events no line is half
  // written: stopping here leaves whole lines, and the last STATE is a complete window's.
  // Ctrl-C reaches every program of a shell pipe: the target commits what it has and prints its
  // state, which is where the next run starts.
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    process.once(signal, () => {
      logger.warn(`stopped (${signal}); the last state the target printed marks where to resume (pipe: tail -n 1 of its output, then --state)`);
      process.exit(code);
    });
  }
  // Imported only here: --about, --discover and a bad setting never load the HTTP client and the sync (0.2 s a start).
  const { runTap } = await import('./runTap.js');
  await runTap({ settings, catalog, state, stateText: given?.text, out: process.stdout, logger, tty: process.stderr.isTTY ? process.stderr : undefined });
});
