import { describe, expect, it } from 'vitest';
import { SchemaValidator } from './SchemaValidator.js';

describe('SchemaValidator', () => {
  const validator = new SchemaValidator();
  const schema = { type: 'object', required: ['Id'], properties: { Id: { type: 'string' }, At: { type: ['null', 'string'], format: 'date-time' } } };

  it('checks types, required properties and date-time formats, in one line', () => {
    const check = validator.compile(schema);
    if (typeof check !== 'function') throw new Error(check.error);
    expect(check({ Id: '1', At: '2024-01-01T10:00:00-08:00' })).toBeUndefined();
    expect(check({ Id: '1', At: null, extra: 1 })).toBeUndefined();
    expect(check({ At: null })).toBe("record must have required property 'Id'");
    expect(check({ Id: '1', At: '2024-02-30T00:00:00Z' })).toBe('record/At must match format "date-time"');
  });

  it('checks multipleOf on the decimal values, so money declared as multipleOf 0.01 passes (0.07, 19.99) and a third decimal does not', () => {
    const check = validator.compile({
      type: 'object',
      properties: { Amount: { type: ['null', 'number'], multipleOf: 0.01 }, Rate: { type: 'number', multipleOf: 1e-38 } },
    });
    if (typeof check !== 'function') throw new Error(check.error);
    expect(check({ Amount: 0.07, Rate: 0.3 })).toBeUndefined();
    expect(check({ Amount: 19.99, Rate: 1234567.1 })).toBeUndefined();
    expect(check({ Amount: null })).toBeUndefined();
    expect(check({ Amount: 19.995 })).toBe('record/Amount must be multiple of 0.01');
    expect(validator.compile({ type: 'object', properties: { a: { type: 'number', multipleOf: 0 } } })).toMatchObject({
      error: expect.stringMatching(/multipleOf must be a number greater than 0/),
    });
  });

  it('takes a time of day with or without an offset, as SDK taps write a TIME column, and refuses one that is not', () => {
    const check = validator.compile({ type: 'object', properties: { At: { type: 'string', format: 'time' } } });
    if (typeof check !== 'function') throw new Error(check.error);
    for (const at of ['12:30:00', '12:30:00.123456', '12:30:00Z', '23:59:59-07:00']) expect(check({ At: at }), at).toBeUndefined();
    for (const at of ['25:00:00', '12:30', '12:30:00 PM']) expect(check({ At: at }), at).toBe('record/At must match format "time"');
  });

  it('checks no format but date, date-time and time: email, uri, hostname and the rest are annotations (the SDK checks none by default)', () => {
    const formats = ['email', 'uri', 'hostname', 'ipv4', 'uuid', 'regex', 'no-such-format'];
    const check = validator.compile({ type: 'object', properties: Object.fromEntries(formats.map((f) => [f, { type: 'string', format: f }])) });
    if (typeof check !== 'function') throw new Error(check.error);
    expect(check(Object.fromEntries(formats.map((f) => [f, 'not a valid ( value']))), 'loose values').toBeUndefined();
    expect(check({ email: 42 })).toBe('record/email must be string');
  });

  it('compiles a repeated schema once, and reports one it cannot compile', () => {
    expect(validator.compile(structuredClone(schema))).toBe(validator.compile(schema));
    expect(validator.compile({ type: 'object', properties: { a: { $ref: '#/nowhere' } } })).toMatchObject({ error: expect.stringMatching(/nowhere/) });
  });
});
