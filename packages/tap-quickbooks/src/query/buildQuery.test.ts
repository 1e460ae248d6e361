import { describe, expect, it } from 'vitest';
import { makeWindow } from '../plan/planWindows.js';
import { buildCountQuery, buildPageQuery } from './buildQuery.js';

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
    expect(buildPageQuery({ entity: 'CompanyInfo', nameList: false }, undefined, { number: 1, size: 1000 })).toBe('SELECT * FROM CompanyInfo STARTPOSITION 1 MAXRESULTS 1000');
  });
});
