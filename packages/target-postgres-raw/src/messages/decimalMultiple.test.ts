import { describe, expect, it } from 'vitest';
import { isDecimalMultiple } from './decimalMultiple.js';

describe('isDecimalMultiple', () => {
  it.each([
    // value, divisor, multiple? — the first rows are what doubles get wrong (0.07 / 0.01 = 7.000000000000001)
    [0.07, 0.01, true],
    [19.99, 0.01, true],
    [1234567.1, 0.01, true],
    [0.3, 0.1, true],
    [0.3, 1e-38, true],
    [1234567.1, 1e-38, true],
    [-4.35, 0.05, true],
    [0, 0.01, true],
    [1e21, 0.5, true],
    [15, 5, true],
    [2.5e-7, 5e-8, true],
    [19.995, 0.01, false],
    [0.1, 0.3, false],
    [16, 5, false],
    [1.5, 1, false],
    [1e-39, 1e-38, false],
    [Infinity, 0.01, true],
  ])('%s is a multiple of %s: %s', (value, divisor, expected) => {
    expect(isDecimalMultiple(value, divisor)).toBe(expected);
  });
});
