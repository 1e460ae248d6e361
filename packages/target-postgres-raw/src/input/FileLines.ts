import type { FileHandle } from 'node:fs/promises';
import { readLineBytes, type InputLineBytes } from 'singer-kit';
import { LARGEST_COPIED_PAYLOAD_BYTES } from '../buffer/PayloadArena.js';

/** Input lines, and where the consumer says which it is done with (in input order): their chunks may then be read into again. */
export interface InputLines {
  readonly lines: AsyncIterator<InputLineBytes[]>;
  doneThrough(line: number): void;
}

/** A chunk lines may still be views of, and the number of the last line read while it was the newest chunk (undefined while it is). */
interface ReadChunk {
  readonly buffer: Buffer;
  lastLine: number | undefined;
}

/**
 * The lines of a file (readLineBytes), read into chunk buffers that are filled again once no line
 * refers to them. fs.ReadStream reads each chunk into fresh memory, whose pages the kernel maps
 * anew at each first touch; here the same few buffers, warm, take the whole file (re-loads of 100k
 * invoices, unchanged or all changed: ~4,000 fewer of ~30,000-47,000 minor faults, 0.15-0.2 s less
 * CPU; a first load showed no difference within its noise).
 *
 * A line inside a chunk is a view of it (a longer one is a copy, joined from pieces of several),
 * and a chunk may be filled again only once every line it holds is done with. The consumer says
 * so, in input order (`doneThrough`). A chunk's lines all come before the first line read after it
 * was the newest: a view of a later chunk, or the copy joining its trailing piece to the next chunk's.
 * Chunks are LARGEST_COPIED_PAYLOAD_BYTES (256 kB) long. Not 64 kB: a re-load of unchanged records
 * waits on reading (100k invoices: 1.65-1.96 s against 1.83-2.30 s). No larger: a payload cut
 * from a line that is a view of a chunk is then copied into the PayloadArena when it is buffered
 * (PayloadArena.keep), so once its line is routed nothing refers to the chunk.
 */
export class FileLines implements InputLines {
  /** The file's lines, the lines each chunk completes at a time (readLineBytes). */
  readonly lines: AsyncIterator<InputLineBytes[]>;
  readonly #file: FileHandle;
  readonly #chunkBytes: number;
  /** Chunks read, oldest first, that lines may still be views of. */
  readonly #read: ReadChunk[] = [];
  /** Chunks no line refers to, to read into. */
  readonly #spare: Buffer[] = [];
  /** The number of the last line read. */
  #lastLine = 0;

  constructor(file: FileHandle, chunkBytes = LARGEST_COPIED_PAYLOAD_BYTES) {
    this.#file = file;
    this.#chunkBytes = chunkBytes;
    this.lines = this.#readLines();
  }

  /** The consumer is done with every line numbered up to `line`: chunks only such lines refer to are read into again. */
  doneThrough(line: number): void {
    for (let oldest = this.#read[0]; oldest?.lastLine !== undefined && oldest.lastLine < line; oldest = this.#read[0]) {
      this.#read.shift();
      this.#spare.push(oldest.buffer);
    }
  }

  async *#readLines(): AsyncGenerator<InputLineBytes[]> {
    for await (const lines of readLineBytes(this.#chunks())) {
      this.#lastLine = (lines[lines.length - 1] as InputLineBytes).number;
      yield lines;
    }
  }

  /** The file's bytes, a chunk at a time (readLineBytes asks for the next once it has yielded the lines the last one completed). */
  async *#chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const newest = this.#read[this.#read.length - 1];
      if (newest !== undefined) newest.lastLine = this.#lastLine;
      const buffer = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#chunkBytes);
      const { bytesRead } = await this.#file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      this.#read.push({ buffer, lastLine: undefined });
      yield buffer.subarray(0, bytesRead);
    }
  }
}
