import { describe, expect, it } from 'vitest';
import { isDiskFull, pgErrorKind, refusedCopyRow, runtimeHint, toConfigError, toDatabaseError } from './pgErrors.js';

const coded = (code: string) => Object.assign(new Error('whatever the server says'), { code });

describe('pgErrorKind', () => {
  it.each([
    ['57P01', 'connection'],
    ['08006', 'connection'],
    ['ECONNREFUSED', 'connection'],
    ['22P05', 'data'],
    ['23505', 'data'],
    ['54000', 'data'],
    ['53300', 'connection'],
    ['25006', 'connection'],
    ['40P01', 'transient'],
    ['55P03', 'transient'],
    ['57014', 'transient'],
    ['42501', 'config'],
    ['28P01', 'config'],
    ['28000', 'config'],
    ['3D000', 'config'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'config'],
    ['42P01', 'other'],
  ])('SQLSTATE or errno %s is %s', (code, kind) => expect(pgErrorKind(coded(code), false)).toBe(kind));

  it('never reads the message: a codeless error is a lost connection only when the client saw the connection go', () => {
    expect(pgErrorKind(new Error('Connection terminated unexpectedly'), false)).toBe('other');
    expect(pgErrorKind(new Error('anything'), true)).toBe('connection');
    expect(pgErrorKind(coded('XX000'), true)).toBe('connection');
  });
});

describe('toDatabaseError', () => {
  it('is one line naming what was being done and the SQLSTATE, with the pg error as cause', () => {
    const cause = coded('57P01');
    const error = toDatabaseError(cause, 'committing', false);
    expect(error.message).toBe(
      'database connection lost while committing: whatever the server says [57P01]; nothing of this batch was committed and no state was printed for it',
    );
    expect(error.cause).toBe(cause);
  });
});

describe('runtimeHint', () => {
  const where = { host: 'db', port: 5432, database: 'wh', user: 'loader' };
  it('says what to do about a statement the server cancelled (57014), naming database and user', () => {
    expect(toDatabaseError(coded('57014'), 'committing', false, where).message).toBe(
      'database error while committing: whatever the server says [57014]; the server cancelled the statement: a statement_timeout set for database wh or user loader (raise it: ALTER ROLE loader SET statement_timeout = 0; or lower batch_size_rows), or an administrator cancelled it; nothing of this batch was committed and no state was printed for it',
    );
  });
  it('says how to find the session holding a lock (55P03), and nothing for other failures', () => {
    expect(runtimeHint(coded('55P03'), where)).toMatch(
      /^; another session holds a lock on a table this needs \(find it: SELECT pid, usename, state, query FROM pg_stat_activity /,
    );
    expect(runtimeHint(coded('57P01'), where)).toBe('');
  });
  it('says whose disk to free when the server has no space left (53100: it does not clear by itself, so no retrying: exit 1, and the same command resumes once there is room)', () => {
    expect(pgErrorKind(coded('53100'), false)).toBe('other');
    const error = toDatabaseError(coded('53100'), 'committing', false, where);
    expect(error.message).toBe(
      'database error while committing: whatever the server says [53100]; the disk of the PostgreSQL server at db:5432 is full: free space there or grow its volume, then run again: it resumes; nothing of this batch was committed and no state was printed for it',
    );
    expect(error.exitCode).toBe(1);
    expect(isDiskFull(coded('53100'))).toBe(true);
    expect(toDatabaseError(coded('42P01'), 'committing', false, where).exitCode).toBe(1);
  });
});

describe('toConfigError', () => {
  it('names host, database and user and what to fix, never a password', () => {
    const error = toConfigError(coded('28P01'), 'the connection', { host: 'db', port: 5432, database: 'wh', user: 'loader' });
    expect(error.message).toBe(
      'PostgreSQL at db:5432/wh as user loader refused the connection: whatever the server says [28P01]; check the password (setting password, database_url or TARGET_POSTGRES_RAW_PASSWORD_FILE)',
    );
    expect(error.exitCode).toBe(2);
  });
});

describe('refusedCopyRow', () => {
  it.each([
    ['COPY target_postgres_raw_stage, line 3, column payload', { row: 3, column: 'payload' }],
    ['COPY "a, line 9" weird, line 12, column request_payload', { row: 12, column: 'request_payload' }],
    ['COPY invoices, line 1', { row: 1, column: undefined }],
    ['PL/pgSQL function f() line 1 at RETURN\nCOPY invoices, line 7, column payload', { row: 7, column: 'payload' }],
    ['SQL statement "SELECT 1"', undefined],
    [undefined, undefined],
  ])('reads the refused row of %j', (where, expected) => {
    expect(refusedCopyRow(Object.assign(new Error('x'), { where }))).toEqual(expected);
  });
});
