import { describe, expect, it } from 'vitest';
import { loadedRecord, rewriteMetaData } from './loadRecords.js';

const TEXT = `{
  "Id": "119", "SyncToken": "0", "Active": true,
  "MetaData": {"CreateTime": "2023-02-18T12:57:24-08:00", "LastUpdatedTime": "2023-03-18T12:57:24-07:00"},
  "Line": [{"Amount": 275.0, "Qty": 3.5}], "TotalAmt": 1234567.10
}`;

describe('loaded records', () => {
  it('reads the index facts and keeps the text byte for byte, on one line', () => {
    const record = loadedRecord(TEXT, 'x.json');
    expect(record).toMatchObject({
      id: 119,
      syncToken: 0,
      active: true,
      updatedSec: Date.parse('2023-03-18T19:57:24Z') / 1000,
      createdSec: Date.parse('2023-02-18T20:57:24Z') / 1000,
    });
    expect(record.text).toContain('"Amount":275.0,"Qty":3.5');
    expect(record.text).toContain('"TotalAmt":1234567.10');
    expect(record.text).not.toContain('\n');
    expect(() => loadedRecord('{"Id":"abc"}', 'x.json record 2')).toThrow('x.json record 2: a record needs a numeric "Id" and "MetaData.LastUpdatedTime"');
  });

  it('rewrites only LastUpdatedTime, SyncToken and (when deactivating) Active', () => {
    const out = rewriteMetaData(loadedRecord(TEXT, 'x').text, '2025-03-20T05:00:00-07:00', 1, true);
    expect(out).toBe(
      '{"Id":"119","SyncToken":"1","Active":false,"MetaData":{"CreateTime":"2023-02-18T12:57:24-08:00","LastUpdatedTime":"2025-03-20T05:00:00-07:00"},"Line":[{"Amount":275.0,"Qty":3.5}],"TotalAmt":1234567.10}',
    );
  });
});
