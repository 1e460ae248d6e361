import { describe, expect, it } from 'vitest';
import type { Row } from '../rows/Row.js';
import { StreamBuffer } from './StreamBuffer.js';

const instant = (ms: number) => ({ ms, text: new Date(ms).toISOString(), micros: BigInt(ms) * 1000n });
const row = (id: string, v: string, lastUpdatedMs?: number, runId: string | null = null): Row => ({
  id,
  payload: `{"v":"${v}"}`,
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
    expect(taken.rows.map((r) => r.payload)).toEqual(['{"v":"new"}', '{"v":"second"}', '{"v":"b"}']);
    expect(taken.groups).toEqual([{ runId: null, windowStart: null, received: 6, deduplicated: 3, deleted: 0 }]);
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
    expect(taken.rows.map((r) => r.payload)).toEqual(['{"v":"full"}']);
    expect(taken.deletions.map((r) => [r.id, r.deletedAt?.text])).toEqual([['1', '2024-01-02T00:00:00.000Z'], ['2', '2024-01-02T00:00:00.000Z']]);
    expect(taken.groups).toEqual([{ runId: null, windowStart: null, received: 1, deduplicated: 0, deleted: 3 }]);
    expect(buffer.rows).toBe(0);
  });

  it('counts payload bytes of what it holds', () => {
    const buffer = new StreamBuffer();
    buffer.add(row('1', 'aa'));
    buffer.add(row('1', 'aaaa'));
    expect(buffer.bytes).toBe('{"v":"aaaa"}'.length);
  });
});
