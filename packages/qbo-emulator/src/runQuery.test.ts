import { entityByName } from 'qbo-catalog';
import { describe, expect, it } from 'vitest';
import { EntityTable } from './EntityTable.js';
import { ACTIVE } from './generateIndex.js';
import { parseQuery } from './queryLanguage.js';
import { QueryValidationError, runQuery } from './runQuery.js';

const T0 = Date.parse('2025-03-09T09:59:58Z') / 1000;
/** Six rows: ids 1..6 at T0, T0+1, T0+1, T0+2, T0+2, T0+3; ids 2 and 5 inactive. */
function table(entity: string): EntityTable {
  const updated = Uint32Array.from([0, 1, 1, 2, 2, 3], (d) => T0 + d);
  const arrays = {
    ids: Uint32Array.from([1, 2, 3, 4, 5, 6]),
    created: updated.slice(),
    updated,
    syncTokens: new Uint16Array(6),
    flags: Uint8Array.from([ACTIVE, 0, ACTIVE, ACTIVE, 0, ACTIVE]),
  };
  return new EntityTable(entityByName(entity)!, arrays, new Map(), 1, () => 3);
}
const ids = (t: EntityTable, text: string) => {
  const outcome = runQuery(t, parseQuery(text));
  return outcome.kind === 'page' ? outcome.positions.map((i) => t.idAt(i)) : outcome.totalCount;
};

describe('runQuery', () => {
  const invoices = table('Invoice');
  const customers = table('Customer');

  it('with a visibility delay, shows no row stamped after the newest visible second, in pages, COUNTs and filtered walks alike', () => {
    const visible = (text: string, newest: number) => {
      const outcome = runQuery(invoices, parseQuery(text), newest);
      return outcome.kind === 'page' ? outcome.positions.map((i) => invoices.idAt(i)) : outcome.totalCount;
    };
    expect(visible('SELECT * FROM Invoice', T0 + 1)).toEqual([1, 2, 3]);
    expect(visible('SELECT COUNT(*) FROM Invoice', T0 + 1)).toBe(3);
    expect(visible("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2025-03-09T09:59:59Z'", T0 + 2)).toEqual([2, 3, 4, 5]);
    expect(visible("SELECT * FROM Invoice WHERE Id IN ('4', '6')", T0 + 2)).toEqual([4]);
    expect(visible('SELECT COUNT(*) FROM Invoice', T0 - 1)).toBe(0);
  });

  it('bounds LastUpdatedTime as instants, whatever the literal form, half-open or closed', () => {
    expect(
      ids(invoices, "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2025-03-09T09:59:59Z' AND MetaData.LastUpdatedTime < '2025-03-09T10:00:01Z'"),
    ).toEqual([2, 3, 4, 5]);
    expect(
      ids(
        invoices,
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2025-03-09T01:59:59-08:00' AND MetaData.LastUpdatedTime <= '2025-03-09T03:00:00-0700'",
      ),
    ).toEqual([4, 5]);
    expect(ids(invoices, "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2025-03-09T09:59:59.5Z'")).toEqual([4, 5, 6]);
    expect(ids(invoices, "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime = '2025-03-09T10:00:00Z'")).toEqual([4, 5]);
    expect(ids(invoices, "SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime < '2025-03-09T10:00:00Z'")).toBe(3);
  });

  it('pages ascending and descending by (LastUpdatedTime, Id) and by other properties', () => {
    expect(ids(invoices, 'SELECT * FROM Invoice STARTPOSITION 2 MAXRESULTS 3')).toEqual([2, 3, 4]);
    expect(ids(invoices, 'SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime DESC STARTPOSITION 2 MAXRESULTS 2')).toEqual([5, 4]);
    expect(ids(invoices, 'SELECT * FROM Invoice ORDER BY Id DESC MAXRESULTS 2')).toEqual([6, 5]);
    expect(ids(invoices, 'SELECT * FROM Invoice STARTPOSITION 7')).toEqual([]);
  });

  it('answers active name-list rows unless the query filters on Active', () => {
    expect(ids(customers, 'SELECT * FROM Customer')).toEqual([1, 3, 4, 6]);
    expect(ids(customers, 'SELECT * FROM Customer WHERE Active IN (true, false)')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ids(customers, 'SELECT * FROM Customer WHERE active = false')).toEqual([2, 5]);
    expect(ids(invoices, "SELECT * FROM Invoice WHERE Id IN ('2', '6')")).toEqual([2, 6]);
  });

  it('reads other properties from the rendered record', () => {
    const all = ids(invoices, "SELECT COUNT(*) FROM Invoice WHERE DocNumber >= '1000'");
    expect(all).toBe(6);
    expect(ids(invoices, "SELECT * FROM Invoice WHERE DocNumber = '1003'")).toEqual([3]);
  });

  it('rejects properties the entity does not have with a QueryValidationError', () => {
    expect(() => ids(invoices, "SELECT * FROM Invoice WHERE Nope = '1'")).toThrow(QueryValidationError);
    expect(() => ids(invoices, "SELECT * FROM Invoice WHERE MetaData.Nope = '1'")).toThrow(
      'QueryValidationError: Property MetaData.Nope not found for Entity Invoice',
    );
    expect(() => ids(invoices, "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > 'soon'")).toThrow(QueryValidationError);
  });
});
