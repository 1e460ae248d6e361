import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bufferFull, FIRST_COMMIT_ROWS, FlushPolicy, rowLimit } from './flushPolicy.js';

describe('bufferFull', () => {
  const limits = { batchSizeRows: 3, batchSizeBytes: 100, maxBatchAgeMs: 1000 };
  it.each([
    [{ rows: 2, bytes: 99 }, false],
    [{ rows: 3, bytes: 0 }, true],
    [{ rows: 1, bytes: 100 }, true],
  ])('%o → %s', (level, full) => expect(bufferFull(level, limits.batchSizeRows, limits.batchSizeBytes)).toBe(full));
});

describe('rowLimit', () => {
  /** The limits of a run's first `n` commits. */
  const limits = (batchSizeRows: number, n: number) => {
    const out = [rowLimit(batchSizeRows)];
    while (out.length < n) out.push(rowLimit(batchSizeRows, out.at(-1)));
    return out;
  };

  it('starts at FIRST_COMMIT_ROWS and doubles per commit up to batch_size_rows', () => {
    expect(FIRST_COMMIT_ROWS).toBe(1000);
    expect(limits(10_000, 7)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('never exceeds a smaller batch_size_rows', () => {
    expect(limits(3, 3)).toEqual([3, 3, 3]);
    expect(limits(1500, 3)).toEqual([1000, 1500, 1500]);
  });
});

describe('FlushPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const limits = { batchSizeRows: 3, batchSizeBytes: 100, maxBatchAgeMs: 1000 };

  it('says when a buffer is full, and calls onAge when the first record of a batch is max age old', () => {
    const onAge = vi.fn();
    const policy = new FlushPolicy(limits, onAge);
    expect(policy.recordBuffered({ rows: 1, bytes: 10 })).toBe(false);
    vi.advanceTimersByTime(600);
    expect(policy.recordBuffered({ rows: 2, bytes: 20 })).toBe(false); // a later record does not restart the clock
    vi.advanceTimersByTime(399);
    expect(onAge).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onAge).toHaveBeenCalledTimes(1);
    expect(policy.recordBuffered({ rows: 3, bytes: 30 })).toBe(true);
  });

  it('raises the row limit with each commit taken', () => {
    const policy = new FlushPolicy({ batchSizeRows: 5000, batchSizeBytes: 1e9, maxBatchAgeMs: 1000 }, vi.fn());
    expect(policy.recordBuffered({ rows: 1000, bytes: 0 })).toBe(true);
    policy.flushed();
    expect(policy.recordBuffered({ rows: 1000, bytes: 0 })).toBe(false);
    expect(policy.recordBuffered({ rows: 2000, bytes: 0 })).toBe(true);
    policy.flushed();
    policy.flushed();
    expect(policy.recordBuffered({ rows: 4999, bytes: 0 })).toBe(false);
    expect(policy.recordBuffered({ rows: 5000, bytes: 0 })).toBe(true);
  });

  it('stops the age clock at a flush; the next record starts it again', () => {
    const onAge = vi.fn();
    const policy = new FlushPolicy(limits, onAge);
    policy.recordBuffered({ rows: 1, bytes: 1 });
    vi.advanceTimersByTime(900);
    policy.flushed();
    vi.advanceTimersByTime(5000);
    expect(onAge).not.toHaveBeenCalled();
    policy.recordBuffered({ rows: 1, bytes: 1 });
    vi.advanceTimersByTime(1000);
    expect(onAge).toHaveBeenCalledTimes(1);
  });
});
