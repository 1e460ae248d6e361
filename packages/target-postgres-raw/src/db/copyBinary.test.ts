import { describe, expect, it } from 'vitest';
import { copyBinary, type BinaryColumn } from './copyBinary.js';
import { CopyChunks } from './CopyChunks.js';

interface R {
  readonly id: string;
  readonly doc: string | null;
  readonly at: bigint | null;
  readonly n: number | null;
  readonly hash: string | null;
}
const COLUMNS: readonly BinaryColumn<R>[] = [
  { name: 'id', type: 'text', get: (r) => r.id },
  { name: 'doc', type: 'jsonb', get: (r) => r.doc },
  { name: 'at', type: 'timestamptz', get: (r) => r.at },
  { name: 'n', type: 'int4', get: (r) => r.n },
  { name: 'hash', type: 'bytea', get: (r) => r.hash },
];
const all = (rows: R[]) => Buffer.concat([...copyBinary(rows, COLUMNS)]);
const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

describe('copyBinary (COPY binary format)', () => {
  it('writes the header, each field as length and bytes (-1 for NULL), and the trailer', () => {
    const at = Buffer.alloc(8);
    at.writeBigInt64BE(-1n);
    expect(
      all([
        { id: 'é', doc: '{"a":1.10}', at: -1n, n: 7, hash: '0102' },
        { id: 'x', doc: null, at: null, n: null, hash: null },
      ]),
    ).toEqual(
      Buffer.concat([
        HEADER,
        int16(5),
        int32(2),
        Buffer.from('é'),
        int32(11),
        Buffer.from([1]),
        Buffer.from('{"a":1.10}'),
        int32(8),
        at,
        int32(4),
        int32(7),
        int32(2),
        Buffer.from([1, 2]),
        int16(5),
        int32(1),
        Buffer.from('x'),
        int32(-1),
        int32(-1),
        int32(-1),
        int32(-1),
        int16(-1),
      ]),
    );
  });

  it('turns NUL in text into U+FFFD, and a lone surrogate into U+FFFD as UTF-8 does', () => {
    const out = all([{ id: 'a\u0000b\ud800', doc: null, at: null, n: null, hash: null }]);
    expect(out.subarray(HEADER.length + 2 + 4, HEADER.length + 2 + 4 + 8).toString()).toBe('a\ufffdb\ufffd');
  });

  it('gives the same bytes in chunks of any size, rows larger than a chunk included', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({
      id: `${i}\u0000`.repeat(i),
      doc: `{"t":"${'😀'.repeat(i * 3)}"}`,
      at: BigInt(i),
      n: i,
      hash: String(i % 10).repeat(64),
    }));
    const whole = all(rows);
    for (const size of [1, 64, 300, 4096]) {
      const chunks = [...copyBinary(rows, COLUMNS, new CopyChunks(size))];
      expect(Buffer.concat(chunks).equals(whole)).toBe(true);
      if (size >= 300) expect(chunks.length).toBeLessThan(rows.length);
    }
  });
});
