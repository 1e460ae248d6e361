import { describe, expect, it } from 'vitest';
import { MAX_IDENTIFIER_BYTES, quoteIdent, tableNameFor } from './tableName.js';

describe('tableNameFor', () => {
  it('keeps any stream name that fits, exactly (it is quoted everywhere)', () => {
    for (const name of ['invoices', 'TestCamelcase', 'test:SpecialChars!in?attributes', 'a"b', '1abc', 'user']) expect(tableNameFor(name)).toBe(name);
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });

  it('cuts long names to 63 bytes with a hash, deterministically and without collisions', () => {
    const a = `${'x'.repeat(70)}_one`;
    const b = `${'x'.repeat(70)}_two`;
    expect(Buffer.byteLength(tableNameFor(a))).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(tableNameFor(a)).toBe(tableNameFor(a));
    expect(tableNameFor(a)).not.toBe(tableNameFor(b));
    const accents = tableNameFor('é'.repeat(40));
    expect(Buffer.byteLength(accents)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(accents.startsWith('é'.repeat(27))).toBe(true);
  });
});
