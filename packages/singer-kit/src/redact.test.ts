import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from './redact.js';

describe('redact', () => {
  it('redacts a secret that contains a shorter one whole, whichever was registered first', () => {
    registerSecret('redact-test-inner');
    registerSecret('tok-redact-test-inner-9f2c');
    expect(redact('refresh tok-redact-test-inner-9f2c rejected; client redact-test-inner')).toBe('refresh [redacted] rejected; client [redacted]');
  });
});
