import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from 'singer-kit';
import { parseFault, requestError } from './qboErrors.js';
import { FIXTURES_DIR, HAVE_FIXTURES, NO_FIXTURES_REASON } from '../../../../test/support/db.js';

const shape = (name: string) => readFileSync(path.join(FIXTURES_DIR, 'qbo/shapes', name), 'utf8');

describe.skipIf(!HAVE_FIXTURES)(`parseFault on observed bodies${HAVE_FIXTURES ? '' : ` (${NO_FIXTURES_REASON})`}`, () => {
  it('reads the XML body QBO sends with 429', () => {
    expect(parseFault(shape('throttle-429.observed.xml'))).toEqual({
      code: '3001',
      message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
      detail: 'The request limit was reached.  Try again later',
      type: 'SERVICE',
    });
  });

  it('reads the lower-case 401 body and the upper-case 400 bodies', () => {
    expect(parseFault(shape('fault-401-authentication-failed.observed.json'))).toMatchObject({ code: '3200', type: 'AUTHENTICATION' });
    expect(parseFault(shape('fault-400-query-validation.observed.json'))).toMatchObject({ code: '4001', message: 'Invalid query' });
  });

  it('reads the token endpoint error', () => {
    expect(parseFault(shape('oauth-invalid-grant.incorrect-refresh-token.observed.json'))).toMatchObject({ code: 'invalid_grant' });
  });
});

describe('requestError', () => {
  const base = { what: 'query "SELECT COUNT(*) FROM Invoice"', body: '', tid: 'tid-1', realmId: '123', sandbox: false };

  it('names the request, status, fault and intuit_tid on one line', () => {
    const error = requestError({ ...base, status: 500, body: '{"Fault":{"Error":[{"Message":"boom","code":"10000"}],"type":"SystemFault"}}', attempts: 6 });
    expect(error.message).toBe('query "SELECT COUNT(*) FROM Invoice" failed after 6 attempts: HTTP 500 code 10000: boom (intuit_tid tid-1)');
    expect(error.exitCode).toBe(1);
    expect(error.message).not.toContain('\n');
  });

  it('hints at the sandbox/production mix-up for 3100 and unknown realms, as configuration errors', () => {
    const e3100 = requestError({ ...base, status: 403, body: '{"Fault":{"Error":[{"Message":"ApplicationAuthorizationFailed","code":"3100"}]}}' });
    expect(e3100).toBeInstanceOf(UsageError);
    expect(e3100.message).toMatch(/sandbox setting \(now false\)/);
    const e404 = requestError({ ...base, status: 404, body: 'not found' });
    expect(e404.message).toMatch(/does not recognise realm_id 123/);
    expect(e404.message).toContain('intuit_tid tid-1');
  });
});
