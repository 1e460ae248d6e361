import { describe, expect, it } from 'vitest';
import type { Row, SkippedRecord } from '../rows/Row.js';
import { StreamBuffer } from './StreamBuffer.js';

const instant = (ms: number) => ({ ms, text: new Date(ms).toISOString(), micros: BigInt(ms) * 1000n });
const row = (id: string, v: string, lastUpdatedMs?: number, runId: string | null = null): Row => ({
  id,
  payload: Buffer.from(`{"v":"${v}"}`),
  extractWindowStart: null,
  extractWindowEnd: null,
  pageNumber: null,
  pageSize: null,
  requestPayload: null,
  realmId: null,
  extractedAt: null,
  lastUpdated: lastUpdatedMs === undefined ? null : instant(lastUpdatedMs),
  deletedAt: null,
  runId,
  line: 1,
});

describe('StreamBuffer', () => {
  it('keeps one row per id: the newer wins, on equal or unknown time the later one', () => {
    const buffer = new StreamBuffer();
    buffer.add(row('1', 'new', 200));
    buffer.add(row('1', 'old', 100));
    buffer.add(row('2', 'first'));
    buffer.add(row('2', 'second'));
    buffer.add(row('3', 'a', 5));
    buffer.add(row('3', 'b', 5));
    expect(buffer.rows).toBe(3);
    const taken = buffer.take();
    expect(taken.rows.map((r) => r.payload.toString())).toEqual(['{"v":"new"}', '{"v":"second"}', '{"v":"b"}']);
    expect(taken.groups).toEqual([{ runId: null, windowStart: null, received: 6, deduplicated: 3, deleted: 0, skipped: 0 }]);
    expect(buffer.rows).toBe(0);
    expect(buffer.bytes).toBe(0);
  });

  it('holds deletion records apart, the first per id, counted as deleted only', () => {
    const buffer = new StreamBuffer();
    const deletion = (id: string, at: string): Row => ({ ...row(id, 'stub', Date.parse(at)), deletedAt: instant(Date.parse(at)) });
    buffer.add(row('1', 'full', 100));
    buffer.add(deletion('1', '2024-01-02T00:00:00Z'));
    buffer.add(deletion('1', '2024-01-03T00:00:00Z'));
    buffer.add(deletion('2', '2024-01-02T00:00:00Z'));
    expect(buffer.rows).toBe(3);
    const taken = buffer.take();
    expect(taken.rows.map((r) => r.payload.toString())).toEqual(['{"v":"full"}']);
    expect(taken.deletions.map((r) => [r.id, r.deletedAt?.text])).toEqual([
      ['1', '2024-01-02T00:00:00.000Z'],
      ['2', '2024-01-02T00:00:00.000Z'],
    ]);
    expect(taken.groups).toEqual([{ runId: null, windowStart: null, received: 1, deduplicated: 0, deleted: 3, skipped: 0 }]);
    expect(buffer.rows).toBe(0);
  });

  it('a record without a time or newer than a held deletion of its id waits for its commit; an older one, a deletion or another id does not', () => {
    const buffer = new StreamBuffer();
    const deletion = (id: string): Row => ({ ...row(id, 'stub'), deletedAt: instant(Date.parse('2024-01-02T00:00:00Z')) });
    buffer.add(row('1', 'before'));
    expect(buffer.waitsForCommit(row('1', 'again'))).toBe(false);
    buffer.add(deletion('1'));
    expect(buffer.waitsForCommit(row('1', 'after'))).toBe(true);
    expect(buffer.waitsForCommit({ id: '1', lastUpdated: null, extractWindowStart: null, realmId: null, runId: null, line: 1, skipped: true })).toBe(true);
    expect(buffer.waitsForCommit(row('1', 'older', Date.parse('2024-01-02T00:00:00Z')))).toBe(false);
    expect(buffer.waitsForCommit(row('1', 'newer', Date.parse('2024-01-02T00:00:01Z')))).toBe(true);
    expect(buffer.waitsForCommit(deletion('1'))).toBe(false);
    expect(buffer.waitsForCommit(row('2', 'other'))).toBe(false);
    buffer.take();
    expect(buffer.waitsForCommit(row('1', 'after'))).toBe(false);
  });

  it('holds a record skipped as unchanged like any other, writes nothing for it, and counts it skipped only while it stays', () => {
    const buffer = new StreamBuffer();
    const skipped = (id: string, lastUpdatedMs: number, runId: string | null = null): SkippedRecord => {
      const { lastUpdated, extractWindowStart, realmId, line } = row(id, '', lastUpdatedMs);
      return { skipped: true, id, lastUpdated, extractWindowStart, realmId, runId, line };
    };
    buffer.add(skipped('1', 200)); // stays: the later record is older
    buffer.add(row('1', 'older', 100));
    buffer.add(skipped('2', 100, 'r1')); // replaced by a newer record of another run
    buffer.add(row('2', 'newer', 300, 'r2'));
    buffer.add(row('3', 'old', 100)); // replaced by the newer skipped one
    buffer.add(skipped('3', 200));
    expect(buffer.rows).toBe(3);
    expect(buffer.bytes).toBe('{"v":"newer"}'.length);
    const taken = buffer.take();
    expect(taken.rows.map((r) => r.id)).toEqual(['2']);
    expect(taken.groups).toEqual([
      { runId: null, windowStart: null, received: 4, deduplicated: 2, deleted: 0, skipped: 2 },
      { runId: 'r1', windowStart: null, received: 1, deduplicated: 1, deleted: 0, skipped: 0 },
      { runId: 'r2', windowStart: null, received: 1, deduplicated: 0, deleted: 0, skipped: 0 },
    ]);
  });

  it('counts payload bytes of what it holds', () => {
    const buffer = new StreamBuffer();
    buffer.add(row('1', 'aa'));
    buffer.add(row('1', 'aaaa'));
    expect(buffer.bytes).toBe('{"v":"aaaa"}'.length);
  });
});
