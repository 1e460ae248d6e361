import { execFileSync } from 'node:child_process';
import { constants, createWriteStream, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { InputLineBytes } from 'singer-kit';
import { describe, expect, it } from 'vitest';
import { fileReader, streamReader } from './chunkReaders.js';
import { PooledLines, type ChunkReader, type ReadTarget } from './PooledLines.js';

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

/** `text` as a file, or as a pipe (a FIFO) it is written into in pieces of 1 to 60 bytes, with a turn of the event loop between them. */
type Source = 'file' | 'pipe';

/** A reader of `text` from `source`, and what to await once it is read. */
async function openSource(text: string, source: Source): Promise<{ readonly open: (target: ReadTarget) => ChunkReader; readonly done: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pooled-lines-'));
  if (source === 'file') {
    writeFileSync(path.join(dir, 'in.singer'), text);
    const handle = await open(path.join(dir, 'in.singer'), 'r');
    return { open: (target) => fileReader(handle.fd, target), done: () => handle.close() };
  }
  const fifo = path.join(dir, 'in.fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  async function* pieces(): AsyncGenerator<string> {
    for (let at = 0, size = 1; at < text.length; at += size, size = (size * 7) % 61 || 1) {
      yield text.slice(at, at + size);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const written = pipeline(pieces(), createWriteStream(fifo));
  return { open: (target) => streamReader(fd, target), done: () => written };
}

/**
 * Reads `text` from `source` as the target's Lookahead does: up to `readAhead` batches of lines wait
 * while the oldest is consumed, and the next read is in flight meanwhile (`readWhileConsuming`, as
 * while the lookahead fills a window) or not (as when its queue is full). Each line's text is taken
 * only when it is consumed (the chunk it is a view of must not have been read into since), then the
 * batch is said done with.
 */
async function consume(
  text: string,
  source: Source,
  readAhead: number,
  readWhileConsuming: boolean,
): Promise<{ readonly lines: Array<[number, string]>; readonly chunkBuffers: number }> {
  const { open: openReader, done } = await openSource(text, source);
  const input = new PooledLines(openReader, CHUNK_BYTES);
  try {
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
    input.close();
    await done();
  }
}

describe('PooledLines', () => {
  const { text, lines } = sampleText();

  it.each([
    ['file', 1, false],
    ['file', 1, true],
    ['file', 2, false],
    ['file', 2, true],
    ['file', 5, false],
    ['pipe', 1, false],
    ['pipe', 1, true],
    ['pipe', 2, true],
    ['pipe', 5, false],
  ] as const)(
    'yields every line of a %s as written while %i batches are read ahead (the next read in flight: %s), reading into a chunk again only once no line held refers to it',
    async (source, readAhead, readWhileConsuming) => {
      const read = await consume(text, source, readAhead, readWhileConsuming);
      expect(read.lines).toEqual(lines);
      // ~700 chunks' worth is read into a few buffers: those of the batches held (a batch's lines
      // may span four chunks), the chunk being filled and the one waiting to be handed on.
      expect(Buffer.byteLength(text) / CHUNK_BYTES).toBeGreaterThan(600);
      expect(read.chunkBuffers).toBeGreaterThan(1);
      expect(read.chunkBuffers).toBeLessThanOrEqual(4 * (readAhead + 1) + 2);
    },
  );

  it.each(['file', 'pipe'] as const)('yields the last line of a %s without a line end, and nothing for an empty one', async (source) => {
    expect((await consume('{"a":1}\n{"b":2}', source, 1, false)).lines).toEqual([
      [1, '{"a":1}'],
      [2, '{"b":2}'],
    ]);
    expect((await consume('', source, 1, false)).lines).toEqual([]);
  });

  it('reads into a chunk again only once the line after its last one is done with: that line may begin in it', async () => {
    // Chunk by chunk: line 1 and the start of line 2, two chunks of line 2, its end and line 3. Once it
    // has line 1, the consumer says it is done with it before each read (as the target's router
    // finishes a window while its Lookahead reads on): line 1 is the first chunk's last line, yet
    // line 2's pieces (readLineBytes' pending views) refer to that chunk's last bytes until its end
    // is read, so the chunk must not be read into until line 2 is done with.
    const line1 = `{"n":1,"pad":"${'a'.repeat(44)}"}`;
    const line2 = `{"n":2,"pad":"${'b'.repeat(280)}"}`;
    const line3 = `{"n":3,"pad":"${'c'.repeat(60)}"}`;
    const text = Buffer.from(`${line1}\n${line2}\n${line3}\n`);
    expect(line1.length + 1).toBeLessThan(CHUNK_BYTES - 4);
    expect(line1.length + 1 + line2.length + 1).toBeGreaterThan(3 * CHUNK_BYTES);
    let doneWith = 0;
    let at = 0;
    const input = new PooledLines(
      (target) => ({
        // A chunk's worth a read, each one waiting to be handed on before the next (read() says stop).
        resume: () => {
          input.doneThrough(doneWith);
          while (at < text.length) {
            const space = target.space();
            const bytes = space.subarray(0, text.copy(space, 0, at, at + CHUNK_BYTES));
            at += bytes.length;
            if (!target.read(bytes)) return;
          }
          target.ended();
        },
        close: () => undefined,
      }),
      CHUNK_BYTES,
    );
    const lines: string[] = [];
    for (let read = await input.lines.next(); read.done !== true; read = await input.lines.next()) {
      for (const { bytes, number } of read.value) {
        lines.push(bytes.toString('utf8'));
        doneWith = number;
      }
    }
    expect(lines).toEqual([line1, line2, line3]);
  });

  it('stops its reader once a chunk’s worth waits to be handed on, and resumes it as the lines are asked for', async () => {
    // An endless input whose reader reads 30 bytes (three lines) each time, on at once until told to stop.
    const LINE = '{"a":123}\n';
    let readBytes = 0;
    let resumed = 0;
    const input = new PooledLines(
      (target) => ({
        resume: () => {
          resumed += 1;
          for (let reads = 0; reads < 1000; reads++) {
            const space = target.space();
            const bytes = space.subarray(0, 30 - (30 % LINE.length));
            bytes.write(LINE.repeat(3));
            readBytes += bytes.length;
            if (!target.read(bytes)) return;
          }
        },
        close: () => undefined,
      }),
      CHUNK_BYTES,
    );
    for (let asked = 1; asked <= 50; asked++) {
      const read = await input.lines.next();
      const handedOn = (read.value as InputLineBytes[]).at(-1)?.number ?? 0;
      input.doneThrough(handedOn);
      expect(readBytes).toBeLessThanOrEqual(handedOn * LINE.length + CHUNK_BYTES + 30);
    }
    expect(resumed).toBeGreaterThan(1);
  });
});
