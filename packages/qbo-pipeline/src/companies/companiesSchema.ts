import { ENTITIES } from 'qbo-catalog';
import type { SettingSpec } from 'singer-kit';
import { ENV_PREFIX as TAP_ENV_PREFIX, TAP_SETTINGS } from 'tap-quickbooks';
import { TARGET_ENV_PREFIX, TARGET_SETTINGS } from 'target-postgres-raw';

/** A company's name: a folder, a Meltano plugin suffix and a Kubernetes name, so a DNS label. */
const COMPANY_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** A PostgreSQL identifier that needs no quoting in the queries people type. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const REALM_ID = /^[0-9]{1,30}$/;
export const KNOWN_STREAMS: readonly string[] = ENTITIES.map((e) => e.stream);

/** Where each secret comes from: a `*_file` key in `secrets:` → the plugin setting read from it (`<PREFIX>_<SETTING>_FILE`). */
export const SECRET_FILES = {
  client_id_file: { prefix: TAP_ENV_PREFIX, setting: 'client_id' },
  client_secret_file: { prefix: TAP_ENV_PREFIX, setting: 'client_secret' },
  refresh_token_file: { prefix: TAP_ENV_PREFIX, setting: 'refresh_token' },
  password_file: { prefix: TARGET_ENV_PREFIX, setting: 'password' },
  database_url_file: { prefix: TARGET_ENV_PREFIX, setting: 'database_url' },
} as const;
export type SecretFileKey = keyof typeof SECRET_FILES;
export const SECRET_FILE_KEYS = Object.keys(SECRET_FILES) as SecretFileKey[];
/** Every company needs these, from its own entry or from `defaults`. */
export const REQUIRED_SECRETS: readonly SecretFileKey[] = ['client_id_file', 'client_secret_file', 'refresh_token_file'];

/** Keys that would hold a secret value: refused anywhere in the file, which names files only. */
export const SECRET_VALUE_KEYS: readonly string[] = [
  ...new Set(Object.values(SECRET_FILES).map((s) => s.setting)),
  'access_token',
  'secret',
  'token',
  'webhook_url',
];

/** Plugin settings a companies file may not set under `tap:` / `target:`, and why. */
export const OWNED_SETTINGS: Readonly<Record<string, string>> = {
  realm_id: "the realm is the company's own realm_id (next to its name)",
  token_store: 'each company has its own token store, <state-dir>/companies/<name>/tokens/',
  start_date: 'the range comes from the command (--start, --end)',
  end_date: 'the range comes from the command (--start, --end)',
  schema: "the schema is the company's own schema (next to its name): one company per schema",
};

function settingsSchema(specs: readonly SettingSpec[]): object {
  const properties: Record<string, object> = {};
  for (const spec of specs) {
    if (spec.kind === 'password' || spec.name in OWNED_SETTINGS) continue;
    properties[spec.name] = spec.kind === 'integer' || spec.kind === 'number' || spec.kind === 'boolean' ? { type: spec.kind } : { type: 'string' };
  }
  return { type: 'object', additionalProperties: false, properties };
}

const secrets = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(SECRET_FILE_KEYS.map((k) => [k, { type: 'string', minLength: 1 }])),
};
const streams = { anyOf: [{ const: 'all' }, { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: KNOWN_STREAMS } }] };
const shared = {
  streams,
  /** Where the company's history starts: a stream's first sync (no bookmark yet) begins here. */
  start: { type: 'string', minLength: 1 },
  /** The company's recurring sync, run by `scheduler` (and exported as Meltano schedules and CronJobs). */
  schedule: {
    type: 'object',
    additionalProperties: false,
    required: ['cron'],
    properties: { cron: { type: 'string', minLength: 1 }, tz: { type: 'string', minLength: 1 } },
  },
  secrets,
  tap: settingsSchema(TAP_SETTINGS),
  target: settingsSchema(TARGET_SETTINGS),
};

/** The companies file (YAML) as a JSON Schema; checked with ajv, errors located with yaml's positions. */
export const COMPANIES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['companies'],
  properties: {
    defaults: { type: 'object', additionalProperties: false, properties: shared },
    scheduler: {
      type: 'object',
      additionalProperties: false,
      properties: { max_parallel: { type: 'integer', minimum: 1, maximum: 64 } },
    },
    /** `views: {schema: qbo_all}`: the scheduler keeps `<schema>.<stream>` views over every company current (`qbo-pipeline views`). */
    views: {
      type: 'object',
      additionalProperties: false,
      required: ['schema'],
      properties: { schema: { type: 'string', pattern: SCHEMA_NAME.source } },
    },
    /** `notify: {webhook_url_file: …, command: [argv…], console_url: …}`: the scheduler tells what needs a person there (`notify/`). */
    notify: {
      type: 'object',
      additionalProperties: false,
      properties: {
        webhook_url_file: { type: 'string', minLength: 1 },
        command: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        console_url: { type: 'string', pattern: '^https?://' },
      },
    },
    companies: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'realm_id'],
        properties: {
          name: { type: 'string', pattern: COMPANY_NAME.source },
          realm_id: { type: 'string', pattern: REALM_ID.source },
          schema: { type: 'string', pattern: SCHEMA_NAME.source },
          ...shared,
        },
      },
    },
  },
} as const;

/** What a failed `pattern` means, by the property it is on. */
export const PATTERN_HINTS: Readonly<Record<string, string>> = {
  name: 'must be lower-case letters, digits and "-" (at most 40, not starting or ending with "-"), e.g. acme-corp',
  realm_id: 'must be the realm id\'s digits in quotes, e.g. realm_id: "9341453050000000"',
  schema: 'must be a lower-case PostgreSQL name (letters, digits, _), e.g. raw_acme',
};
