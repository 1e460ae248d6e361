import { describe, expect, it } from 'vitest';
import { Rng } from 'qbo-emulator';
import { parseMessageLine, type JsonObject } from 'singer-kit';
import { parseLine } from './parseLine.js';

/** What parseLine must give: JSON.parse's message, and the text of the `record` JSON.parse took. */
function expectLikeJsonParse(text: string): void {
  const { message, recordSpan } = parseLine(text, 1);
  expect(message, text).toEqual(parseMessageLine(text, 1));
  const record = (JSON.parse(text) as JsonObject).record;
  if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
    expect(recordSpan, text).toBeDefined();
    const recordText = text.slice(recordSpan?.start, recordSpan?.end);
    expect(JSON.parse(recordText), text).toEqual(record);
    expect(recordText.startsWith('{') && recordText.endsWith('}'), text).toBe(true);
  } else expect(recordSpan, text).toBeUndefined();
}

describe('parseLine', () => {
  it('parses a RECORD line as JSON.parse does and finds its record text', () => {
    const text = '{"type":"record","stream":"s","record":{"Id":"1","n":1.50,"o":{"a":[1,"}"]}},"time_extracted":"2024-01-01T00:00:00Z"}';
    const { message, recordSpan } = parseLine(text, 1);
    expect(message.type).toBe('RECORD');
    expect(text.slice(recordSpan?.start, recordSpan?.end)).toBe('{"Id":"1","n":1.50,"o":{"a":[1,"}"]}}');
    expectLikeJsonParse(text);
  });

  it("gives a STATE's value as the line wrote it: every digit, the last value member (as JSON.parse takes it)", () => {
    const state = (text: string) => parseLine(text, 1).stateText;
    expect(state('{"type":"STATE","value":{"bookmarks":{"t":{"replication_key_value":12345678901234567890,"f":1.10}}}}')).toBe(
      '{"bookmarks":{"t":{"replication_key_value":12345678901234567890,"f":1.10}}}',
    );
    expect(state('{"type":"state", "value" : {"a": 9007199254740993} , "t":1}')).toBe('{"a": 9007199254740993}');
    expect(state('{"value":{"a":1},"type":"STATE","value":{"a":2}}')).toBe('{"a":2}');
    expect(state('{"type":"STATE","value":null}')).toBe('null');
    expect(state('{"type":"STATE"}')).toBeUndefined();
    expect(state('{"type":"RECORD","stream":"s","record":{"Id":"1"},"value":3}')).toBeUndefined();
  });

  it('finds the record wherever the message puts it, whatever follows it', () => {
    for (const text of [
      '{"type": "RECORD", "stream": "s", "record": {"Id": "1"}, "time_extracted": "2024-01-01T00:00:00Z"}\r',
      '{"type":"RECORD","stream":"s","time_extracted":"x","record":{"Id":"1"}}',
      '{"record":{"Id":"1"},"type":"RECORD","stream":"s","version":3}   ',
      '{"type":"RECORD","stream":"s","record":{"Id":"1"},"extra":{"a":"}"}}',
      '{"type":"RECORD","stream":"s","record":{"Id":"1"},"note":"a } b"}',
      '{"type":"RECORD","stream":"\\"record\\":{","record":{}}',
      '{"type":"RECORD","stream":"s","record" : { "Id" : "1" } }',
    ])
      expectLikeJsonParse(text);
  });

  it('takes the last of repeated record members, as JSON.parse does', () => {
    expectLikeJsonParse('{"type":"RECORD","stream":"s","record":{"Id":"1"},"record":{"Id":"2"}}');
    expectLikeJsonParse('{"type":"RECORD","stream":"s","record":{"Id":"1"},"time_extracted":"x","record":{"Id":"2"},"version":1}');
    expectLikeJsonParse('{"type":"RECORD","stream":"s","record":{"Id":"1"},"record":null}');
    expectLikeJsonParse('{"type":"RECORD","stream":"s","record":{"Id":"1"},"r\\u0065cord":{"Id":"2"}}');
    expectLikeJsonParse('{"type":"RECORD","stream":"s","r\\u0065cord":{"Id":"1"},"record":{"Id":"2"}}');
  });

  it('gives each line its own message, whether the text around its record is the last line’s or differs from it by a byte', () => {
    const lines = [
      '{"type":"RECORD","stream":"a","record":{"Id":"1"},"time_extracted":"x"}',
      '{"type":"RECORD","stream":"a","record":{"Id":"2","n":1},"time_extracted":"x"}',
      '{"type":"RECORD","stream":"b","record":{"Id":"2","n":1},"time_extracted":"x"}',
      '{"type":"RECORD","stream":"b","record":{"Id":"2","n":1},"time_extracted":"y"}',
      '{"type":"RECORD","stream":"b","record":{"Id":"2","n":1},"time_extracted":"y","record":{"Id":"3"}}',
      '{"type":"STATE","stream":"b","record":{"Id":"3"},"time_extracted":"y"}',
      '{"type":"RECORD","stream":"b","record":{"Id":"4"},"time_extracted":"y"}',
    ];
    for (const line of lines) expectLikeJsonParse(line);
    const first = parseLine(lines[0] as string, 1).message;
    const second = parseLine(lines[1] as string, 2).message;
    expect(first).toEqual({ type: 'RECORD', stream: 'a', record: { Id: '1' }, time_extracted: 'x' });
    expect(second).toEqual({ type: 'RECORD', stream: 'a', record: { Id: '2', n: 1 }, time_extracted: 'x' });
  });

  it('gives no record text when the record is not an object, and parseMessageLine’s errors for a bad line', () => {
    expectLikeJsonParse('{"type":"RECORD","stream":"s","record":[1]}');
    expectLikeJsonParse('{"type":"RECORD","stream":"s"}');
    expectLikeJsonParse('{"type":"STATE","value":{"record":{"a":1}}}');
    expect(() => parseLine('{"type":"RECORD","stream":"s","record":{"Id":"1"}', 4)).toThrow(/^line 4: not valid JSON/);
    expect(() => parseLine('{"type":"RECORD","stream":"s","record":{"Id":"1"}}}', 4)).toThrow(/^line 4: not valid JSON/);
    expect(() => parseLine('{"type":"RECORD","stream":"s","record":{"Id":"1"},"x":"}', 4)).toThrow(/^line 4: not valid JSON/);
    expect(() => parseLine('{"stream":"s","record":{"Id":"1"}}', 4)).toThrow('line 4: message has no "type" string');
    expect(() => parseLine('[{"record":{}}]', 4)).toThrow('line 4: a Singer message must be a JSON object');
  });

  it('agrees with JSON.parse on generated lines', () => {
    const members = [
      '"type":"RECORD"',
      '"type":"state"',
      '"stream":"s"',
      '"stream":"}{\\""',
      '"time_extracted":"x"',
      '"version":1',
      '"x":{"y":"}"}',
      '"z":[{}]',
    ];
    const records = ['{"Id":"1"}', '{}', '{"a":{"b":[1,{"c":"}"}]},"d":"\\"}"}', 'null', '[{}]', '7', '{"record":{"x":1}}'];
    const spaces = ['', ' ', '\n', '\t '];
    const rng = new Rng(11);
    const pick = <T>(list: readonly T[]): T => list[rng.int(0, list.length - 1)] as T;
    for (let n = 0; n < 2000; n++) {
      const parts: string[] = [];
      for (let m = rng.int(0, 4); m >= 0; m--)
        parts.push(rng.int(0, 2) === 0 ? `${pick(['"record"', '"r\\u0065cord"'])}:${pick(spaces)}${pick(records)}` : pick(members));
      if (!parts.some((p) => p.startsWith('"type"'))) parts.push('"type":"RECORD"');
      const text = `${pick(['', ' '])}{${parts.join(`${pick(spaces)},${pick(spaces)}`)}}${pick(spaces)}`;
      expectLikeJsonParse(text);
    }
  });
});
