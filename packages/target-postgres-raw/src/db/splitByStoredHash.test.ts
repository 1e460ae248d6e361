import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Row } from '../rows/Row.js';
import { HashedRow } from '../rows/rowColumns.js';
import { splitByStoredHash } from './splitByStoredHash.js';

const sha = (text: string) => hash('sha256', text, 'hex');
const hashed = (id: string, payload: string): HashedRow => new HashedRow({ id, payload: Buffer.from(payload) } as Row);
const ids = (rows: readonly HashedRow[]) => rows.map((h) => h.row.id);

describe('splitByStoredHash', () => {
  it('copies new ids (in id order), skips equal hashes, stages different or missing hashes', () => {
    const rows = [hashed('c', '{"v":1}'), hashed('a', '{"v":1}'), hashed('b', '{"v":2}'), hashed('d', '{"v":3}'), hashed('e', '{"v":4}')];
    const stored = new Map<string, string | null>([
      ['b', sha('{"v":2}')],
      ['d', sha('{"v": 3}')],
      ['e', null],
    ]);
    const split = splitByStoredHash(rows, stored);
    expect(ids(split.fresh)).toEqual(['a', 'c']);
    expect(ids(split.unchanged)).toEqual(['b']);
    expect(ids(split.staged)).toEqual(['d', 'e']);
    expect(split.staged.map((h) => h.hash)).toEqual([sha('{"v":3}'), sha('{"v":4}')]);
  });
});
