import { describe, expect, it } from 'vitest';
import { parseRecordInstant } from './recordInstant.js';

describe('parseRecordInstant', () => {
  it.each([
    ['2024-01-01T10:00:00-08:00', Date.UTC(2024, 0, 1, 18), '2024-01-01T10:00:00-08:00'],
    ['2024-01-01T10:00:00Z', Date.UTC(2024, 0, 1, 10), '2024-01-01T10:00:00Z'],
    ['2024-01-01T10:00:00', Date.UTC(2024, 0, 1, 10), '2024-01-01T10:00:00Z'],
    ['2024-02-29T00:00:00.123456Z', Date.UTC(2024, 1, 29, 0, 0, 0, 123), '2024-02-29T00:00:00.123456Z'],
  ])('%s is an instant', (text, ms, pgText) => {
    expect(parseRecordInstant(text)).toEqual({ ms, text: pgText });
  });

  it.each(['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '0000-01-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01', 'yesterday', 'infinity'])(
    '%s is refused, not rolled over',
    (text) => expect(parseRecordInstant(text)).toBeUndefined(),
  );
});
