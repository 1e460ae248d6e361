#!/usr/bin/env node
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createLogger, runCli, UsageError } from 'singer-kit';
import type { BackfillRequest } from './BackfillRequest.js';
import { formatProgress } from './formatProgress.js';
import { formatSummary } from './formatSummary.js';
import { runBackfill, type BackfillHooks, type RunContext } from './runBackfill.js';
import type { StreamProgress } from './streamProgress.js';
import { addTrigger } from './triggers/addTrigger.js';
import { formatTriggers } from './triggers/formatTriggers.js';
import { runDueTriggers, runScheduler } from './triggers/runDueTriggers.js';
import { TriggerStore } from './triggers/TriggerStore.js';
import { runDemo } from './runDemo.js';

const logger = createLogger('qbo-pipeline');

function backfillOptions<T>(y: Argv<T>) {
  return y
    .option('streams', { type: 'string', demandOption: true, describe: 'comma-separated streams, e.g. invoices,customers,items' })
    .option('start', { type: 'string', demandOption: true, describe: 'start, inclusive: 2025-01-01 (midnight UTC), 2025-01-01T00:00:00Z or any offset' })
    .option('end', { type: 'string', demandOption: true, describe: 'end, exclusive (same forms)' })
    .option('job', { type: 'string', describe: 'job name; state file <state-dir>/<job>.json (default qb_<streams>_backfill)' })
    .option('fresh', { type: 'boolean', default: false, describe: 'ignore the state file (a backup is kept) and extract the whole range again' })
    .option('tap-config', { type: 'string', describe: 'tap-quickbooks settings (JSON); TAP_QUICKBOOKS_* env vars also work' })
    .option('target-config', { type: 'string', describe: 'target-postgres-raw settings (JSON); TARGET_POSTGRES_RAW_* env vars or DATABASE_URL also work' })
    .option('state-dir', { type: 'string', default: 'state', describe: 'folder of state files and triggers' });
}

function requestOf(argv: { streams: string; start: string; end: string; job?: string; fresh: boolean; 'tap-config'?: string; 'target-config'?: string; 'state-dir': string }): BackfillRequest {
  return {
    streams: argv.streams.split(','),
    start: argv.start,
    end: argv.end,
    fresh: argv.fresh,
    stateDir: argv['state-dir'],
    ...(argv.job ? { job: argv.job } : {}),
    ...(argv['tap-config'] ? { tapConfig: argv['tap-config'] } : {}),
    ...(argv['target-config'] ? { targetConfig: argv['target-config'] } : {}),
  };
}

/** Progress on stderr: one rewritten line on a terminal, a line per finished stream otherwise. */
function progressHook(): BackfillHooks['onProgress'] {
  const done = new Set<string>();
  return (progress: readonly StreamProgress[]) => {
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${formatProgress(progress)}\x1b[K`);
      if (progress.every((p) => p.complete)) process.stderr.write('\n');
      return;
    }
    for (const p of progress) {
      if (p.complete && !done.has(p.stream)) {
        done.add(p.stream);
        logger.info(`${p.stream}: all ${p.totalDays} days committed`);
      }
    }
  };
}

const triggerStore = (stateDir: string) => new TriggerStore(path.resolve(stateDir, 'triggers'));

/** SIGTERM (docker stop), SIGINT or SIGHUP (terminal closed): stop the children gracefully so their last commit is recorded. */
function stopSignal(): AbortSignal {
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stop.signal.aborted) logger.info(`${signal} received; stopping after the current commit`);
      stop.abort();
    });
  }
  return stop.signal;
}

runCli('qbo-pipeline', async () => {
  let exitCode = 0;
  await yargs(hideBin(process.argv))
    .scriptName('qbo-pipeline')
    .command(
      'backfill',
      'run tap-quickbooks | target-postgres-raw over [start, end), resuming from the job\'s state file',
      (y) => backfillOptions(y),
      async (argv) => {
        const result = await runBackfill(requestOf(argv), { onProgress: progressHook(), signal: stopSignal() });
        process.stdout.write(formatSummary(result) + '\n');
        exitCode = result.exitCode;
      },
    )
    .command('trigger', 'one-time triggers: run a backfill once at an exact instant', (y) =>
      y
        .command(
          'add',
          'record a trigger: --at <ISO instant with Z or offset> plus the backfill arguments',
          (yy) => backfillOptions(yy).option('at', { type: 'string', demandOption: true, describe: 'when, e.g. 2025-09-12T03:45:54Z or 2025-09-11T22:45:54-05:00' }),
          async (argv) => {
            const trigger = await addTrigger(triggerStore(argv['state-dir']), argv.at, requestOf(argv));
            const given = trigger.atGiven === trigger.at ? '' : ` (given as ${trigger.atGiven})`;
            process.stdout.write(`trigger ${trigger.id}: backfill ${trigger.backfill.job} [${trigger.backfill.start}, ${trigger.backfill.end}) at ${trigger.at} UTC${given}\n`);
            if (Date.parse(trigger.at) <= Date.now()) logger.warn(`trigger ${trigger.id} is already due: the scheduler runs it at its next pass, marked late`);
          },
        )
        .command(
          'list',
          'show every trigger with its status',
          (yy) => yy.option('state-dir', { type: 'string', default: 'state', describe: 'folder of state files and triggers' }),
          async (argv) => {
            process.stdout.write(formatTriggers(await triggerStore(argv['state-dir']).list(), new Date()) + '\n');
          },
        )
        .demandCommand(1, 'say trigger add or trigger list'),
    )
    .command(
      'scheduler',
      'run every due trigger exactly once (the docker compose service); --once for cron and tests',
      (y) =>
        y
          .option('state-dir', { type: 'string', default: 'state', describe: 'folder of state files and triggers' })
          .option('once', { type: 'boolean', default: false, describe: 'run what is due now, then exit' })
          .option('interval', { type: 'number', default: 5, describe: 'seconds between passes' }),
      async (argv) => {
        const store = triggerStore(argv['state-dir']);
        const signal = stopSignal();
        const run = async (request: BackfillRequest, context: RunContext) => {
          const result = await runBackfill(request, { signal, run: context });
          process.stdout.write(formatSummary(result) + '\n');
          return result;
        };
        if (argv.once) {
          const ran = await runDueTriggers({ store, run });
          exitCode = ran.some((t) => t.status === 'failed') ? 1 : 0;
          return;
        }
        logger.info(`scheduler watching ${store.dir} every ${argv.interval} s`);
        await runScheduler({ store, run, intervalMs: argv.interval * 1000, signal });
      },
    )
    .command(
      'demo',
      'the one-command demo: QBO emulator + embedded PostgreSQL (.data/pg), 30 days of invoices, customers, items',
      (y) =>
        y
          .option('data-dir', { type: 'string', default: '.data', describe: 'where the demo keeps PostgreSQL and its state' })
          .option('keep-running', { type: 'boolean', describe: 'keep PostgreSQL up until Ctrl-C (default: when run on a terminal)' }),
      async (argv) => {
        exitCode = await runDemo({ dataDir: path.resolve(argv['data-dir']), ...(argv['keep-running'] === undefined ? {} : { keepRunning: argv['keep-running'] }) });
      },
    )
    .demandCommand(1, 'say which command: backfill, trigger, scheduler or demo')
    .strict()
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    })
    .parseAsync();
  return exitCode;
});
