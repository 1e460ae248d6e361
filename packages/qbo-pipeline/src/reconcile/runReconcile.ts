import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { entityByStream } from 'qbo-catalog';
import { createLogger, EXIT, formatInstant, loadSettings, teeLogger, UsageError, type Logger } from 'singer-kit';
import {
  ENV_PREFIX as TAP_ENV_PREFIX,
  findIds,
  listIds,
  openQboSession,
  parseTapSettings,
  TAP_SETTINGS,
  TokenStore,
  type QboSession,
  type RequestStats,
  type TapSettings,
} from 'tap-quickbooks';
import { parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS } from 'target-postgres-raw';
import { DateTime } from 'luxon';
import { resolveScope, type JobRequest } from '../BackfillRequest.js';
import { childOptionsFor, writeChildConfigs } from '../childConfigs.js';
import { holdRealm } from '../companies/realmLock.js';
import { lockJob } from '../jobLock.js';
import { RunJournal } from '../runs/RunJournal.js';
import { runWarehouse } from '../runs/RunRecord.js';
import { Warehouse } from '../Warehouse.js';
import { RECONCILIATIONS_TABLE } from './reconcileSql.js';

/** What `reconcile` takes. */
/** `job` is the job whose lock it takes, so it never runs beside that job's sync. */
export interface ReconcileRequest extends JobRequest {
  /** Find and record what is missing, change no row. */
  readonly dryRun?: boolean;
}

export interface ReconcileHooks {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly logger?: Logger;
  readonly now?: () => Date;
  readonly lockStaleMs?: number;
}

interface ReconcileStreamResult {
  readonly stream: string;
  /** False: the stream has no table yet, so there was nothing to reconcile. */
  readonly table: boolean;
  readonly qboRecords: number;
  readonly liveRows: number;
  /** Live rows the paging did not return. */
  readonly candidates: number;
  /** Of those, the ones QBO did not return when asked by Id either: gone. */
  readonly missingIds: readonly string[];
  /** The rows this run marked deleted (none in a dry run). */
  readonly markedIds: readonly string[];
  readonly requests: number;
}

export interface ReconcileResult {
  readonly runId: string;
  readonly job: string;
  readonly schema: string;
  readonly realmId: string;
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly streams: readonly ReconcileStreamResult[];
}

/** Reconcile looks at everything QBO has, so its journal range is all time up to its start. */
const ALL_TIME = '1970-01-01T00:00:00Z';

/**
 * For gaps CDC cannot cover (older than 30 days, or past its 1000-object cap): pages every record
 * QBO still has for each stream through the tap's client (same token store, budget and retries),
 * compares with the table's live rows, asks QBO again by Id for each row the paging did not
 * return, and marks only the rows QBO does not return either as deleted (`deleted_at_utc`), with
 * the evidence in `<schema>._reconciliations`. A row QBO still has is never touched.
 */
export async function runReconcile(request: ReconcileRequest, hooks: ReconcileHooks = {}): Promise<ReconcileResult> {
  const cwd = hooks.cwd ?? process.cwd();
  const env = hooks.env ?? process.env;
  const now = hooks.now ?? (() => new Date());
  const company = request.company ? await (await import('../companies/loadCompanies.js')).loadCompany(request.company, cwd) : undefined;
  const scope = resolveScope(
    {
      streams: request.streams,
      stateDir: request.stateDir,
      ...(request.job ? { job: request.job } : {}),
      ...(request.company ? { company: request.company } : {}),
    },
    cwd,
    company,
  );
  const { streams, job, stateDir, stateFile } = scope;
  const baseLogger = hooks.logger ?? createLogger('qbo-pipeline');
  await mkdir(stateDir, { recursive: true });
  // The job's lock first: a reconcile refused because the job is busy never started, and is no run of the journal.
  const release = await lockJob(stateFile, job, { logger: baseLogger, ...(hooks.lockStaleMs !== undefined ? { staleMs: hooks.lockStaleMs } : {}) });
  try {
    const startedAt = now();
    const at = DateTime.fromJSDate(startedAt, { zone: 'utc' });
    const journal = RunJournal.of(stateDir, {
      now,
      onError: (error) => baseLogger.warn(`runs journal: ${error.message}; the run goes on without it`),
      onNotice: (line) => baseLogger.warn(line),
    });
    const run = await journal.start({
      kind: 'reconcile',
      job,
      ...(company ? { company: company.name } : {}),
      streams,
      range: { start: ALL_TIME, end: formatInstant(at) },
      stateFile,
      progress: [],
    });
    const logger = teeLogger(baseLogger, createLogger('qbo-pipeline', { sink: (line) => run.log(line) }));
    // Whether QBO was asked anything (its tap's part): a run refused before did not start, as a backfill's before its tap.
    let started = false;
    try {
      // One job per realm at a time, as for a company's backfill and sync: the realm's budget is its own.
      const releaseRealm = scope.company ? await holdRealm(stateDir, scope.company.settings, { logger }) : undefined;
      try {
        // The settings as the tap and the target read them (files, environment, DATABASE_URL, the company's).
        const options = childOptionsFor(
          {
            tapConfig: request.tapConfig && path.resolve(cwd, request.tapConfig),
            targetConfig: request.targetConfig && path.resolve(cwd, request.targetConfig),
            start: at,
            end: at,
            company: scope.company,
            stateDir,
          },
          env,
        );
        const configs = await writeChildConfigs(options, logger);
        let tap, target;
        try {
          tap = parseTapSettings(loadSettings({ specs: TAP_SETTINGS, envPrefix: TAP_ENV_PREFIX, configFile: configs.tap, env: options.childEnv }), at);
          target = parseTargetSettings(
            loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, configFile: configs.target, env: options.childEnv }),
          );
        } finally {
          await configs.remove();
        }
        // A damaged token store refuses the run before QBO is asked anything, as a backfill's checks do.
        await new TokenStore(tap.tokenStorePath).read();
        // Where its _pipeline_runs row goes: a scheduler's sweep closes it there if its runner dies.
        await run.update({ warehouse: runWarehouse(target, options.targetConfig) });
        const warehouse = await Warehouse.connect(target.connection, target.schema);
        try {
          // The job's runs whose runner is gone, closed in the journal as this one started (it holds the job's lock): in the warehouse too.
          await warehouse
            .closeGoneRuns(run.record, run.record, journal)
            .catch((error: unknown) => logger.warn(`could not close the job's earlier runs in ${target.schema}._pipeline_runs: ${(error as Error).message}`));
          await refuseOtherCompany(warehouse, tap, target.schema);
          started = true;
          const streamsDone = await reconcileStreams({
            streams,
            warehouse,
            tap,
            schema: target.schema,
            runId: run.id,
            dryRun: request.dryRun ?? false,
            logger,
          });
          const marked = streamsDone.reduce((n, s) => n + s.markedIds.length, 0);
          await run.finish({ status: 'succeeded', exitCode: EXIT.ok, moved: { loaded: 0, deleted: marked }, ...(request.dryRun ? { dryRun: true } : {}) });
          await warehouse.recordRun(run.record).catch(async (error: unknown) => {
            logger.warn(`could not record run ${run.id} in ${target.schema}._pipeline_runs: ${(error as Error).message}`);
            // A scheduler's next pass copies the record in (`RunSweeper`).
            await run.update({ rowBehind: true });
          });
          return {
            runId: run.id,
            job,
            schema: target.schema,
            realmId: tap.realmId,
            dryRun: request.dryRun ?? false,
            startedAt: startedAt.toISOString(),
            durationMs: now().getTime() - startedAt.getTime(),
            streams: streamsDone,
          };
        } finally {
          await warehouse.close().catch(() => undefined);
        }
      } finally {
        await releaseRealm?.();
      }
    } catch (error) {
      // Nothing is half done: each stream's marks and evidence commit together, so running again is safe.
      await run.failWith(error, undefined, !started);
      throw error;
    }
  } finally {
    await release();
  }
}

/** Refuses settings naming another company than the one the schema recorded as its own. */
async function refuseOtherCompany(warehouse: Warehouse, tap: TapSettings, schema: string): Promise<void> {
  const recorded = await warehouse.recordedCompany();
  if (recorded !== undefined && recorded !== tap.realmId) {
    throw new UsageError(
      `schema ${schema} belongs to company ${recorded} (recorded in ${schema}._company), but the tap settings name company ${tap.realmId}: reconcile would take that company's rows for deleted; use the settings (realm_id) of the company this schema belongs to`,
    );
  }
}

/** Reconciles each stream through one QBO session. */
async function reconcileStreams(o: {
  readonly streams: readonly string[];
  readonly warehouse: Warehouse;
  readonly tap: TapSettings;
  readonly schema: string;
  readonly runId: string;
  readonly dryRun: boolean;
  readonly logger: Logger;
}): Promise<ReconcileStreamResult[]> {
  const { warehouse, tap, schema } = o;
  const session = openQboSession({ settings: tap, logger: o.logger });
  try {
    await session.auth.accessToken(); // a bad token fails before any comparison
    const results: ReconcileStreamResult[] = [];
    for (const stream of o.streams) {
      results.push(await reconcileStream({ stream, warehouse, session, schema, realmId: tap.realmId, runId: o.runId, dryRun: o.dryRun, logger: o.logger }));
    }
    return results;
  } finally {
    session.close();
  }
}

async function reconcileStream(o: {
  readonly stream: string;
  readonly warehouse: Warehouse;
  readonly session: QboSession;
  readonly schema: string;
  readonly realmId: string;
  readonly runId: string;
  readonly dryRun: boolean;
  readonly logger: Logger;
}): Promise<ReconcileStreamResult> {
  const { stream, warehouse, schema, realmId } = o;
  const empty = { stream, qboRecords: 0, liveRows: 0, candidates: 0, missingIds: [], markedIds: [], requests: 0 };
  const columns = await warehouse.tableColumns(stream);
  if (columns.size === 0) {
    o.logger.info(`${stream}: no table ${schema}.${stream} yet; nothing to reconcile`);
    return { ...empty, table: false };
  }
  if (!columns.has('deleted_at_utc')) {
    throw new UsageError(
      `${schema}.${stream} has no deleted_at_utc column (it was loaded before deletions were tracked): run a sync or backfill of ${stream} once, which upgrades the table, then reconcile`,
    );
  }
  const others = await warehouse.otherRealms(stream, realmId);
  if (others.length > 0) {
    throw new UsageError(
      `${schema}.${stream} holds rows of company ${others.join(', ')}, but the tap settings name company ${realmId}: reconcile would take that company's rows for deleted; use the settings (realm_id) of the company this schema belongs to`,
    );
  }
  const startedAt = new Date();
  // The table first: a row loaded after this is not judged, whatever QBO says.
  const live = await warehouse.liveIds(stream);
  const entity = entityByStream(stream)!;
  const target = { entity: entity.entity, nameList: entity.nameList };
  const stats: RequestStats = { attempts: 0, retries: 0 };
  const qbo = await listIds(o.session.client, target, stats);
  const candidates = live.filter((id) => !qbo.has(id));
  // Paging is no snapshot: a record changed meanwhile can slip past. Only what QBO does not
  // return when asked by its Id is gone.
  const stillThere = candidates.length > 0 ? await findIds(o.session.client, target, candidates, stats) : new Set<string>();
  const missingIds = candidates.filter((id) => !stillThere.has(id)).sort();
  const markedIds = await warehouse.recordReconciliation({
    runId: o.runId,
    stream,
    realmId,
    startedAt,
    qboRecords: qbo.size,
    liveRows: live.length,
    candidates: candidates.length,
    missingIds,
    requests: stats.attempts,
    deletedAt: o.dryRun ? undefined : new Date(),
  });
  o.logger.info(
    `${stream}: QBO has ${qbo.size} records, the table ${live.length} live rows; ${missingIds.length} gone from QBO` +
      (o.dryRun ? ' (dry run: none marked)' : `, ${markedIds.length} marked deleted`) +
      ` (${stats.attempts} requests; evidence in ${schema}.${RECONCILIATIONS_TABLE})`,
  );
  return { stream, table: true, qboRecords: qbo.size, liveRows: live.length, candidates: candidates.length, missingIds, markedIds, requests: stats.attempts };
}
