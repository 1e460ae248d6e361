import { describe, expect, it } from 'vitest';
import { copyField } from './copyText.js';

describe('copyField (COPY text format)', () => {
  it('escapes backslash, newline, CR and tab; null is \\N; the text NULL stays text', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('NULL')).toBe('NULL');
    expect(copyField('{"a":"x\\ny"}')).toBe('{"a":"x\\\\ny"}');
    expect(copyField('a\tb\nc\rd')).toBe('a\\tb\\nc\\rd');
    expect(copyField('{"a":"x\\ny"}\t')).toBe('{"a":"x\\\\ny"}\\t');
    expect(copyField(42)).toBe('42');
  });

  it('turns NUL, which text columns cannot hold, into U+FFFD', () => {
    expect(copyField('a\u0000b')).toBe('a\ufffdb');
  });
});
