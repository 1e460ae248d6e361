import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bufferFull, FlushPolicy } from './flushPolicy.js';

describe('bufferFull', () => {
  const limits = { batchSizeRows: 3, batchSizeBytes: 100, maxBatchAgeMs: 1000 };
  it.each([
    [{ rows: 2, bytes: 99 }, false],
    [{ rows: 3, bytes: 0 }, true],
    [{ rows: 1, bytes: 100 }, true],
  ])('%o → %s', (level, full) => expect(bufferFull(level, limits)).toBe(full));
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
