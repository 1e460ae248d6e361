import { describe, expect, it } from 'vitest';
import { parseRecordInstant } from './recordInstant.js';

const micros = (ms: number, extra = 0n) => BigInt(ms - Date.UTC(2000, 0, 1)) * 1000n + extra;

describe('parseRecordInstant', () => {
  it.each([
    ['2024-01-01T10:00:00-08:00', Date.UTC(2024, 0, 1, 18), '2024-01-01T10:00:00-08:00', 0n],
    ['2024-01-01T10:00:00Z', Date.UTC(2024, 0, 1, 10), '2024-01-01T10:00:00Z', 0n],
    ['2024-01-01T10:00:00', Date.UTC(2024, 0, 1, 10), '2024-01-01T10:00:00Z', 0n],
    ['2024-02-29T00:00:00.123456Z', Date.UTC(2024, 1, 29, 0, 0, 0, 123), '2024-02-29T00:00:00.123456Z', 456n],
    ['2024-03-10T02:30:00+0530', Date.UTC(2024, 2, 9, 21), '2024-03-10T02:30:00+0530', 0n],
    ['1999-12-31T23:59:59.5Z', Date.UTC(1999, 11, 31, 23, 59, 59, 500), '1999-12-31T23:59:59.5Z', 0n],
  ])('%s is an instant', (text, ms, pgText, extraMicros) => {
    expect(parseRecordInstant(text)).toEqual({ ms, text: pgText, micros: micros(ms, extraMicros) });
  });

  it('counts microseconds from 2000-01-01 UTC, in years a double could not count them exactly', () => {
    expect(parseRecordInstant('2000-01-01T00:00:00Z')?.micros).toBe(0n);
    expect(parseRecordInstant('0001-01-01T00:00:00Z')?.micros).toBe(-63082281600000000n);
    expect(parseRecordInstant('9999-12-31T23:59:59.999999Z')?.micros).toBe(252455615999999999n);
  });

  it('rounds digits past the microsecond as PostgreSQL does (rint of the fraction times 1e6: half to even)', () => {
    expect(parseRecordInstant('2000-01-01T00:00:00.0000005Z')?.micros).toBe(0n);
    expect(parseRecordInstant('2000-01-01T00:00:00.0000015Z')?.micros).toBe(2n);
    expect(parseRecordInstant('2000-01-01T00:00:00.4567895Z')?.micros).toBe(456790n);
    expect(parseRecordInstant('2000-01-01T00:00:00.9999996Z')?.micros).toBe(1_000_000n);
  });

  it.each([
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:00:00+16:00',
    '2024-01-01T10:00:00+01:60',
    '2024-01-01',
    'yesterday',
    'infinity',
  ])('%s is refused, not rolled over', (text) => expect(parseRecordInstant(text)).toBeUndefined());

  it('reads the usual shape (no regular expression) exactly as the general one, over mutations of tricky instants', () => {
    const seeds = [
      '2024-02-29T23:59:59.123456789-07:30',
      '2024-01-01T00:00:00Z',
      '1999-12-31T23:59:59',
      '0001-01-01T00:00:00.5+15:59',
      '9999-12-31T23:59:59.9999995Z',
    ];
    let compared = 0;
    for (const seed of seeds) {
      for (let i = 0; i < seed.length; i++) {
        for (const c of ['', '0', '9', '1', '5', ':', '-', '.', 'Z', '+', seed.charAt(i) + seed.charAt(i)]) {
          const usual = seed.slice(0, i) + c + seed.slice(i + 1);
          // A lowercase t is not the usual shape: that text goes through the regular expression.
          const general = parseRecordInstant(usual.replace('T', 't'));
          const got = parseRecordInstant(usual);
          expect({ usual, ms: got?.ms, micros: got?.micros }).toEqual({ usual, ms: general?.ms, micros: general?.micros });
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(900);
  });
});
