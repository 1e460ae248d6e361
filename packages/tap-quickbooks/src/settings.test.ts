import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { UsageError } from 'singer-kit';
import { checkTapSetting, parseTapSettings, PRODUCTION_BASE_URL, SANDBOX_BASE_URL } from './settings.js';

const now = DateTime.fromISO('2025-02-01T12:34:56.789Z', { zone: 'utc' });
const base = {
  client_id: 'client-id-1',
  client_secret: 'client-secret-1',
  refresh_token: 'refresh-token-1',
  realm_id: '9341',
  start_date: '2025-01-01',
  page_size: 100,
  window: 'P1D',
  max_retries: 5,
  request_timeout_seconds: 120,
  max_requests_per_minute: 500,
  max_concurrency: 5,
  minor_version: 75,
  throttle_wait_seconds: 60,
  retry_backoff_seconds: 1,
};

describe('parseTapSettings', () => {
  it('accepts the date forms and defaults end_date to the run start, truncated to the second, minus end_lag (5 minutes by default)', () => {
    for (const start of ['2025-01-01', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00+00:00', '2024-12-31T16:00:00-08:00']) {
      expect(parseTapSettings({ ...base, start_date: start }, now).startDate.toISO()).toBe('2025-01-01T00:00:00.000Z');
    }
    expect(parseTapSettings(base, now).endLag.toISO()).toBe('PT5M');
    expect(parseTapSettings(base, now).endDate.toISO()).toBe('2025-02-01T12:29:56.000Z');
    expect(parseTapSettings({ ...base, end_lag: 'PT0S' }, now).endDate.toISO()).toBe('2025-02-01T12:34:56.000Z');
    expect(parseTapSettings({ ...base, end_lag: 'PT90S' }, now).endDate.toISO()).toBe('2025-02-01T12:33:26.000Z');
    expect(parseTapSettings({ ...base, end_lag: 'P1D' }, now).endDate.toISO()).toBe('2025-01-31T12:34:56.000Z');
  });

  it('uses an explicit end_date as given, whatever end_lag says (a future one is still the run start)', () => {
    expect(parseTapSettings({ ...base, end_lag: 'PT1H', end_date: '2025-02-01T12:34:00Z' }, now).endDate.toISO()).toBe('2025-02-01T12:34:00.000Z');
    expect(parseTapSettings({ ...base, end_lag: 'PT1H', end_date: '2030-01-01' }, now).endDate.toISO()).toBe('2025-02-01T12:34:56.000Z');
  });

  it('gives an empty range, not an error, when start_date falls within end_lag of the run start (the next run reads it)', () => {
    const settings = parseTapSettings({ ...base, start_date: '2025-02-01T12:33:00Z' }, now);
    expect([settings.startDate.toISO(), settings.endDate.toISO()]).toEqual(['2025-02-01T12:33:00.000Z', '2025-02-01T12:33:00.000Z']);
  });

  it('clamps a future end_date to the run start and refuses a future start_date (a bookmark must never pass what was read)', () => {
    expect(parseTapSettings({ ...base, end_date: '2030-01-01' }, now).endDate.toISO()).toBe('2025-02-01T12:34:56.000Z');
    expect(parseTapSettings({ ...base, end_date: '2025-01-15T00:00:00Z' }, now).endDate.toISO()).toBe('2025-01-15T00:00:00.000Z');
    expect(() => parseTapSettings({ ...base, start_date: '2025-03-01' }, now)).toThrow(/start_date .* is in the future/);
    expect(parseTapSettings({ ...base, start_date: '2025-01-01T00:00:00.500Z' }, now).startDate.toISO()).toBe('2025-01-01T00:00:00.000Z');
  });

  it('takes the realm id as text, from a string or a number that cannot have lost a digit', () => {
    expect(parseTapSettings({ ...base, realm_id: ' 4620816365000000001 ' }, now).realmId).toBe('4620816365000000001');
    expect(parseTapSettings({ ...base, realm_id: 123146247429234 }, now).realmId).toBe('123146247429234');
    expect(parseTapSettings({ ...base, realm_id: 9007199254740991 }, now).realmId).toBe('9007199254740991');
  });

  it('refuses a realm id given as a JSON number past 2^53: JSON.parse has rounded it, maybe to another company (exit 2, quote it)', () => {
    // "realm_id": 9341453050000001 in a config file reads as 9341453050000000: another company's realm.
    const config = JSON.parse('{"realm_id": 9341453050000001}') as { realm_id: number };
    expect(config.realm_id).toBe(9341453050000000);
    for (const realm_id of [config.realm_id, 9007199254740992, 9130357766900000]) {
      expect(() => parseTapSettings({ ...base, realm_id }, now)).toThrow(
        new RegExp(`^setting realm_id: ${realm_id} is a JSON number too large to keep every digit .*write it in quotes: "realm_id": "<the digits>"$`),
      );
    }
  });

  it('picks the API host from sandbox unless base_url is given', () => {
    expect(parseTapSettings(base, now).baseUrl).toBe(PRODUCTION_BASE_URL);
    expect(parseTapSettings({ ...base, sandbox: true }, now).baseUrl).toBe(SANDBOX_BASE_URL);
    expect(parseTapSettings({ ...base, base_url: 'http://127.0.0.1:9/' }, now).baseUrl).toBe('http://127.0.0.1:9');
  });

  it('keeps secrets out of anything printable', () => {
    const settings = parseTapSettings(base, now);
    expect(JSON.stringify(settings)).not.toContain('client-secret-1');
    expect(JSON.stringify(settings)).not.toContain('refresh-token-1');
  });

  it.each([
    [{ page_size: 1001 }, /page_size/],
    [{ max_concurrency: 11 }, /max_concurrency/],
    [{ window: 'P1M' }, /window/],
    [{ window: 'PT1.5S' }, /window must be .* whole seconds/],
    [
      { end_lag: '-PT5M' },
      /^setting end_lag must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds \(PT5M, PT0S\), from PT0S to P1D, got "-PT5M"$/,
    ],
    [{ end_lag: 'PT0.5S' }, /^setting end_lag must be an ISO 8601 duration .* got "PT0.5S"$/],
    [{ end_lag: 'five minutes' }, /^setting end_lag must be an ISO 8601 duration .* got "five minutes"$/],
    [{ end_lag: 300 }, /^setting end_lag must be an ISO 8601 duration .* got 300$/],
    [{ end_lag: 'P1M' }, /^setting end_lag must be .* got "P1M"$/],
    [{ end_lag: 'PT25H' }, /^setting end_lag must be .* from PT0S to P1D, got "PT25H"$/],
    [{ sandbox: 'true' }, /^setting sandbox must be true or false, got "true"$/],
    [{ include_deleted: 'no' }, /^setting include_deleted must be true or false, got "no"$/],
    [{ start_date: '2025-01-01T00:00:00' }, /no time zone/],
    [{ start_date: 'yesterday' }, /start_date/],
    [{ end_date: '2024-01-01' }, /before start_date/],
    [{ refresh_token: undefined }, /^setting refresh_token is required \(config file, TAP_QUICKBOOKS_REFRESH_TOKEN or TAP_QUICKBOOKS_REFRESH_TOKEN_FILE\)$/],
    [{ realm_id: undefined }, /^setting realm_id is required \(config file, TAP_QUICKBOOKS_REALM_ID or TAP_QUICKBOOKS_REALM_ID_FILE\)$/],
    [{ realm_id: null }, /^setting realm_id is required \(config file, TAP_QUICKBOOKS_REALM_ID or TAP_QUICKBOOKS_REALM_ID_FILE\)$/],
    [{ start_date: '' }, /^setting start_date is required \(config file, TAP_QUICKBOOKS_START_DATE or TAP_QUICKBOOKS_START_DATE_FILE\)$/],
    [{ client_id: 42 }, /^setting client_id must be text, got number$/],
    [{ realm_id: '<your realm id>' }, /^setting realm_id: "<your realm id>" is not a QuickBooks company id; use the realmId \(digits\)/],
    [{ realm_id: -1 }, /^setting realm_id: -1 is not a QuickBooks company id/],
    [
      { client_id: '', client_secret: undefined, start_date: undefined },
      /^settings client_id, client_secret, start_date are required \(config file, TAP_QUICKBOOKS_<SETTING> or TAP_QUICKBOOKS_<SETTING>_FILE\)$/,
    ],
  ])('rejects %j with a UsageError', (override, message) => {
    expect(() => parseTapSettings({ ...base, ...override }, now)).toThrow(UsageError);
    expect(() => parseTapSettings({ ...base, ...override }, now)).toThrow(message);
  });
});

describe('checkTapSetting', () => {
  // One value each, wrong for its own reason; a run (parseTapSettings) refuses it with the very same line.
  it.each([
    ['end_lag', 'soon'],
    ['sandbox', 'yes'],
    ['base_url', 'ftp://qbo.example'],
    ['token_url', 'tokens'],
    ['page_size', 5000],
    ['window', 'PT0S'],
    ['max_span_rows', 0],
    ['max_retries', 2.5],
    ['request_timeout_seconds', -1],
    ['max_requests_per_minute', '500'],
    ['max_concurrency', 11],
    ['minor_version', 0],
    ['include_deleted', 1],
    ['throttle_wait_seconds', 'a minute'],
    ['retry_backoff_seconds', -0.5],
  ])('refuses %s: %j alone, as a run would', (name, value) => {
    let runSays: unknown;
    try {
      parseTapSettings({ ...base, [name]: value }, now);
    } catch (error) {
      runSays = error;
    }
    expect(runSays).toBeInstanceOf(UsageError);
    expect(() => checkTapSetting(name, value)).toThrow(new UsageError((runSays as Error).message));
  });

  it('takes what a run takes, and leaves settings not read alone (secrets, realm, dates, token store, user agent, unknown keys) to the run', () => {
    for (const [name, value] of Object.entries({
      end_lag: 'PT0S',
      sandbox: false,
      base_url: 'http://127.0.0.1:9/',
      page_size: 1000,
      window: 'PT6H',
      request_timeout_seconds: 0.5,
    }))
      expect(() => checkTapSetting(name, value)).not.toThrow();
    for (const name of ['client_secret', 'realm_id', 'start_date', 'token_store', 'user_agent', 'not_a_setting'])
      expect(() => checkTapSetting(name, 42)).not.toThrow();
  });
});
