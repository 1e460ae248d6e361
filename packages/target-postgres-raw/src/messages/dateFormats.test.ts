import { fullFormats } from 'ajv-formats/dist/formats.js';
import { describe, expect, it } from 'vitest';
import { dateFormats } from './dateFormats.js';

type Check = { validate: (s: string) => boolean };
const ajvFormats = { date: fullFormats.date as Check, 'date-time': fullFormats['date-time'] as Check };
const formats = dateFormats();

const seeds = [
  '2024-05-01T12:30:00Z',
  '2024-05-01T12:30:00.123456Z',
  '2024-05-01T12:30:00-07:00',
  '2024-02-29T23:59:59.9+14:00',
  '2023-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '2024-04-31T00:00:00Z',
  '2024-12-31T23:59:60Z',
  '2024-12-31T23:59:60.5+00:00',
  '2024-06-30T15:59:60-08:00',
  '2024-05-01t12:30:00z',
  '2024-05-01 12:30:00Z',
  '2024-05-01T12:30:00+0200',
  '2024-05-01T12:30:00+02',
  '2024-05-01T12:30:00',
  '2024-05-01T24:00:00Z',
  '2024-05-01T12:60:00Z',
  '2024-05-01T12:30:00.Z',
  '2024-05-01T12:30:00+24:00',
  '2024-05-01T12:30:00+23:60',
  '2024-05-01',
  '2024-13-01',
  '2024-00-10',
  '2024-01-00',
  '0000-01-01T00:00:00Z',
];

/** Every seed, and deterministic mutations of it: a character replaced, dropped or doubled. */
function* corpus(): Generator<string> {
  const alphabet = '0123456789-:.TtZz+ x';
  for (const seed of seeds) {
    yield seed;
    for (let i = 0; i < seed.length; i++) {
      yield seed.slice(0, i) + seed.slice(i + 1);
      yield seed.slice(0, i) + seed.charAt(i) + seed.slice(i);
      for (const c of alphabet) yield seed.slice(0, i) + c + seed.slice(i + 1);
    }
  }
}

describe('dateFormats', () => {
  it('answers exactly as ajv-formats full mode for date and date-time, over every mutation of tricky seeds', () => {
    let checked = 0;
    for (const value of corpus()) {
      for (const name of ['date', 'date-time'] as const) {
        if (formats[name].validate(value) !== ajvFormats[name].validate(value)) expect.fail(`${name} ${JSON.stringify(value)}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20_000);
  });

  it('accepts the shapes taps send and refuses impossible dates', () => {
    expect(formats['date-time'].validate('2024-02-29T23:59:59.123456Z')).toBe(true);
    expect(formats['date-time'].validate('2024-05-01T12:30:00-07:00')).toBe(true);
    expect(formats['date-time'].validate('2023-02-29T00:00:00Z')).toBe(false);
    expect(formats.date.validate('2024-02-29')).toBe(true);
    expect(formats.date.validate('2100-02-29')).toBe(false);
  });
});
