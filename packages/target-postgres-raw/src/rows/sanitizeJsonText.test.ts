import { describe, expect, it } from 'vitest';
import { sanitizeJsonText } from './sanitizeJsonText.js';

describe('sanitizeJsonText', () => {
  it.each([
    ['NUL escape', String.raw`{"a":"x\u0000y"}`, String.raw`{"a":"x\ufffdy"}`, 1],
    ['escaped backslash then u0000 is text, not an escape', String.raw`{"a":"\\u0000"}`, String.raw`{"a":"\\u0000"}`, 0],
    ['three backslashes: a literal backslash, then a real escape', String.raw`{"a":"\\\u0000"}`, String.raw`{"a":"\\\ufffd"}`, 1],
    ['lone high surrogate', String.raw`{"a":"\ud800x"}`, String.raw`{"a":"\ufffdx"}`, 1],
    ['lone low surrogate', String.raw`{"a":"\uDC00"}`, String.raw`{"a":"\ufffd"}`, 1],
    ['valid pair kept', String.raw`{"a":"\ud83d\ude00"}`, String.raw`{"a":"\ud83d\ude00"}`, 0],
    ['high, then a valid pair', String.raw`{"a":"\ud800\ud83d\ude00"}`, String.raw`{"a":"\ufffd\ud83d\ude00"}`, 1],
    ['NUL in a key', String.raw`{"k\u0000":1}`, String.raw`{"k\ufffd":1}`, 1],
    ['other escapes and digits untouched', String.raw`{"a":"\u0041\n","n":1234567.10}`, String.raw`{"a":"\u0041\n","n":1234567.10}`, 0],
  ])('%s', (_name, input, output, replaced) => {
    const result = sanitizeJsonText(input);
    expect(result).toEqual({ text: output, replaced });
    expect(() => JSON.parse(result.text)).not.toThrow();
  });
});
