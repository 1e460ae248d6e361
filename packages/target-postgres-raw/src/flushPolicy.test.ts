import { describe, expect, it } from 'vitest';
import { bufferFull } from './flushPolicy.js';

describe('bufferFull', () => {
  const limits = { batchSizeRows: 3, batchSizeBytes: 100 };
  it.each([
    [{ rows: 2, bytes: 99 }, false],
    [{ rows: 3, bytes: 0 }, true],
    [{ rows: 1, bytes: 100 }, true],
  ])('%o → %s', (level, full) => expect(bufferFull(level, limits)).toBe(full));
});
