import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from './reconnectDelay.js';

describe('reconnectDelayMs', () => {
  it('doubles from 0.5 s to at most 10 s', () => {
    const middle = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((a) => reconnectDelayMs(a, 1e9, middle))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('jitters by ±20% and never waits past the bound', () => {
    expect(reconnectDelayMs(1, 1e9, () => 0)).toBe(800);
    expect(reconnectDelayMs(1, 1e9, () => 1)).toBe(1200);
    expect(reconnectDelayMs(5, 1234, () => 0.5)).toBe(1234);
    expect(reconnectDelayMs(0, -5, () => 0.5)).toBe(0);
  });
});
