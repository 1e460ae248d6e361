import { describe, expect, it } from 'vitest';
import { pgErrorKind, toDatabaseError } from './pgErrors.js';

const coded = (code: string) => Object.assign(new Error('whatever the server says'), { code });

describe('pgErrorKind', () => {
  it.each([
    ['57P01', 'connection'],
    ['08006', 'connection'],
    ['ECONNREFUSED', 'connection'],
    ['22P05', 'data'],
    ['23505', 'data'],
    ['54000', 'data'],
    ['42501', 'permission'],
    ['28P01', 'permission'],
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
    expect(error.message).toBe('database connection lost while committing: whatever the server says [57P01]; nothing of this batch was committed and no state was printed for it');
    expect(error.cause).toBe(cause);
  });
});
