import { describe, expect, it } from 'vitest';
import { plural } from './plural.js';

describe('plural', () => {
  it.each([
    [0, 'record', '0 records'],
    [1, 'commit', '1 commit'],
    [2, 'state', '2 states'],
    [3, 'company', '3 companies'],
    [1, 'company', '1 company'],
    [2, 'day', '2 days'],
  ])('writes %d %s as %s', (n, one, text) => {
    expect(plural(n, one)).toBe(text);
  });

  it('writes the number as shown, the noun after the count', () => {
    expect(plural(1000, 'slot', (n) => n.toLocaleString('en-US'))).toBe('1,000 slots');
    expect(plural(1, 'slot', () => 'one')).toBe('one slot');
  });
});
