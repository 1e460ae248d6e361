import { UsageError, Secret, registerSecret, type RawSettings, type SettingSpec } from 'singer-kit';
import { FIRST_COMMIT_ROWS } from './buffer/flushPolicy.js';
import { MAX_IDENTIFIER_BYTES } from './sql/tableName.js';

export const TARGET_ENV_PREFIX = 'TARGET_POSTGRES_RAW';

/** `1000` as `1,000`: toLocaleString would load ICU's locale data, about 12 ms of every start. */
const withThousands = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

export const TARGET_SETTINGS: readonly SettingSpec[] = [
  { name: 'database_url', kind: 'password', description: 'postgres://user:password@host:port/db (instead of host/port/user/password/database)' },
  { name: 'host', kind: 'string', description: 'PostgreSQL host', default: 'localhost' },
  { name: 'port', kind: 'integer', description: 'PostgreSQL port', default: 5432 },
  { name: 'user', kind: 'string', description: 'PostgreSQL user', default: 'postgres' },
  { name: 'password', kind: 'password', description: 'PostgreSQL password' },
  { name: 'database', kind: 'string', description: 'PostgreSQL database', default: 'postgres' },
  { name: 'sslmode', kind: 'string', description: 'disable | require | verify-full (as libpq)', default: 'disable' },
  { name: 'schema', kind: 'string', description: 'schema that holds one table per stream', default: 'raw' },
  {
    name: 'batch_size_rows',
    kind: 'integer',
    description: `commit when a stream buffers this many records (a run's first commits hold fewer: ${withThousands(FIRST_COMMIT_ROWS)}, doubling up to this)`,
    default: 5_000,
  },
  { name: 'batch_size_bytes', kind: 'integer', description: 'commit when the buffered JSON of all streams reaches this many bytes', default: 64 * 1024 * 1024 },
  { name: 'max_batch_age_seconds', kind: 'number', description: 'commit when the oldest buffered record is this old (a timer)', default: 60 },
  {
    name: 'reconnect_timeout_seconds',
    kind: 'number',
    description:
      'when the database connection is lost (restart, failover) or refused, keep reconnecting this long, then write the batch again; after that exit 1',
    default: 120,
  },
  {
    name: 'connect_timeout_seconds',
    kind: 'number',
    description: 'give up a connection attempt the server does not answer within this long (then retried as reconnect_timeout_seconds says)',
    default: 30,
  },
  {
    name: 'query_timeout_seconds',
    kind: 'number',
    description:
      'a statement PostgreSQL gives no answer to within this long (a server or network that stopped answering) counts as a lost connection: reconnect and write the batch again',
    default: 300,
  },
  { name: 'validate_records', kind: 'boolean', description: 'validate each record against its stream SCHEMA (JSON Schema, ajv)', default: true },
];

const SSL_MODES = ['disable', 'require', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];

export interface ConnectionSettings {
  readonly connectionString?: Secret;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: Secret;
  readonly database: string;
  readonly sslmode: SslMode;
  /** A connection attempt the server does not answer within this long fails (connect_timeout_seconds). */
  readonly connectTimeoutMs: number;
  /** A statement the server does not answer within this long breaks the connection (query_timeout_seconds). */
  readonly queryTimeoutMs: number;
}

export interface TargetSettings {
  readonly connection: ConnectionSettings;
  readonly schema: string;
  readonly batchSizeRows: number;
  readonly batchSizeBytes: number;
  readonly maxBatchAgeMs: number;
  /** How long a lost or refused connection is retried before the run fails (0: one attempt). */
  readonly reconnectTimeoutMs: number;
  readonly validateRecords: boolean;
}

function positiveInteger(raw: RawSettings, name: string): number {
  const value = raw[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`setting ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

const MAX_PORT = 65_535;

/** A TCP port: node refuses one past 65535 only when it connects, which a run would retry for reconnect_timeout_seconds and then fail as if the server were down. */
function portSetting(raw: RawSettings): number {
  const value = raw.port;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PORT) {
    throw new UsageError(`setting port must be an integer from 1 to ${MAX_PORT}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function text(raw: RawSettings, name: string): string {
  const value = raw[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`setting ${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function sslModeSetting(raw: RawSettings): SslMode {
  const sslmode = text(raw, 'sslmode');
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw new UsageError(`setting sslmode must be one of ${SSL_MODES.join(', ')}, got ${JSON.stringify(sslmode)}`);
  }
  return sslmode as SslMode;
}

/**
 * The schema setting, as PostgreSQL will keep it: a name longer than its identifiers would be cut
 * without a word (two companies' schemas could meet in one), and `pg_` is its system schemas' prefix.
 */
function schemaName(raw: RawSettings): string {
  const schema = text(raw, 'schema');
  if (Buffer.byteLength(schema) > MAX_IDENTIFIER_BYTES) {
    throw new UsageError(
      `setting schema: ${JSON.stringify(schema)} is ${Buffer.byteLength(schema)} bytes long; PostgreSQL keeps the first ${MAX_IDENTIFIER_BYTES} bytes of a name and would silently use another schema, so choose a name of ${MAX_IDENTIFIER_BYTES} bytes at most`,
    );
  }
  if (schema.startsWith('pg_'))
    throw new UsageError(`setting schema: ${JSON.stringify(schema)} starts with pg_, which PostgreSQL keeps for its system schemas; choose another name`);
  return schema;
}

/** A setting in seconds, more than 0, in milliseconds. */
function positiveSeconds(raw: RawSettings, name: string): number {
  const value = raw[name];
  if (typeof value !== 'number' || !(value > 0)) throw new UsageError(`setting ${name} must be a positive number of seconds, got ${JSON.stringify(value)}`);
  return Math.round(value * 1000);
}

/** `reconnect_timeout_seconds`, in milliseconds: 0 is one attempt, no retrying. */
function reconnectTimeout(raw: RawSettings): number {
  const value = raw.reconnect_timeout_seconds;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new UsageError(`setting reconnect_timeout_seconds must be a number of seconds, 0 or more, got ${JSON.stringify(value)}`);
  }
  return Math.round(value * 1000);
}

function booleanSetting(raw: RawSettings, name: string): boolean {
  const value = raw[name];
  if (typeof value !== 'boolean') throw new UsageError(`setting ${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The settings a run reads each on its own, by a rule of its own, from settings with their defaults
 * applied: `parseTargetSettings` builds its result from these, and `checkTargetSetting` holds a
 * single value to the same rule. Not here: the secrets (`database_url`, `password`), read only by a
 * run. `host`, `port`, `user` and `database` are read by a run only without a `database_url`, but a
 * value of theirs that could never connect is wrong wherever it is written.
 */
const READ_ALONE = {
  host: (raw: RawSettings) => text(raw, 'host'),
  port: portSetting,
  user: (raw: RawSettings) => text(raw, 'user'),
  database: (raw: RawSettings) => text(raw, 'database'),
  sslmode: sslModeSetting,
  schema: schemaName,
  batch_size_rows: (raw: RawSettings) => positiveInteger(raw, 'batch_size_rows'),
  batch_size_bytes: (raw: RawSettings) => positiveInteger(raw, 'batch_size_bytes'),
  max_batch_age_seconds: (raw: RawSettings) => positiveSeconds(raw, 'max_batch_age_seconds'),
  reconnect_timeout_seconds: reconnectTimeout,
  connect_timeout_seconds: (raw: RawSettings) => positiveSeconds(raw, 'connect_timeout_seconds'),
  query_timeout_seconds: (raw: RawSettings) => positiveSeconds(raw, 'query_timeout_seconds'),
  validate_records: (raw: RawSettings) => booleanSetting(raw, 'validate_records'),
} as const;

/**
 * Throws the UsageError a run would give for this value of the setting (`setting batch_size_rows
 * must be a positive integer, got 0`), without reading anything else: a settings file of the
 * runner's checks each value it carries when it is read, to exactly the target's rules. A setting
 * not in `READ_ALONE` (a secret, an unknown key) passes, unread.
 */
export function checkTargetSetting(name: string, value: unknown): void {
  if (Object.hasOwn(READ_ALONE, name)) READ_ALONE[name as keyof typeof READ_ALONE]({ [name]: value });
}

/** What to do about a password or user whose characters break the URL; never shows a part of it, which could be the password's. */
const ENCODE_HINT =
  'a character of the user or password may need percent-encoding (/ as %2F, # as %23, ? as %3F, @ as %40, % as %25), or give the password apart (setting password, TARGET_POSTGRES_RAW_PASSWORD_FILE) with host, user and database';

type Timeouts = Pick<ConnectionSettings, 'connectTimeoutMs' | 'queryTimeoutMs'>;

/** A percent-decoded part of database_url; a % without two hex digits after it parses as a URL but cannot be decoded. */
function decodeUrlPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new UsageError(`setting database_url does not read as postgres://user:password@host:port/database: ${ENCODE_HINT}`);
  }
}

function connectionFromUrl(url: string, sslmode: SslMode, timeouts: Timeouts): ConnectionSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`setting database_url is not a valid URL (expected postgres://user:password@host:port/database); ${ENCODE_HINT}`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(`setting database_url must start with postgres:// (got ${parsed.protocol}//…)`);
  }
  // A / ? or # left in a password ends the URL's host early: the rest reads as the database
  // (postgres://u:p/w@host/db has host "p"...), and the run would retry an unknown host for minutes.
  if (/[/@]/.test(parsed.pathname.slice(1)) || parsed.hash !== '' || parsed.search.includes('@')) {
    throw new UsageError(`setting database_url does not read as postgres://user:password@host:port/database: ${ENCODE_HINT}`);
  }
  // The password inside the URL is as secret as the URL itself.
  if (parsed.password) registerSecret(decodeUrlPart(parsed.password));
  return {
    connectionString: new Secret(url),
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeUrlPart(parsed.username),
    database: decodeUrlPart(parsed.pathname.replace(/^\//, '')) || 'postgres',
    sslmode,
    ...timeouts,
  };
}

/** Typed, frozen target settings from the merged raw settings; any problem is a UsageError (exit 2). */
export function parseTargetSettings(raw: RawSettings): TargetSettings {
  const sslmode = READ_ALONE.sslmode(raw);
  const url = raw.database_url;
  const password = raw.password;
  const timeouts: Timeouts = {
    connectTimeoutMs: READ_ALONE.connect_timeout_seconds(raw),
    queryTimeoutMs: READ_ALONE.query_timeout_seconds(raw),
  };
  const connection =
    typeof url === 'string' && url !== ''
      ? connectionFromUrl(url, sslmode, timeouts)
      : {
          host: READ_ALONE.host(raw),
          port: READ_ALONE.port(raw),
          user: READ_ALONE.user(raw),
          database: READ_ALONE.database(raw),
          sslmode,
          ...timeouts,
          ...(typeof password === 'string' && password !== '' ? { password: new Secret(password) } : {}),
        };
  return Object.freeze({
    connection: Object.freeze(connection),
    schema: READ_ALONE.schema(raw),
    batchSizeRows: READ_ALONE.batch_size_rows(raw),
    batchSizeBytes: READ_ALONE.batch_size_bytes(raw),
    maxBatchAgeMs: READ_ALONE.max_batch_age_seconds(raw),
    reconnectTimeoutMs: READ_ALONE.reconnect_timeout_seconds(raw),
    validateRecords: READ_ALONE.validate_records(raw),
  });
}
