import { describe, expect, it } from 'vitest';
import { GarbledBody } from '../http/GarbledBody.js';
import { cdcStubs } from './cdcStubs.js';

describe('cdcStubs', () => {
  it('cuts the deleted stubs out of a CDC answer exactly as sent, and counts every object', () => {
    const body =
      '{"CDCResponse":[{"QueryResponse":[{"Customer":[{"Id":"63","DisplayName":"Amy\'s 🐦","Balance":1234567.10}],"startPosition":1,"maxResults":1},' +
      '{"Invoice":[{"domain":"QBO","status":"Deleted","Id":"979","MetaData":{"LastUpdatedTime":"2025-03-09T01:55:50-08:00"}},{"Id":"980","TotalAmt":275.0}],"startPosition":1,"maxResults":2,"totalCount":2}]}],"time":"2025-03-10T10:00:01-07:00"}';
    const answer = cdcStubs(body);
    expect(answer.objects).toBe(3);
    expect(answer.stubs).toEqual([
      {
        entity: 'Invoice',
        id: '979',
        deletedAtMs: Date.parse('2025-03-09T09:55:50Z'),
        text: '{"domain":"QBO","status":"Deleted","Id":"979","MetaData":{"LastUpdatedTime":"2025-03-09T01:55:50-08:00"}}',
      },
    ]);
  });

  it("reads Intuit's documented example (pretty-printed) and its no-changes answer", () => {
    // developer.intuit.com, change-data-capture: the example answer (ids only for changed objects).
    const example = JSON.stringify(
      {
        CDCResponse: [
          {
            QueryResponse: [
              { Customer: [{ Id: '63' }, { Id: '99' }], startPosition: 1, maxResults: 2 },
              {
                Estimate: [
                  { Id: '34' },
                  { Id: '123' },
                  { domain: 'QBO', status: 'Deleted', Id: '979', MetaData: { LastUpdatedTime: '2015-12-23T12:55:50-08:00' } },
                ],
                startPosition: 1,
                maxResults: 3,
                totalCount: 5,
              },
            ],
          },
        ],
        time: '2015-12-23T10:00:01-07:00',
      },
      null,
      2,
    );
    const doc = cdcStubs(example);
    expect(doc.objects).toBe(5);
    expect(doc.stubs.map((s) => [s.entity, s.id, new Date(s.deletedAtMs).toISOString()])).toEqual([['Estimate', '979', '2015-12-23T20:55:50.000Z']]);
    expect(JSON.parse(doc.stubs[0]!.text)).toEqual({ domain: 'QBO', status: 'Deleted', Id: '979', MetaData: { LastUpdatedTime: '2015-12-23T12:55:50-08:00' } });
    expect(cdcStubs('{"CDCResponse":[{"QueryResponse":[{}]}],"time":"2015-12-23T10:00:01-07:00"}')).toEqual({ stubs: [], objects: 0 });
  });

  it('throws GarbledBody saying what is wrong, never quoting the answer, when it is not what CDC sends (the client asks again)', () => {
    expect(() => cdcStubs('{"Fault":{}}')).toThrow(new GarbledBody('JSON without CDCResponse'));
    expect(() => cdcStubs('{"CDCResponse":[{"QueryResponse":[{"Bill":[{"Id":"5","secret":"x"')).toThrow(
      new GarbledBody('not valid JSON (unterminated JSON container)'),
    );
    expect(() => cdcStubs('{"CDCResponse":[{"QueryResponse":[{"Bill":[{"status":"Deleted","Id":"5"}]}]}]}')).toThrow(
      new GarbledBody('a deleted Bill without Id or MetaData.LastUpdatedTime'),
    );
  });
});
