import type { Row } from '../rows/Row.js';
import type { BufferLevel } from './flushPolicy.js';
import { StreamBuffer, type ReceivedCounts } from './StreamBuffer.js';

/** One stream's records for a commit, with its load-statistics groups. */
export interface StreamBatch {
  readonly stream: string;
  readonly table: string;
  readonly rows: readonly Row[];
  readonly groups: readonly ReceivedCounts[];
}

/** The buffers of all streams: what the next commit will write, and how full they are. */
export class Buffers {
  readonly #streams = new Map<string, { readonly table: string; readonly buffer: StreamBuffer }>();
  #bytes = 0;

  /** A stream's records go to `table`. */
  register(stream: string, table: string): void {
    if (!this.#streams.has(stream)) this.#streams.set(stream, { table, buffer: new StreamBuffer() });
  }

  /** Buffers a record of a registered stream; returns the level the flush policy judges. */
  add(stream: string, row: Row): BufferLevel {
    const entry = this.#streams.get(stream);
    if (!entry) throw new Error(`stream ${JSON.stringify(stream)} was not registered`);
    const before = entry.buffer.bytes;
    entry.buffer.add(row);
    this.#bytes += entry.buffer.bytes - before;
    return { rows: entry.buffer.rows, bytes: this.#bytes };
  }

  /** Takes every stream's records (streams with none are left out), leaving the buffers empty. */
  take(): StreamBatch[] {
    this.#bytes = 0;
    const batches: StreamBatch[] = [];
    for (const [stream, { table, buffer }] of this.#streams) {
      if (buffer.rows > 0) batches.push({ stream, table, ...buffer.take() });
    }
    return batches;
  }
}
