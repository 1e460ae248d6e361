import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { readLines } from './readLines.js';

async function collect(chunks: Buffer[]): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  for await (const line of readLines(Readable.from(chunks))) out.push([line.number, line.text]);
  return out;
}

describe('readLines', () => {
  const text = '{"type":"RECORD","record":{"n":"Café 😀"}}\r\n\n{"type":"STATE","value":{}}\n{"last":true}';
  const bytes = Buffer.from(text, 'utf8');
  const expected: Array<[number, string]> = [
    [1, '{"type":"RECORD","record":{"n":"Café 😀"}}'],
    [3, '{"type":"STATE","value":{}}'],
    [4, '{"last":true}'],
  ];

  it('yields the same lines whatever byte offset a chunk ends at', async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await collect([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
  });

  it('yields the same lines when every byte is its own chunk', async () => {
    expect(await collect([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
  });
});
