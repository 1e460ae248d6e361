import { RunError } from 'singer-kit';

export const PG_ERROR_KINDS = ['connection', 'data', 'permission', 'other'] as const;
export type PgErrorKind = (typeof PG_ERROR_KINDS)[number];

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Sorts a pg or socket error by what the user must do, from SQLSTATE class or errno, never by text. */
export function pgErrorKind(error: unknown): PgErrorKind {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (CONNECTION_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 'connection';
    if (code.startsWith('22') || code.startsWith('23') || code === '54000') return 'data';
    if (code === '42501' || code.startsWith('28')) return 'permission';
    return 'other';
  }
  // pg reports a socket closed under it without a code.
  const message = (error as Error)?.message ?? '';
  return /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error/i.test(message) ? 'connection' : 'other';
}

/** A one-line RunError for a database failure while doing `what`; the pg error stays as cause. */
export function toDatabaseError(error: unknown, what: string): RunError {
  const kind = pgErrorKind(error);
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
