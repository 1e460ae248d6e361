import { describe, expect, it } from 'vitest';
import { appendMembers, arrayElements, compactJson, memberText, objectMembers, pickMembers } from './rawJson.js';

const invoice =
  '{"Id":"130","Line":[{"Amount":275.0,"Qty":3.5,"Description":"Tab\\t \\"quoted\\" } ] , \\\\"}],' +
  '"TotalAmt":1234567.10,"Big":12345678901234567890,"Tiny":0.1000000000000000055,' +
  '"Name":"Café 😀 שלום","MetaData":{"LastUpdatedTime":"2015-07-24T10:35:08-07:00"},"Empty":{},"E":[]}';

describe('rawJson', () => {
  it('cuts members out byte for byte, numbers untouched', () => {
    const members = Object.fromEntries(objectMembers(invoice));
    expect(members.TotalAmt).toBe('1234567.10');
    expect(members.Big).toBe('12345678901234567890');
    expect(members.Tiny).toBe('0.1000000000000000055');
    expect(members.Line).toBe('[{"Amount":275.0,"Qty":3.5,"Description":"Tab\\t \\"quoted\\" } ] , \\\\"}]');
    expect(members.Empty).toBe('{}');
    expect(memberText(invoice, 'Name')).toBe('"Café 😀 שלום"');
    expect(memberText(invoice, 'missing')).toBeUndefined();
  });

  it('splits arrays whatever their whitespace', () => {
    const text = ' [ {"a":1.50} ,\n "x,]" , [1,[2]] , null ]';
    expect(arrayElements(text)).toEqual(['{"a":1.50}', '"x,]"', '[1,[2]]', 'null']);
    expect(arrayElements('[]')).toEqual([]);
  });

  it('appends and picks members without re-encoding values', () => {
    const out = appendMembers(invoice, [['_sdc_page_number', '1'], ['_sdc_realm_id', '"r1"']]);
    expect(out.endsWith(',"_sdc_page_number":1,"_sdc_realm_id":"r1"}')).toBe(true);
    expect(out).toContain('"TotalAmt":1234567.10');
    expect(appendMembers('{}', [['a', '1']])).toBe('{"a":1}');
    expect(JSON.parse(pickMembers(out, (k) => !k.startsWith('_sdc_')))).toEqual(JSON.parse(invoice));
    expect(pickMembers(invoice, (k) => k === 'TotalAmt')).toBe('{"TotalAmt":1234567.10}');
  });

  it('compacts multi-line JSON onto one line, strings untouched', () => {
    const pretty = '{\n  "a": "x  y",\n  "b": [\n    1.0\n  ]\n}';
    expect(compactJson(pretty)).toBe('{"a":"x  y","b":[1.0]}');
    expect(compactJson(invoice)).toBe(invoice);
  });

  it('agrees with JSON.parse on every real member', () => {
    for (const [key, raw] of objectMembers(invoice)) {
      expect(JSON.parse(raw)).toEqual((JSON.parse(invoice) as Record<string, unknown>)[key]);
    }
  });
});
