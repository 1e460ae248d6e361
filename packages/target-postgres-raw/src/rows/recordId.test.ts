import { describe, expect, it } from 'vitest';
import { hash } from 'node:crypto';
import { memberText } from 'singer-kit';
import { recordId } from './recordId.js';

const id = (text: string, keys: string[]) =>
  recordId(
    keys,
    (key) => memberText(text, key),
    () => hash('sha256', text, 'hex'),
  );

describe('recordId', () => {
  it('uses the key value as text; numbers keep their source digits', () => {
    expect(id('{"Id":"119"}', ['Id'])).toEqual({ id: '119' });
    expect(id('{"Id":12345678901234567891}', ['Id'])).toEqual({ id: '12345678901234567891' });
    expect(id('{"Id":1}', ['Id'])).toEqual(id('{"Id":"1"}', ['Id']));
    expect(id('{"Id":"01"}', ['Id'])).not.toEqual(id('{"Id":"1"}', ['Id']));
  });

  it('joins several keys as a JSON array, so values holding commas never collide', () => {
    expect(id('{"a":"x,y","b":"z"}', ['a', 'b'])).toEqual({ id: '["x,y","z"]' });
    expect(id('{"a":"x","b":"y,z"}', ['a', 'b'])).toEqual({ id: '["x","y,z"]' });
    expect(id('{"a":1,"b":"z"}', ['a', 'b'])).toEqual({ id: '[1,"z"]' });
  });

  it('names the missing key for absent, null or empty values', () => {
    expect(id('{"x":1}', ['Id'])).toEqual({ missing: 'Id' });
    expect(id('{"Id":null}', ['Id'])).toEqual({ missing: 'Id' });
    expect(id('{"Id":""}', ['Id'])).toEqual({ missing: 'Id' });
    expect(id('{"a":"x"}', ['a', 'b'])).toEqual({ missing: 'b' });
  });

  it('without key properties, hashes the payload: same record same id, another record another id', () => {
    const a = id('{"metric":1}', []);
    expect(a).toEqual(id('{"metric":1}', []));
    expect(a).not.toEqual(id('{"metric":2}', []));
    expect('id' in a && a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
