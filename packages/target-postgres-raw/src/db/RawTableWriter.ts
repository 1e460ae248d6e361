import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { RunError, type Logger } from 'singer-kit';
import { copyLine } from './copyText.js';
import { CREATE_STAGE_SQL, STAGE_TABLE, createLoadTablesSql, createSchemaSql, createStreamTableSql } from '../sql/ddl.js';
import { toDatabaseError } from './pgErrors.js';
import type { Row } from '../rows/Row.js';
import type { ConnectionSettings } from '../settings.js';
import type { StreamBatch } from '../buffer/Buffers.js';
import { clientConfig } from './clientConfig.js';
import { addCounts, emptyCounts, type LoadCounts } from './loadCounts.js';
import { qualified, quoteIdent } from '../sql/tableName.js';
import { COPY_STAGE_SQL, upsertSql } from '../sql/upsertSql.js';

const COPY_CHUNK_BYTES = 512 * 1024;

/** COPY text in large chunks: pg-copy-streams is slow with one write per row. */
function* copyChunks(rows: readonly Row[]): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += copyLine(row);
    if (chunk.length >= COPY_CHUNK_BYTES) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/**
 * The target's one database connection. Every call must be awaited before the next (runTarget
 * serialises them), because statements on one connection share its transaction.
 */
export class RawTableWriter {
  readonly #client: pg.Client;
  readonly #schema: string;
  readonly #loadRunId: string;
  readonly #logger: Logger;
  #commits = 0;
  #connectionLost = false;

  private constructor(client: pg.Client, schema: string, loadRunId: string, logger: Logger) {
    this.#client = client;
    this.#schema = schema;
    this.#loadRunId = loadRunId;
    this.#logger = logger;
    // A connection dropped while idle is reported by the next statement; the listener keeps it
    // from crashing the process, and tells errors without SQLSTATE apart (pgErrorKind).
    client.on('error', (error) => {
      this.#connectionLost = true;
      logger.debug(`database connection error: ${error.message}`);
    });
    client.on('end', () => (this.#connectionLost = true));
  }

  /** Connects, sets the session up, and records the start of this load run. */
  static async open(connection: ConnectionSettings, schema: string, loadRunId: string, logger: Logger): Promise<RawTableWriter> {
    const client = new pg.Client(clientConfig(connection));
    const writer = new RawTableWriter(client, schema, loadRunId, logger);
    const where = `${connection.host}:${connection.port}/${connection.database} as ${connection.user}`;
    try {
      await client.connect();
    } catch (error) {
      const e = error as { message?: string; code?: string };
      throw new RunError(`cannot connect to PostgreSQL at ${where}: ${e.message ?? String(error)}${e.code ? ` [${e.code}]` : ''}`, { cause: error });
    }
    await writer.#run('preparing the session', async () => {
      // Durable commits whatever the server default: a state is printed only after its commit.
      // A batch (10,000 records ≈ 25 MB staged) is staged and sorted in memory rather than in temp
      // files: the defaults (8 MB temp_buffers, 4 MB work_mem) spill it. temp_buffers must be set
      // before the session first touches a temp table.
      await client.query(`SET TIME ZONE 'UTC'; SET synchronous_commit = on; SET lock_timeout = '60s'; SET temp_buffers = '64MB'; SET work_mem = '64MB'`);
      await writer.#ddl(createSchemaSql(schema), ...createLoadTablesSql(schema));
      await client.query(CREATE_STAGE_SQL);
      await client.query(`INSERT INTO ${qualified(schema, '_load_runs')} (load_run_id, started_at_utc, status) VALUES ($1, now(), 'running')`, [loadRunId]);
    }).catch(async (error: unknown) => {
      await writer.close(); // an open socket would keep the process alive after the error
      throw error;
    });
    return writer;
  }

  /** Creates the stream's table if missing (DESIGN §5). */
  async ensureTable(stream: string, table: string): Promise<void> {
    await this.#run(`creating table ${qualified(this.#schema, table)} for stream ${JSON.stringify(stream)}`, () =>
      this.#ddl(createStreamTableSql(this.#schema, table)),
    );
  }

  /**
   * One transaction over all streams: COPY each stream's rows into the staging table and upsert
   * them with their load statistics. Returns the counts per stream once COMMIT has returned.
   * `whileBusy` runs once, while the database executes the first upsert: work put there (a
   * garbage collection) does not keep the database waiting.
   */
  async commit(batches: readonly StreamBatch[], whileBusy?: () => void): Promise<Map<string, LoadCounts>> {
    const commitNumber = this.#commits + 1;
    const result = new Map<string, LoadCounts>();
    let current = 'beginning the transaction';
    try {
      await this.#client.query('BEGIN');
      const total = emptyCounts();
      let first = true;
      for (const batch of batches) {
        current = `writing ${batch.rows.length} records of stream ${JSON.stringify(batch.stream)}`;
        if (!first) await this.#client.query(`TRUNCATE ${quoteIdent(STAGE_TABLE)}`);
        first = false;
        if (batch.rows.length > 0) await pipeline(Readable.from(copyChunks(batch.rows)), this.#client.query(copyFrom(COPY_STAGE_SQL)));
        const received = batch.groups.map((g) => ({ run_id: g.runId, window_start: g.windowStart, received: g.received, deduplicated: g.deduplicated }));
        const pending = this.#client.query(upsertSql(this.#schema, batch.table, received.length === 1), [this.#loadRunId, commitNumber, batch.stream, JSON.stringify(received)]);
        whileBusy?.();
        whileBusy = undefined;
        const stats = await pending;
        const counts = emptyCounts();
        for (const row of stats.rows) addCounts(counts, row);
        result.set(batch.stream, counts);
        addCounts(total, counts);
      }
      current = 'committing';
      await this.#client.query(
        `UPDATE ${qualified(this.#schema, '_load_runs')} SET commits = commits + 1, received = received + $2, inserted = inserted + $3,
          updated = updated + $4, unchanged = unchanged + $5, skipped_older = skipped_older + $6, deduplicated = deduplicated + $7 WHERE load_run_id = $1`,
        [this.#loadRunId, total.received, total.inserted, total.updated, total.unchanged, total.skipped_older, total.deduplicated],
      );
      await this.#client.query('COMMIT');
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => undefined);
      throw toDatabaseError(error, current, this.#connectionLost);
    }
    this.#commits = commitNumber;
    return result;
  }

  /** Records how the run ended; best effort, the connection may be the thing that failed. */
  async finish(status: 'succeeded' | 'failed', reason: string): Promise<void> {
    await this.#client
      .query(`UPDATE ${qualified(this.#schema, '_load_runs')} SET finished_at_utc = now(), status = $2, exit_reason = $3 WHERE load_run_id = $1`, [
        this.#loadRunId,
        status,
        reason.slice(0, 2000),
      ])
      .catch((error: Error) => this.#logger.debug(`could not record the end of the load run: ${error.message}`));
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => undefined);
  }

  /** DDL under an advisory lock: `IF NOT EXISTS` alone races between concurrent runs. */
  async #ddl(...statements: string[]): Promise<void> {
    await this.#client.query('BEGIN');
    try {
      await this.#client.query(`SELECT pg_advisory_xact_lock(hashtext('target-postgres-raw:ddl'))`);
      for (const sql of statements) await this.#client.query(sql);
      await this.#client.query('COMMIT');
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async #run(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      throw toDatabaseError(error, what, this.#connectionLost);
    }
  }
}
