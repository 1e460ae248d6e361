import type { RealmSighting } from '../company/realmRule.js';
import type { Row, SkippedRecord } from '../rows/Row.js';
import type { BufferLevel } from './flushPolicy.js';
import { StreamBuffer, type ReceivedCounts } from './StreamBuffer.js';

/** One stream's records for a commit, with its load-statistics groups. */
export interface StreamBatch {
  readonly stream: string;
  readonly table: string;
  /** Entity records, one per id. */
  readonly rows: readonly Row[];
  /** Deletion records, one per id, applied after `rows`. */
  readonly deletions: readonly Row[];
  readonly groups: readonly ReceivedCounts[];
}

/** Everything one commit writes. */
export interface Batch {
  readonly streams: readonly StreamBatch[];
  /** Each `_sdc_realm_id` of the records received for it (also of records replaced by a newer one), where first seen. */
  readonly realms: ReadonlyMap<string, RealmSighting>;
}

/** The buffers of all streams: what the next commit will write, and how full they are. */
export class Buffers {
  readonly #streams = new Map<string, { readonly table: string; readonly buffer: StreamBuffer }>();
  #realms = new Map<string, RealmSighting>();
  #bytes = 0;

  /** A stream's records go to `table`. */
  register(stream: string, table: string): void {
    if (!this.#streams.has(stream)) this.#streams.set(stream, { table, buffer: new StreamBuffer() });
  }

  /** True when a record of `stream` must wait until the buffers are committed (StreamBuffer.waitsForCommit). */
  waitsForCommit(stream: string, row: Row | SkippedRecord): boolean {
    return this.#streams.get(stream)?.buffer.waitsForCommit(row) ?? false;
  }

  /** Buffers a record of a registered stream (or counts it, skipped as unchanged); returns the level the flush policy judges. */
  add(stream: string, row: Row | SkippedRecord): BufferLevel {
    const entry = this.#streams.get(stream);
    if (!entry) throw new Error(`stream ${JSON.stringify(stream)} was not registered`);
    if (row.realmId !== null && !this.#realms.has(row.realmId)) this.#realms.set(row.realmId, { realm: row.realmId, stream, id: row.id, line: row.line });
    const before = entry.buffer.bytes;
    entry.buffer.add(row);
    this.#bytes += entry.buffer.bytes - before;
    return { rows: entry.buffer.rows, bytes: this.#bytes };
  }

  /** Takes every stream's records (streams with none are left out), leaving the buffers empty. */
  take(): Batch {
    const streams: StreamBatch[] = [];
    for (const [stream, { table, buffer }] of this.#streams) {
      if (buffer.rows > 0) streams.push({ stream, table, ...buffer.take() });
    }
    const realms = this.#realms;
    this.#realms = new Map();
    this.#bytes = 0;
    return { streams, realms };
  }
}
