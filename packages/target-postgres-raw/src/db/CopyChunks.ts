import { finished, type Writable } from 'node:stream';

/**
 * The smallest chunk given back for reuse once written. pg-copy-streams 7 calls a chunk's write
 * back as soon as it has handed it to the socket when `socket.write` returned true, else on the
 * socket's 'drain'. A socket's `write` returns true for a chunk at least its highWaterMark long
 * (16 kB in Node 20, 64 kB from Node 22) only when the kernel took all of it at once (Writable
 * compares its queue with the highWaterMark after the write), and 'drain' comes only once
 * everything written to it is in the kernel: a chunk this long is no longer referenced when called
 * back. A shorter one may still wait in the socket's queue then; it is left to the garbage collector.
 */
const LARGEST_SOCKET_QUEUE_BYTES = 128 * 1024;
/** Written chunks kept for reuse: a COPY needs one being filled and one being sent. */
const MAX_SPARE = 4;

/**
 * The chunk buffers of one connection's binary COPYs (copyBinary), reused once the socket has
 * written them: a fresh 512 kB buffer per chunk is fresh memory each time (above malloc's mmap
 * threshold), which cost a first load of 100k invoices ~9,000 of its ~51,000 minor page faults,
 * and every payload was written into memory no cache held.
 */
export class CopyChunks {
  /** The size of a chunk. */
  readonly bytes: number;
  readonly #spare: ArrayBuffer[] = [];

  constructor(bytes = 512 * 1024) {
    this.bytes = bytes;
  }

  /** A buffer of `bytes` to fill: one written already when there is one. */
  take(): Buffer {
    const spare = this.#spare.pop();
    return spare === undefined ? Buffer.allocUnsafeSlow(this.bytes) : Buffer.from(spare);
  }

  /**
   * Writes `chunks` (views of buffers from `take`, or of others) into `copy`, a COPY FROM STDIN
   * stream, with its backpressure, and ends it; settles when the COPY is done or has failed, as
   * stream.pipeline would. Each chunk goes back for reuse when its write is called back.
   * A failure of `chunks` destroys `copy` (pg-copy-streams then sends CopyFail, which ends the
   * COPY) and is thrown once it has closed; a failure of `copy` (an error of the server) is thrown
   * as it is.
   */
  async send(copy: Writable, chunks: Iterable<Buffer>): Promise<void> {
    let ended: { readonly error: Error | undefined } | undefined;
    let wake: (() => void) | undefined;
    const resume = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    // Left attached: an error the stream might still emit after it failed is the same failure.
    finished(copy, (error) => {
      ended ??= { error: error ?? undefined };
      resume();
    });
    copy.on('drain', resume);
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    try {
      for (const chunk of chunks) {
        const written = copy.write(chunk, (error) => {
          if (!error) this.#written(chunk);
        });
        // A write the socket took at once is called back on the next tick (Node 20.20 then returns
        // true): without this turn the whole COPY is made before any chunk comes back, each in a
        // fresh buffer (half of a first load's chunks were, and their memory was faulted in anew).
        await (written ? new Promise<void>((resolve) => process.nextTick(resolve)) : next());
        if (ended) break;
      }
      if (!ended) copy.end();
      while (!ended) await next();
    } catch (error) {
      if (!ended) {
        copy.destroy(error as Error);
        await new Promise<void>((resolve) => finished(copy, () => resolve()));
      }
      throw error;
    }
    if (ended.error) throw ended.error;
  }

  #written(chunk: Buffer): void {
    if (chunk.length < LARGEST_SOCKET_QUEUE_BYTES || chunk.byteOffset !== 0 || chunk.buffer.byteLength !== this.bytes) return;
    if (this.#spare.length < MAX_SPARE) this.#spare.push(chunk.buffer as ArrayBuffer);
  }
}
