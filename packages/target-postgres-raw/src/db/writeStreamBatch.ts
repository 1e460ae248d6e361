import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { RunError, type Logger } from 'singer-kit';
import { groupKey } from '../buffer/StreamBuffer.js';
import type { StreamBatch } from '../buffer/Buffers.js';
import { HashedRow, STAGE_COLUMNS, tableColumns } from '../rows/rowColumns.js';
import { STAGE_TABLE } from '../sql/ddl.js';
import { quoteIdent } from '../sql/tableName.js';
import { COPY_STAGE_SQL, copyTableSql, deletionSql, upsertSql } from '../sql/upsertSql.js';
import { copyBinary, type BinaryColumn } from './copyBinary.js';
import type { CopyChunks } from './CopyChunks.js';
import { addCounts, emptyCounts, type LoadCounts } from './loadCounts.js';
import { isDiskFull, pgErrorKind, reasonOf, refusedCopyRow } from './pgErrors.js';
import { splitByStoredHash, type Split } from './splitByStoredHash.js';
import { readStoredHashes } from './StoredHashes.js';

/** What one commit's streams share: its transaction, its staging table, the time its rows get. */
export interface CommitContext {
  readonly client: pg.Client;
  readonly schema: string;
  readonly loadRunId: string;
  readonly commitNumber: number;
  readonly logger: Logger;
  /** The connection's COPY chunk buffers. */
  readonly copyChunks: CopyChunks;
  /** The transaction's now() as microseconds since 2000 (ingested_at_utc of rows copied straight in), read once. */
  ingestedAt?: bigint;
  /** Whether an earlier stream of this commit left rows in the staging table. */
  stageInUse: boolean;
}

const SAVEPOINT = 'target_postgres_raw_copy';
const UNIQUE_VIOLATION = '23505';

/**
 * What a batch's ids turned out to be, which the stream's next batch expects: all new to the table
 * (a first load, probably), all stored with another payload (every record changed), or neither.
 */
export type BatchIds = 'new' | 'stored' | 'mixed';

/** What writing one stream's batch did. */
export interface StreamBatchWritten {
  readonly counts: LoadCounts;
  readonly ids: BatchIds;
}

const NOTHING_STORED: ReadonlyMap<string, string | null> = new Map();

/**
 * Writes one stream's batch inside the commit's transaction and records its load statistics;
 * then applies its deletion records (deletionSql), so a full record and its deletion in one batch
 * keep the full payload.
 * The stored payload hash of every id is read first: a record whose payload text has the hash
 * of the stored one needs no write at all (records the lookahead found so never reach the batch:
 * they come as `skipped` counts); an id with no row is copied straight into the table
 * (no staging, no conflict handling: the fastest write PostgreSQL has); the others go through
 * the staging table and the upsert, which decides by payload and age. If another writer added
 * one of the new ids in between (a concurrent run, or a row committed since the hashes were
 * read), the copy fails on the primary key, is rolled back to its savepoint, and those rows go
 * through the upsert instead.
 * Reading the hashes is a round trip and a lookup of every id while the database would wait, so
 * the stream's previous batch decides whether it is worth it (`expected`): after one of only new
 * ids the whole batch is copied straight in without it (if an id turns out to be stored, that copy
 * is rolled back and the batch takes the way above); after one whose every id was stored with
 * another payload the whole batch is staged without it, and the upsert leaves alone the rows whose
 * stored hash is equal (not even locked) and inserts the new ids.
 */
export async function writeStreamBatch(ctx: CommitContext, batch: StreamBatch, expected: BatchIds): Promise<StreamBatchWritten> {
  const { client, schema } = ctx;
  const rows = batch.rows.map((row) => new HashedRow(row));
  let split: Split | undefined;
  let copied: HashedRow[] = [];
  if (expected === 'new' && rows.length > 0) {
    // With nothing stored every row is fresh; the split is what sorts them into the shared lock order.
    const guess = splitByStoredHash(rows, NOTHING_STORED);
    if (await copyStraightIn(ctx, batch, guess.fresh)) {
      split = guess;
      copied = guess.fresh;
    } else ctx.logger.debug(`stream ${JSON.stringify(batch.stream)}: some ids of a batch expected new are stored; its stored hashes are read`);
  } else if (expected === 'stored') {
    ctx.logger.debug(`stream ${JSON.stringify(batch.stream)}: staged without reading stored hashes (every id of its previous batch was stored)`);
    split = { fresh: [], unchanged: [], staged: rows };
  }
  if (split === undefined) {
    const stored = readStoredHashes(
      client,
      schema,
      batch.table,
      batch.rows.map((r) => r.id),
    );
    for (const row of rows) void row.hash; // while the database looks the ids up
    split = splitByStoredHash(rows, await stored);
    if (split.fresh.length > 0) {
      if (await copyStraightIn(ctx, batch, split.fresh)) copied = split.fresh;
      else {
        ctx.logger.info(
          `stream ${JSON.stringify(batch.stream)}: another writer added some of ${split.fresh.length} new ids meanwhile; they are upserted instead`,
        );
        split.staged.push(...split.fresh);
      }
    }
  }
  await stage(ctx, batch.stream, split.staged);
  const copiedPerGroup = countPerGroup(copied);
  const unchangedPerGroup = countPerGroup(split.unchanged);
  const received = batch.groups.map((g) => ({
    run_id: g.runId,
    window_start: g.windowStart,
    received: g.received,
    deduplicated: g.deduplicated,
    copied: copiedPerGroup.get(groupKey(g)) ?? 0,
    hash_unchanged: (unchangedPerGroup.get(groupKey(g)) ?? 0) + g.skipped,
    deleted: g.deleted,
  }));
  const { rows: written } = await client.query<Partial<Record<keyof LoadCounts, unknown>>>(
    upsertSql(schema, batch.table, received.length === 1, expected === 'stored'),
    [ctx.loadRunId, ctx.commitNumber, batch.stream, JSON.stringify(received)],
  );
  const counts = emptyCounts();
  for (const row of written) addCounts(counts, row);
  if (batch.deletions.length > 0) {
    await stage(
      ctx,
      batch.stream,
      batch.deletions.map((row) => new HashedRow(row)),
    );
    await client.query(deletionSql(schema, batch.table));
  }
  return { counts, ids: batchIds(rows.length, copied.length, counts, batch) };
}

/**
 * Makes `rows` the staging table's only content: the statement after it reads the whole table, so
 * what an earlier stream (or this stream's entity records) left there is removed first, even when
 * there is nothing new to stage.
 */
async function stage(ctx: CommitContext, stream: string, rows: readonly HashedRow[]): Promise<void> {
  if (ctx.stageInUse) await ctx.client.query(`TRUNCATE ${quoteIdent(STAGE_TABLE)}`);
  ctx.stageInUse = rows.length > 0;
  if (ctx.stageInUse) await copyRows(ctx, COPY_STAGE_SQL, rows, STAGE_COLUMNS, stream);
}

/**
 * COPY of `rows` by `sql`. A row PostgreSQL will not store (a number beyond the range of its
 * numeric, 1e131072 and up; JSON nested deeper than its stack allows) fails the commit with a
 * RunError naming that record's line, stream and id, where PostgreSQL names only the batch. A full
 * disk names the row it was copying too, but no row is to blame: it goes up as it is.
 */
async function copyRows(
  ctx: CommitContext,
  sql: string,
  rows: readonly HashedRow[],
  columns: readonly BinaryColumn<HashedRow>[],
  stream: string,
): Promise<void> {
  try {
    await ctx.copyChunks.send(ctx.client.query(copyFrom(sql)), copyBinary(rows, columns, ctx.copyChunks));
  } catch (error) {
    const kind = pgErrorKind(error, false);
    const refused = (kind === 'data' || kind === 'other') && !isDiskFull(error) ? refusedCopyRow(error) : undefined;
    const row = refused && (error as { code?: unknown }).code !== UNIQUE_VIOLATION ? rows[refused.row - 1]?.row : undefined;
    if (!refused || !row) throw error;
    throw new RunError(
      `line ${row.line}: stream ${JSON.stringify(stream)} record id ${JSON.stringify(row.id)}: PostgreSQL cannot store it${refused.column ? ` (column ${refused.column})` : ''}: ${reasonOf(error)}; nothing of this batch was committed and no state was printed for it`,
      { cause: error },
    );
  }
}

/** COPY of new rows into the stream table under a savepoint; false when an id turned out to exist (nothing of it stays). */
async function copyStraightIn(ctx: CommitContext, batch: StreamBatch, rows: readonly HashedRow[]): Promise<boolean> {
  const { client } = ctx;
  if (ctx.ingestedAt === undefined) {
    const { rows: now } = await client.query<{ micros: string }>(
      `SELECT ((extract(epoch FROM date_trunc('second', now()))::bigint - 946684800) * 1000000 + extract(microseconds FROM now())::bigint % 1000000)::text AS micros`,
    );
    ctx.ingestedAt = BigInt(now[0]?.micros ?? '0');
  }
  await client.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    await copyRows(ctx, copyTableSql(ctx.schema, batch.table), rows, tableColumns(ctx.ingestedAt), batch.stream);
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
    await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    return false;
  }
  await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  return true;
}

function countPerGroup(rows: readonly HashedRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { row } of rows) {
    const key = groupKey({ runId: row.runId, windowStart: row.extractWindowStart?.text ?? null });
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** What the batch's ids were, from what was copied straight in and what the upsert counted. */
function batchIds(rows: number, copied: number, counts: LoadCounts, batch: StreamBatch): BatchIds {
  if (rows === 0 || batch.groups.some((g) => g.skipped > 0)) return 'mixed';
  if (copied === rows) return 'new';
  return copied === 0 && counts.inserted === 0 && counts.unchanged === 0 ? 'stored' : 'mixed';
}
