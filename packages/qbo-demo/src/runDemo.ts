import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DateTime, type Duration } from 'luxon';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { LocalPostgresError, startLocalPostgres, type LocalPostgres } from 'local-postgres';
import {
  consoleAccess,
  DEFAULT_CONSOLE_HOST,
  DEFAULT_CONSOLE_PORT,
  formatDuration,
  formatProgress,
  formatSummary,
  formatTable,
  planSync,
  runBackfill,
  runEndLag,
  startConsole,
  Warehouse,
  type BackfillHooks,
  type BackfillRequest,
  type BackfillResult,
  type Cell,
  type RunningConsole,
  withoutPluginEnv,
} from 'qbo-pipeline';
import { CliError, createLogger, EXIT, formatInstant, type Logger } from 'singer-kit';
import { connectAdvice, consoleLine, dayReadText, serverEndLine, stoppedLine, type DemoServer } from './demoMessages.js';

export interface DemoOptions {
  /** Holds `pg/` (kept: a second demo reuses it) and `demo/` (configs, state). */
  readonly dataDir: string;
  /** Keep PostgreSQL up after the demo until Ctrl-C (default: when stdin is a terminal). */
  readonly keepRunning?: boolean;
  readonly out?: (text: string) => void;
  /** Use this PostgreSQL instead of the embedded one (tests). */
  readonly databaseUrl?: string;
  /** Default `raw`. */
  readonly schema?: string;
  /** The console's port (default 6789; another free port when that one is taken; 0: any). */
  readonly consolePort?: number;
  /** Called while the console is up, with its URL (tests browse it here). */
  readonly onConsole?: (url: string) => Promise<void>;
}

/** @public in the package README, for users of the library: the streams the demo extracts */
export const DEMO_STREAMS = ['invoices', 'customers', 'items'] as const;
export const DEMO_DAYS = 30;
/** A sample company: a few thousand invoices over the 30 days. */
export const DEMO_COUNTS = { invoices: 3000, customers: 300, items: 120 } as const;
export const DEMO_QUERIES = [
  `SELECT stream, run_id, sum(qbo_count) AS qbo, sum(extracted) AS extracted, sum(loaded) AS loaded, bool_and(extracted_equals_loaded) AS all_equal\n  FROM raw.evidence\n  WHERE (stream, run_id) IN (SELECT DISTINCT ON (stream) stream, run_id FROM raw.evidence ORDER BY stream, extracted_at_utc DESC NULLS LAST)\n  GROUP BY stream, run_id;`,
  `SELECT id, payload->>'DocNumber' AS doc, payload->'TotalAmt' AS total, last_updated_utc\n  FROM raw.invoices ORDER BY last_updated_utc DESC LIMIT 5;`,
  `SELECT payload->>'DisplayName' AS customer, payload->'Balance' AS balance\n  FROM raw.customers ORDER BY (payload->>'Balance')::numeric DESC LIMIT 5;`,
] as const;

/**
 * The demo's settings are all in its config files: a TAP_QUICKBOOKS_* or TARGET_POSTGRES_RAW_*
 * variable of the user's shell (say the walk-through's, or their warehouse's URL) would win over
 * them and send the demo's rows to another database or schema.
 */
const DEMO_ENV = withoutPluginEnv(process.env);

/** Child log lines worth showing in a demo: warnings and errors, not the per-window chatter. */
const quietChildLog: BackfillHooks['onChildLog'] = (role, line) => {
  if (!/^(INFO|DEBUG) /.test(line)) process.stderr.write(`[${role}] ${line}\n`);
};

const progressLine: BackfillHooks['onProgress'] = (progress) => {
  if (process.stderr.isTTY) process.stderr.write(`\r  ${formatProgress(progress)}\x1b[K${progress.every((p) => p.complete) ? '\n' : ''}`);
};

/** How the day was read (`dayReadText`); empty on a row of deletions alone, which no query read. */
function readCell(r: Readonly<Record<string, unknown>>): string {
  if (typeof r.span_start_utc !== 'string' || typeof r.span_end_utc !== 'string') return '';
  const n = (c: string) => Number(r[c] ?? 0);
  return dayReadText({
    day: String(r.day_utc),
    extracted: n('extracted'),
    pages: n('pages'),
    requests: n('requests'),
    durationMs: n('duration_ms'),
    spanStart: r.span_start_utc,
    spanEnd: r.span_end_utc,
    spans: n('spans'),
  });
}

const asCell = (v: unknown): Cell => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : (v as Cell));

/**
 * The demo's PostgreSQL in `dataDir`; one FATAL line when it cannot start: exit 2 for what the user
 * fixes (the folder), 1 when PostgreSQL itself failed or every port picked for it was taken.
 */
async function startDemoPostgres(dataDir: string): Promise<LocalPostgres> {
  try {
    return await startLocalPostgres({ dataDir, persistent: true });
  } catch (error) {
    if (!(error instanceof LocalPostgresError)) throw error;
    const hint = error.reason === 'in-use' ? ' (a demo kept running stops on Ctrl-C; npm run demo -- --data-dir DIR runs this one in another folder)' : '';
    throw new CliError(
      `the demo's PostgreSQL: ${error.message}${hint}`,
      error.reason === 'in-use' || error.reason === 'unreachable' ? EXIT.usage : EXIT.runFailed,
    );
  }
}

/**
 * `npm run demo`: a QBO emulator with a sample company, an embedded PostgreSQL 13 in
 * `<dataDir>/pg`, a 30-day backfill of invoices, customers and items with progress, the
 * volumetry from the evidence view, the same window again (0 rows changed), and how to connect.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? ((text: string) => process.stdout.write(text + '\n'));
  const logger = createLogger('qbo-demo');
  const pgDir = path.join(options.dataDir, 'pg');
  out(options.databaseUrl ? 'Starting the QBO emulator…' : `Starting PostgreSQL 13 (data in ${pgDir}) and the QBO emulator…`);
  const pg = options.databaseUrl === undefined ? await startDemoPostgres(pgDir) : undefined;
  const keep = options.keepRunning ?? process.stdin.isTTY === true;
  const server: DemoServer = pg === undefined ? 'external' : keep ? 'kept' : 'stopped';
  let consoleUrl: string | undefined;
  let interrupted = false;
  try {
    const range = demoRange(new Date());
    // On the hour: two demos within the same hour see the very same company (same seed, same clock).
    const emulator = await startEmulator({ seed: 42, now: range.companyNow.toJSDate(), days: DEMO_DAYS, counts: DEMO_COUNTS, requestsPerMinute: 10_000 });
    const work = path.join(options.dataDir, 'demo');
    let code: number;
    try {
      code = await demoSteps({ emulator, range, url: pg?.url ?? options.databaseUrl ?? '', server, schema: options.schema ?? 'raw', work, out });
    } finally {
      await emulator.close();
    }
    const web = await startDemoConsole(work, options.consolePort ?? DEFAULT_CONSOLE_PORT, logger);
    consoleUrl = web.url;
    try {
      await options.onConsole?.(web.url);
      if (keep) {
        out(`\n${server === 'kept' ? serverEndLine(server, pgDir) : 'The console stays up for you; press Ctrl-C to stop it.'}`);
        out(consoleLine(true, web.url));
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        interrupted = true;
      }
    } finally {
      await web.close();
    }
    return code;
  } finally {
    await pg?.stop().catch((error: unknown) => logger.warn(`stopping PostgreSQL: ${(error as Error).message}`));
    if (server === 'stopped') out(serverEndLine(server, pgDir));
    if (interrupted) out(stoppedLine(server, pgDir));
    // The last line: where the console is (or was, for a demo without a terminal).
    if (!keep && consoleUrl) out(consoleLine(false, consoleUrl));
  }
}

/** What the demo reads: the company's records, and the range its backfills read. */
interface DemoRange {
  /** The emulated company's now: its records were last updated in the DEMO_DAYS before it. */
  readonly companyNow: DateTime;
  readonly start: DateTime;
  readonly end: DateTime;
  readonly endLag: Duration;
}

/**
 * The range a first sync from DEMO_DAYS whole UTC days back reads at `now`: from a midnight (a
 * partial first day would be one window more than the days it counts) to end_lag before now, as
 * every sync ends, so that right after the demo each bookmark is end_lag behind, which the
 * console reads as on time, not as stale by the time past the hour. Its company's records end on
 * the hour before that end, so the range holds them all. The end_lag is the one the demo's tap
 * reads (its config file sets none: the tap's default).
 */
export function demoRange(now: Date): DemoRange {
  const endLag = runEndLag({ tapConfig: undefined, targetConfig: undefined }, { env: DEMO_ENV });
  const companyNow = DateTime.fromJSDate(now, { zone: 'utc' }).minus(endLag).startOf('hour') as DateTime<true>;
  const sync = { streams: DEMO_STREAMS, start: companyNow.minus({ days: DEMO_DAYS }).startOf('day'), job: 'demo', stateFile: 'demo.json' };
  return { companyNow, ...planSync(undefined, sync, now, endLag), endLag };
}

/** The console on the demo's state folder and warehouse: 127.0.0.1 only, no password. */
async function startDemoConsole(work: string, port: number, logger: Logger): Promise<RunningConsole> {
  const options = {
    access: consoleAccess({ host: DEFAULT_CONSOLE_HOST, port }),
    stateDir: path.join(work, 'state'),
    tapConfig: path.join(work, 'tap.json'),
    targetConfig: path.join(work, 'target.json'),
    env: DEMO_ENV,
    logger,
  };
  try {
    return await startConsole(options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    logger.info(`port ${port} is taken; the demo's console takes another one`);
    return startConsole({ ...options, access: consoleAccess({ host: DEFAULT_CONSOLE_HOST, port: 0 }) });
  }
}

/** The demo proper: two backfills and what they show. 0 when the second run changed nothing. */
async function demoSteps(d: {
  emulator: Emulator;
  range: DemoRange;
  url: string;
  server: DemoServer;
  schema: string;
  work: string;
  out: (text: string) => void;
}): Promise<number> {
  const { emulator, out } = d;
  await mkdir(d.work, { recursive: true });
  // Where the tap keeps it by default (`<state-dir>/tokens/<realm>.json`): the console shows its health.
  const tokenStore = path.join(d.work, 'state', 'tokens', `${emulator.realmId}.json`);
  await rm(tokenStore, { force: true }); // a new emulator issues new tokens
  const tapConfig = path.join(d.work, 'tap.json');
  await writeFile(tapConfig, JSON.stringify(emulator.tapSettings({ token_store: tokenStore, page_size: 1000, max_requests_per_minute: 10_000 })), {
    mode: 0o600,
  });
  const targetConfig = path.join(d.work, 'target.json');
  await writeFile(targetConfig, JSON.stringify({ database_url: d.url, schema: d.schema }), { mode: 0o600 });
  const request: BackfillRequest = {
    job: 'demo',
    streams: DEMO_STREAMS,
    start: formatInstant(d.range.start),
    end: formatInstant(d.range.end),
    fresh: true,
    tapConfig,
    targetConfig,
    stateDir: path.join(d.work, 'state'),
  };
  const hooks: BackfillHooks = { onChildLog: quietChildLog, onProgress: progressLine, env: DEMO_ENV };

  out(
    `\n1) Backfill ${DEMO_STREAMS.join(', ')} over the last ${DEMO_DAYS} whole UTC days and today up to end_lag (${d.range.endLag.toISO() ?? ''}) ago, one window per UTC day: [${request.start}, ${request.end})`,
  );
  const first = await runBackfill(request, hooks);
  out(formatSummary(first));
  if (!first.ok) return first.exitCode;
  out(`\nVolumetry per UTC day (${d.schema}.evidence):`);
  out(await volumetryTable(d.url, d.schema, first));

  out('\n2) The same window again (--fresh): every row is re-extracted, none changes');
  const second = await runBackfill(request, hooks);
  out(formatSummary(second));
  if (!second.ok) return second.exitCode;
  const changed = second.totals.reduce((n, t) => n + t.inserted + t.updated, 0);
  const unchanged = second.totals.reduce((n, t) => n + t.unchanged, 0);
  out(`\nSecond run: ${changed} rows inserted or updated, ${unchanged} unchanged.`);

  out(`\n${connectAdvice(d.server, d.url)}`);
  out('Try:');
  for (const query of DEMO_QUERIES) out(`  ${query.replaceAll('raw.', `${d.schema}.`)}`);
  out(`\nDemo done in ${formatDuration(first.durationMs + second.durationMs)} of pipeline time.`);
  out('The real job, with your company: node packages/qbo-pipeline/dist/cli.js backfill --help (README, "Three ways to run").');
  return changed === 0 ? 0 : 1;
}

async function volumetryTable(url: string, schema: string, result: BackfillResult): Promise<string> {
  const warehouse = await Warehouse.open({ connectionString: url }, schema);
  try {
    const rows = await warehouse.evidenceRows(result.runIds);
    const columns = ['day_utc', 'stream', 'qbo_count', 'extracted', 'loaded', 'inserted', 'updated', 'unchanged', 'read', 'extracted_equals_loaded'];
    return formatTable(
      columns,
      rows.map((r) => columns.map((c) => (c === 'read' ? readCell(r) : asCell(r[c])))),
    );
  } finally {
    await warehouse.close();
  }
}
