import { describe, expect, it } from 'vitest';
import { QueryParseError, parseQuery } from './queryLanguage.js';

const detail = (text: string) => {
  try {
    parseQuery(text);
  } catch (error) {
    if (error instanceof QueryParseError) return error.detail;
    throw error;
  }
  throw new Error(`parsed: ${text}`);
};

describe('parseQuery', () => {
  it('reads the query the tap sends, with defaults', () => {
    expect(
      parseQuery(
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2025-01-01T00:00:00Z' AND MetaData.LastUpdatedTime < '2025-01-02T00:00:00Z' ORDERBY MetaData.LastUpdatedTime STARTPOSITION 101 MAXRESULTS 100",
      ),
    ).toEqual({
      count: false,
      entity: 'Invoice',
      where: [
        { property: 'MetaData.LastUpdatedTime', op: '>=', values: [{ kind: 'string', value: '2025-01-01T00:00:00Z' }] },
        { property: 'MetaData.LastUpdatedTime', op: '<', values: [{ kind: 'string', value: '2025-01-02T00:00:00Z' }] },
      ],
      orderBy: { property: 'MetaData.LastUpdatedTime', descending: false },
      startPosition: 101,
      maxResults: 100,
    });
    expect(parseQuery('select * from customer')).toMatchObject({ count: false, entity: 'customer', where: [], startPosition: 1, maxResults: 100 });
  });

  it('accepts ORDER BY, DESC, COUNT(*), IN, LIKE, booleans, escaped quotes and lower-case keywords', () => {
    const q = parseQuery(
      "select count(*) from Customer where Active in (true, false) and DisplayName like '%Adam\\'s%' order by Metadata.LastUpdatedTime desc",
    );
    expect(q.count).toBe(true);
    expect(q.where).toEqual([
      {
        property: 'Active',
        op: 'IN',
        values: [
          { kind: 'boolean', value: true },
          { kind: 'boolean', value: false },
        ],
      },
      { property: 'DisplayName', op: 'LIKE', values: [{ kind: 'string', value: "%Adam's%" }] },
    ]);
    expect(q.orderBy).toEqual({ property: 'Metadata.LastUpdatedTime', descending: true });
    for (const op of ['=', '<', '>', '<=', '>=']) expect(parseQuery(`SELECT * FROM Bill WHERE TxnDate ${op} '2025-01-01'`).where[0]?.op).toBe(op);
  });

  it('reads STARTPOSITION 0 as 1 and caps MAXRESULTS at 1000, in either order', () => {
    expect(parseQuery('SELECT * FROM Item MAXRESULTS 5000 STARTPOSITION 0')).toMatchObject({ startPosition: 1, maxResults: 1000 });
  });

  it('rejects what QBO rejects with a QueryParserError naming the token, line and column', () => {
    expect(detail('SELECT * FROM Invoice TxnDate')).toBe('QueryParserError: Encountered " <IDENTIFIER> "TxnDate "" at line 1, column 23.');
    expect(detail("SELECT * FROM Invoice WHERE Id = '1' OR Id = '2'")).toBe('QueryParserError: Encountered " "OR" "OR "" at line 1, column 38.');
    expect(detail('SELECT * FROM')).toBe('QueryParserError: Encountered "<EOF>" at line 1, column 14.');
    expect(detail('SELECT * FROM Invoice WHERE TotalAmt > 10')).toMatch(/^QueryParserError: Encountered " <INTEGER> "10 "" at line 1, column 40\.$/);
    expect(detail('SELECT Id FROM Invoice')).toMatch(/^QueryParserError: Encountered/);
    expect(detail("SELECT * FROM Invoice WHERE Name = 'open")).toMatch(/^QueryParserError: Lexical error/);
  });
});
