import { hostname } from 'node:os';
import pg from 'pg';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { connectClient, isDiskFull, pgErrorKind, STREAM_TABLE_COLUMNS, toConfigError, type ConnectionSettings } from 'target-postgres-raw';
import {
  EVIDENCE_FILTER_WHERE,
  evidenceFilterParams,
  evidenceNewestDaySql,
  evidenceRowsSql,
  evidenceRunsSql,
  evidenceTotalsSql,
  evidenceViewSql,
  extractedAtEndsSql,
  instantTextCeiling,
  instantTextFloor,
  newestEvidenceSql,
  newestRunsSinceSql,
  pruneEvidenceSql,
  runsOfWindowsSql,
  runsSinceSql,
  evidenceIndexesSql,
  windowStartEndsSql,
  type EvidenceFilter,
} from './evidenceSql.js';
import type { RunKind, RunRecord } from './runs/RunRecord.js';
import { goneReason, RunJournal, type GoneFinder } from './runs/RunJournal.js';
import {
  closeGoneRunSql,
  createPipelineRunsSql,
  loadRunsOfSql,
  PIPELINE_RUNS_ADDED_COLUMNS,
  pipelineRunParams,
  runningRunsOfJobSql,
  upsertPipelineRunSql,
} from './runs/pipelineRunsSql.js';
import {
  createReconciliationsSql,
  hasRowsSql,
  insertReconciliationSql,
  liveIdsSql,
  markDeletedSql,
  otherRealmsSql,
  recordedCompanySql,
  tableColumnsSql,
} from './reconcile/reconcileSql.js';

/** QBO's count, what the tap read and what the target did with it, over some windows. */
interface LoadCounts {
  readonly qboCount: number;
  readonly extracted: number;
  readonly loaded: number;
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

/**
 * A connection the server refused for its settings (a wrong password, user or database, or no
 * rights): the target's one line naming where and what to check, exit 2. `evidence` and the
 * console said only `password authentication failed for user "postgres"`, not which server nor setting.
 */
export function refusal(error: unknown, where: Pick<ConnectionSettings, 'host' | 'port' | 'database' | 'user'>): unknown {
  return pgErrorKind(error, false) === 'config' ? toConfigError(error, 'the connection', where) : error;
}

/** Per stream totals of some tap runs, from the evidence view. */
export interface EvidenceTotals extends LoadCounts {
  readonly stream: string;
  readonly windows: number;
  readonly pages: number;
  readonly durationMs: number;
  readonly emptyWindows: number;
  /** The tap's `_volumetry` rows among these windows (one per day read; a day whose deletions alone were applied has none). */
  readonly volumetryRows: number;
  readonly extractedEqualsLoaded: boolean;
  /** Deletion records (from CDC, so not part of `extracted`). */
  readonly deleted: number;
}

/** One stream and UTC day, as the newest run that read it says (its windows of that day summed). */
export interface NewestEvidence extends LoadCounts {
  /** The tap run (`_sdc_run_id`). */
  readonly runId: string;
  readonly stream: string;
  /** YYYY-MM-DD, UTC. */
  readonly day: string;
  /** Deletion records of the day (from CDC, so not part of `extracted`). */
  readonly deleted: number;
  readonly rejected: number;
  /** The run's windows on this day (1 with the default one-day window). */
  readonly windows: number;
  readonly empty: boolean;
  /** Runs that read this day (a backfill, then syncs re-reading its last day, …). */
  readonly runs: number;
  readonly extractedEqualsLoaded: boolean;
  /** When the newest run read the day. */
  readonly extractedAt: string;
  /** The part of the day the newest run's windows cover, `[readFrom, readUntil)` (absent for a run that only applied deletions there). */
  readonly readFrom?: string;
  readonly readUntil?: string;
}

/** A tap run that left evidence. */
export interface EvidenceRun {
  readonly runId: string;
  readonly firstAt: string;
  readonly lastAt: string;
  readonly streams: readonly string[];
  readonly windows: number;
}

const DAY = 86_400_000;
const num = (v: unknown) => Number(v ?? 0);
const instant = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
/** Lets a statement fail only because the disk is full (53100): for what a later call can do as well. */
const unlessDiskFull = (error: unknown) => {
  if (!isDiskFull(error)) throw error;
};

/** The LoadCounts columns of an evidence row. */
function loadCountsOf(r: Record<string, unknown>): LoadCounts {
  return {
    qboCount: num(r.qbo_count),
    extracted: num(r.extracted),
    loaded: num(r.loaded),
    inserted: num(r.inserted),
    updated: num(r.updated),
    unchanged: num(r.unchanged),
  };
}

/** A row of `newestEvidenceSql`. */
function newestEvidenceOf(r: Record<string, unknown>): NewestEvidence {
  return {
    runId: String(r.run_id),
    stream: String(r.stream),
    day: String(r.day_utc),
    ...loadCountsOf(r),
    deleted: num(r.deleted),
    rejected: num(r.rejected),
    windows: num(r.windows),
    empty: r.empty === true,
    runs: num(r.runs),
    extractedEqualsLoaded: r.extracted_equals_loaded === true,
    extractedAt: instant(r.extracted_at_utc),
    ...(r.read_from_utc != null && r.read_until_utc != null ? { readFrom: instant(r.read_from_utc), readUntil: instant(r.read_until_utc) } : {}),
  };
}

/** What `evidence prune` deleted (or, in a dry run, would delete) from each table. */
export interface PrunedEvidence {
  readonly volumetry: number;
  readonly loadStats: number;
  readonly loadRuns: number;
  readonly pipelineRuns: number;
}

/** One stream's reconcile, as `_reconciliations` records it. */
export interface ReconciliationEvidence {
  readonly runId: string;
  readonly stream: string;
  readonly realmId: string;
  readonly startedAt: Date;
  readonly qboRecords: number;
  readonly liveRows: number;
  readonly candidates: number;
  /** Rows QBO no longer has: not returned by the paging, nor when asked by Id. */
  readonly missingIds: readonly string[];
  readonly requests: number;
  /** When set, the missing rows get this `deleted_at_utc`; absent: a dry run, nothing is changed. */
  readonly deletedAt: Date | undefined;
}

/** The runner's visits to the warehouse: the evidence view and the run's totals after a run, and `reconcile`. */
export class Warehouse {
  readonly #client: pg.Client;
  readonly #schema: string;

  private constructor(client: pg.Client, schema: string) {
    this.#client = client;
    this.#schema = schema;
  }

  /** Connects as the target does, from its parsed connection settings, its waits bounded by connect_timeout_seconds and query_timeout_seconds. */
  static async connect(connection: ConnectionSettings, schema: string): Promise<Warehouse> {
    const client = await connectClient(connection, 'qbo-pipeline').catch((error: unknown) => {
      throw refusal(error, connection);
    });
    client.on('error', () => undefined); // a dropped idle connection surfaces on the next query
    return new Warehouse(client, schema);
  }

  static async open(config: pg.ClientConfig, schema: string): Promise<Warehouse> {
    const client = new pg.Client(config);
    client.on('error', () => undefined); // a dropped idle connection surfaces on the next query
    await client.connect();
    return new Warehouse(client, schema);
  }

  async #tablesExist(names: readonly string[]): Promise<boolean> {
    const tables = await this.#client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = ${escapeLiteral(this.#schema)} AND table_name = ANY($1)`,
      [names],
    );
    return tables.rows[0]?.n === names.length;
  }

  /** Creates or refreshes `<schema>.evidence` (and, when missing, the indexes it finds evidence by) when both tables it joins exist; says whether it did. */
  async ensureEvidenceView(): Promise<boolean> {
    if (!(await this.#tablesExist(['_volumetry', '_load_stats']))) return false;
    for (const index of evidenceIndexesSql(this.#schema)) {
      // Only when missing: CREATE INDEX, even IF NOT EXISTS, locks the table against writes (a target may be loading).
      const found = await this.#client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [index.name]);
      // Made later when the disk is full now: the view works without its indexes, only slower.
      if (found.rows[0]?.oid === null) await this.#client.query(index.create).catch(unlessDiskFull);
    }
    await this.#client.query(evidenceViewSql(this.#schema));
    return true;
  }

  /**
   * Writes (or rewrites) a runner run's row in `<schema>._pipeline_runs`, with the target runs that
   * loaded its records. Says whether it had to create the schema.
   */
  async recordRun(run: RunRecord): Promise<{ readonly schemaCreated: boolean }> {
    const create = createPipelineRunsSql(this.#schema);
    // Only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when it exists.
    const schema = await this.#client.query<{ oid: string | null }>('SELECT to_regnamespace($1)::oid AS oid', [escapeIdentifier(this.#schema)]);
    const schemaCreated = schema.rows[0]?.oid === null;
    if (schemaCreated) await this.#client.query(create.schema);
    await this.#client.query(create.table);
    // A table made by an older runner gains the newer columns, its rows kept (null there: not known).
    const columns = await this.tableColumns('_pipeline_runs');
    if (PIPELINE_RUNS_ADDED_COLUMNS.some((c) => !columns.has(c))) await this.#client.query(create.addColumns);
    // Next to the runs, the evidence of reconciles: there to query (empty) before the first one.
    await this.#client.query(createReconciliationsSql(this.#schema));
    const loadRunIds =
      run.tapRunIds.length > 0 && (await this.#tablesExist(['_load_stats']))
        ? (await this.#client.query<{ load_run_id: string }>(loadRunsOfSql(this.#schema), [run.tapRunIds])).rows.map((r) => r.load_run_id)
        : [];
    await this.#client.query(upsertPipelineRunSql(this.#schema), pipelineRunParams(run, loadRunIds));
    return { schemaCreated };
  }

  /**
   * As run `by` of a job starts, holding its job's lock (or after a scheduler's sweep closed the
   * job's runs in the journal, `RunSweeper`), the job's rows that still say running are brought up
   * to date: from the run's journal record when it has one (closed by `RunJournal.closeGone`, or
   * finished while the warehouse could not be written), left alone when that record still says
   * running (its runner is alive); a row with no record in this journal is closed only when its
   * runner was on this host and its process is gone (a row of another state folder's runner may be
   * live). Returns the run ids of the rows changed.
   */
  async closeGoneRuns(of: Pick<RunRecord, 'job' | 'company'>, by: GoneFinder, journal: RunJournal): Promise<string[]> {
    if (!(await this.#tablesExist(['_pipeline_runs']))) return [];
    const running = await this.#client.query<{ run_id: string; kind: RunKind; host: string; pid: number }>(runningRunsOfJobSql(this.#schema), [
      of.job,
      'id' in by ? by.id : '',
      of.company ?? null,
    ]);
    const changed: string[] = [];
    for (const row of running.rows) {
      const record = await journal.read(row.run_id).catch(() => undefined);
      if (record) {
        if (record.status === 'running') continue;
        await this.recordRun(record);
      } else {
        if (row.host !== hostname() || RunJournal.runnerAliveHere(row)) continue;
        await this.#client.query(closeGoneRunSql(this.#schema), [row.run_id, goneReason(row, by)]);
      }
      changed.push(row.run_id);
    }
    return changed;
  }

  /** Tap runs that wrote evidence for these streams since an instant. */
  async runsSince(since: Date, streams: readonly string[]): Promise<string[]> {
    const result = await this.#client.query<{ run_id: string }>(runsSinceSql(this.#schema), [since.toISOString(), streams, instantTextFloor(since)]);
    return result.rows.map((r) => r.run_id).sort();
  }

  async totals(runIds: readonly string[]): Promise<EvidenceTotals[]> {
    const result = await this.#client.query<Record<string, unknown>>(evidenceTotalsSql(this.#schema), [runIds]);
    return result.rows.map((r) => ({
      stream: String(r.stream),
      windows: num(r.windows),
      ...loadCountsOf(r),
      pages: num(r.pages),
      durationMs: num(r.duration_ms),
      emptyWindows: num(r.empty_windows),
      volumetryRows: num(r.volumetry_rows),
      extractedEqualsLoaded: r.extracted_equals_loaded === true,
      deleted: num(r.deleted),
    }));
  }

  /** The evidence rows of some tap runs, per UTC day and stream, as the view gives them. */
  async evidenceRows(runIds: readonly string[]): Promise<Array<Record<string, string | number | boolean | null>>> {
    return (await this.#client.query<Record<string, string | number | boolean | null>>(evidenceRowsSql(this.#schema), [runIds])).rows;
  }

  /** Per stream and UTC day in `[from, to)` (`YYYY-MM-DD`), the newest run's evidence (`newestEvidenceSql`); `streams` null for all. */
  async newestEvidence(from: string, to: string, streams: readonly string[] | null): Promise<NewestEvidence[]> {
    const last = new Date(Date.parse(`${to}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
    return this.filteredEvidence({ from, to: last, ...(streams ? { streams } : {}) });
  }

  /** Whether `<schema>.evidence` can be read; created (as the runner does) when its tables exist but it does not. */
  async hasEvidence(): Promise<boolean> {
    const found = await this.#client.query<{ view: string | null }>(
      `SELECT to_regclass(${escapeLiteral(`${escapeIdentifier(this.#schema)}.evidence`)})::text AS view`,
    );
    if (found.rows[0]?.view) return true;
    return this.ensureEvidenceView();
  }

  /** Per stream and UTC day, the newest run's evidence among the rows the console's filter keeps (a run filter picks that run's days). */
  async filteredEvidence(filter: EvidenceFilter): Promise<NewestEvidence[]> {
    const narrowed = await this.#narrowed(filter);
    if (!narrowed) return [];
    const result = await this.#client.query<Record<string, unknown>>(
      `${newestEvidenceSql(this.#schema, { where: EVIDENCE_FILTER_WHERE })}\nORDER BY stream, day_utc`,
      evidenceFilterParams(narrowed),
    );
    return result.rows.map(newestEvidenceOf);
  }

  /**
   * The newest UTC day with evidence under a filter (`YYYY-MM-DD`), if any. With no run nor days,
   * looked for in the days before the newest window start, four times more days each time, so a
   * year of evidence is not read for the last day.
   */
  async newestEvidenceDay(filter: EvidenceFilter): Promise<string | undefined> {
    if (filter.runIds?.length || filter.from || filter.to) return this.#newestDayUnder(filter);
    const ends = (await this.#client.query<Record<string, string | Date | null>>(windowStartEndsSql(this.#schema))).rows[0] ?? {};
    // The window starts' UTC days, widened by a day where only a text's local date is known.
    const dayOf = (v: unknown, textShift: number) =>
      v instanceof Date ? v.getTime() - (v.getTime() % DAY) : typeof v === 'string' ? Date.parse(`${v.slice(0, 10)}T00:00:00Z`) + textShift : NaN;
    const known = (days: number[]) => days.filter((d) => !Number.isNaN(d));
    const newest = Math.max(...known([dayOf(ends.newest_text, DAY), dayOf(ends.newest_load, 0)]));
    const oldest = Math.min(...known([dayOf(ends.oldest_text, -DAY), dayOf(ends.oldest_load, 0)]));
    // No evidence, or a window start that is no date: the whole table is looked at.
    if (!Number.isFinite(newest) || !Number.isFinite(oldest))
      return ends.newest_text === null && ends.newest_load === null ? undefined : this.#newestDayUnder(filter);
    const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    for (let days = 2; ; days *= 4) {
      const from = newest - days * DAY;
      const found = await this.#newestDayUnder({ ...filter, from: isoDay(from), to: isoDay(newest) });
      if (found !== undefined || from <= oldest) return found;
    }
  }

  async #newestDayUnder(filter: EvidenceFilter): Promise<string | undefined> {
    const narrowed = await this.#narrowed(filter);
    if (!narrowed) return undefined;
    const result = await this.#client.query<{ day_utc: string | null }>(evidenceNewestDaySql(this.#schema), evidenceFilterParams(narrowed));
    return result.rows[0]?.day_utc ?? undefined;
  }

  /**
   * The filter with days and no run narrowed to the runs with evidence on those days (found through
   * the window starts' indexes), so the view reads only their rows; undefined when none has.
   */
  async #narrowed(filter: EvidenceFilter): Promise<EvidenceFilter | undefined> {
    if (filter.runIds?.length || !filter.from || !filter.to) return filter;
    const start = Date.parse(`${filter.from}T00:00:00Z`);
    const end = Date.parse(`${filter.to}T00:00:00Z`) + DAY;
    const found = await this.#client.query<{ run_id: string }>(runsOfWindowsSql(this.#schema), [
      instantTextFloor(start),
      instantTextCeiling(end),
      new Date(start),
      new Date(end),
    ]);
    return found.rows.length > 0 ? { ...filter, runIds: found.rows.map((r) => r.run_id) } : undefined;
  }

  async evidenceRuns(limit: number): Promise<EvidenceRun[]> {
    const runIds = await this.#newestRunIds(limit);
    const result = await this.#client.query<Record<string, unknown>>(evidenceRunsSql(this.#schema), [runIds]);
    return result.rows.map((r) => ({
      runId: String(r.run_id),
      firstAt: instant(r.first_at),
      lastAt: instant(r.last_at),
      streams: (r.streams as string[] | null) ?? [],
      windows: num(r.windows),
    }));
  }

  async #newestRunIds(limit: number): Promise<string[]> {
    const ends = (await this.#client.query<{ oldest: string | null; newest: string | null }>(extractedAtEndsSql(this.#schema))).rows[0];
    if (!ends?.oldest || !ends.newest) return [];
    const newest = Date.parse(`${ends.newest.slice(0, 10)}T00:00:00Z`);
    for (let days = 2; ; days *= 4) {
      // Every row extracted since `since` is read, so a run last extracted since then has its true last time.
      const since = newest - days * DAY;
      // A newest text that is no date: the floor '' reads the whole table.
      const floor = Number.isNaN(since) ? '' : instantTextFloor(since);
      const found = await this.#client.query<{ run_id: string; last_at: Date }>(newestRunsSinceSql(this.#schema), [floor, limit]);
      const whole = ends.oldest >= floor;
      const runIds = found.rows.filter((r) => whole || r.last_at.getTime() >= since).map((r) => r.run_id);
      if (whole || runIds.length >= limit) return runIds;
    }
  }

  async close(): Promise<void> {
    await this.#client.end();
  }

  /** The columns of the stream's table (none when it does not exist). */
  async tableColumns(stream: string): Promise<Set<string>> {
    const result = await this.#client.query<{ column_name: string }>(tableColumnsSql, [this.#schema, stream]);
    return new Set(result.rows.map((r) => r.column_name));
  }

  /**
   * Of these streams, those whose table (made by the target: every column of its first version)
   * holds rows but has no `deleted_at_utc`: loaded by a version from before deletions reached the
   * tables, so QBO's deletions of that time are not marked there, and a sync, whose change data
   * capture starts at the bookmarks, never reads them. The target adds the column as it opens the
   * stream; a reconcile finds those deletions. (A table the target did not make, it refuses.)
   */
  async loadedBeforeDeletions(streams: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const stream of streams) {
      const columns = await this.tableColumns(stream);
      if (columns.has('deleted_at_utc') || !STREAM_TABLE_COLUMNS.every((c) => columns.has(c))) continue;
      const rows = await this.#client.query<{ found: boolean }>(hasRowsSql(this.#schema, stream));
      if (rows.rows[0]?.found === true) found.push(stream);
    }
    return found.sort();
  }

  /** The company (realm) the target recorded for the schema in `_company`; undefined when none is. */
  async recordedCompany(): Promise<string | undefined> {
    if (!(await this.#tablesExist(['_company']))) return undefined;
    return (await this.#client.query<{ realm_id: string }>(recordedCompanySql(this.#schema))).rows[0]?.realm_id;
  }

  /** Realms other than `realmId` whose rows the stream's table holds. */
  async otherRealms(stream: string, realmId: string): Promise<string[]> {
    return (await this.#client.query<{ realm_id: string }>(otherRealmsSql(this.#schema, stream), [realmId])).rows.map((r) => r.realm_id);
  }

  /** Ids of the stream's rows not marked deleted. */
  async liveIds(stream: string): Promise<string[]> {
    return (await this.#client.query<{ id: string }>(liveIdsSql(this.#schema, stream))).rows.map((r) => r.id);
  }

  /**
   * In one transaction, the evidence and run rows older than `cutOff` that no day needs
   * (`pruneEvidenceSql`); a dry run does the same and rolls it back, so its counts are the real ones.
   */
  async pruneEvidence(cutOff: Date, dryRun: boolean): Promise<PrunedEvidence> {
    const client = this.#client;
    const sql = pruneEvidenceSql(this.#schema);
    const hasEvidence = await this.ensureEvidenceView();
    const [hasLoadRuns, hasPipelineRuns] = [await this.#tablesExist(['_load_runs']), await this.#tablesExist(['_pipeline_runs'])];
    await client.query('BEGIN');
    try {
      const evidence = hasEvidence ? (await client.query<{ volumetry: number; load_stats: number }>(sql.evidence, [cutOff])).rows[0] : undefined;
      const deleted = async (has: boolean, text: string) => (has ? ((await client.query<{ deleted: number }>(text, [cutOff])).rows[0]?.deleted ?? 0) : 0);
      const pruned = {
        volumetry: evidence?.volumetry ?? 0,
        loadStats: evidence?.load_stats ?? 0,
        pipelineRuns: await deleted(hasPipelineRuns && hasEvidence, sql.pipelineRuns),
        loadRuns: await deleted(hasLoadRuns && hasEvidence, sql.loadRuns(hasPipelineRuns)),
      };
      await client.query(dryRun ? 'ROLLBACK' : 'COMMIT');
      return pruned;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * In one transaction: marks the missing rows deleted (unless a dry run; a row already marked
   * keeps its instant) and records the evidence in `_reconciliations`. Returns the ids it marked.
   */
  async recordReconciliation(evidence: ReconciliationEvidence): Promise<string[]> {
    const client = this.#client;
    await client.query('BEGIN');
    try {
      await client.query(createReconciliationsSql(this.#schema));
      const marked =
        evidence.deletedAt && evidence.missingIds.length > 0
          ? (await client.query<{ id: string }>(markDeletedSql(this.#schema, evidence.stream), [evidence.missingIds, evidence.deletedAt])).rows.map((r) => r.id)
          : [];
      await client.query(insertReconciliationSql(this.#schema), [
        evidence.runId,
        evidence.stream,
        evidence.realmId,
        evidence.startedAt,
        new Date(),
        evidence.qboRecords,
        evidence.liveRows,
        evidence.candidates,
        evidence.missingIds,
        marked.length,
        evidence.deletedAt ?? null,
        evidence.deletedAt === undefined,
        evidence.requests,
      ]);
      await client.query('COMMIT');
      return marked.sort();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
