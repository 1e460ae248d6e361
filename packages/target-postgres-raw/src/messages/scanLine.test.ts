import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from 'qbo-emulator';
import type { JsonObject } from 'singer-kit';
import { checkId, toRow } from '../rows/toRow.js';
import { parseLine } from './parseLine.js';
import { scanLine } from './scanLine.js';

const line = (record: string, keys: readonly string[] = ['Id']) => ({ text: `{"type":"RECORD","stream":"s","record":${record},"time_extracted":"x"}`, keys });

/** What toRow stores for a line (its bytes): the id and the SHA-256 of the payload. */
function stored(bytes: Buffer, keys: readonly string[]): { id: string; hash: string } {
  const text = bytes.toString('utf8');
  const { message, recordSpan } = parseLine(text, 1);
  const { row } = toRow(message.record as JsonObject, text, recordSpan!, bytes, 1, 's', keys);
  return { id: row.id, hash: hash('sha256', row.payload, 'hex') };
}

/** What the lookahead finds for the same line's bytes. */
function scanned(bytes: Buffer, keys: readonly string[]): { id: string; hash: string } | undefined {
  const scan = scanLine(bytes, () => keys);
  if (scan?.id === undefined) return undefined;
  const checked = checkId(scan.id);
  return 'id' in checked ? { id: checked.id, hash: scan.hash } : undefined;
}

describe('scanLine', () => {
  it('finds exactly the id and payload hash toRow stores, whatever the record looks like', () => {
    const cases = [
      line(
        '{"Id":"1","Amt":1234567.10,"_sdc_page_number":3,"_sdc_request_payload":{"method":"GET"},"MetaData":{"LastUpdatedTime":"2024-01-01T10:00:00-08:00"}}',
      ),
      line('{ "Id" : "1", "n": 1.50 }'),
      line('{ "_sdc_a" : 1 , "k\\"q": [1.10, {"_sdc_b":2}], "Id": 7, "_sdc_request_payload": {"m":"GET"}, "z":"}" }'),
      line('{"Id":12345678901234567891,"é":"\\u00e9 😀 \\" \\\\ \\n","deep":[[[[[[[[[[1]]]]]]]]]],"_sdc_run_id":"r"}'),
      line('{"Id":"a\\u0000b","v":"\\ud800 and \\u0000","_sdc_realm_id":"1"}'),
      line('{"a":"x,y","b":true,"c":null,"_sdc_extracted_at":"2024-01-01T00:00:00Z"}', ['a', 'b']),
      line('{"metric":1,"_sdc_run_id":"r"}', []),
      line('{"Id":{"x":[1,2]},"v":1}'),
      line('{"I\\u0064":"escaped key","v":1}'),
    ];
    for (const { text, keys } of cases) expect(scanned(Buffer.from(text), keys), text).toEqual(stored(Buffer.from(text), keys));
    // Invalid UTF-8 is read as U+FFFD on both paths.
    const invalid = Buffer.concat([Buffer.from('{"type":"RECORD","stream":"s","record":{"Id":"1","v":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}}')]);
    expect(scanned(invalid, ['Id'])).toEqual(stored(invalid, ['Id']));
  });

  it('agrees with toRow and JSON.parse on generated records, members passed in bulk or one by one', () => {
    // Members the walk must look at (keys, MetaData, _sdc_*, also escaped), others it may pass in bulk, written compactly or not.
    const keys = ['"Id"', '"I\\u0064"', '"MetaData"', '"_sdc_run_id"', '"_sdc_realm_id"', '"_\\u0073dc_x"', '"x"', '"a\\"b"', '"é"', '"Id2"', '"_sdc"', '"M"'];
    const deep = (n: number): string => (n === 0 ? '1' : `{"d":[${deep(n - 1)}]}`);
    const values = [
      '"1"',
      '7',
      '-1.50e+3',
      'null',
      'true',
      '""',
      '"a,b}"',
      '"q\\"\\\\"',
      '"\\u0000\\ud800"',
      '"😀 é"',
      '{"LastUpdatedTime":"2024-01-01T10:00:00-08:00","_sdc_n":1}',
      '{"LastUpdatedTime":5}',
      '[{"Id":"nested","x":[1,{"y":"]"}]},[]]',
      '{}',
      deep(9),
    ];
    // Seeded (the emulator's generator), so a failure can be replayed.
    const rng = new Rng(7);
    const next = (n: number) => rng.int(0, n - 1);
    let compared = 0;
    for (let n = 0; n < 3000; n++) {
      const members: string[] = [];
      for (let m = next(7); m >= 0; m--) {
        const [sp1, sp2] = next(5) === 0 ? [' ', '\n '] : ['', ''];
        members.push(`${keys[next(keys.length)]}${sp1}:${sp2}${values[next(values.length)]}`);
      }
      const record = `{${members.join([',', ',', ',', ' , ', ', ', ',\n'][next(6)])}}`;
      const text = line(record).text;
      const parsed = JSON.parse(record) as JsonObject;
      const scan = scanLine(Buffer.from(text), () => ['Id']);
      expect(scan, text).toBeDefined();
      const reserved = Object.fromEntries(Object.entries(parsed).filter(([k]) => k.startsWith('_sdc_')));
      expect(scan?.reserved ?? {}, text).toEqual(reserved);
      const meta = parsed.MetaData as JsonObject | undefined;
      expect(scan?.lastUpdatedText, text).toBe(
        typeof meta === 'object' && meta !== null && typeof meta.LastUpdatedTime === 'string' ? meta.LastUpdatedTime : null,
      );
      // A key property given twice is left to JSON.parse; any other record with an id is scanned as toRow stores it.
      const idMembers = members.filter((m) => m.startsWith('"Id"') || m.startsWith('"I\\u0064"')).length;
      if (idMembers > 1) expect(scan?.id, text).toBeUndefined();
      const found = scanned(Buffer.from(text), ['Id']);
      if (idMembers !== 1 || parsed.Id === null || parsed.Id === '') continue;
      expect(found, text).toEqual(stored(Buffer.from(text), ['Id']));
      compared += 1;
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('reads type and stream as JSON.parse reads the whole line (the last of repeated members)', () => {
    const scan = scanLine(Buffer.from('{"type":"record","stream":"s","record":{"Id":1},"stream":"t"}'), (stream) => (stream === 't' ? ['Id'] : undefined));
    expect(scan?.type).toBe('record');
    expect(scan?.stream).toBe('t');
    expect(scan?.id).toEqual({ id: '1' });
    // Walked again with the later stream's keys: an escaped key before the place the first walk reached is still decoded.
    const again = scanLine(Buffer.from('{"type":"RECORD","stream":"s","record":{"I\\u0064":"2","v":"\\\\"},"stream":"t"}'), (stream) =>
      stream === 't' ? ['Id'] : undefined,
    );
    expect(again?.id).toEqual({ id: '2' });
    // Non-ASCII names and values without escapes are read as UTF-8.
    const named = scanLine(
      Buffer.from('{"type":"RECORD","stream":"facturé","record":{"Id":"ü","MetaData":{"LastUpdatedTime":"2024-01-01T10:00:00+01:00 ü"}}}'),
      () => ['Id'],
    );
    expect([named?.stream, named?.id, named?.lastUpdatedText]).toEqual(['facturé', { id: 'ü' }, '2024-01-01T10:00:00+01:00 ü']);
  });

  it('leaves to JSON.parse what it cannot be sure of: no record object, broken JSON, a key property given twice', () => {
    expect(scanLine(Buffer.from('{"type":"STATE","value":{}}'), () => [])).toBeUndefined();
    expect(scanLine(Buffer.from('{"type":"RECORD","stream":"s","record":[1]}'), () => [])).toBeUndefined();
    expect(scanLine(Buffer.from('{"type":"RECORD","stream":"s","record":{"Id":1'), () => [])).toBeUndefined();
    expect(scanLine(Buffer.from('{"type":"RECORD","stream":"s","record":{"Id":1,"Id":2}}'), () => ['Id'])?.id).toBeUndefined();
  });

  it('reads the _sdc_ members and MetaData.LastUpdatedTime', () => {
    const scan = scanLine(
      Buffer.from(line('{"Id":"1","MetaData":{"LastUpdatedTime":"2024-01-01T10:00:00-08:00"},"_sdc_run_id":"r","_sdc_page_size":5}').text),
      () => ['Id'],
    );
    expect(scan?.reserved).toEqual({ _sdc_run_id: 'r', _sdc_page_size: 5 });
    expect(scan?.lastUpdatedText).toBe('2024-01-01T10:00:00-08:00');
  });
});
