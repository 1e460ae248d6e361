import { describe, expect, it } from 'vitest';
import type { Row } from '../rows/Row.js';
import { StreamBuffer } from './StreamBuffer.js';

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
  lastUpdated: lastUpdatedMs === undefined ? null : { ms: lastUpdatedMs, text: new Date(lastUpdatedMs).toISOString(), micros: BigInt(lastUpdatedMs) * 1000n },
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
    expect(taken.groups).toEqual([{ runId: null, windowStart: null, received: 6, deduplicated: 3 }]);
    expect(buffer.rows).toBe(0);
    expect(buffer.bytes).toBe(0);
  });

  it('counts payload bytes of what it holds', () => {
    const buffer = new StreamBuffer();
    buffer.add(row('1', 'aa'));
    buffer.add(row('1', 'aaaa'));
    expect(buffer.bytes).toBe('{"v":"aaaa"}'.length);
  });
});
