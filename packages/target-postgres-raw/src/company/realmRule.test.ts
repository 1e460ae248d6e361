import { describe, expect, it } from 'vitest';
import { checkBatchRealms, severalRealmsError, type RealmSighting } from './realmRule.js';

const sightings = (...s: RealmSighting[]) => new Map(s.map((x) => [x.realm, x]));
const a = { realm: '111', stream: 'invoices', id: '1', line: 3 };
const b = { realm: '222', stream: 'customers', id: '7', line: 9 };

describe('checkBatchRealms', () => {
  it("passes a batch of the schema's company, a first company, and records without a realm", () => {
    expect(checkBatchRealms(sightings(a), '111', 'raw')).toBe('111');
    expect(checkBatchRealms(sightings(a), null, 'raw')).toBe('111');
    expect(checkBatchRealms(sightings(), '111', 'raw')).toBeUndefined();
  });

  it('refuses another company with one line naming both realms, the record, the schema and the setting to use', () => {
    expect(() => checkBatchRealms(sightings(b), '111', 'raw')).toThrow(
      'line 9: stream "customers" record id "7" is of company (realm) 222, but schema "raw" holds company (realm) 111 (recorded in raw._company); one schema holds one company, so nothing of this batch was written; load each company into its own schema: set the target setting schema (TARGET_POSTGRES_RAW_SCHEMA), or the company\'s schema: in the companies file',
    );
    expect(() => checkBatchRealms(sightings(a, b), null, 'raw')).toThrow(
      /^line 9: .*\(realm\) 222, but the same input also has company \(realm\) 111 \(line 3: stream "invoices" record id "1"/,
    );
    expect(() => checkBatchRealms(sightings(a, b), '111', 'raw')).toThrow(/\(realm\) 222, but schema "raw" holds company \(realm\) 111/);
  });
});

describe('severalRealmsError', () => {
  it('names every realm with where its rows are', () => {
    const error = severalRealmsError('raw', [
      { realm: '111', rows: 5, tables: ['invoices'] },
      { realm: '222', rows: 2, tables: ['customers', 'invoices'] },
    ]);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(
      /^schema "raw" already holds rows of 2 companies \(realms 111 \(5 rows in invoices\), 222 \(2 rows in customers, invoices\)\); one schema holds one company/,
    );
  });
});
