import { describe, expect, it } from 'vitest';
import type { JsonObject } from 'singer-kit';
import { parseLine } from '../messages/parseLine.js';
import { splitReserved, storableText, toRow } from './toRow.js';

/** toRow of a RECORD line, as the router calls it. */
const rowOf = (line: string, lineBytes: Buffer, lineNumber: number, stream: string, keys: readonly string[]) => {
  const { message, recordSpan } = parseLine(line, lineNumber);
  return toRow(message.record as JsonObject, line, recordSpan!, lineBytes, lineNumber, stream, keys);
};

const map = (text: string, keys = ['Id']) => {
  const line = `{"type":"RECORD","stream":"invoices","record": ${text} ,"time_extracted":"x"}`;
  const { row, replaced } = rowOf(line, Buffer.from(line), 7, 'invoices', keys);
  return { row: { ...row, payload: row.payload.toString('utf8') }, replaced };
};

describe('toRow', () => {
  it('cuts the payload out of the record text without _sdc_ members, digits untouched', () => {
    const { row } = map(
      '{"Id":"1","Amt":1234567.10,"_sdc_page_number":3,"_sdc_request_payload":{"method":"GET"},"MetaData":{"LastUpdatedTime":"2024-01-01T10:00:00-08:00"}}',
    );
    expect(row.payload).toBe('{"Id":"1","Amt":1234567.10,"MetaData":{"LastUpdatedTime":"2024-01-01T10:00:00-08:00"}}');
    expect(row.pageNumber).toBe(3);
    expect(row.requestPayload).toBe('{"method":"GET"}');
    expect(row.lastUpdated?.ms).toBe(Date.UTC(2024, 0, 1, 18));
  });

  it('passes a record without _sdc_ members through as it came', () => {
    const text = '{ "Id" : "1", "n": 1.50 }';
    expect(map(text).row.payload).toBe(text);
  });

  it('gives the payload as a view of an ASCII line (no copy), else as the UTF-8 of the payload text', () => {
    const bytesOf = (record: string) => {
      const line = `{"type":"RECORD","stream":"s","record":${record}}`;
      const lineBytes = Buffer.from(line);
      const { row } = rowOf(lineBytes.toString(), lineBytes, 1, 's', ['Id']);
      const { buffer, byteOffset, length } = row.payload;
      const inLine = buffer === lineBytes.buffer && byteOffset > lineBytes.byteOffset && byteOffset + length < lineBytes.byteOffset + lineBytes.length;
      return { payload: row.payload.toString(), shared: inLine };
    };
    expect(bytesOf('{"Id":"1","n":1.50}')).toEqual({ payload: '{"Id":"1","n":1.50}', shared: true });
    expect(bytesOf('{"Id":"1","name":"Zoë"}')).toEqual({ payload: '{"Id":"1","name":"Zoë"}', shared: false });
    expect(bytesOf('{"Id":"1","_sdc_page_number":2}')).toEqual({ payload: '{"Id":"1"}', shared: false });
    expect(bytesOf('{"Id":"1","x":"a\\u0000"}')).toEqual({ payload: '{"Id":"1","x":"a\\ufffd"}', shared: false });
  });

  it('names line, stream and record for a missing key or a bad metadata value', () => {
    expect(() => map('{"x":1}')).toThrow('line 7: stream "invoices": record has no value for key property "Id"');
    expect(() => map('{"Id":"9","_sdc_extract_window_start_utc":"2024-02-30T00:00:00Z"}')).toThrow(
      'line 7: stream "invoices" record id "9": _sdc_extract_window_start_utc is not an ISO 8601 date-time: "2024-02-30T00:00:00Z"',
    );
    expect(() => map(`{"Id":"${'a'.repeat(2001)}"}`)).toThrow(/record id "a{40}…": the key value is 2001 bytes; ids longer than 2000 bytes cannot be indexed/);
    expect(() => map('{"Id":"9","_sdc_page_number":2147483648}')).toThrow(/_sdc_page_number must be an integer between 0 and 2147483647/);
  });
});

describe('splitReserved', () => {
  it('drops _sdc_ members wherever they are, keeping the other members byte for byte', () => {
    const text = '{ "_sdc_a" : 1 , "k\\"q": [1.10, {"_sdc_b":2}], "_sdc_request_payload": {"m":"GET"}, "z":"}" }';
    const { payload, reserved, end } = splitReserved(`[${text}]`, 1);
    expect(end).toBe(text.length + 1);
    expect(payload).toBe('{"k\\"q": [1.10, {"_sdc_b":2}],"z":"}"}');
    expect(JSON.parse(payload)).toEqual({ 'k"q': [1.1, { _sdc_b: 2 }], z: '}' });
    expect([...reserved]).toEqual([
      ['_sdc_a', '1'],
      ['_sdc_request_payload', '{"m":"GET"}'],
    ]);
  });
});

describe('storableText', () => {
  it('replaces NUL and unpaired surrogates with U+FFFD, keeps pairs and everything else', () => {
    expect(storableText('a\u0000b')).toBe('a\ufffdb');
    expect(storableText('\ud800x\udc00')).toBe('\ufffdx\ufffd');
    expect(storableText('😀 ok')).toBe('😀 ok');
  });
});
