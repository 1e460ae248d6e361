import { describe, expect, it } from 'vitest';
import {
  appendMembersText,
  arrayElements,
  compactJson,
  endOfValue,
  forEachMember,
  isJsonWhitespace,
  membersText,
  membersSkipper,
  memberText,
  objectMembers,
  passMembers,
  pickMembers,
  scanObjectArray,
  utf8ByteString,
} from './rawJson.js';

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

  it('memberText of a repeated key: the first member, or with `last` the one JSON.parse takes', () => {
    expect(memberText('{"Id":1,"v":"a","Id":2}', 'Id')).toBe('1');
    expect(memberText('{"Id":1,"v":"a","Id":2}', 'Id', true)).toBe('2');
    expect(memberText('{"Id":"x","I\\u0064":30}', 'Id', true)).toBe('30');
  });

  it('passes over compact members in one step, stopping where the caller must look', () => {
    const skipper = membersSkipper(['Id', 'a.b'], ['_sdc_']);
    const stopsAt = (object: string) => object.slice(passMembers(skipper, object, 1));
    expect(stopsAt('{"x":"a,\\"}","y":[1,{"z":[]}],"n":-1.5e+3,"t":true,"Id":"1","w":0}')).toBe('"Id":"1","w":0}');
    expect(stopsAt('{"x":null,"_sdc_run_id":"r","w":0}')).toBe('"_sdc_run_id":"r","w":0}');
    expect(stopsAt('{"x":1,"a.b":2}')).toBe('"a.b":2}');
    // Keys that only look like wanted ones are passed over; a key regex characters would match is not wanted.
    expect(stopsAt('{"Idx":1,"_sdc":2,"aXb":3,"w":0}')).toBe('"w":0}');
    // Whitespace, an escaped key and nesting deeper than 7 levels are left to the caller, as is the last member.
    expect(stopsAt('{"x":1, "y":2}')).toBe(' "y":2}');
    expect(stopsAt('{"x":1,"\\u0049d":2,"y":3}')).toBe('"\\u0049d":2,"y":3}');
    expect(stopsAt('{"x":[[[[[[[[1]]]]]]]],"y":3}')).toBe('"x":[[[[[[[[1]]]]]]]],"y":3}');
    expect(stopsAt('{"x":[[[[[[[1]]]]]]],"y":3}')).toBe('"y":3}');
    expect(stopsAt('{"x":1}')).toBe('"x":1}');
  });

  it('walks members from any offset with key and value positions, and stops when asked', () => {
    const text = 'x= { "a" : 1.10 , "b\\"c": [1,{"d":2}], "e":"}" } tail';
    const seen: string[] = [];
    const end = forEachMember(text, 2, (key, keyStart, valueStart) => {
      const valueEnd = endOfValue(text, valueStart);
      seen.push(`${key}|${text.slice(keyStart, valueStart).replace(/\s/g, '')}|${text.slice(valueStart, valueEnd)}`);
      return valueEnd;
    });
    expect(seen).toEqual(['a|"a":|1.10', 'b"c|"b\\"c":|[1,{"d":2}]', 'e|"e":|"}"']);
    expect(text.slice(end)).toBe(' tail');
    expect(forEachMember(text, 2, (_k, _s, valueStart) => (text[valueStart] === '[' ? -1 : endOfValue(text, valueStart)))).toBe(-1);
    expect(forEachMember('{ }', 0, () => 0)).toBe(3);
  });

  it('splits arrays whatever their whitespace', () => {
    const text = ' [ {"a":1.50} ,\n "x,]" , [1,[2]] , null ]';
    expect(arrayElements(text)).toEqual(['{"a":1.50}', '"x,]"', '[1,[2]]', 'null']);
    expect(arrayElements('[]')).toEqual([]);
  });

  it('appends and picks members without re-encoding values', () => {
    const out = appendMembersText(
      invoice,
      membersText([
        ['_sdc_page_number', '1'],
        ['_sdc_realm_id', '"r1"'],
      ]),
    );
    expect(out.endsWith(',"_sdc_page_number":1,"_sdc_realm_id":"r1"}')).toBe(true);
    expect(out).toContain('"TotalAmt":1234567.10');
    expect(appendMembersText('{}', membersText([['a', '1']]))).toBe('{"a":1}');
    expect(JSON.parse(pickMembers(out, (k) => !k.startsWith('_sdc_')))).toEqual(JSON.parse(invoice));
    expect(pickMembers(invoice, (k) => k === 'TotalAmt')).toBe('{"TotalAmt":1234567.10}');
  });

  it('compacts multi-line JSON onto one line, strings untouched', () => {
    const pretty = '{\n  "a": "x  y",\n  "b": [\n    1.0\n  ]\n}';
    expect(compactJson(pretty)).toBe('{"a":"x  y","b":[1.0]}');
    expect(compactJson(invoice)).toBe(invoice);
    expect(compactJson('{"a": "x  y", "b": [1.0]}', true)).toBe('{"a":"x  y","b":[1.0]}');
  });

  it('agrees with JSON.parse on every real member', () => {
    for (const [key, raw] of objectMembers(invoice)) {
      expect(JSON.parse(raw)).toEqual((JSON.parse(invoice) as Record<string, unknown>)[key]);
    }
  });

  it('scans an array of objects once: exact element texts and the wanted members, like arrayElements and memberText', () => {
    const other = '{ "Id" : 7 , "Line":[{"Id":"nested"}], "MetaData":{"LastUpdatedTime":"x"} }';
    const text = `{"QueryResponse":{"Invoice":[ ${invoice} ,\n${other},{"Line":[{"Id":"1"}]},{"\\u0049d":"esc","Id":"dup"} ], "x":[`;
    const from = text.indexOf('[');
    const seen: Array<[string, string | undefined, string | undefined]> = [];
    const end = scanObjectArray(text, from, ['Id', 'MetaData'], (start, stop, spans) => {
      const value = (k: number) => (spans[2 * k]! < 0 ? undefined : text.slice(spans[2 * k], spans[2 * k + 1]));
      seen.push([text.slice(start, stop), value(0), value(1)]);
    });
    expect(text.slice(end)).toBe(', "x":[');
    const elements = arrayElements(text.slice(from, end));
    expect(seen.map(([element]) => element)).toEqual(elements);
    expect(seen.map(([, id, meta]) => [id, meta])).toEqual(elements.map((e) => [memberText(e, 'Id', true), memberText(e, 'MetaData', true)]));
    // Of a repeated key (here once escaped), the last: the one JSON.parse keeps.
    expect(seen.map(([, id]) => id)).toEqual(['"130"', '7', undefined, '"dup"']);
    expect(scanObjectArray(' [ ] ', 0, ['Id'], () => expect.fail('no elements'))).toBe(4);
  });

  it('of a repeated key gives the value JSON.parse keeps (the last), whatever comes between', () => {
    const elements = [
      '{"Id":"1","Id":"2"}',
      '{"Id":"1","Line":[{"Id":"n"}],"MetaData":{},"I\\u0064":"3","v":1.5e3}',
      '{"MetaData":{"a":1},"Id":4,"MetaData":[ ]}',
    ];
    const text = `[${elements.join(' , ')}]`;
    const seen: string[] = [];
    scanObjectArray(text, 0, ['Id', 'MetaData'], (_start, _end, spans) => seen.push(`${text.slice(spans[0], spans[1])} ${text.slice(spans[2], spans[3])}`));
    expect(seen).toEqual(elements.map((e) => `${JSON.stringify((JSON.parse(e) as { Id: unknown }).Id)} ${memberText(e, 'MetaData', true) ?? ''}`));
    expect(seen).toEqual(['"2" ', '"3" {}', '4 [ ]']);
  });

  it('finds element ends however deep the nesting, brackets in strings ignored', () => {
    const deep = (n: number, inner: string): string => (n === 0 ? inner : `{"a":[1,"x]}\\"",${deep(n - 1, inner)},"y{"]}`);
    for (const levels of [0, 3, 6, 7, 12]) {
      const element = `{"k":${deep(levels, '"z"')},"Id":"${levels}","n":${deep(levels, '2')}}`;
      const text = `[${element},${element}]`;
      const seen: string[] = [];
      scanObjectArray(text, 0, ['Id'], (start, end, spans) => seen.push(`${text.slice(start, end)}|${text.slice(spans[0], spans[1])}`));
      expect(seen).toEqual([`${element}|"${levels}"`, `${element}|"${levels}"`]);
    }
  });

  it('rejects what is not an array of complete objects', () => {
    const scan = (text: string) => scanObjectArray(text, 0, ['Id'], () => undefined);
    expect(() => scan('{"a":1}')).toThrow(SyntaxError);
    expect(() => scan('[1,2]')).toThrow(SyntaxError);
    expect(() => scan('[{"Id":"1"')).toThrow(SyntaxError);
    expect(() => scan('[{"Id":"1","Line":[{"x":"unterminated}]}]')).toThrow(SyntaxError);
    expect(() => scan('[{"Id":"1"} {"Id":"2"}]')).toThrow(SyntaxError);
  });

  it('appends pre-built member text to any object layout', () => {
    const text = membersText([
      ['_sdc_page_number', '1'],
      ['_sdc_realm_id', '"r1"'],
    ]);
    expect(text).toBe('"_sdc_page_number":1,"_sdc_realm_id":"r1"');
    expect(appendMembersText('{ }', text)).toBe('{"_sdc_page_number":1,"_sdc_realm_id":"r1"}');
    expect(appendMembersText('{"a":1 }\n', text)).toBe('{"a":1,"_sdc_page_number":1,"_sdc_realm_id":"r1"}');
    for (const object of [invoice, '{}', '{ }', '{"a":1 }\n', '{\n"a": 1.50\n}']) {
      expect(JSON.parse(appendMembersText(object, text))).toEqual({ ...JSON.parse(object), _sdc_page_number: 1, _sdc_realm_id: 'r1' });
    }
    expect(appendMembersText('{"a":1}', '')).toBe('{"a":1}');
  });

  it('gives the UTF-8 bytes of text one char per byte, as latin1 decoding of those bytes does', () => {
    const bytes = Buffer.from(invoice, 'utf8');
    expect(utf8ByteString(invoice)).toBe(bytes.toString('latin1'));
    expect(Buffer.from(utf8ByteString(invoice), 'latin1').equals(bytes)).toBe(true);
    expect(utf8ByteString('plain ascii')).toBe('plain ascii');
  });
});

describe('isJsonWhitespace', () => {
  it("is true for JSON's four whitespace characters only, by char code or byte", () => {
    expect([' ', '\n', '\r', '\t'].map((c) => isJsonWhitespace(c.charCodeAt(0)))).toEqual([true, true, true, true]);
    expect(['\f', '\v', '\u00a0', '\u2028', 'x', '{'].map((c) => isJsonWhitespace(c.charCodeAt(0)))).toEqual([false, false, false, false, false, false]);
    const bytes = Buffer.from(' {');
    expect([isJsonWhitespace(bytes[0]), isJsonWhitespace(bytes[1]), isJsonWhitespace(bytes[2])]).toEqual([true, false, false]);
    expect(isJsonWhitespace(''.charCodeAt(0))).toBe(false);
  });
});
