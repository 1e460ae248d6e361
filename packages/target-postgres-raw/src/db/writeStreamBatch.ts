import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'singer-kit';
import { groupKey } from '../buffer/StreamBuffer.js';
import type { StreamBatch } from '../buffer/Buffers.js';
import { HashedRow, STAGE_COLUMNS, tableColumns } from '../rows/rowColumns.js';
import { STAGE_TABLE } from '../sql/ddl.js';
import { quoteIdent } from '../sql/tableName.js';
import { COPY_STAGE_SQL, copyTableSql, deletionSql, upsertSql } from '../sql/upsertSql.js';
import { copyBinary } from './copyBinary.js';
import { addCounts, emptyCounts, type LoadCounts } from './loadCounts.js';
import { splitByStoredHash, type Split } from './splitByStoredHash.js';
import { readStoredHashes } from './StoredHashes.js';

/** What one commit's streams share: its transaction, its staging table, the time its rows get. */
export interface CommitContext {
  readonly client: pg.Client;
  readonly schema: string;
  readonly loadRunId: string;
  readonly commitNumber: number;
  readonly logger: Logger;
  /** The transaction's now() as microseconds since 2000 (ingested_at_utc of rows copied straight in), read once. */
  ingestedAt?: bigint;
  /** Whether an earlier stream of this commit left rows in the staging table. */
  stageInUse: boolean;
}

const SAVEPOINT = 'target_postgres_raw_copy';
const UNIQUE_VIOLATION = '23505';

/** What writing one stream's batch did. */
export interface StreamBatchWritten {
  readonly counts: LoadCounts;
  /** Every record of the batch was new to the table (none stored, none skipped as unchanged): a first load, probably. */
  readonly newIdsOnly: boolean;
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
 * When the stream's previous batch had only new ids (`expectNewIds`), the whole batch is copied
 * straight in without reading the stored hashes first (a round trip and the lookup of every id,
 * while the database would wait); if an id turns out to be stored, that copy is rolled back and
 * the batch takes the way above.
 */
export async function writeStreamBatch(ctx: CommitContext, batch: StreamBatch, expectNewIds: boolean): Promise<StreamBatchWritten> {
  const { client, schema } = ctx;
  const rows = batch.rows.map((row) => new HashedRow(row));
  let split: Split | undefined;
  let copied: HashedRow[] = [];
  if (expectNewIds && rows.length > 0) {
    const guess = splitByStoredHash(rows, NOTHING_STORED);
    if (await copyStraightIn(ctx, batch.table, guess.fresh)) {
      split = guess;
      copied = guess.fresh;
    } else ctx.logger.debug(`stream ${JSON.stringify(batch.stream)}: some ids of a batch expected new are stored; its stored hashes are read`);
  }
  if (split === undefined) {
    split = splitByStoredHash(
      rows,
      await readStoredHashes(
        client,
        schema,
        batch.table,
        batch.rows.map((r) => r.id),
      ),
    );
    if (split.fresh.length > 0) {
      if (await copyStraightIn(ctx, batch.table, split.fresh)) copied = split.fresh;
      else {
        ctx.logger.info(
          `stream ${JSON.stringify(batch.stream)}: another writer added some of ${split.fresh.length} new ids meanwhile; they are upserted instead`,
        );
        split.staged.push(...split.fresh);
      }
    }
  }
  await stage(ctx, split.staged);
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
  const { rows: written } = await client.query<Partial<Record<keyof LoadCounts, unknown>>>(upsertSql(schema, batch.table, received.length === 1), [
    ctx.loadRunId,
    ctx.commitNumber,
    batch.stream,
    JSON.stringify(received),
  ]);
  const counts = emptyCounts();
  for (const row of written) addCounts(counts, row);
  if (batch.deletions.length > 0) {
    await stage(
      ctx,
      batch.deletions.map((row) => new HashedRow(row)),
    );
    await client.query(deletionSql(schema, batch.table));
  }
  const newIdsOnly = rows.length > 0 && copied.length === rows.length && batch.groups.every((g) => g.skipped === 0);
  return { counts, newIdsOnly };
}

/**
 * Makes `rows` the staging table's only content: the statement after it reads the whole table, so
 * what an earlier stream (or this stream's entity records) left there is removed first, even when
 * there is nothing new to stage.
 */
async function stage(ctx: CommitContext, rows: readonly HashedRow[]): Promise<void> {
  if (ctx.stageInUse) await ctx.client.query(`TRUNCATE ${quoteIdent(STAGE_TABLE)}`);
  ctx.stageInUse = rows.length > 0;
  if (ctx.stageInUse) await pipeline(Readable.from(copyBinary(rows, STAGE_COLUMNS)), ctx.client.query(copyFrom(COPY_STAGE_SQL)));
}

/** COPY of new rows into the stream table under a savepoint; false when an id turned out to exist (nothing of it stays). */
async function copyStraightIn(ctx: CommitContext, table: string, rows: readonly HashedRow[]): Promise<boolean> {
  const { client } = ctx;
  if (ctx.ingestedAt === undefined) {
    const { rows: now } = await client.query<{ micros: string }>(
      `SELECT ((extract(epoch FROM date_trunc('second', now()))::bigint - 946684800) * 1000000 + extract(microseconds FROM now())::bigint % 1000000)::text AS micros`,
    );
    ctx.ingestedAt = BigInt(now[0]?.micros ?? '0');
  }
  await client.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    await pipeline(Readable.from(copyBinary(rows, tableColumns(ctx.ingestedAt))), client.query(copyFrom(copyTableSql(ctx.schema, table))));
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
