import path from 'node:path';
import { DateTime, Duration } from 'luxon';
import { envFileName, envName, parseInstant, Secret, UsageError, type RawSettings, type SettingSpec } from 'singer-kit';
import { defaultRangeEnd } from './plan/planWindows.js';

export const ENV_PREFIX = 'TAP_QUICKBOOKS';
export const PRODUCTION_BASE_URL = 'https://quickbooks.api.intuit.com';
export const SANDBOX_BASE_URL = 'https://sandbox-quickbooks.api.intuit.com';
const DEFAULT_TOKEN_URL = 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer';
/** QBO's own answer to a 429 without Retry-After: wait a minute. */
const QBO_THROTTLE_WAIT_SECONDS = 60;
export const MAX_PAGE_SIZE = 1000;
/** QBO allows 10 concurrent requests per realm and app. */
const MAX_CONCURRENCY = 10;
/** A span with more rows is cut (between days, or a crowded day into pieces) rather than held whole. */
const MAX_SPAN_ROWS = 10_000;
/** At most this many spans' worth of rows (max_span_rows each) are held at once, across all streams. */
export const HELD_SPANS = 3;
/**
 * How long before the run start the default range ends. QBO stamps LastUpdatedTime when a change
 * is saved, but its queries may show the record a little later; a range ending at the run start
 * would put a record stamped a moment before it, shown a moment after, behind the bookmark for
 * good. Five minutes is far above that delay (seconds), and a daily sync's changes of the last
 * five minutes simply go with the next run.
 */
const DEFAULT_END_LAG = 'PT5M';
/** A lag of more than a day would keep every bookmark a day behind: a unit typed wrong (PT5H for PT5M), far more likely than a wish. */
const MAX_END_LAG_SECONDS = 86_400;

export const TAP_SETTINGS: readonly SettingSpec[] = [
  { name: 'client_id', kind: 'password', required: true, description: 'OAuth client id of the Intuit app' },
  { name: 'client_secret', kind: 'password', required: true, description: 'OAuth client secret of the Intuit app' },
  { name: 'refresh_token', kind: 'password', required: true, description: 'OAuth refresh token; the rotated one is kept in token_store and wins once present' },
  { name: 'realm_id', kind: 'string', required: true, description: 'QBO company id (realmId)' },
  {
    name: 'start_date',
    kind: 'date_iso8601',
    required: true,
    description: 'start of the extraction range, inclusive (2025-01-01, 2025-01-01T00:00:00Z or any explicit offset)',
  },
  {
    name: 'end_date',
    kind: 'date_iso8601',
    description: 'end of the range, exclusive, used as given (a future one is the run start); default: the run start, truncated to the second, minus end_lag',
  },
  {
    name: 'end_lag',
    kind: 'string',
    default: DEFAULT_END_LAG,
    description:
      'how long before the run start the range ends when end_date is not given, as an ISO 8601 duration in whole seconds (PT5M, PT0S; at most P1D): QBO may show a change some seconds after its LastUpdatedTime, and one shown after the range ended would be behind the bookmark for good; changes of the lag wait for the next run',
  },
  { name: 'sandbox', kind: 'boolean', default: false, description: 'use the sandbox API host' },
  { name: 'base_url', kind: 'string', description: 'API root before /v3; default from sandbox' },
  { name: 'token_url', kind: 'string', default: DEFAULT_TOKEN_URL, description: 'OAuth token endpoint URL' },
  { name: 'page_size', kind: 'integer', default: 100, description: 'MAXRESULTS per query page (1–1000)' },
  {
    name: 'window',
    kind: 'string',
    default: 'P1D',
    description:
      "extraction window as an ISO 8601 duration (P1D, PT6H, …), cut on UTC boundaries: the grain of each record's _sdc_extract_window_*, of the _volumetry evidence and of STATE; one query spans as many windows as QBO's counts allow",
  },
  {
    name: 'max_span_rows',
    kind: 'integer',
    default: MAX_SPAN_ROWS,
    description: `rows one query span may have before it is cut in smaller spans; a span is held in memory until complete, at most ${HELD_SPANS} spans' worth across all streams (1–100000)`,
  },
  {
    name: 'max_retries',
    kind: 'integer',
    default: 5,
    description:
      'retries per request (token refresh and data API) on network errors, timeouts, 429, 5xx, 401 (with a new access token) and a garbled 200 from the data API',
  },
  { name: 'request_timeout_seconds', kind: 'number', default: 120, description: 'per-request timeout' },
  { name: 'max_requests_per_minute', kind: 'integer', default: 500, description: 'request budget per realm, shared by all streams' },
  { name: 'max_concurrency', kind: 'integer', default: 5, description: `requests in flight per realm (at most ${MAX_CONCURRENCY})` },
  { name: 'minor_version', kind: 'integer', default: 75, description: 'QBO minorversion' },
  { name: 'user_agent', kind: 'string', default: 'tap-quickbooks', description: 'User-Agent header' },
  {
    name: 'include_deleted',
    kind: 'boolean',
    default: true,
    description: 'read deletions from QBO change data capture (30-day look-back) and emit each as a record of its entity stream with _sdc_deleted_at',
  },
  { name: 'token_store', kind: 'string', description: 'file holding the rotated refresh token (mode 0600); default state/tokens/<realm_id>.json' },
  { name: 'throttle_wait_seconds', kind: 'number', default: QBO_THROTTLE_WAIT_SECONDS, description: 'wait after a 429 without Retry-After' },
  {
    name: 'retry_backoff_seconds',
    kind: 'number',
    default: 1,
    description: 'first backoff of the exponential retry schedule (doubles per attempt, with jitter)',
  },
];

export interface TapSettings {
  readonly clientId: Secret;
  readonly clientSecret: Secret;
  readonly refreshToken: Secret;
  readonly realmId: string;
  readonly startDate: DateTime;
  readonly endDate: DateTime;
  /** What `end_date`'s default leaves out before the run start (zero or more whole seconds). */
  readonly endLag: Duration;
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly sandbox: boolean;
  readonly pageSize: number;
  readonly window: Duration;
  readonly maxSpanRows: number;
  readonly maxRetries: number;
  readonly requestTimeoutMs: number;
  readonly maxRequestsPerMinute: number;
  readonly maxConcurrency: number;
  readonly minorVersion: number;
  readonly userAgent: string;
  readonly includeDeleted: boolean;
  readonly tokenStorePath: string;
  readonly throttleWaitMs: number;
  readonly retryBackoffMs: number;
}

/** Parses `2025-01-01`, `2025-01-01T00:00:00Z` or any explicit offset into a UTC instant. */
function dateSetting(value: unknown, name: string): DateTime {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`setting ${name} must be a date such as 2025-01-01 or 2025-01-01T00:00:00Z`);
  return parseInstant(value, `setting ${name}`);
}

/** Required settings not given, named with every way to give them: the config file, the variable and its `_FILE` form. */
function missingSettingsError(names: readonly string[]): UsageError {
  if (names.length === 1) {
    const name = names[0] as string;
    return new UsageError(`setting ${name} is required (config file, ${envName(ENV_PREFIX, name)} or ${envFileName(ENV_PREFIX, name)})`);
  }
  return new UsageError(
    `settings ${names.join(', ')} are required (config file, ${envName(ENV_PREFIX, '<SETTING>')} or ${envFileName(ENV_PREFIX, '<SETTING>')})`,
  );
}

function secret(raw: RawSettings, name: string): Secret {
  const value = raw[name];
  if (typeof value !== 'string') throw new UsageError(`setting ${name} must be text, got ${typeof value}`);
  return new Secret(value);
}

/** QBO's company id: digits, as text. */
function realmSetting(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  // Past 2^53 a JSON number has already been rounded when we see it (9341453050000001 reads as
  // …000): the digits may be another company's realm id, so only the text is trusted.
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
    throw new UsageError(
      `setting realm_id: ${String(value)} is a JSON number too large to keep every digit (a number above ${Number.MAX_SAFE_INTEGER} may be another company's realm id once read); write it in quotes: "realm_id": "<the digits>"`,
    );
  }
  if (typeof value !== 'string' || !/^\d+$/.test(value.trim())) {
    throw new UsageError(
      `setting realm_id: ${JSON.stringify(value)} is not a QuickBooks company id; use the realmId (digits) that your app's connect flow or Intuit's OAuth 2.0 Playground shows`,
    );
  }
  return value.trim();
}

function integer(raw: RawSettings, name: string, min: number, max: number): number {
  const value = raw[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`setting ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positive(raw: RawSettings, name: string): number {
  const value = raw[name];
  if (typeof value !== 'number' || !(value >= 0)) throw new UsageError(`setting ${name} must be a number ≥ 0, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * `sandbox`, `include_deleted`: true or false (the environment's yes, no, 1, 0… are turned into one
 * when it is read). Text such as "true" is refused, not read as false: a sandbox app sent to the
 * production host fails at its first refresh, far from the setting that caused it.
 */
function booleanSetting(raw: RawSettings, name: string): boolean {
  const value = raw[name];
  if (typeof value !== 'boolean') throw new UsageError(`setting ${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function url(raw: RawSettings, name: string, fallback: string): string {
  const value = raw[name] ?? fallback;
  if (typeof value !== 'string' || !/^https?:\/\/[^/]/.test(value))
    throw new UsageError(`setting ${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

/**
 * A fixed-length duration in whole seconds from `minSeconds` to `maxSeconds` (`window`, `end_lag`):
 * windows are cut on a UTC grid of equal steps, and QBO's timestamps and the query's literals are
 * whole seconds, so a bound inside a second (PT1.5S) would count rows of that second that its
 * records then leave to the next window.
 */
function durationSetting(value: unknown, name: string, minSeconds: number, maxSeconds: number, examples: string): Duration {
  const duration = typeof value === 'string' ? Duration.fromISO(value) : Duration.invalid('not a string');
  const seconds = duration.as('seconds');
  if (
    !duration.isValid ||
    duration.years !== 0 ||
    duration.quarters !== 0 ||
    duration.months !== 0 ||
    !Number.isInteger(seconds) ||
    seconds < minSeconds ||
    seconds > maxSeconds
  ) {
    const bounds =
      maxSeconds === Infinity
        ? ''
        : `, from ${Duration.fromObject({ seconds: minSeconds }).toISO()} to ${Duration.fromObject({ seconds: maxSeconds }).rescale().toISO()}`;
    throw new UsageError(
      `setting ${name} must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (${examples})${bounds}, got ${JSON.stringify(value)}`,
    );
  }
  return duration;
}

/**
 * `end_lag` as the tap reads it (its default when not given): also for the runner, which gives a
 * sync's tap its end (`defaultRangeEnd`) and so must leave out the same lag.
 */
export function endLagSetting(raw: RawSettings): Duration {
  return durationSetting(raw.end_lag ?? DEFAULT_END_LAG, 'end_lag', 0, MAX_END_LAG_SECONDS, 'PT5M, PT0S');
}

/**
 * The settings a run reads each on its own, by a rule of its own (a range, a duration, a URL, true
 * or false), from settings with their defaults applied: `parseTapSettings` builds its result from
 * these, and `checkTapSetting` holds a single value to the same rule. Not here: the secrets, which
 * are read from files at run time; `realm_id` and the dates, read together; and `token_store` and
 * `user_agent`, which take any text.
 */
const READ_ALONE = {
  end_lag: endLagSetting,
  sandbox: (raw: RawSettings) => booleanSetting(raw, 'sandbox'),
  base_url: (raw: RawSettings) => url(raw, 'base_url', raw.sandbox === true ? SANDBOX_BASE_URL : PRODUCTION_BASE_URL),
  token_url: (raw: RawSettings) => url(raw, 'token_url', DEFAULT_TOKEN_URL),
  page_size: (raw: RawSettings) => integer(raw, 'page_size', 1, MAX_PAGE_SIZE),
  window: (raw: RawSettings) => durationSetting(raw.window, 'window', 1, Infinity, 'P1D, PT6H'),
  max_span_rows: (raw: RawSettings) => integer(raw, 'max_span_rows', 1, 100_000),
  max_retries: (raw: RawSettings) => integer(raw, 'max_retries', 0, 20),
  request_timeout_seconds: (raw: RawSettings) => positive(raw, 'request_timeout_seconds'),
  max_requests_per_minute: (raw: RawSettings) => integer(raw, 'max_requests_per_minute', 1, 100_000),
  max_concurrency: (raw: RawSettings) => integer(raw, 'max_concurrency', 1, MAX_CONCURRENCY),
  minor_version: (raw: RawSettings) => integer(raw, 'minor_version', 1, 1000),
  include_deleted: (raw: RawSettings) => booleanSetting(raw, 'include_deleted'),
  throttle_wait_seconds: (raw: RawSettings) => positive(raw, 'throttle_wait_seconds'),
  retry_backoff_seconds: (raw: RawSettings) => positive(raw, 'retry_backoff_seconds'),
} as const;

/**
 * Throws the UsageError a run would give for this value of the setting (`setting page_size must be
 * an integer from 1 to 1000, got 5000`), without reading anything else: a settings file of the
 * runner's checks each value it carries when it is read, to exactly the tap's rules. A setting not
 * read on its own (`READ_ALONE`) passes.
 */
export function checkTapSetting(name: string, value: unknown): void {
  if (Object.hasOwn(READ_ALONE, name)) READ_ALONE[name as keyof typeof READ_ALONE]({ [name]: value });
}

/** The settings without a default that every run needs. */
const REQUIRED = ['client_id', 'client_secret', 'refresh_token', 'realm_id', 'start_date'] as const;

/** Defaults, ranges, dates and URLs; the result is frozen. `now` is the run start. */
export function parseTapSettings(given: RawSettings, now: DateTime): TapSettings {
  // loadSettings already applies defaults; library callers may pass only what they set.
  const raw: RawSettings = { ...Object.fromEntries(TAP_SETTINGS.filter((s) => s.default !== undefined).map((s) => [s.name, s.default])), ...given };
  // Several missing (a first config): name them all at once rather than one per attempt.
  const missing = REQUIRED.filter((name) => raw[name] === undefined || raw[name] === null || raw[name] === '');
  if (missing.length > 0) throw missingSettingsError(missing);
  const realm = realmSetting(raw.realm_id);
  // QBO compares at second precision; a fractional start would count rows the window then drops.
  const startDate = dateSetting(raw.start_date, 'start_date').startOf('second');
  const runStart = now.toUTC().startOf('second');
  if (startDate > runStart) throw new UsageError(`setting start_date (${startDate.toISO()}) is in the future; nothing can have changed after now`);
  const endLag = READ_ALONE.end_lag(raw);
  // A future end_date is clamped to the run start: a bookmark past what was read would make the
  // next run skip every change made until that date. The default end leaves end_lag out; a
  // start_date within it gives an empty range (the next run reads it), not an error about an
  // end_date nobody gave.
  const endDate =
    raw.end_date === undefined || raw.end_date === ''
      ? DateTime.max(defaultRangeEnd(runStart, endLag), startDate)
      : DateTime.min(dateSetting(raw.end_date, 'end_date'), runStart);
  if (endDate < startDate) throw new UsageError(`setting end_date (${endDate.toISO()}) is before start_date (${startDate.toISO()})`);
  const sandbox = READ_ALONE.sandbox(raw);
  const tokenStore = raw.token_store;
  return Object.freeze({
    clientId: secret(raw, 'client_id'),
    clientSecret: secret(raw, 'client_secret'),
    refreshToken: secret(raw, 'refresh_token'),
    realmId: realm,
    startDate,
    endDate,
    endLag,
    sandbox,
    baseUrl: READ_ALONE.base_url(raw),
    tokenUrl: READ_ALONE.token_url(raw),
    pageSize: READ_ALONE.page_size(raw),
    window: READ_ALONE.window(raw),
    maxSpanRows: READ_ALONE.max_span_rows(raw),
    maxRetries: READ_ALONE.max_retries(raw),
    requestTimeoutMs: READ_ALONE.request_timeout_seconds(raw) * 1000,
    maxRequestsPerMinute: READ_ALONE.max_requests_per_minute(raw),
    maxConcurrency: READ_ALONE.max_concurrency(raw),
    minorVersion: READ_ALONE.minor_version(raw),
    userAgent: typeof raw.user_agent === 'string' && raw.user_agent !== '' ? raw.user_agent : 'tap-quickbooks',
    includeDeleted: READ_ALONE.include_deleted(raw),
    tokenStorePath: path.resolve(
      typeof tokenStore === 'string' && tokenStore !== '' ? tokenStore : path.join('state', 'tokens', `${realm.replace(/[^\w.-]/g, '_')}.json`),
    ),
    throttleWaitMs: READ_ALONE.throttle_wait_seconds(raw) * 1000,
    retryBackoffMs: READ_ALONE.retry_backoff_seconds(raw) * 1000,
  });
}
