import { describe, expect, it } from 'vitest';
import { makeWindow } from '../plan/planWindows.js';
import { buildCountQuery, buildIdsQuery, buildListQuery, buildPageQuery } from './buildQuery.js';

const day = makeWindow(Date.parse('2025-01-01T00:00:00Z'), Date.parse('2025-01-02T00:00:00Z'));

describe('buildQuery', () => {
  it('pages a window with explicit Z literals, half-open, ordered, 1-based positions', () => {
    expect(buildPageQuery({ entity: 'Invoice', nameList: false }, day, { number: 3, size: 100 })).toBe(
      "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2025-01-01T00:00:00Z' AND MetaData.LastUpdatedTime < '2025-01-02T00:00:00Z' ORDERBY MetaData.LastUpdatedTime STARTPOSITION 201 MAXRESULTS 100",
    );
  });

  it('asks name-list entities for inactive rows too', () => {
    expect(buildCountQuery({ entity: 'Customer', nameList: true }, day)).toBe(
      "SELECT COUNT(*) FROM Customer WHERE MetaData.LastUpdatedTime >= '2025-01-01T00:00:00Z' AND MetaData.LastUpdatedTime < '2025-01-02T00:00:00Z' AND Active IN (true,false)",
    );
  });

  it('reads full-table entities without a time filter', () => {
    expect(buildCountQuery({ entity: 'CompanyInfo', nameList: false }, undefined)).toBe('SELECT COUNT(*) FROM CompanyInfo');
    expect(buildPageQuery({ entity: 'CompanyInfo', nameList: false }, undefined, { number: 1, size: 1000 })).toBe(
      'SELECT * FROM CompanyInfo STARTPOSITION 1 MAXRESULTS 1000',
    );
  });

  it('lists every record of an entity in a stable order (inactive name-list rows too)', () => {
    expect(buildListQuery({ entity: 'Customer', nameList: true }, { number: 2, size: 1000 })).toBe(
      'SELECT * FROM Customer WHERE Active IN (true,false) ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1001 MAXRESULTS 1000',
    );
    expect(buildListQuery({ entity: 'Invoice', nameList: false }, { number: 1, size: 1000 })).toBe(
      'SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000',
    );
  });

  it('asks for Ids with quoted, escaped literals', () => {
    expect(buildIdsQuery({ entity: 'Invoice', nameList: false }, ['1', "7'a", 'b\\c'])).toBe(
      "SELECT * FROM Invoice WHERE Id IN ('1','7\\'a','b\\\\c') MAXRESULTS 3",
    );
    expect(buildIdsQuery({ entity: 'Item', nameList: true }, ['5'])).toBe("SELECT * FROM Item WHERE Id IN ('5') AND Active IN (true,false) MAXRESULTS 1");
    expect(() => buildIdsQuery({ entity: 'Item', nameList: true }, [])).toThrow(RangeError);
  });
});
