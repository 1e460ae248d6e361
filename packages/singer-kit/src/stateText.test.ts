import { describe, expect, it } from 'vitest';
import { parseStateText } from './stateText.js';

describe('parseStateText', () => {
  it('reads one state value, on one line or pretty-printed', () => {
    expect(parseStateText('{"bookmarks":{}}\n')).toEqual({ kind: 'value', value: { bookmarks: {} } });
    expect(parseStateText('{\n  "bookmarks": {}\n}\n')).toEqual({ kind: 'value', value: { bookmarks: {} } });
  });

  it("recognises a state log (the target's whole output) by its JSON lines", () => {
    expect(parseStateText('{"bookmarks":{"a":1}}\n{"bookmarks":{"a":2}}\n{"bookmarks":{"a":3}}\n')).toEqual({ kind: 'log', lines: 3 });
  });

  it("anything else is invalid, with the parser's reason", () => {
    expect(parseStateText('{"bookmarks": ')).toMatchObject({ kind: 'invalid', error: expect.any(String) });
    expect(parseStateText('{"a":1}\nnot json\n')).toMatchObject({ kind: 'invalid' });
    expect(parseStateText('')).toMatchObject({ kind: 'invalid' });
  });
});
