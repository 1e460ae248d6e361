import { RunError } from 'singer-kit';

export const PG_ERROR_KINDS = ['connection', 'data', 'permission', 'other'] as const;
export type PgErrorKind = (typeof PG_ERROR_KINDS)[number];

/** Socket errnos (Node) that mean the server cannot be reached or the connection broke. */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** SQLSTATE of a server error, or errno of a socket error; undefined for neither. */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Sorts a pg or socket error by what the user must do, from its SQLSTATE class or errno, never
 * by its text. pg reports a socket that closed under it with a plain Error and no code; the
 * writer knows that happened (the client emitted 'error' or 'end') and says so in `connectionLost`.
 */
export function pgErrorKind(error: unknown, connectionLost: boolean): PgErrorKind {
  const code = errorCode(error);
  if (code !== undefined) {
    // 08: connection exception; 57P01–03: admin/crash shutdown, cannot connect now.
    if (CONNECTION_ERRNOS.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 'connection';
    // 22: data exception; 23: integrity constraint; 54000: program limit (an index row too big).
    if (code.startsWith('22') || code.startsWith('23') || code === '54000') return 'data';
    // 28: invalid authorization; 42501: insufficient privilege.
    if (code === '42501' || code.startsWith('28')) return 'permission';
  }
  return connectionLost ? 'connection' : 'other';
}

/** A one-line RunError for a database failure while doing `what`; the pg error stays as cause. */
export function toDatabaseError(error: unknown, what: string, connectionLost: boolean): RunError {
  const kind = pgErrorKind(error, connectionLost);
  const e = error as { message?: string; code?: string; detail?: string };
  const code = e.code ? ` [${e.code}]` : '';
  const reason = (e.message ?? String(error)).split('\n')[0];
  const lead =
    kind === 'connection' ? 'database connection lost' : kind === 'permission' ? 'database refused access' : 'database error';
  return new RunError(`${lead} while ${what}: ${reason}${code}; nothing of this batch was committed and no state was printed for it`, {
    cause: error,
    ...(e.detail ? { details: `detail: ${e.detail}` } : {}),
  });
}
