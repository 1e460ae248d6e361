import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from './redact.js';

describe('redact', () => {
  it('redacts a secret that contains a shorter one whole, whichever was registered first', () => {
    registerSecret('redact-test-inner');
    registerSecret('tok-redact-test-inner-9f2c');
    expect(redact('refresh tok-redact-test-inner-9f2c rejected; client redact-test-inner')).toBe('refresh [redacted] rejected; client [redacted]');
  });

  it("redacts QuickBooks' refresh and access token shapes that were never registered, and nothing else", () => {
    // Shaped as Intuit's, without a random-looking literal (the repository's own scan for keys would flag one).
    const refresh = `AB11${'1'.repeat(10)}${'Tok'.repeat(12)}`;
    const access = `eyJ${'hdr'.repeat(8)}..${'body'.repeat(8)}.${'tag'.repeat(6)}`;
    expect(redact(`{"refresh_token":"${refresh}","access_token":"${access}"}`)).toBe('{"refresh_token":"[redacted]","access_token":"[redacted]"}');
    expect(redact(`headers: { Authorization: 'Bearer ${access}' }`)).toBe("headers: { Authorization: 'Bearer [redacted]' }");
    const ordinary = 'invoice AB11 of 2025-01-31, eyJ is not a token, id AB1120250131';
    expect(redact(ordinary)).toBe(ordinary);
  });

  it('passes a long line of eyJ-like fragments with no token through whole, in one scan, not a scan per fragment', () => {
    // 400 kB of record text (a memo, a garbled body) with an eyJ after every hyphen: a search that
    // rescanned the rest of the line from each one took minutes, blocking the runner or console.
    const text = 'eyJ-'.repeat(100_000);
    expect(redact(text)).toBe(text);
  });
});
