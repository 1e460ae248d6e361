import type { Writable } from 'node:stream';
import { OutputClosedError } from './errors.js';

export interface LineWriterOptions {
  /** Bytes gathered before one write call; whole lines only, so a kill never splits a line we wrote. */
  readonly chunkBytes?: number;
}

/**
 * The only writer of stdout: one message or state value per line, gathered into large
 * writes, honouring backpressure, and turning EPIPE into OutputClosedError.
 */
export class LineWriter {
  readonly #out: Writable;
  readonly #chunkBytes: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #failure: Error | undefined;

  constructor(out: Writable, options: LineWriterOptions = {}) {
    this.#out = out;
    this.#chunkBytes = options.chunkBytes ?? 64 * 1024;
    out.on('error', (error: NodeJS.ErrnoException) => {
      this.#failure = error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED' ? new OutputClosedError({ cause: error }) : error;
    });
  }

  /** Queues a line (without its newline); writes when enough has gathered. */
  async writeLine(line: string): Promise<void> {
    this.#pending.push(line, '\n');
    this.#pendingBytes += line.length + 1;
    if (this.#pendingBytes >= this.#chunkBytes) await this.flush();
  }

  writeJson(value: unknown): Promise<void> {
    return this.writeLine(JSON.stringify(value));
  }

  /** Writes everything queued, and waits until the stream can take more. */
  async flush(): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#pending.length === 0) return;
    const chunk = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    const ok = this.#out.write(chunk);
    if (!ok) await this.#drained();
    if (this.#failure) throw this.#failure;
  }

  /** Resolves on 'drain', or when the stream fails or closes (then #failure says why). */
  #drained(): Promise<void> {
    const out = this.#out;
    return new Promise((resolve) => {
      const done = () => {
        out.off('drain', done).off('error', done).off('close', done);
        resolve();
      };
      out.on('drain', done).on('error', done).on('close', done);
    });
  }
}
