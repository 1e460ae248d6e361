import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { CliError, RunError, type Logger } from 'singer-kit';
import type { ConnectionSettings } from '../settings.js';
import { connectClient } from './connectClient.js';
import { isReadOnly, pgErrorKind, reasonOf, runtimeHint, toConfigError, toDatabaseError, type ConnectionTarget } from './pgErrors.js';
import { reconnectDelayMs } from './reconnectDelay.js';

/**
 * Every target session runs without JIT compilation. Our statements are many and short (an upsert
 * per stream and commit, a lookup per window), and where the server has LLVM (PostgreSQL 11+ from
 * Debian, Ubuntu, the official image, most clouds) compiling them cost more than running them:
 * 3 s more database time per 100,000 changed invoices on PostgreSQL 15. Only where the setting exists.
 */
const JIT_OFF_SQL = `SELECT set_config('jit', 'off', false) FROM pg_settings WHERE name = 'jit'`;

/**
 * While retrying, the same failure is said again at most this often after its first line (a new
 * one at once): a mistyped port or a database that is still starting is retried for
 * reconnect_timeout_seconds (2 min), and a line per attempt (16) was a wall of the same words.
 */
export const RETRY_NOTICE_MS = 30_000;

/** What a socket error code means, in the words a person checks against their settings. */
const CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be looked up (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
};

export interface ConnectionOptions {
  readonly settings: ConnectionSettings;
  /** How long a lost, refused or racing connection is retried before `run` fails (RunError, exit 1). */
  readonly reconnectTimeoutMs: number;
  readonly logger: Logger;
  /** Runs on every new session before it is used (SET …, temporary tables), after JIT_OFF_SQL. */
  readonly prepareSession: (client: pg.Client) => Promise<void>;
  /** Waits `ms`, ending early (without error) when `signal` aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RunOptions {
  /** How long to retry (default reconnectTimeoutMs). */
  readonly timeoutMs?: number;
  /** Aborted, its reason saying why, when retrying has become pointless: `run` then fails at once. */
  readonly stopRetrying?: AbortSignal;
}

/**
 * The target's one database session, which comes back when it is lost. `run(what, work)` hands
 * `work` a prepared client; when the connection is lost or refused (a restart, a failover) or
 * the transaction lost a race (deadlock, lock_timeout), it waits (reconnectDelayMs), opens a
 * new session if needed and runs `work` again, until `reconnectTimeoutMs` is spent or the
 * caller's `stopRetrying` aborts (RunError, exit 1). `work` must therefore be safe to repeat, and
 * must roll back what it began when it fails. A configuration problem (password, database,
 * privilege) is a UsageError at once (exit 2); any other database error a RunError at once
 * (exit 1). Calls must not overlap: they share the session.
 */
export class Connection {
  readonly #o: ConnectionOptions;
  readonly #where: ConnectionTarget;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  #client: pg.Client | undefined;
  /** The current client emitted 'error' or 'end': an error without SQLSTATE means the connection is gone. */
  #lost = false;

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.#where = options.settings;
    this.#sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined));
  }

  /** `host:port/database as user`, for messages (never the password). */
  get where(): string {
    return `${this.#where.host}:${this.#where.port}/${this.#where.database} as ${this.#where.user}`;
  }

  /** Runs `work` on the session, reconnecting and repeating it as described above, within `timeoutMs` or until `stopRetrying` aborts. */
  async run<T>(what: string, work: (client: pg.Client) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { timeoutMs = this.#o.reconnectTimeoutMs, stopRetrying } = options;
    const started = Date.now();
    let first: { readonly lead: string; readonly reason: string } | undefined;
    let noticed: { readonly at: number; readonly failure: string } | undefined;
    for (let attempt = 0; ; attempt++) {
      let connected = this.#client !== undefined;
      try {
        const client = this.#client ?? (await this.#connect());
        connected = true;
        return await work(client);
      } catch (error) {
        if (error instanceof CliError) throw error; // `work` decided (e.g. a record of another company)
        // A failed connect reports a closed socket without a code, too.
        const lost = this.#lost || !connected;
        const kind = pgErrorKind(error, lost);
        if (kind === 'config') throw toConfigError(error, connected ? what : 'the connection', this.#where);
        if (kind !== 'connection' && kind !== 'transient') throw toDatabaseError(error, what, lost, this.#where);
        if (kind === 'connection') this.#drop();
        const trouble = kind === 'transient' ? 'database transaction failed' : isReadOnly(error) ? 'database is read-only' : 'database connection lost';
        const lead = connected ? `${trouble} while ${what}` : `cannot connect to PostgreSQL at ${this.where}`;
        const reason = causeOf(error);
        first ??= { lead, reason };
        const elapsed = Date.now() - started;
        const remaining = timeoutMs - elapsed;
        if (remaining <= 0) {
          const last = reason === first.reason ? '' : `; last error: ${lead === first.lead ? '' : `${lead}: `}${reason}`;
          throw new RunError(
            `${first.lead}: ${first.reason}; still failing after ${seconds(elapsed)} of retrying (reconnect_timeout_seconds ${seconds(timeoutMs)})${last}${runtimeHint(error, this.#where)}; no state was printed for anything not committed; run again to resume`,
            { cause: error },
          );
        }
        if (!stopRetrying?.aborted) {
          const retrying = kind === 'connection' ? 'reconnecting' : 'retrying';
          const failure = `${lead}: ${reason}`;
          if (noticed === undefined) {
            this.#o.logger.warn(
              `${failure}; ${retrying} for up to ${seconds(timeoutMs)} (reconnect_timeout_seconds), saying so every ${seconds(RETRY_NOTICE_MS)} until it works`,
            );
            noticed = { at: elapsed, failure };
          } else if (failure !== noticed.failure || elapsed - noticed.at >= RETRY_NOTICE_MS) {
            this.#o.logger.warn(`${failure}; still ${retrying} after ${seconds(elapsed)} (attempt ${attempt + 1}, giving up in ${seconds(remaining)})`);
            noticed = { at: elapsed, failure };
          }
          await this.#sleep(reconnectDelayMs(attempt, remaining), stopRetrying);
        }
        // Checked after the wait too: the signal may abort while it lasts, and ends it.
        if (stopRetrying?.aborted) throw new RunError(`${lead}: ${reason}; not retrying: ${String(stopRetrying.reason)}`, { cause: error });
      }
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<pg.Client> {
    const client = await connectClient(this.#o.settings);
    this.#lost = false;
    // A connection dropped while idle is reported by the next statement; the listeners keep it
    // from crashing the process and mark errors without SQLSTATE as a lost connection. They stay
    // on a dropped client (it may still emit), but only the current one sets the mark.
    client.on('error', (error) => {
      if (client === this.#client) this.#lost = true;
      this.#o.logger.debug(`database connection error: ${error.message}`);
    });
    client.on('end', () => {
      if (client === this.#client) this.#lost = true;
    });
    this.#client = client;
    try {
      await client.query(JIT_OFF_SQL);
      await this.#o.prepareSession(client);
      return client;
    } catch (error) {
      if (this.#client === client) this.#drop();
      throw error;
    }
  }

  /** Forgets the current session; the next `run` opens a new one. */
  #drop(): void {
    const client = this.#client;
    this.#client = undefined;
    // Not awaited: a connection whose server went away may take long to say goodbye.
    if (client) void client.end().catch(() => undefined);
  }
}

/**
 * The `SET lock_timeout` of every target session: one wait for a lock another session holds (an
 * analyst's open transaction, a VACUUM FULL, an ALTER TABLE) lasts at most 60 s, and never longer
 * than `reconnect_timeout_seconds`, the bound of all retrying (at least 1 s: 0 would mean no
 * limit). Without it a lock held for hours stops the load for hours, without a word.
 */
export function lockTimeoutSql(reconnectTimeoutMs: number): string {
  return `SET lock_timeout = '${Math.round(Math.min(60_000, Math.max(1_000, reconnectTimeoutMs)))}ms'`;
}

/** Runs `work` in a transaction on `client`: COMMIT after it, ROLLBACK (best effort) when it fails. */
export async function inTransaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** What a socket's error means, its own words after it (`connection refused (connect ECONNREFUSED 127.0.0.1:5433 [ECONNREFUSED])`); any other error's words. */
function causeOf(error: unknown): string {
  const reason = reasonOf(error);
  const cause = CAUSES[(error as { code?: string }).code ?? ''];
  return cause === undefined || reason.includes('gave no answer') ? reason : `${cause} (${reason})`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
