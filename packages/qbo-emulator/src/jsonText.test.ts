import { describe, expect, it } from 'vitest';
import { money, obj, quantity, ref, str } from './jsonText.js';

describe('jsonText', () => {
  it('writes amounts with exactly the digits chosen', () => {
    expect(money(27500, 'plain')).toBe('275');
    expect(money(27500, 'pointZero')).toBe('275.0');
    expect(money(123456710, 'pointZero')).toBe('1234567.10');
    expect(money(123456710, 'plain')).toBe('1234567.1');
    expect(money(2328, 'plain')).toBe('23.28');
    expect(money(5, 'plain')).toBe('0.05');
    expect(money(-1050, 'pointZero')).toBe('-10.50');
    expect(quantity(350)).toBe('3.5');
    expect(quantity(25)).toBe('0.25');
  });

  it('omits undefined members instead of writing null, and escapes text', () => {
    const text = obj([
      ['a', '1'],
      ['b', undefined],
      ['c', str('Zoë "Q" 🌮')],
      ['d', ref(3)],
    ]);
    expect(text).toBe('{"a":1,"c":"Zoë \\"Q\\" 🌮","d":{"value":"3"}}');
    expect(JSON.parse(text)).toEqual({ a: 1, c: 'Zoë "Q" 🌮', d: { value: '3' } });
  });
});
