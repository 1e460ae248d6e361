#!/usr/bin/env node
import path from 'node:path';
import { runCli, cliYargs, hideBin } from 'singer-kit';
import { runDemo } from './runDemo.js';

runCli('qbo-demo', async () => {
  const argv = await cliYargs(hideBin(process.argv))
    .scriptName('qbo-demo')
    .usage(
      '$0 [options]\n\nThe one-command demo (npm run demo): QBO emulator + embedded PostgreSQL (.data/pg), 30 days of invoices, customers, items, then the console.',
    )
    .option('data-dir', { type: 'string', default: '.data', describe: 'where the demo keeps PostgreSQL and its state' })
    .option('keep-running', { type: 'boolean', describe: 'keep PostgreSQL and the console up until Ctrl-C (default: when run on a terminal)' })
    .version(false)
    .help()
    .parse();
  return runDemo({ dataDir: path.resolve(argv['data-dir']), ...(argv['keep-running'] === undefined ? {} : { keepRunning: argv['keep-running'] }) });
});
