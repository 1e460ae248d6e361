#!/usr/bin/env node
import path from 'node:path';
import type { Argv } from 'yargs';
import { createLogger, runCli, RunError, UsageError, cliYargs, hideBin } from 'singer-kit';
import type { BackfillRequest, JobRequest } from './BackfillRequest.js';
import { usageMessage } from './usageMessage.js';
import type { BackfillHooks } from './runBackfill.js';
import type { StreamProgress } from './streamProgress.js';
import type { SyncRequest } from './runSync.js';
import { allCompaniesOptions, companiesFileOf, companiesOptions, DEFAULT_VIEWS_SCHEMA, maxParallelOf, refuseCompany } from './companies/companiesOptions.js';
import { KUBERNETES_DEFAULTS } from './companies/kubernetesOptions.js';
import type { CompanyRunRequest } from './companies/companyCommands.js';
import { CONSOLE_PASSWORD_FILE_ENV, DEFAULT_CONSOLE_HOST, DEFAULT_CONSOLE_PORT } from './console/consoleAccess.js';
import { NOTIFY_COMMAND_ENV, NOTIFY_EVERY_MS, NOTIFY_WEBHOOK_FILE_ENV } from './notify/notifySettings.js';

// What builds the commands and their --help is imported above; what a command runs is imported by its handler
// (`await import`), so --help, a usage error or one command never loads another's modules (the console's fastify,
// the runner's, the YAML parser...): every start of the CLI, by a user, cron or the scheduler, pays only for its own.

/** The companies commands, loaded only when a companies file is given (they bring the YAML parser). */
const companyCommands = () => import('./companies/companyCommands.js');
/** What the schedule commands use: the schedule and trigger stores and their listing. */
const scheduleModules = async () => ({
  ...(await import('./schedules/scheduleCommands.js')),
  ...(await import('./schedules/ScheduleStore.js')),
  ...(await import('./schedules/formatSchedules.js')),
  ...(await import('./triggers/TriggerStore.js')),
  ...(await import('./streamsText.js')),
});

const logger = createLogger('qbo-pipeline');

const STATE_DIR = { type: 'string', default: 'state', describe: 'folder of state files, triggers and schedules' } as const;
const MAX_PARALLEL = {
  type: 'number',
  describe: "with a companies file: companies at once (default: the file's scheduler.max_parallel, else 2 × CPU cores, at most 8)",
} as const;

/** What backfill and sync share: the streams, the job and where the settings and state are. */
function jobOptions<T>(y: Argv<T>) {
  return companiesOptions(y)
    .option('streams', {
      type: 'string',
      describe: "comma-separated streams, e.g. invoices,customers,items, or all (with a companies file: default each company's own)",
    })
    .option('job', {
      type: 'string',
      describe: 'job name; state file <state-dir>/<job>.json (default qb_<streams in alphabetical order>, qb_all for all, shared by backfill and sync)',
    })
    .option('tap-config', { type: 'string', describe: 'tap-quickbooks settings (JSON); TAP_QUICKBOOKS_* env vars also work' })
    .option('target-config', { type: 'string', describe: 'target-postgres-raw settings (JSON); TARGET_POSTGRES_RAW_* env vars or DATABASE_URL also work' })
    .option('state-dir', STATE_DIR);
}

function backfillOptions<T>(y: Argv<T>) {
  return jobOptions(y)
    .option('start', { type: 'string', demandOption: true, describe: 'start, inclusive: 2025-01-01 (midnight UTC), 2025-01-01T00:00:00Z or any offset' })
    .option('end', { type: 'string', demandOption: true, describe: 'end, exclusive (same forms)' })
    .option('fresh', { type: 'boolean', default: false, describe: 'ignore the state file (a backup is kept) and extract the whole range again' });
}

function syncOptions<T>(y: Argv<T>) {
  return jobOptions(y).option('start', {
    type: 'string',
    describe: 'where a stream starts when the job has no bookmark for it yet (its first sync); ignored once it has one',
  });
}

/** What backfill, sync and reconcile read from their arguments alike (`jobOptions`). */
function jobRequestOf(argv: {
  streams?: string | undefined;
  job?: string | undefined;
  'tap-config'?: string | undefined;
  'target-config'?: string | undefined;
  'state-dir': string;
}): JobRequest {
  return {
    streams: argv.streams?.split(',') ?? [],
    stateDir: argv['state-dir'],
    ...(argv.job ? { job: argv.job } : {}),
    ...(argv['tap-config'] ? { tapConfig: argv['tap-config'] } : {}),
    ...(argv['target-config'] ? { targetConfig: argv['target-config'] } : {}),
  };
}

function syncRequestOf(argv: Parameters<typeof jobRequestOf>[0] & { start?: string | undefined }): SyncRequest {
  return { ...jobRequestOf(argv), ...(argv.start ? { start: argv.start } : {}) };
}

function requestOf(argv: Parameters<typeof jobRequestOf>[0] & { start: string; end: string; fresh: boolean }): BackfillRequest {
  return { ...jobRequestOf(argv), start: argv.start, end: argv.end, fresh: argv.fresh };
}

/**
 * `backfill` or `sync`: every company of a companies file (or the one named), or the one job;
 * summaries on stdout. Returns the exit code.
 */
async function runJobCommand(
  argv: { companies?: string | undefined; company?: string | undefined; 'max-parallel'?: number | undefined },
  what: CompanyRunRequest,
): Promise<number> {
  const companies = companiesFileOf(argv);
  if (companies !== undefined) {
    const commands = await companyCommands();
    const selection = await commands.selectFromFile(companies, argv.company);
    return commands.runCompaniesCommand({
      selection,
      what,
      maxParallel: maxParallelOf(argv['max-parallel']),
      signal: stopSignal(),
      ...(argv.company ? { single: { onProgress: await progressHook() } } : {}),
    });
  }
  const hooks = { onProgress: await progressHook(), signal: stopSignal() };
  const result =
    what.kind === 'sync'
      ? await (await import('./runSync.js')).runSync(what.request, hooks)
      : await (await import('./runBackfill.js')).runBackfill(what.request, hooks);
  const { formatSummary, printRunnerFailure } = await import('./formatSummary.js');
  printRunnerFailure(result);
  process.stdout.write(formatSummary(result) + '\n');
  return result.exitCode;
}

/** Progress on stderr: one rewritten line on a terminal, a line per finished stream otherwise. */
async function progressHook(): Promise<BackfillHooks['onProgress']> {
  const { formatProgress, streamsDoneLines } = await import('./formatProgress.js');
  const done = new Set<string>();
  return (progress: readonly StreamProgress[]) => {
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${formatProgress(progress)}\x1b[K`);
      if (progress.every((p) => p.complete)) process.stderr.write('\n');
      return;
    }
    for (const line of streamsDoneLines(progress, done)) logger.info(line);
  };
}

const nameArgument = <T>(y: Argv<T>) =>
  y
    .positional('name', { type: 'string', demandOption: true, describe: "the schedule's name (schedule list shows them)" })
    .option('state-dir', STATE_DIR)
    // Taken only to be refused (refuseCompanySchedule), so not offered.
    .option('companies', { type: 'string', hidden: true })
    .option('company', { type: 'string', hidden: true });

/**
 * A company's recurring sync is its `schedule:` in the companies file: `schedule add|pause|resume|remove`
 * refuse a companies file, saying so, rather than act on `state/schedules/`, which the companies
 * scheduler never reads.
 */
function refuseCompanySchedule(command: string, file: string | undefined): void {
  if (file !== undefined)
    throw new UsageError(
      `schedule ${command}: with companies file ${file}, a company's recurring sync is its schedule: in that file (schedule: {cron: "15 3 * * *", tz: America/New_York}, under the company or defaults); edit it there: the scheduler reads it at its next pass, and schedule list --companies ${file} shows it`,
    );
}

/** pause, resume and remove act on the state folder's schedules; only a companies file named on their command line is refused (QBO_PIPELINE_COMPANIES alone is not: those schedules are still there to remove). */
const namedCompaniesFile = (argv: { companies?: string | undefined; company?: string | undefined }) =>
  argv.companies !== undefined || argv.company !== undefined ? companiesFileOf(argv) : undefined;

/**
 * SIGTERM (docker stop), SIGINT or SIGHUP (terminal closed): stop the children gracefully so their
 * last commit is recorded; `stopping` says what happens instead for a command without children (the console).
 */
function stopSignal(stopping = 'stopping after the current commit'): AbortSignal {
  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stop.signal.aborted) logger.info(`${signal} received; ${stopping}`);
      stop.abort(signal);
    });
  }
  return stop.signal;
}

/** The console's options, for `console` (plain names) and `scheduler --console` (prefixed). */
function consoleArgs<T>(y: Argv<T>, prefix: '' | 'console-') {
  return y
    .option(`${prefix}host`, {
      type: 'string',
      default: DEFAULT_CONSOLE_HOST,
      describe: `console address; anything but loopback needs a password (${CONSOLE_PASSWORD_FILE_ENV})`,
    })
    .option(`${prefix}port`, { type: 'number', default: DEFAULT_CONSOLE_PORT, describe: 'console port (0: any free port)' })
    .option('password-file', { type: 'string', describe: `file holding the console password (default: the file named by ${CONSOLE_PASSWORD_FILE_ENV})` })
    .option('tap-config', { type: 'string', describe: 'tap settings the triggers added in the console use' })
    .option('target-config', {
      type: 'string',
      describe:
        'target settings: the warehouse the evidence is read from, and where a scheduler closes the runs whose runner died (TARGET_POSTGRES_RAW_* or DATABASE_URL also work)',
    })
    .option('zone', { type: 'string', default: 'UTC', describe: 'time zone shown beside UTC, e.g. America/Guayaquil' });
}

const NOTIFY_WEBHOOK_FILE = {
  type: 'string',
  describe: `file holding the webhook URL (Slack, Teams or any http(s) endpoint) the scheduler notifies (default: ${NOTIFY_WEBHOOK_FILE_ENV}, else the companies file's notify.webhook_url_file)`,
} as const;

const NOTIFY_COMMAND = {
  type: 'string',
  describe: `a program the scheduler gives each notification's JSON on stdin, as a JSON list: '["msmtp", "-a", "ops", "alerts@firm.example"]' (default: ${NOTIFY_COMMAND_ENV}, else the companies file's notify.command)`,
} as const;

/** The scheduler's (or `notify test`'s) notifier, when a webhook or command is configured. */
const notifierOf = async (
  argv: {
    readonly 'state-dir': string;
    readonly 'notify-webhook-file'?: string | undefined;
    readonly 'notify-command'?: string | undefined;
    readonly 'target-config'?: string | undefined;
  },
  companies: string | undefined,
) =>
  (await import('./notify/Notifier.js')).Notifier.configured({
    stateDir: argv['state-dir'],
    companiesFile: companies,
    webhookFile: argv['notify-webhook-file'],
    command: argv['notify-command'],
    targetConfig: targetConfigOf(argv),
    env: process.env,
    logger: logger.child('notify'),
  });

/** `--target-config`, as an absolute path (a scheduler's sweeps read it again each time). */
const targetConfigOf = (argv: { readonly 'target-config'?: string | undefined }) =>
  argv['target-config'] === undefined ? undefined : path.resolve(argv['target-config']);

/** Starts the console and logs its URL; returns how to stop it. */
async function serveConsole(
  argv: Record<string, unknown>,
  prefix: '' | 'console-',
  stateDir: string,
  companiesFile: string | undefined,
): Promise<() => Promise<void>> {
  const { consoleOptions } = await import('./console/ConsoleContext.js');
  const { startConsole } = await import('./console/consoleServer.js');
  const text = (name: string) => (typeof argv[name] === 'string' ? argv[name] : undefined);
  const options = consoleOptions(
    {
      stateDir,
      ...(companiesFile !== undefined ? { companiesFile } : {}),
      ...(text(`${prefix}host`) !== undefined ? { host: text(`${prefix}host`) } : {}),
      ...(typeof argv[`${prefix}port`] === 'number' ? { port: argv[`${prefix}port`] as number } : {}),
      ...(text('password-file') !== undefined ? { passwordFile: text('password-file') } : {}),
      ...(text('tap-config') !== undefined ? { tapConfig: text('tap-config') } : {}),
      ...(text('target-config') !== undefined ? { targetConfig: text('target-config') } : {}),
      ...(text('zone') !== undefined ? { zone: text('zone') } : {}),
    },
    process.env,
    logger,
  );
  const running = await startConsole(options).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new UsageError(
      `--${prefix}port ${options.access.port}: ${options.access.host}:${options.access.port} is taken by another program (another console or scheduler --console, or npm run demo -- --keep-running); stop it, or give --${prefix}port another port (0: any free one)`,
    );
  });
  logger.info(`console at ${running.url}${options.access.password ? ' (password required)' : ''}`);
  return () => running.close();
}

runCli('qbo-pipeline', async () => {
  let exitCode = 0;
  await cliYargs(hideBin(process.argv))
    .scriptName('qbo-pipeline')
    .command(
      'backfill',
      "run tap-quickbooks | target-postgres-raw over [start, end), resuming from the job's state file",
      (y) => backfillOptions(y).option('max-parallel', MAX_PARALLEL),
      async (argv) => {
        exitCode = await runJobCommand(argv, { kind: 'backfill', request: requestOf(argv) });
      },
    )
    .command(
      'sync',
      "run tap-quickbooks | target-postgres-raw from the job's bookmarks up to now minus the tap's end_lag (the daily run after a backfill)",
      (y) => syncOptions(y).option('max-parallel', MAX_PARALLEL),
      async (argv) => {
        exitCode = await runJobCommand(argv, { kind: 'sync', request: syncRequestOf(argv) });
      },
    )
    .command(
      'reconcile',
      'mark rows deleted that QBO no longer has, for gaps CDC cannot cover (older than 30 days): pages every record QBO has and compares',
      (y) =>
        jobOptions(y)
          .option('company', { type: 'string', describe: 'the company of the companies file to reconcile (needed with --companies: one company at a time)' })
          .option('job', {
            type: 'string',
            describe: "the job whose lock it takes, so it never runs beside that job's sync (default: the job a sync of these streams uses)",
          })
          .option('dry-run', { type: 'boolean', default: false, describe: 'find and record what is gone from QBO, change no row' }),
      async (argv) => {
        const companies = companiesFileOf(argv);
        if (companies !== undefined && argv.company === undefined)
          throw new UsageError('reconcile --companies: name the company to reconcile with --company NAME (one company at a time)');
        const { runReconcile } = await import('./reconcile/runReconcile.js');
        const { formatReconcile } = await import('./reconcile/formatReconcile.js');
        const result = await runReconcile({
          ...jobRequestOf(argv),
          ...(companies !== undefined && argv.company !== undefined ? { company: { file: companies, name: argv.company } } : {}),
          dryRun: argv['dry-run'],
        });
        process.stdout.write(formatReconcile(result) + '\n');
      },
    )
    .command('trigger', 'one-time triggers: run a backfill once at an exact instant', (y) =>
      y
        .command(
          'add',
          'record a trigger: --at <ISO instant with Z or offset> plus the backfill arguments',
          (yy) =>
            backfillOptions(yy).option('at', { type: 'string', demandOption: true, describe: 'when, e.g. 2025-09-12T03:45:54Z or 2025-09-11T22:45:54-05:00' }),
          async (argv) => {
            const request = requestOf(argv);
            const companies = companiesFileOf(argv);
            const { triggerAdded } = await import('./triggers/formatTriggers.js');
            if (companies !== undefined) {
              const commands = await companyCommands();
              for (const { company, trigger } of await commands.addCompanyTriggers(await commands.selectFromFile(companies, argv.company), argv.at, request)) {
                process.stdout.write(`company ${company.name}: ${triggerAdded(trigger)}\n`);
              }
              return;
            }
            const { addTrigger } = await import('./triggers/addTrigger.js');
            const { triggerStore } = await import('./triggers/TriggerStore.js');
            const trigger = await addTrigger(triggerStore(argv['state-dir']), argv.at, request);
            process.stdout.write(`${triggerAdded(trigger)}\n`);
            if (Date.parse(trigger.at) <= Date.now()) logger.warn(`trigger ${trigger.id} is already due: the scheduler runs it at its next pass, marked late`);
          },
        )
        .command(
          'list',
          'show every trigger (schedule slots included) with its status and every attempt',
          (yy) => companiesOptions(yy).option('state-dir', STATE_DIR),
          async (argv) => {
            const companies = companiesFileOf(argv);
            if (companies !== undefined) {
              process.stdout.write((await (await companyCommands()).listCompanyTriggers(companies, argv.company, argv['state-dir'], new Date())) + '\n');
              return;
            }
            const { triggerStore } = await import('./triggers/TriggerStore.js');
            const { formatTriggers } = await import('./triggers/formatTriggers.js');
            const scan = await triggerStore(argv['state-dir']).scan({ setAside: false });
            process.stdout.write(formatTriggers(scan.triggers, new Date(), scan.setAside) + '\n');
          },
        )
        .demandCommand(1, 'say trigger add or trigger list'),
    )
    .command('schedule', 'recurring syncs: a cron expression in a time zone', (y) =>
      y
        .command(
          'add',
          'add a recurring sync: --cron "15 3 * * *" [--tz America/Guayaquil] --streams … [--start for the first sync]',
          (yy) =>
            syncOptions(yy)
              .option('cron', {
                type: 'string',
                demandOption: true,
                describe: 'minute hour day month weekday, e.g. "15 3 * * *" (03:15 every day); 6 fields = seconds first; @hourly, @daily, …',
              })
              .option('tz', { type: 'string', default: 'UTC', describe: 'IANA time zone the cron expression is read in, e.g. America/Guayaquil' })
              .option('name', { type: 'string', describe: "the schedule's name (default: the job's)" })
              .option('if-missing', { type: 'boolean', default: false, describe: 'keep an existing schedule of that name as it is (for start-up scripts)' })
              // Taken only to be refused (a company's schedule is its schedule: in the file), so not offered.
              .hide('companies')
              .hide('company'),
          async (argv) => {
            // The companies scheduler runs each company's schedule: from the file, never a schedule added here.
            refuseCompanySchedule('add', companiesFileOf(argv));
            const { addSchedule, formatSchedules, scheduleStore, streamsText, triggerStore } = await scheduleModules();
            const added = await addSchedule(scheduleStore(argv['state-dir']), {
              cron: argv.cron,
              tz: argv.tz,
              sync: syncRequestOf(argv),
              ifMissing: argv['if-missing'],
              ...(argv.name ? { name: argv.name } : {}),
            });
            for (const warning of added.warnings) logger.warn(warning);
            const s = added.schedule;
            process.stdout.write(
              `schedule ${s.name}: ${added.created ? 'added' : 'exists, kept as it is'}: sync ${s.sync.job ?? ''} (${streamsText(s.sync.streams, ',')}) at "${s.cron}" ${s.tz}${s.paused ? ', paused' : ''}\n`,
            );
            process.stdout.write(formatSchedules([s], await triggerStore(argv['state-dir']).list(), new Date()) + '\n');
          },
        )
        .command(
          'list',
          'show every schedule: state, last slot and how it went, next slot (with a companies file: by company, its schedule: included)',
          (yy) => companiesOptions(yy).option('state-dir', STATE_DIR),
          async (argv) => {
            const companies = companiesFileOf(argv);
            if (companies !== undefined) {
              process.stdout.write((await (await companyCommands()).listCompanySchedules(companies, argv.company, argv['state-dir'], new Date())) + '\n');
              return;
            }
            const { formatSchedules, scheduleStore, triggerStore } = await scheduleModules();
            process.stdout.write(
              formatSchedules(await scheduleStore(argv['state-dir']).list(), await triggerStore(argv['state-dir']).list(), new Date()) + '\n',
            );
          },
        )
        .command('pause <name>', "stop running a schedule's slots (a run in progress goes on)", nameArgument, async (argv) => {
          refuseCompanySchedule('pause', namedCompaniesFile(argv));
          const { pauseSchedule, scheduleStore } = await scheduleModules();
          const s = await pauseSchedule(scheduleStore(argv['state-dir']), argv.name);
          process.stdout.write(`schedule ${s.name}: paused\n`);
        })
        .command('resume <name>', 'run a paused schedule again from its next slot', nameArgument, async (argv) => {
          refuseCompanySchedule('resume', namedCompaniesFile(argv));
          const { resumeSchedule, scheduleStore } = await scheduleModules();
          const s = await resumeSchedule(scheduleStore(argv['state-dir']), argv.name);
          process.stdout.write(`schedule ${s.name}: active\n`);
        })
        .command('remove <name>', 'delete a schedule (the triggers of its past slots stay)', nameArgument, async (argv) => {
          refuseCompanySchedule('remove', namedCompaniesFile(argv));
          const { removeSchedule, scheduleStore } = await scheduleModules();
          await removeSchedule(scheduleStore(argv['state-dir']), argv.name);
          process.stdout.write(`schedule ${argv.name}: removed\n`);
        })
        .demandCommand(1, 'say schedule add, list, pause, resume or remove'),
    )
    .command(
      'scheduler',
      'run due triggers and schedule slots, each exactly once (the docker compose service); --once for cron and tests',
      (y) =>
        consoleArgs(allCompaniesOptions(y), 'console-')
          .option('state-dir', STATE_DIR)
          .option('max-parallel', MAX_PARALLEL)
          .option('once', {
            type: 'boolean',
            default: false,
            describe: "run what is due now, wait for it (and for a slot it queued behind a busy job, until that slot's next), then exit",
          })
          .option('interval', { type: 'number', default: 5, describe: 'seconds between passes' })
          .option('notify-interval', {
            type: 'number',
            default: NOTIFY_EVERY_MS / 1000,
            describe:
              "with notifications on, seconds between looks for what needs a person besides the look after each run (a trigger overdue, a token's days)",
          })
          .option('lease-seconds', {
            type: 'number',
            default: 60,
            describe: 'a claim not renewed for this long is taken over by another scheduler (renewed every third of it)',
          })
          .option('concurrency', { type: 'number', default: 1, describe: 'runs at once (of different jobs; a job never overlaps itself)' })
          .option('console', { type: 'boolean', default: false, describe: 'also serve the console (see `console --help`); not with --once' })
          .option('notify-webhook-file', NOTIFY_WEBHOOK_FILE)
          .option('notify-command', NOTIFY_COMMAND),
      async (argv) => {
        if (!(argv['lease-seconds'] >= 1)) throw new UsageError(`--lease-seconds: ${argv['lease-seconds']} must be at least 1`);
        if (!(argv.interval > 0)) throw new UsageError(`--interval: ${argv.interval} must be more than 0`);
        if (!(argv['notify-interval'] > 0)) throw new UsageError(`--notify-interval: ${argv['notify-interval']} must be more than 0`);
        if (!Number.isInteger(argv.concurrency) || argv.concurrency < 1)
          throw new UsageError(`--concurrency: ${argv.concurrency} must be a whole number of at least 1`);
        refuseCompany(argv, 'scheduler', 'one scheduler runs every company of the file');
        // It was not served, and nothing said so: a page the user waited for at 127.0.0.1:6789 never came.
        if (argv.console && argv.once)
          throw new UsageError(
            '--console with --once: scheduler --once exits when its due runs end, so no console would stay up; run console beside it, or scheduler --console without --once',
          );
        const companies = companiesFileOf(argv);
        const notifier = await notifierOf(argv, companies);
        const signal = stopSignal();
        if (companies !== undefined) {
          const stopConsole = argv.console ? await serveConsole(argv, 'console-', argv['state-dir'], companies) : undefined;
          try {
            exitCode = await (
              await companyCommands()
            ).schedulerForCompanies({
              file: companies,
              stateRoot: argv['state-dir'],
              maxParallel: maxParallelOf(argv['max-parallel']),
              leaseMs: argv['lease-seconds'] * 1000,
              intervalMs: argv.interval * 1000,
              once: argv.once,
              signal,
              targetConfig: targetConfigOf(argv),
              notifier,
              notifyEveryMs: argv['notify-interval'] * 1000,
            });
          } finally {
            await stopConsole?.();
          }
          return;
        }
        const { runTrigger, Scheduler } = await import('./scheduler/Scheduler.js');
        const { RunJournal } = await import('./runs/RunJournal.js');
        const { RunSweeper } = await import('./runs/RunSweeper.js');
        const { warehouseSettings } = await import('./childConfigs.js');
        const { formatSummary, printRunnerFailure } = await import('./formatSummary.js');
        const { combinedExitCode, exitCodeOf } = await import('./companies/runForCompanies.js');
        const { reportUnreadableTriggers, triggerStore } = await import('./triggers/TriggerStore.js');
        const { scheduleStore } = await import('./schedules/ScheduleStore.js');
        const triggers = triggerStore(argv['state-dir']);
        const ended: Array<{ readonly exitCode: number }> = [];
        const scheduler = new Scheduler({
          triggers,
          schedules: scheduleStore(argv['state-dir']),
          signal,
          leaseMs: argv['lease-seconds'] * 1000,
          concurrency: argv.concurrency,
          sweeper: new RunSweeper({
            journal: RunJournal.of(argv['state-dir']),
            staleMs: argv['lease-seconds'] * 1000,
            warehouse: (targetConfig = targetConfigOf(argv)) => warehouseSettings(targetConfig, process.env),
            logger,
          }),
          run: async (trigger, hooks) => {
            const result = await runTrigger(trigger, hooks);
            printRunnerFailure(result);
            process.stdout.write(formatSummary(result) + '\n');
            return result;
          },
          onFinished: (_trigger, outcome) => {
            ended.push({ exitCode: exitCodeOf(outcome) });
            void notifier?.check();
          },
        });
        if (argv.once) {
          const started = await scheduler.runOnce();
          await notifier?.check();
          // A trigger held by another scheduler's lease was said by the pass, with when the lease expires.
          if (started.length === 0 && scheduler.heldElsewhere.length === 0)
            logger.info(
              `scheduler --once: nothing due in ${triggers.dir} or ${path.resolve(argv['state-dir'], 'schedules')} (trigger list and schedule list say what comes next)`,
            );
          // The worst of the runs, as for any command: 2 when one needs a fix first, else 1 when one failed
          // (heard from the runs themselves: a full state folder may have kept a trigger file from saying so).
          exitCode = combinedExitCode(ended);
          // A trigger file it cannot read needs a person: 2, after every readable trigger ran.
          if ((await reportUnreadableTriggers(triggers, logger)) > 0) exitCode = 2;
          return;
        }
        logger.info(`scheduler watching ${triggers.dir} and ${path.resolve(argv['state-dir'], 'schedules')} every ${argv.interval} s`);
        const stopConsole = argv.console ? await serveConsole(argv, 'console-', argv['state-dir'], undefined) : undefined;
        try {
          await Promise.all([scheduler.runUntilStopped(argv.interval * 1000), notifier?.watch(argv['notify-interval'] * 1000, signal)]);
        } finally {
          await stopConsole?.();
        }
      },
    )
    .command('notify', 'the notifications the scheduler posts to a webhook (Slack, Teams, any http(s) endpoint) or gives a command', (y) =>
      y
        .command(
          'test',
          'send one test message to the webhook and the command the scheduler would use, to check the setup',
          (t) =>
            allCompaniesOptions(t).option('state-dir', STATE_DIR).option('notify-webhook-file', NOTIFY_WEBHOOK_FILE).option('notify-command', NOTIFY_COMMAND),
          async (argv) => {
            refuseCompany(argv, 'notify test', 'one webhook serves every company of the file');
            const notifier = await notifierOf(argv, companiesFileOf(argv));
            if (!notifier)
              throw new UsageError(
                `notify test: nothing to test: give --notify-webhook-file FILE or --notify-command '[program, args…]', set ${NOTIFY_WEBHOOK_FILE_ENV} or ${NOTIFY_COMMAND_ENV}, or add notify: {webhook_url_file: FILE} or notify: {command: [program, args…]} to the companies file`,
              );
            const results = await notifier.sendTest();
            for (const { to } of results.filter((r) => r.problem === undefined))
              process.stdout.write(`notify test: ${to} ${to.startsWith('the webhook') ? 'answered' : 'exited 0'}; check that the message arrived\n`);
            const failed = results.filter((r) => r.problem !== undefined);
            if (failed.length > 0) throw new RunError(`notify test: ${failed.map((r) => `${r.to} was not reached: ${r.problem}`).join('; ')}`);
          },
        )
        .demandCommand(1, 'say notify test'),
    )
    .command(
      'console',
      'the web console: overview, runs, evidence, schedules and triggers (127.0.0.1:6789 by default)',
      (y) => consoleArgs(allCompaniesOptions(y), '').option('state-dir', STATE_DIR),
      async (argv) => {
        refuseCompany(argv, 'console', 'it shows every company of the file');
        const stop = await serveConsole(argv, '', argv['state-dir'], companiesFileOf(argv));
        await new Promise<void>((resolve) => stopSignal('closing the console').addEventListener('abort', () => resolve(), { once: true }));
        await stop();
      },
    )
    .command(
      'evidence',
      "every company's evidence per stream and UTC day (newest run each), from each company's schema (without a companies file, the target settings' schema); --sql prints one query over all companies",
      (y) =>
        companiesOptions(y)
          .option('state-dir', STATE_DIR)
          .option('target-config', {
            type: 'string',
            describe: "target-postgres-raw settings (JSON) under the companies' own; TARGET_POSTGRES_RAW_* or DATABASE_URL also work",
          })
          // The listing's own options are the default command's, so prune (which deletes by age, over every stream) does not take them.
          .command(
            '$0',
            false,
            (yy) =>
              yy
                .option('since', { type: 'string', describe: 'first UTC day shown (default: 6 days ago)' })
                .option('until', { type: 'string', describe: 'UTC day after the last shown (default: tomorrow)' })
                .option('streams', { type: 'string', describe: 'only these streams (comma-separated)' })
                .option('problems', { type: 'boolean', default: false, describe: 'only days where extracted ≠ loaded' })
                .option('sql', {
                  type: 'boolean',
                  default: false,
                  describe: "print the query that unions the companies' schemas, for psql or pgAdmin, instead",
                }),
            async (argv) => {
              exitCode = await (
                await companyCommands()
              ).evidenceForCompanies({
                file: companiesFileOf(argv),
                company: argv.company,
                stateRoot: argv['state-dir'],
                since: argv.since,
                until: argv.until,
                streams: argv.streams,
                problems: argv.problems,
                sql: argv.sql,
                targetConfig: argv['target-config'],
              });
            },
          )
          .command(
            'prune',
            'delete evidence and run rows older than --older-than that no day needs (the newest run of every stream and UTC day stays), one transaction per schema',
            (yy) =>
              yy
                .option('older-than', { type: 'string', demandOption: true, describe: 'age in days of the rows to delete, e.g. 400d' })
                .option('dry-run', { type: 'boolean', default: false, describe: 'say what would be deleted, change nothing' }),
            async (argv) => {
              const { pruneEvidence } = await import('./pruneEvidence.js');
              exitCode = await pruneEvidence({
                olderThan: argv['older-than'],
                dryRun: argv['dry-run'],
                file: companiesFileOf(argv),
                company: argv.company,
                stateRoot: argv['state-dir'],
                targetConfig: argv['target-config'],
              });
            },
          ),
    )
    .command(
      'views',
      "make or replace <schema>.<stream> views over every company of the file that has the stream's table (without a companies file, over the target settings' schema), with its name and schema as columns company and company_schema",
      (y) =>
        allCompaniesOptions(y)
          .option('schema', {
            type: 'string',
            describe: `the views' schema (default: the file's views.schema, else ${DEFAULT_VIEWS_SCHEMA}); never a company's own`,
          })
          .option('drop-stale', {
            type: 'boolean',
            default: false,
            describe:
              "drop this file's views (without one, the target schema's) left in other schemas (after views.schema or --schema changed), except one that something depends on",
          })
          .option('take-over', {
            type: 'boolean',
            default: false,
            describe:
              'replace views made in the schema for another companies file or target schema (this file moved or seen at another path, a company moved into a companies file)',
          })
          .option('sql', {
            type: 'boolean',
            default: false,
            describe: 'print the SQL it would run (one transaction per database), for psql, instead; changes nothing, needs only to read the catalog',
          })
          .option('state-dir', STATE_DIR)
          .option('target-config', {
            type: 'string',
            describe:
              "target-postgres-raw settings (JSON) under the companies' own; without a companies file, the one company's (its schema is what the views take); TARGET_POSTGRES_RAW_* or DATABASE_URL also work",
          }),
      async (argv) => {
        refuseCompany(argv, 'views', 'its views take every company of the file');
        exitCode = await (
          await companyCommands()
        ).viewsForCompanies({
          file: companiesFileOf(argv),
          schema: argv.schema,
          stateRoot: argv['state-dir'],
          targetConfig: argv['target-config'],
          dropStale: argv['drop-stale'],
          takeOver: argv['take-over'],
          sql: argv.sql,
        });
      },
    )
    .command(
      'export <what>',
      "the companies file past one machine: meltano (a file for meltano.yml's include_paths) or kubernetes (one CronJob per company); YAML on stdout or --out",
      (y) =>
        allCompaniesOptions(y)
          .positional('what', { choices: ['meltano', 'kubernetes'] as const, demandOption: true })
          .option('out', { type: 'string', describe: 'write here instead of stdout' })
          .option('project', {
            type: 'string',
            describe: "the Meltano project folder (where meltano.yml is; paths are made relative to it); default: the companies file's folder",
          })
          .option('image', { type: 'string', describe: `kubernetes: the image with Meltano and the project (default ${KUBERNETES_DEFAULTS.image})` })
          .option('state-claim', {
            type: 'string',
            describe: `kubernetes: the ReadWriteMany claim for state/ (token stores; default ${KUBERNETES_DEFAULTS.stateClaim})`,
          })
          .option('namespace', { type: 'string', describe: 'kubernetes: the namespace' }),
      async (argv) => {
        refuseCompany(argv, `export ${argv.what}`, 'it exports every company of the file');
        const file = companiesFileOf(argv);
        if (file === undefined) throw new UsageError(`export ${argv.what}: say which companies file (--companies FILE, or QBO_PIPELINE_COMPANIES)`);
        exitCode = await (
          await companyCommands()
        ).exportCompanies({
          what: argv.what,
          file,
          projectDir: argv.project,
          out: argv.out,
          kubernetes: {
            ...(argv.image ? { image: argv.image } : {}),
            ...(argv['state-claim'] ? { stateClaim: argv['state-claim'] } : {}),
            ...(argv.namespace ? { namespace: argv.namespace } : {}),
          },
        });
      },
    )
    .command('company', 'the companies of a companies file', (y) =>
      y
        .command(
          'list',
          'every company: realm, schema, streams, state folder, whether its secret files are there, its last run, what it is complete up to and its end_lag (exit 2 when one cannot run)',
          (yy) => companiesOptions(yy).option('state-dir', STATE_DIR),
          async (argv) => {
            const file = companiesFileOf(argv);
            if (file === undefined) throw new UsageError('company list: say which companies file (--companies FILE, or QBO_PIPELINE_COMPANIES)');
            exitCode = await (await companyCommands()).listCompanies(file, argv.company, argv['state-dir']);
          },
        )
        .demandCommand(1, 'say company list'),
    )
    .demandCommand(
      1,
      'say which command: backfill, sync, reconcile, trigger, schedule, scheduler, company, evidence, views, export, notify or console (the demo is npm run demo)',
    )
    .recommendCommands()
    .fail((message, error) => {
      throw error ?? new UsageError(usageMessage(message, hideBin(process.argv)));
    })
    .parseAsync();
  return exitCode;
});
