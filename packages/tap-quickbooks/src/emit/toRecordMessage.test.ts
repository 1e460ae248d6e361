import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { LineWriter } from 'singer-kit';
import { queueRecord, recordFrame, recordLine, reservedMembers, type PageFacts } from './toRecordMessage.js';

const facts: PageFacts = {
  windowStart: '2025-01-01T00:00:00Z',
  windowEnd: '2025-01-02T00:00:00Z',
  pageNumber: 2,
  pageSize: 100,
  request: { method: 'GET', path: '/v3/company/1/query', query: "SELECT * FROM Invoice WHERE x = 'a\"b'", minorversion: 75 },
  extractedAt: '2025-01-03T10:00:00.000Z',
  realmId: '1',
  runId: 'run-1',
};

describe('recordLine', () => {
  it('keeps the entity text byte for byte and appends the reserved fields', () => {
    const entity = '{\n  "Id": "130",\n  "TotalAmt": 1234567.10,\n  "Qty": 275.0,\n  "Note": "a\\nb"\n}';
    const line = recordLine(recordFrame('"invoices"', reservedMembers(facts), facts.extractedAt, undefined), entity);
    expect(line).not.toContain('\n');
    expect(line).toContain('"TotalAmt":1234567.10,"Qty":275.0');
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ type: 'RECORD', stream: 'invoices', time_extracted: facts.extractedAt });
    expect(parsed.record).toEqual({
      Id: '130',
      TotalAmt: 1234567.1,
      Qty: 275,
      Note: 'a\nb',
      _sdc_extract_window_start_utc: '2025-01-01T00:00:00Z',
      _sdc_extract_window_end_utc: '2025-01-02T00:00:00Z',
      _sdc_page_number: 2,
      _sdc_page_size: 100,
      _sdc_request_payload: facts.request,
      _sdc_extracted_at: facts.extractedAt,
      _sdc_realm_id: '1',
      _sdc_run_id: 'run-1',
    });
  });

  it('drops deselected fields and nothing else', () => {
    const line = recordLine(recordFrame('"items"', [], 'x', new Set(['Id', 'UnitPrice'])), '{"Id":"1","Name":"n","UnitPrice":10.50}');
    expect(line).toBe('{"type":"RECORD","stream":"items","record":{"Id":"1","UnitPrice":10.50},"time_extracted":"x"}');
  });

  it('appends to an empty entity, and to one with whitespace before its closing brace', () => {
    const frame = recordFrame('"items"', [['_sdc_page_number', '1']], 'x', undefined);
    expect(recordLine(frame, '{ }')).toBe('{"type":"RECORD","stream":"items","record":{"_sdc_page_number":1},"time_extracted":"x"}');
    expect(JSON.parse(recordLine(frame, '{"Id":"1" }')).record).toEqual({ Id: '1', _sdc_page_number: 1 });
  });

  it('builds the request payload from an allow-list only', () => {
    const withToken = { ...facts, request: { ...facts.request, authorization: 'Bearer secret' } as typeof facts.request };
    const payload = reservedMembers(withToken).find(([k]) => k === '_sdc_request_payload')![1];
    expect(payload).not.toContain('secret');
  });
});

describe('queueRecord', () => {
  it('queues the same bytes recordLine makes, straight from the page', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(Buffer.from(c)), done()) });
    const writer = new LineWriter(sink, { encoding: 'latin1' });
    const frame = recordFrame('"invoices"', reservedMembers(facts), facts.extractedAt, undefined);
    const entities = ['{"Id":"130","TotalAmt":1234567.10,"Note":"Añil \\"q\\" }"}', '{ }', '{"Id":"1" }', '{}'];
    const page = Buffer.from(`{"QueryResponse":{"Invoice":[${entities.join(',')}]}}`, 'utf8');
    const expected: string[] = [];
    let from = page.indexOf('[') + 1;
    for (const entity of entities) {
      const length = Buffer.byteLength(entity, 'utf8');
      queueRecord(writer, frame, page, from, from + length);
      expected.push(Buffer.from(recordLine(frame, page.toString('latin1', from, from + length)), 'latin1').toString('utf8'));
      from += length + 1;
    }
    await writer.flush();
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected.map((l) => `${l}\n`).join(''));
    expect(expected[0]).toContain('"TotalAmt":1234567.10,"Note":"Añil \\"q\\" }","_sdc_extract_window_start_utc"');
    expect(JSON.parse(expected[1]!).record).toEqual(JSON.parse(expected[3]!).record);
  });
});
