import { RunError, UsageError } from 'singer-kit';

/**
 * What a database failure asks for:
 * - `connection`: the connection is gone or cannot be made now; reconnect and write the batch again.
 * - `transient`: the transaction lost a race (deadlock, serialization, lock wait); run it again.
 * - `config`: the user must fix a setting or a grant (exit 2).
 * - `data`, `other`: the batch cannot be written as it is (exit 1).
 */
export type PgErrorKind = 'connection' | 'transient' | 'config' | 'data' | 'other';

/** Socket errnos (Node) that mean the server cannot be reached or the connection broke. */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** TLS verification failures (Node): sslmode or the server's certificate must be fixed. */
const TLS_CONFIG_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/**
 * SQLSTATEs of a transaction that lost a race (deadlock, serialization failure, lock_timeout) or
 * whose statement the server cancelled (57014: an administrator's pg_cancel_backend, or a
 * statement_timeout set for the database or user, which a later attempt may not reach).
 */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '57014']);

/** SQLSTATE of a server error, or errno of a socket error; undefined for neither. */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Sorts a pg or socket error by what to do about it, from its SQLSTATE or errno, never by its
 * text. pg reports a socket that closed under it with a plain Error and no code; the writer
 * knows that happened (its client emitted 'error' or 'end') and says so in `connectionLost`.
 */
export function pgErrorKind(error: unknown, connectionLost: boolean): PgErrorKind {
  const code = errorCode(error);
  if (code !== undefined) {
    // 08: connection exception; 57P01–03: admin/crash shutdown, cannot connect now (starting up);
    // 53300: too many connections (another client will leave); 25006: a read-only session (after a
    // failover, a new session may find the new primary; a database set read-only may be set back).
    if (
      CONNECTION_ERRNOS.has(code) ||
      code.startsWith('08') ||
      code === '57P01' ||
      code === '57P02' ||
      code === '57P03' ||
      code === '53300' ||
      code === '25006'
    ) {
      return 'connection';
    }
    if (TRANSIENT_SQLSTATES.has(code)) return 'transient';
    // 28: invalid authorization (28P01 wrong password, 28000 no pg_hba entry); 3D000: no such
    // database; 42501: insufficient privilege.
    if (code.startsWith('28') || code === '3D000' || code === '42501' || TLS_CONFIG_CODES.has(code)) return 'config';
    // 22: data exception; 23: integrity constraint; 54000: program limit (an index row too big).
    if (code.startsWith('22') || code.startsWith('23') || code === '54000') return 'data';
  }
  return connectionLost ? 'connection' : 'other';
}

/**
 * The server could not grow a file (53100 disk_full): the disk of the tablespace written is full.
 * It does not clear by itself (a retry meets it again), and no record is to blame for it.
 */
export function isDiskFull(error: unknown): boolean {
  return errorCode(error) === '53100';
}

/** The server refused a write because the session is read-only (25006): a standby, or default_transaction_read_only. */
export function isReadOnly(error: unknown): boolean {
  return errorCode(error) === '25006';
}

/**
 * The 1-based row of a COPY that PostgreSQL refused, and its column, from the error's context
 * (`COPY invoices, line 3, column payload`; in binary COPY a line is a row); undefined for an
 * error that names no row.
 */
export function refusedCopyRow(error: unknown): { readonly row: number; readonly column: string | undefined } | undefined {
  const where = (error as { where?: unknown } | null)?.where;
  const found = typeof where === 'string' ? /^COPY .*, line (\d+)(?:, column ([^,:\n]+))?/m.exec(where) : null;
  return found ? { row: Number(found[1]), column: found[2] } : undefined;
}

/** Where the target connects, for messages: never the password. */
export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** An error's first line and its SQLSTATE or errno: `password authentication failed for user "x" [28P01]`. */
export function reasonOf(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return `${(e.message ?? String(error)).split('\n')[0]}${e.code ? ` [${e.code}]` : ''}`;
}

const CONFIG_HINTS: Record<string, string> = {
  '28P01': 'check the password (setting password, database_url or TARGET_POSTGRES_RAW_PASSWORD_FILE)',
  '28000': 'check user and sslmode, and that pg_hba.conf lets this user connect from here',
  '3D000': 'check the database setting (or database_url), or create the database',
  '42501': 'grant this user CREATE on the database (for the schema) and on the schema, and INSERT/UPDATE/SELECT on its tables',
};

/** A configuration failure (exit 2): one line naming host, database and user, and what to fix. */
export function toConfigError(error: unknown, what: string, where: ConnectionTarget): UsageError {
  const code = errorCode(error) ?? '';
  const hint = CONFIG_HINTS[code] ?? (code.startsWith('28') ? CONFIG_HINTS['28000'] : 'check sslmode and the server certificate');
  return new UsageError(`PostgreSQL at ${where.host}:${where.port}/${where.database} as user ${where.user} refused ${what}: ${reasonOf(error)}; ${hint}`, {
    cause: error,
  });
}

/**
 * What to do about a failure that is neither configuration nor data, by SQLSTATE: a lock another
 * session would not give up (55P03, after the retries), a statement the server cancelled (57014:
 * a statement_timeout set for the database or user, or an administrator), a server that takes no
 * writes (25006) or no more sessions (53300), a table dropped under the run (42P01), a full disk (53100). Empty for the rest.
 */
export function runtimeHint(error: unknown, where: ConnectionTarget): string {
  const code = errorCode(error);
  if (code === '55P03') {
    return `; another session holds a lock on a table this needs (find it: SELECT pid, usename, state, query FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0 OR state = 'idle in transaction'), end it or let it finish`;
  }
  if (code === '57014') {
    return `; the server cancelled the statement: a statement_timeout set for database ${where.database} or user ${where.user} (raise it: ALTER ROLE ${where.user} SET statement_timeout = 0; or lower batch_size_rows), or an administrator cancelled it`;
  }
  if (code === '53100') return `; ${diskFullAdvice(`the disk of the PostgreSQL server at ${where.host}:${where.port}`)}`;
  if (code === '42P01') {
    return `; a table this run writes (or its schema) was dropped or renamed by someone meanwhile: run again to make it anew (it then holds only what is loaded from then on), and load its earlier rows again with a backfill from the start (qbo-pipeline backfill --fresh)`;
  }
  if (code === '25006') {
    return `; the server takes no writes: it is a standby (a failover under way, or the settings name a replica: SELECT pg_is_in_recovery()), or default_transaction_read_only is on for database ${where.database} or user ${where.user} (SHOW default_transaction_read_only; whoever set it resets it: ALTER DATABASE ${where.database} RESET default_transaction_read_only, or ALTER ROLE ${where.user} RESET default_transaction_read_only; a cloud database sets it at its storage limit: free space)`;
  }
  if (code === '53300') {
    return `; the server lets no more sessions in: max_connections, or a CONNECTION LIMIT on database ${where.database} or user ${where.user} (the target needs 2 sessions, qbo-pipeline 1 more; who holds them: SELECT usename, datname, count(*) FROM pg_stat_activity GROUP BY 1, 2)`;
  }
  return '';
}

/** What to do about a full disk (53100), `disk` saying which. */
export const diskFullAdvice = (disk: string) => `${disk} is full: free space there or grow its volume, then run again: it resumes`;

/** A one-line RunError for a database failure while doing `what`; the pg error stays as cause. */
export function toDatabaseError(error: unknown, what: string, connectionLost: boolean, where?: ConnectionTarget): RunError {
  const kind = pgErrorKind(error, connectionLost);
  const detail = (error as { detail?: string }).detail;
  const lead = kind === 'connection' ? 'database connection lost' : 'database error';
  const hint = where ? runtimeHint(error, where) : '';
  return new RunError(`${lead} while ${what}: ${reasonOf(error)}${hint}; nothing of this batch was committed and no state was printed for it`, {
    cause: error,
    ...(detail ? { details: `detail: ${detail}` } : {}),
  });
}
