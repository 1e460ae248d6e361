import { mkdtempSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InputLineBytes } from 'singer-kit';
import { describe, expect, it } from 'vitest';
import { FileLines } from './FileLines.js';

const CHUNK_BYTES = 100;

/** Lines of 1 to 3½ chunks (so some span three chunks and end in the next), with blank lines and CRLF ends among them. */
function sampleText(): { readonly text: string; readonly lines: ReadonlyArray<readonly [number, string]> } {
  const lines: Array<[number, string]> = [];
  let text = '';
  for (let number = 1, seed = 7; number <= 400; number++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    if (seed % 11 === 0) {
      text += seed % 2 === 0 ? '\n' : '  \r\n';
      continue;
    }
    const line = `{"n":${number},"pad":"${String.fromCharCode(97 + (number % 26)).repeat(seed % Math.round(3.5 * CHUNK_BYTES))}"}`;
    lines.push([number, line]);
    text += line + (seed % 3 === 0 ? '\r\n' : '\n');
  }
  return { text, lines };
}

/**
 * Reads `text` from a file as the target's Lookahead does: up to `readAhead` batches of lines wait
 * while the oldest is consumed, and the next read is in flight meanwhile (`readWhileConsuming`, as
 * while the lookahead fills a window) or not (as when its queue is full). Each line's text is taken
 * only when it is consumed (the chunk it is a view of must not have been read into since), then the
 * batch is said done with.
 */
async function consume(
  text: string,
  readAhead: number,
  readWhileConsuming: boolean,
): Promise<{ readonly lines: Array<[number, string]>; readonly chunkBuffers: number }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'file-lines-')), 'in.singer');
  writeFileSync(file, text);
  const handle = await open(file, 'r');
  try {
    const input = new FileLines(handle, CHUNK_BYTES);
    const waiting: InputLineBytes[][] = [];
    const lines: Array<[number, string]> = [];
    const chunkBuffers = new Set<ArrayBufferLike>();
    let ended = false;
    let reading: Promise<IteratorResult<InputLineBytes[]>> | undefined;
    for (;;) {
      while (!ended && waiting.length < readAhead) {
        const read = await (reading ?? input.lines.next());
        reading = undefined;
        if (read.done === true) ended = true;
        else waiting.push(read.value);
      }
      if (readWhileConsuming && !ended) reading = input.lines.next();
      const batch = waiting.shift();
      if (batch === undefined) return { lines, chunkBuffers: chunkBuffers.size };
      for (const { bytes, number } of batch) {
        lines.push([number, bytes.toString('utf8')]);
        if (bytes.buffer.byteLength === CHUNK_BYTES) chunkBuffers.add(bytes.buffer);
      }
      input.doneThrough((batch[batch.length - 1] as InputLineBytes).number);
    }
  } finally {
    await handle.close();
  }
}

describe('FileLines', () => {
  const { text, lines } = sampleText();

  it.each([
    [1, false],
    [1, true],
    [2, false],
    [2, true],
    [5, false],
  ])(
    'yields every line as written while %i batches are read ahead (the next read in flight: %s), reading into a chunk again only once no line held refers to it',
    async (readAhead, readWhileConsuming) => {
      const read = await consume(text, readAhead, readWhileConsuming);
      expect(read.lines).toEqual(lines);
      // ~700 chunks are read into a few buffers: those of the batches held (a batch's lines may span four chunks).
      expect(Buffer.byteLength(text) / CHUNK_BYTES).toBeGreaterThan(600);
      expect(read.chunkBuffers).toBeGreaterThan(1);
      expect(read.chunkBuffers).toBeLessThanOrEqual(4 * (readAhead + 1));
    },
  );

  it('yields the last line without a line end, and nothing for an empty file', async () => {
    expect((await consume('{"a":1}\n{"b":2}', 1, false)).lines).toEqual([
      [1, '{"a":1}'],
      [2, '{"b":2}'],
    ]);
    expect((await consume('', 1, false)).lines).toEqual([]);
  });
});
