import type pg from 'pg';
import type { Logger } from 'singer-kit';
import type { ConnectionSettings } from '../settings.js';
import { qualified } from '../sql/tableName.js';
import { storedHashListSql } from '../sql/upsertSql.js';
import { Connection, lockTimeoutSql } from './Connection.js';

/** Per id asked: `-` no stored row, `=` a stored payload with the same SHA-256, `~` another (or no) hash. */
export type StoredStatus = '-' | '=' | '~';

/**
 * Reads the stored payload hashes of the ids in a lookahead of the input, on a session of its own
 * (so it never waits for a commit, and never sees one before it is done). Lookups run one after
 * the other (they share the session), each in one attempt: a failed one only means its records
 * take the usual path; the next one connects again.
 */
export class StoredHashes {
  readonly #db: Connection;
  readonly #schema: string;
  /** The lookup last started (settled, never rejected): the next one waits for it. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(options: {
    readonly connection: ConnectionSettings;
    readonly schema: string;
    readonly logger: Logger;
    /** reconnect_timeout_seconds: bounds a lookup's wait for a lock, as the writer's (lockTimeoutSql). */
    readonly reconnectTimeoutMs: number;
  }) {
    this.#schema = options.schema;
    // A lookup waits for a table lock another session holds no longer than a commit would: a
    // lookup that gives up only sends its records the usual way (whose wait is bounded, and retried).
    const lockTimeout = lockTimeoutSql(options.reconnectTimeoutMs);
    this.#db = new Connection({
      settings: options.connection,
      reconnectTimeoutMs: 0,
      logger: options.logger,
      prepareSession: async (client) => {
        await client.query(lockTimeout);
      },
    });
  }

  /** What `table` stores for each of `ids`, in their order (StoredHashList). */
  async lookup(table: string, ids: readonly string[]): Promise<StoredHashList> {
    const found = this.#last.then(() =>
      this.#db.run(`looking up stored payload hashes in ${qualified(this.#schema, table)}`, (client) => readStoredHashList(client, this.#schema, table, ids)),
    );
    this.#last = found.catch(() => undefined);
    return found;
  }

  /** Opens the session ahead of the first lookup (one attempt, as a lookup's: a failure is only retried by that lookup). */
  connect(): void {
    this.#last = this.#db.run('connecting to look up stored payload hashes', () => Promise.resolve()).catch(() => undefined);
  }

  /** Closes the session once the lookups started have settled. */
  async close(): Promise<void> {
    await this.#last;
    await this.#db.close();
  }
}

/**
 * Per id asked, in the order asked: the stored payload hash as hex, `~` for a row without one, `-`
 * for no row. A list, not a map: the lookahead reads it by position (no hashing of each id twice).
 */
export type StoredHashList = readonly string[];

/** What `table` stores for each of `ids`, read with one query (storedHashListSql). */
async function readStoredHashList(client: pg.Client, schema: string, table: string, ids: readonly string[]): Promise<StoredHashList> {
  const { rows } = await client.query<{ found: string | null }>(storedHashListSql(schema, table), [ids]);
  const list = rows[0]?.found?.split(',') ?? [];
  if (list.length !== ids.length) throw new Error(`${list.length} stored payload hashes read for ${ids.length} ids`);
  return list;
}

/** The stored payload hash (hex, or null: none yet) of each of `ids` that has a row in `table`, read with one query (storedHashListSql). */
export async function readStoredHashes(client: pg.Client, schema: string, table: string, ids: readonly string[]): Promise<Map<string, string | null>> {
  const list = await readStoredHashList(client, schema, table, ids);
  const stored = new Map<string, string | null>();
  for (let i = 0; i < ids.length; i++) {
    const hash = list[i] as string;
    if (hash !== '-') stored.set(ids[i] as string, hash === '~' ? null : hash);
  }
  return stored;
}
