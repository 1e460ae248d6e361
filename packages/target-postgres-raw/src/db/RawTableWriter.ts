import type pg from 'pg';
import { CliError, RunError, type Logger } from 'singer-kit';
import type { Batch, StreamBatch } from '../buffer/Buffers.js';
import { claimBatchRealms, recordCompanyOfExistingRows } from '../company/companyOwner.js';
import { assertStreamTable } from './assertStreamTable.js';
import type { ConnectionSettings } from '../settings.js';
import { CREATE_STAGE_SQL, companyTableDdl, loadTablesDdl, schemaDdl, streamTableDdl, type DdlStatement } from '../sql/ddl.js';
import { qualified, quoteIdent } from '../sql/tableName.js';
import { Connection, inTransaction, lockTimeoutSql } from './Connection.js';
import { CopyChunks } from './CopyChunks.js';
import { addCounts, emptyCounts, LOAD_COUNT_NAMES, type LoadCounts } from './loadCounts.js';
import { diskFullAdvice, isDiskFull, reasonOf } from './pgErrors.js';
import { writeStreamBatch, type BatchIds, type CommitContext } from './writeStreamBatch.js';

export interface WriterOptions {
  readonly connection: ConnectionSettings;
  readonly schema: string;
  readonly loadRunId: string;
  /** How long a lost connection is retried (reconnect_timeout_seconds). */
  readonly reconnectTimeoutMs: number;
  /** Aborted, its reason saying why, when `open` should stop retrying its connection (there is nothing to load). */
  readonly stopConnecting?: AbortSignal;
  readonly logger: Logger;
}

/**
 * Everything the target writes, over its one reconnecting session (Connection). Every call must
 * be awaited before the next (runTarget serialises them), because they share the session.
 */
export class RawTableWriter {
  readonly #db: Connection;
  readonly #schema: string;
  readonly #loadRunId: string;
  readonly #logger: Logger;
  /** `host:port` of the server, for messages. */
  readonly #server: string;
  #commits = 0;
  /** The COPY chunk buffers of its connection, reused COPY after COPY. */
  readonly #copyChunks = new CopyChunks();
  /** What the ids of each table's last committed batch were (writeStreamBatch's `expected`). */
  readonly #lastIds = new Map<string, BatchIds>();
  /** The stream whose table the commit in progress writes, for the message of a full disk. */
  #writing: { readonly stream: string; readonly table: string } | undefined;

  private constructor(o: WriterOptions) {
    this.#schema = o.schema;
    this.#loadRunId = o.loadRunId;
    this.#logger = o.logger;
    this.#server = `${o.connection.host}:${o.connection.port}`;
    this.#db = new Connection({
      settings: o.connection,
      reconnectTimeoutMs: o.reconnectTimeoutMs,
      logger: o.logger,
      prepareSession: async (client) => {
        // Durable commits whatever the server default: a state is printed only after its commit.
        // A batch (10,000 records ≈ 25 MB staged) is staged and sorted in memory rather than in temp
        // files: the defaults (8 MB temp_buffers, 4 MB work_mem) spill it. temp_buffers must be set
        // before the session first touches a temp table. A transaction left open by a session
        // that lost its client (a network cut) holds its locks at most a minute. A lock another
        // session holds is waited for at most lockTimeoutSql says, then retried like a lost connection.
        await client.query(
          `SET TIME ZONE 'UTC'; SET synchronous_commit = on; ${lockTimeoutSql(o.reconnectTimeoutMs)}; SET idle_in_transaction_session_timeout = '60s'; SET temp_buffers = '64MB'; SET work_mem = '64MB'`,
        );
        await client.query(CREATE_STAGE_SQL);
      },
    });
  }

  /** Connects (retrying within the reconnect bound, or until `stopConnecting` aborts), creates the schema and bookkeeping tables, and records the start of this load run. */
  static async open(options: WriterOptions): Promise<RawTableWriter> {
    const writer = new RawTableWriter(options);
    const { schema, loadRunId } = options;
    try {
      await writer.#db.run(
        `preparing schema ${quoteIdent(schema)}`,
        async (client) => {
          await ddl(client, [...schemaDdl(schema), ...loadTablesDdl(schema), ...companyTableDdl(schema)], () =>
            recordCompanyOfExistingRows(client, schema, loadRunId),
          );
          // Repeated when the first attempt's reply was lost.
          await client.query(
            `INSERT INTO ${qualified(schema, '_load_runs')} (load_run_id, started_at_utc, status) VALUES ($1, now(), 'running') ON CONFLICT (load_run_id) DO NOTHING`,
            [loadRunId],
          );
        },
        { stopRetrying: options.stopConnecting },
      );
    } catch (error) {
      await writer.close(); // an open socket would keep the process alive after the error
      throw error;
    }
    return writer;
  }

  /**
   * Creates the stream's table if missing (DESIGN §5); a relation of its name made by something else
   * is refused (exit 2). A missing table that earlier load runs inserted rows into was dropped or
   * renamed by someone: it is made anew, with a warning, as only a backfill can bring those rows back.
   */
  async ensureTable(stream: string, table: string): Promise<void> {
    await this.#db.run(`creating table ${qualified(this.#schema, table)} for stream ${JSON.stringify(stream)}`, async (client) => {
      if (!(await assertStreamTable(client, this.#schema, table, stream))) await this.#warnIfLoadedBefore(client, stream, table);
      await ddl(client, streamTableDdl(this.#schema, table));
    });
  }

  async #warnIfLoadedBefore(client: pg.Client, stream: string, table: string): Promise<void> {
    const { rows } = await client.query<{ inserted: string | null; last: Date | null }>(
      `SELECT sum(inserted)::bigint AS inserted, max(committed_at_utc) AS last FROM ${qualified(this.#schema, '_load_stats')} WHERE stream = $1`,
      [stream],
    );
    const inserted = Number(rows[0]?.inserted ?? 0);
    if (inserted === 0) return;
    this.#logger.warn(
      `stream ${JSON.stringify(stream)}: its table ${qualified(this.#schema, table)} is gone (dropped or renamed) though earlier load runs inserted ${inserted} rows into it, the last at ${rows[0]?.last?.toISOString() ?? '?'}; ` +
        'it is made anew and holds only what is loaded from now on: if it was renamed by mistake, stop and rename it back; otherwise load the earlier rows again with a backfill from the start (qbo-pipeline backfill --fresh)',
    );
  }

  /**
   * One transaction over all streams: each stream's rows are written (writeStreamBatch: skipped
   * when unchanged, copied straight in when new, upserted otherwise) with their load statistics.
   * Returns the counts per stream once COMMIT has returned.
   *
   * A lost connection (before or while COMMIT returns) is survived: the same batch is written
   * again on a new session. The run's `_load_runs.commits` is raised in the same transaction as
   * the data, so it witnesses whether an attempt whose COMMIT reply was lost did commit; each
   * attempt first locks that row (waiting out an earlier attempt's transaction still open on the
   * server) and, when the witness says committed, reads the counts back instead of writing again.
   */
  async commit(batch: Batch): Promise<Map<string, LoadCounts>> {
    const batches = batch.streams;
    const commitNumber = this.#commits + 1;
    const size = (b: StreamBatch) => b.rows.length + b.deletions.length;
    const what = `committing ${batches.reduce((n, b) => n + size(b), 0)} records (${batches.map((b) => `stream ${JSON.stringify(b.stream)}: ${size(b)}`).join(', ')})`;
    this.#writing = undefined;
    const result = await this.#db
      .run(what, (client) =>
        inTransaction(client, async () => {
          const witness = await client.query<{ commits: number }>(
            `SELECT commits FROM ${qualified(this.#schema, '_load_runs')} WHERE load_run_id = $1 FOR UPDATE`,
            [this.#loadRunId],
          );
          if ((witness.rows[0]?.commits ?? 0) >= commitNumber) {
            this.#logger.warn(`commit ${commitNumber} had committed before its connection was lost; it is not written again`);
            return { counts: await this.#committedCounts(client, commitNumber), ids: new Map<string, BatchIds>() };
          }
          await claimBatchRealms(client, this.#schema, this.#loadRunId, batch.realms);
          return this.#write(client, batches, commitNumber);
        }),
      )
      .catch(async (error: unknown) => {
        throw (await this.#diskFullError(error)) ?? error;
      });
    this.#commits = commitNumber;
    for (const [table, ids] of result.ids) this.#lastIds.set(table, ids);
    return result.counts;
  }

  /** Records how the run ended; best effort (one reconnect at most), the connection may be the thing that failed. */
  async finish(status: 'succeeded' | 'failed', reason: string): Promise<void> {
    await this.#db
      .run(
        'recording the end of the load run',
        (client) =>
          client.query(`UPDATE ${qualified(this.#schema, '_load_runs')} SET finished_at_utc = now(), status = $2, exit_reason = $3 WHERE load_run_id = $1`, [
            this.#loadRunId,
            status,
            reason.slice(0, 2000),
          ]),
        { timeoutMs: 0 },
      )
      .catch((error: Error) => this.#logger.debug(`could not record the end of the load run: ${error.message}`));
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  /** The statements of one commit, inside its transaction. */
  async #write(
    client: pg.Client,
    batches: readonly StreamBatch[],
    commitNumber: number,
  ): Promise<{ counts: Map<string, LoadCounts>; ids: Map<string, BatchIds> }> {
    const result = new Map<string, LoadCounts>();
    const ids = new Map<string, BatchIds>();
    const total = emptyCounts();
    const ctx: CommitContext = {
      client,
      schema: this.#schema,
      loadRunId: this.#loadRunId,
      commitNumber,
      logger: this.#logger,
      copyChunks: this.#copyChunks,
      stageInUse: false,
    };
    for (const batch of batches) {
      this.#writing = { stream: batch.stream, table: batch.table };
      const written = await writeStreamBatch(ctx, batch, this.#lastIds.get(batch.table) ?? 'mixed');
      result.set(batch.stream, written.counts);
      ids.set(batch.table, written.ids);
      addCounts(total, written.counts);
    }
    this.#writing = undefined;
    const names = LOAD_COUNT_NAMES.map((n, i) => `${n} = ${n} + $${i + 3}`).join(', ');
    await client.query(`UPDATE ${qualified(this.#schema, '_load_runs')} SET commits = $2, ${names} WHERE load_run_id = $1`, [
      this.#loadRunId,
      commitNumber,
      ...LOAD_COUNT_NAMES.map((n) => total[n]),
    ]);
    return { counts: result, ids };
  }

  /**
   * A commit that failed because the disk under the stream table it wrote is full (53100), as one
   * line naming the table, where its disk is (its tablespace and that one's folder on the server,
   * looked up once the transaction is rolled back; left out when that fails too) and what to do;
   * undefined for any other failure. PostgreSQL's own message names only a file.
   */
  async #diskFullError(error: unknown): Promise<RunError | undefined> {
    const cause = error instanceof CliError ? error.cause : error;
    const writing = this.#writing;
    if (!isDiskFull(cause) || writing === undefined) return undefined;
    const table = qualified(this.#schema, writing.table);
    const place = await this.#db
      .run(
        `finding the tablespace of ${table}`,
        (client) =>
          client.query<{ name: string; folder: string }>(
            `SELECT t.spcname AS name, pg_tablespace_location(t.oid) AS folder
             FROM pg_class c, pg_database d, pg_tablespace t
             WHERE c.oid = to_regclass($1) AND d.datname = current_database() AND t.oid = coalesce(nullif(c.reltablespace, 0), d.dattablespace)`,
            [table],
          ),
        { timeoutMs: 0 },
      )
      .then(({ rows: [found] }) => (found ? ` (tablespace ${found.name}, ${found.folder ? `in ${found.folder}` : 'in its data folder'})` : ''))
      .catch(() => '');
    return new RunError(
      `stream ${JSON.stringify(writing.stream)}: PostgreSQL has no space left for table ${table}: ${reasonOf(cause)}; ${diskFullAdvice(`the disk of the PostgreSQL server at ${this.#server}${place}`)}; nothing of this batch was committed and no state was printed for it`,
      { cause },
    );
  }

  /** What commit `commitNumber` of this run wrote, per stream, from its `_load_stats` rows. */
  async #committedCounts(client: pg.Client, commitNumber: number): Promise<Map<string, LoadCounts>> {
    const sums = LOAD_COUNT_NAMES.map((n) => `sum(${n})::bigint AS ${n}`).join(', ');
    const { rows } = await client.query<{ stream: string } & Record<keyof LoadCounts, string>>(
      `SELECT stream, ${sums} FROM ${qualified(this.#schema, '_load_stats')} WHERE load_run_id = $1 AND commit_number = $2 GROUP BY stream ORDER BY stream`,
      [this.#loadRunId, commitNumber],
    );
    return new Map(rows.map((row) => [row.stream, addCounts(emptyCounts(), row)]));
  }
}

/**
 * DDL under an advisory lock (`IF NOT EXISTS` alone races between concurrent runs), each statement
 * skipped when it has nothing to do; `then` runs in the same transaction, still under the lock.
 */
async function ddl(client: pg.Client, statements: readonly DdlStatement[], then?: () => Promise<void>): Promise<void> {
  // Nearly always everything is made already: seen so without the lock, that is one statement
  // instead of four (for each stream of each run). Nothing the target makes is ever dropped by it.
  if (then === undefined && (await skipped(client, statements)).every((skip) => skip)) return;
  await inTransaction(client, async () => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('target-postgres-raw:ddl'))`);
    const skip = await skipped(client, statements);
    for (const [i, statement] of statements.entries()) if (!skip[i]) await client.query(statement.sql);
    await then?.();
  });
}

/** Per statement, whether its `skipIf` holds now. */
async function skipped(client: pg.Client, statements: readonly DdlStatement[]): Promise<boolean[]> {
  const checks = await client.query<{ skip: boolean[] }>(`SELECT ARRAY[${statements.map((s) => s.skipIf ?? 'false').join(', ')}]::boolean[] AS skip`);
  const skip = checks.rows[0]?.skip ?? [];
  return statements.map((_, i) => skip[i] === true);
}
