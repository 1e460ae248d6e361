import type { Writable } from 'node:stream';
import { OutputClosedError } from './errors.js';

/** Written chunks kept to be filled again; more are only in flight while the stream drains. */
const MAX_SPARE = 8;

export interface LineWriterOptions {
  /** Bytes gathered before one write call; whole lines only, so a kill never splits a line we wrote. */
  readonly chunkBytes?: number;
  /**
   * How line text becomes bytes: `utf8` (default), or `latin1` for text that already is UTF-8
   * bytes, one char per byte (see utf8ByteString), which then goes out unchanged.
   */
  readonly encoding?: 'utf8' | 'latin1';
}

/**
 * The only writer of stdout: one message or state value per line, gathered into large
 * writes, honouring backpressure, and turning EPIPE into OutputClosedError.
 *
 * Lines are encoded straight into the chunk that is written (no string is joined or encoded a
 * second time), and a line may be assembled from text and a byte range of a buffer
 * (`queueParts`), so text received can be passed on without ever becoming a string.
 */
export class LineWriter {
  readonly #out: Writable;
  readonly #chunkBytes: number;
  readonly #encoding: 'utf8' | 'latin1';
  #chunk: Buffer;
  #used = 0;
  /** Chunks the stream is done with, to fill again (see #reuse). */
  readonly #spare: Buffer[] = [];
  /**
   * A stream with a file descriptor (stdout as a pipe, file or terminal; fs.WriteStream) has
   * handed a chunk to the operating system when it calls back, so the chunk can be filled again:
   * no new buffer per 64 KiB written, which spared the garbage collector much of its work. Any
   * other stream (a PassThrough, say) may keep the chunk it was given: each gets a new one.
   */
  readonly #reuse: boolean;
  /** Set when the stream said it is full: resolves once it drains (listened for from that moment on). */
  #drain: Promise<void> | undefined;
  #failure: Error | undefined;

  constructor(out: Writable, options: LineWriterOptions = {}) {
    this.#out = out;
    this.#chunkBytes = options.chunkBytes ?? 64 * 1024;
    this.#encoding = options.encoding ?? 'utf8';
    this.#chunk = Buffer.allocUnsafe(this.#chunkBytes);
    this.#reuse = typeof (out as { fd?: unknown }).fd === 'number';
    out.on('error', (error: NodeJS.ErrnoException) => {
      this.#failure = error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED' ? new OutputClosedError({ cause: error }) : error;
    });
  }

  #byteLength(text: string): number {
    return this.#encoding === 'latin1' ? text.length : Buffer.byteLength(text, 'utf8');
  }

  /** Room for `bytes` more in the current chunk: writes out what is gathered first when they do not fit. */
  #room(bytes: number): void {
    if (this.#failure) throw this.#failure;
    if (this.#used + bytes <= this.#chunk.length) return;
    this.#emit();
    if (bytes > this.#chunk.length) this.#chunk = Buffer.allocUnsafe(bytes);
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  /** Hands the gathered lines to the stream and starts a chunk it does not hold. */
  #emit(): void {
    if (this.#used === 0) return;
    const chunk = this.#chunk;
    const data = chunk.subarray(0, this.#used);
    this.#chunk = this.#spare.pop() ?? Buffer.allocUnsafe(this.#chunkBytes);
    this.#used = 0;
    const done = this.#reuse && chunk.length === this.#chunkBytes ? () => this.#spare.length < MAX_SPARE && this.#spare.push(chunk) : undefined;
    if (!this.#out.write(data, done)) this.#drain ??= this.#drained();
  }

  /** Queues a line (without its newline); true when the caller must `await flush()` before queueing more. */
  queueLine(line: string): boolean {
    this.#room(this.#byteLength(line) + 1);
    this.#used += this.#chunk.write(line, this.#used, this.#encoding);
    this.#chunk[this.#used++] = 0x0a;
    return this.#drain !== undefined;
  }

  /** Queues the line made of the bytes `head`, bytes[from, to) and `tail` (without building it); as queueLine. */
  queueParts(head: Buffer, bytes: Buffer, from: number, to: number, tail: Buffer): boolean {
    this.#room(head.length + (to - from) + tail.length + 1);
    const chunk = this.#chunk;
    let used = this.#used;
    used += head.copy(chunk, used);
    used += bytes.copy(chunk, used, from, to);
    used += tail.copy(chunk, used);
    chunk[used++] = 0x0a;
    this.#used = used;
    return this.#drain !== undefined;
  }

  /** Queues a line (without its newline), waiting when the stream asks us to. */
  async writeLine(line: string): Promise<void> {
    if (this.queueLine(line)) await this.flush();
  }

  writeJson(value: unknown): Promise<void> {
    return this.writeLine(JSON.stringify(value));
  }

  /** Writes everything queued, and waits until the stream can take more. */
  async flush(): Promise<void> {
    this.#throwIfFailed();
    this.#emit();
    if (this.#drain) await this.#drain;
    this.#throwIfFailed(); // the stream may have failed while we waited
  }

  /** Resolves on 'drain', or when the stream fails or closes (then #failure says why); then no drain is awaited. */
  #drained(): Promise<void> {
    const out = this.#out;
    return new Promise((resolve) => {
      const done = () => {
        out.off('drain', done).off('error', done).off('close', done);
        this.#drain = undefined;
        resolve();
      };
      out.on('drain', done).on('error', done).on('close', done);
    });
  }
}
