import { readLineBytes, type InputLineBytes } from 'singer-kit';
import { LARGEST_COPIED_PAYLOAD_BYTES } from '../buffer/PayloadArena.js';

/** Input lines, and where the consumer says which it is done with (in input order): their chunks may then be read into again. */
export interface InputLines {
  readonly lines: AsyncIterator<InputLineBytes[]>;
  doneThrough(line: number): void;
}

/** Where a ChunkReader puts what it reads: PooledLines' chunks. */
export interface ReadTarget {
  /** Where the next read goes: the rest of the chunk being filled, or a free chunk. */
  space(): Buffer;
  /** The last space's first bytes were read (`bytes`, a view of them); false: read no more until resumed. */
  read(bytes: Buffer): boolean;
  /** Nothing more will be read: the input ended, or reading it failed with `error`. */
  ended(error?: Error): void;
}

/** Reads its input into a ReadTarget's spaces, once resumed, until `read` says stop or the input ends. */
export interface ChunkReader {
  resume(): void;
  /** Reads no more and lets go of the input. */
  close(): void;
}

/** A chunk lines may be views of, and the number of the last line read before a later chunk's bytes came (undefined until then). */
interface ReadChunk {
  readonly buffer: ArrayBufferLike;
  lastLine: number | undefined;
}

/**
 * The lines of an input (readLineBytes), read into chunk buffers that are filled again once no
 * line refers to them. Node reads a stream, or an fs.ReadStream, into fresh memory for each read,
 * whose pages the kernel maps anew at each first touch; here the same few buffers, warm, take the
 * whole input (re-loads of 100k invoices from a file, unchanged or all changed: ~4,000 fewer of
 * ~30,000-47,000 minor faults, 0.15-0.2 s less CPU; a first load showed no difference within its noise).
 * From stdin, against Node's process.stdin (22 rounds each, `cat FILE |`): an unchanged re-load
 * 0.19 s less CPU of ~2.8 s (19 rounds of 22 lower), ~3,700 fewer minor faults, 9 MB less resident;
 * a first load 0.1-0.13 s less of ~4.4 s (15 of 22). As `< FILE` (10 rounds): 0.3 s and 0.47 s less.
 *
 * A ChunkReader reads into the space it is given: the rest of the chunk being filled while at least
 * a quarter of it is left (a pipe's reads come a few kB at a time), else a free chunk. Reads into one
 * chunk that wait for the consumer are handed on together, and reading pauses while a chunk's worth
 * waits, so how far the input is read ahead is bounded by the consumer (the Lookahead).
 *
 * A line inside a chunk is a view of it (a longer one is a copy, joined from pieces of several),
 * and a chunk may be filled again only once every line it holds is done with. The consumer says
 * so, in input order (`doneThrough`). A chunk's lines all come before the first line read after a
 * later chunk's bytes were handed on: a view of that chunk, or the copy joining a trailing piece to them.
 * Chunks are LARGEST_COPIED_PAYLOAD_BYTES (256 kB) long. Not 64 kB: a re-load of unchanged records
 * from a file waits on reading (100k invoices: 1.65-1.96 s against 1.83-2.30 s). No larger: a payload cut
 * from a line that is a view of a chunk is then copied into the PayloadArena when it is buffered
 * (PayloadArena.keep), so once its line is routed nothing refers to the chunk.
 */
export class PooledLines implements InputLines, ReadTarget {
  /** The input's lines, the lines each handed-on piece completes at a time (readLineBytes). */
  readonly lines: AsyncIterator<InputLineBytes[]>;
  readonly #chunkBytes: number;
  readonly #reader: ChunkReader;
  /** Chunks bytes were handed on from, oldest first, that lines may still be views of. */
  readonly #read: ReadChunk[] = [];
  /** Chunks no line refers to, to read into. */
  readonly #spare: ArrayBufferLike[] = [];
  /** The chunk reads go into, and how many of its bytes are read. */
  #filling: ArrayBufferLike | undefined;
  #filled = 0;
  /** Bytes read and not yet handed on, in order (adjacent reads into one chunk as one piece). */
  readonly #waiting: Buffer[] = [];
  #waitingBytes = 0;
  #paused = true;
  #end: { readonly error?: Error } | undefined;
  #wake: (() => void) | undefined;
  /** The number of the last line read. */
  #lastLine = 0;

  /** Lines of what the reader `open` returns reads (it is resumed once the first line is asked for). */
  constructor(open: (target: ReadTarget) => ChunkReader, chunkBytes = LARGEST_COPIED_PAYLOAD_BYTES) {
    this.#chunkBytes = chunkBytes;
    this.#reader = open(this);
    this.lines = this.#readLines();
  }

  /** The consumer is done with every line numbered up to `line`: chunks only such lines refer to are read into again. */
  doneThrough(line: number): void {
    for (let oldest = this.#read[0]; oldest?.lastLine !== undefined && oldest.lastLine < line; oldest = this.#read[0]) {
      this.#read.shift();
      this.#spare.push(oldest.buffer);
    }
  }

  /** Reads no more (the reader lets go of the input). */
  close(): void {
    this.#reader.close();
  }

  space(): Buffer {
    // A chunk being filled is never free: it is free only once a later chunk's bytes were handed on.
    if (this.#filling === undefined || this.#filling.byteLength - this.#filled < this.#chunkBytes >> 2) {
      this.#filling = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#chunkBytes).buffer;
      this.#filled = 0;
    }
    return Buffer.from(this.#filling, this.#filled);
  }

  read(bytes: Buffer): boolean {
    this.#filled = bytes.byteOffset + bytes.length;
    const last = this.#waiting[this.#waiting.length - 1];
    if (last !== undefined && last.buffer === bytes.buffer && last.byteOffset + last.length === bytes.byteOffset) {
      this.#waiting[this.#waiting.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + bytes.length);
    } else {
      this.#waiting.push(bytes);
    }
    this.#waitingBytes += bytes.length;
    this.#paused = this.#waitingBytes >= this.#chunkBytes;
    this.#wake?.();
    return !this.#paused;
  }

  ended(error?: Error): void {
    this.#end = error === undefined ? {} : { error };
    this.#wake?.();
  }

  async *#readLines(): AsyncGenerator<InputLineBytes[]> {
    for await (const lines of readLineBytes(this.#pieces())) {
      this.#lastLine = (lines[lines.length - 1] as InputLineBytes).number;
      yield lines;
    }
  }

  /** The input's bytes, as read (readLineBytes asks for the next piece once it has yielded the lines the last one completed). */
  async *#pieces(): AsyncGenerator<Buffer> {
    for (let piece = await this.#next(); piece !== undefined; piece = await this.#next()) {
      const newest = this.#read[this.#read.length - 1];
      if (newest?.buffer !== piece.buffer) {
        if (newest !== undefined) newest.lastLine = this.#lastLine;
        this.#read.push({ buffer: piece.buffer, lastLine: undefined });
      }
      yield piece;
    }
  }

  /** The oldest piece waiting, once there is one; undefined at the end of the input. */
  async #next(): Promise<Buffer | undefined> {
    for (;;) {
      const piece = this.#waiting.shift();
      if (piece !== undefined) this.#waitingBytes -= piece.length;
      if (this.#paused && this.#end === undefined && this.#waitingBytes < this.#chunkBytes) {
        this.#paused = false;
        this.#reader.resume();
      }
      if (piece !== undefined) return piece;
      // A reader may have read on the spot (it is then no use waiting to be woken).
      if (this.#waiting.length > 0) continue;
      if (this.#end !== undefined) {
        if (this.#end.error !== undefined) throw this.#end.error;
        return undefined;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
