import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { formatInstant, parseInstant } from './instant.js';

describe('parseInstant', () => {
  it.each([
    ['2025-01-01', '2025-01-01T00:00:00Z'],
    ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z'],
    ['2025-09-11T22:45:54-05:00', '2025-09-12T03:45:54Z'],
    ['2025-09-12T05:45:54+0200', '2025-09-12T03:45:54Z'],
    ['2025-09-12T03:45:54.250Z', '2025-09-12T03:45:54.250Z'],
  ])('reads %s as %s', (text, utc) => {
    expect(formatInstant(parseInstant(text, '--start'))).toBe(utc);
  });

  it('refuses a date-time without a zone, naming the option', () => {
    expect(() => parseInstant('2025-01-01T10:00:00', '--at')).toThrow(UsageError);
    expect(() => parseInstant('2025-01-01T10:00:00', '--at')).toThrow(/--at: .* no time zone/);
  });

  it('refuses text that is not a date, showing the forms that are', () => {
    expect(() => parseInstant('2025-31-01', '--end')).toThrow(/^--end: "2025-31-01" is not a date: there is no month 31$/);
    expect(() => parseInstant('31.01.2025', '--end')).toThrow(
      /^--end: "31.01.2025" is not an ISO 8601 date; write 2025-01-31 \(midnight UTC\), 2025-01-31T00:00:00Z, or an offset such as 2025-01-31T00:00:00-05:00$/,
    );
    // A US-style date is not a date-time missing its zone.
    expect(() => parseInstant('01/25/2025', '--start')).toThrow(/^--start: "01\/25\/2025" is not an ISO 8601 date; write 2025-01-31 /);
    expect(() => parseInstant('yesterday', '--start')).toThrow(/is not an ISO 8601 date; write/);
    expect(() => parseInstant('2025-01-25 10:00', '--start')).toThrow(/has no time zone/);
  });

  it("names the field out of range in its own words, not the date library's", () => {
    expect(() => parseInstant('2025-13-01', '--start')).toThrow(new UsageError('--start: "2025-13-01" is not a date: there is no month 13'));
    expect(() => parseInstant('2025-02-29', '--end')).toThrow(new UsageError('--end: "2025-02-29" is not a date: February 2025 has 28 days'));
    expect(() => parseInstant('2025-01-01T24:30:00Z', '--at')).toThrow(
      new UsageError('--at: "2025-01-01T24:30:00Z" is not a date: 24:30:00 is not a time of day'),
    );
    expect(formatInstant(parseInstant('2024-02-29', '--start'))).toBe('2024-02-29T00:00:00Z');
  });

  it.each(['+25:00', '+24:00', '-99:00', '+15:00', '-12:30', '+05:60', '+0560', '+99'])('refuses the impossible UTC offset %s in its own words', (offset) => {
    expect(() => parseInstant(`2025-01-01T00:00:00${offset}`, '--at')).toThrow(
      new UsageError(`--at: "2025-01-01T00:00:00${offset}" is not a date: ${offset} is not a UTC offset (they run from -12:00 to +14:00)`),
    );
  });

  it.each([
    ['2025-01-01T10:00:00-12:00', '2025-01-01T22:00:00Z'],
    ['2025-01-01T10:00:00+14:00', '2024-12-31T20:00:00Z'],
    ['2025-01-01T10:00:00.5+0545', '2025-01-01T04:15:00.500Z'],
  ])('reads %s, an offset at the edge or odd minutes, as %s', (text, utc) => {
    expect(formatInstant(parseInstant(text, '--at'))).toBe(utc);
  });
});
