import { describe, expect, it } from 'vitest';
import { daysOf, formatDone, formatSpan } from './formatSpan.js';

const MIN = 60_000;
const DAY = 86_400_000;

describe('formatSpan', () => {
  it.each([
    [30 * DAY, '30 days'],
    [DAY, '1 day'],
    [3.99 * DAY, '3.99 days'],
    [5.5 * 60 * MIN, '5.5 h'],
    [250_000, '4.17 min'],
    [1000, '1 s'],
    [0, '0 s'],
  ])('reads %d ms as %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});

describe('formatDone', () => {
  it('gives a range of a few minutes in minutes, not as 0/0 days', () => {
    expect(formatDone(250_000, 250_000)).toBe('4.17/4.17 min');
    expect(formatDone(0, 250_000)).toBe('0/4.17 min');
  });

  it('gives a range of days in days', () => {
    expect(formatDone(12 * DAY, 30 * DAY)).toBe('12/30 days');
    expect(formatDone(0.5 * DAY, DAY)).toBe('0.5/1 day');
  });
});

describe('daysOf', () => {
  it('keeps two decimals', () => {
    expect([daysOf(3 * DAY), daysOf(250_000), daysOf(3.994 * DAY)]).toEqual([3, 0, 3.99]);
  });
});
