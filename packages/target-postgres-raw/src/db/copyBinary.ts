import { CopyChunks } from './CopyChunks.js';

/** The PostgreSQL types the target writes, as binary COPY sends them. */
type BinaryType = 'text' | 'jsonb' | 'timestamptz' | 'int4' | 'bytea';

/** bytea comes as hex text (no Buffer per value: many small Buffers cost the garbage collector); jsonb as text or its UTF-8 bytes. */
type BinaryValue<T extends BinaryType> = T extends 'jsonb' ? string | Buffer : T extends 'text' | 'bytea' ? string : T extends 'timestamptz' ? bigint : number;

/** One column of a COPY: its name, its type, and how a row gives its value (null: SQL NULL). */
export type BinaryColumn<R> = {
  [T in BinaryType]: { readonly name: string; readonly type: T; readonly get: (row: R) => BinaryValue<T> | null };
}[BinaryType];

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags (no OIDs), header extension length. */
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
const JSONB_VERSION = 1;

/**
 * Rows in PostgreSQL's binary COPY format (`COPY … FROM STDIN (FORMAT binary)`), as chunks of
 * about `chunks.bytes`, in buffers `chunks` gives: pg-copy-streams is slow with one write per
 * row. The server then neither splits nor unescapes the text (a quarter of its COPY time for
 * these rows), and Node writes each string straight into the chunk instead of building COPY text first.
 * Text columns cannot hold NUL: it becomes U+FFFD (as in COPY text). A timestamptz is
 * microseconds since 2000-01-01 UTC (Instant.micros); jsonb is its version byte and the JSON text;
 * bytea is given as hex text.
 */
export function* copyBinary<R>(rows: Iterable<R>, columns: readonly BinaryColumn<R>[], chunks = new CopyChunks()): Generator<Buffer> {
  const chunkBytes = chunks.bytes;
  let buf = chunkBytes < HEADER.length ? Buffer.allocUnsafe(HEADER.length) : chunks.take();
  let pos = HEADER.copy(buf, 0);
  const values: unknown[] = new Array(columns.length);
  for (const row of rows) {
    // An upper bound of the row's size: a UTF-16 code unit is at most 3 bytes of UTF-8.
    let bound = 2;
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i] as BinaryColumn<R>;
      const got = column.get(row);
      const value = column.type === 'text' && got !== null && (got as string).includes('\u0000') ? (got as string).replaceAll('\u0000', '\ufffd') : got;
      values[i] = value;
      bound += 4 + (value === null ? 0 : sizeBound(column.type, value));
    }
    if (pos + bound > buf.length) {
      if (pos > 0) yield buf.subarray(0, pos);
      // A row larger than a chunk gets a buffer of its exact size, not three times its characters.
      buf = bound > chunkBytes ? Buffer.allocUnsafe(exactSize(columns, values)) : chunks.take();
      pos = 0;
    }
    pos = buf.writeInt16BE(columns.length, pos);
    for (let i = 0; i < columns.length; i++) pos = writeField(buf, pos, (columns[i] as BinaryColumn<R>).type, values[i]);
  }
  if (pos + 2 > buf.length) {
    yield buf.subarray(0, pos);
    buf = Buffer.allocUnsafe(2);
    pos = 0;
  }
  pos = buf.writeInt16BE(-1, pos);
  yield buf.subarray(0, pos);
}

function exactSize<R>(columns: readonly BinaryColumn<R>[], values: readonly unknown[]): number {
  let size = 2;
  for (let i = 0; i < columns.length; i++) {
    const type = (columns[i] as BinaryColumn<R>).type;
    const value = values[i];
    if (value === null) size += 4;
    else if (type === 'text' || type === 'jsonb')
      size += 4 + (type === 'jsonb' ? 1 : 0) + (Buffer.isBuffer(value) ? value.length : Buffer.byteLength(value as string));
    else size += 4 + sizeBound(type, value);
  }
  return size;
}

function sizeBound(type: BinaryType, value: unknown): number {
  switch (type) {
    case 'text':
      return (value as string).length * 3;
    case 'jsonb':
      return 1 + (Buffer.isBuffer(value) ? value.length : (value as string).length * 3);
    case 'timestamptz':
      return 8;
    case 'int4':
      return 4;
    case 'bytea':
      return (value as string).length >> 1;
  }
}

function writeField(buf: Buffer, pos: number, type: BinaryType, value: unknown): number {
  if (value === null) return buf.writeInt32BE(-1, pos);
  switch (type) {
    case 'text': {
      const n = buf.write(value as string, pos + 4, 'utf8');
      buf.writeInt32BE(n, pos);
      return pos + 4 + n;
    }
    case 'jsonb': {
      buf[pos + 4] = JSONB_VERSION;
      const n = Buffer.isBuffer(value) ? value.copy(buf, pos + 5) : buf.write(value as string, pos + 5, 'utf8');
      buf.writeInt32BE(n + 1, pos);
      return pos + 5 + n;
    }
    case 'timestamptz':
      buf.writeInt32BE(8, pos);
      return buf.writeBigInt64BE(value as bigint, pos + 4);
    case 'int4':
      buf.writeInt32BE(4, pos);
      return buf.writeInt32BE(value as number, pos + 4);
    case 'bytea': {
      const n = buf.write(value as string, pos + 4, 'hex');
      buf.writeInt32BE(n, pos);
      return pos + 4 + n;
    }
  }
}
