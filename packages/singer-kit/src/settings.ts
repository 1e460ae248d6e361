import { readFileSync } from 'node:fs';
import { distance } from 'fastest-levenshtein';
import { UsageError } from './errors.js';
import { registerSecret } from './redact.js';
import { readUserFile } from './readUserFile.js';
import { jsonSyntaxProblem } from './jsonSyntax.js';

/** Kinds follow Meltano's setting kinds so meltano.yml and --about agree with the code. */
type SettingKind = 'string' | 'password' | 'integer' | 'number' | 'boolean' | 'date_iso8601' | 'object' | 'array';

export interface SettingSpec {
  readonly name: string;
  readonly kind: SettingKind;
  readonly description: string;
  readonly default?: unknown;
  readonly required?: boolean;
}

export type RawSettings = Record<string, unknown>;

export interface LoadSettingsOptions {
  readonly specs: readonly SettingSpec[];
  /** e.g. `TAP_QUICKBOOKS` → TAP_QUICKBOOKS_START_DATE, TAP_QUICKBOOKS_CLIENT_SECRET_FILE */
  readonly envPrefix: string;
  readonly configFile?: string | undefined;
  /** Values that replace the file's (a caller's own settings, e.g. a runner's start_date); the environment still wins. */
  readonly overrides?: RawSettings;
  readonly env?: NodeJS.ProcessEnv;
}

export function envName(prefix: string, setting: string): string {
  return `${prefix}_${setting.toUpperCase()}`;
}

/** The variable naming a file that holds the setting (Docker secrets): `PREFIX_SETTING_FILE`. */
export function envFileName(prefix: string, setting: string): string {
  return `${envName(prefix, setting)}_FILE`;
}

/** Whether `env` sets the setting, directly or through a file. */
export function settingInEnv(env: NodeJS.ProcessEnv, prefix: string, setting: string): boolean {
  return env[envName(prefix, setting)] !== undefined || env[envFileName(prefix, setting)] !== undefined;
}

/** A copy of `env` without the variables that would set these settings (`PREFIX_SETTING`, `PREFIX_SETTING_FILE`). */
export function withoutSettingEnv(env: NodeJS.ProcessEnv, prefix: string, settings: Iterable<string>): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const setting of settings) {
    delete out[envName(prefix, setting)];
    delete out[envFileName(prefix, setting)];
  }
  return out;
}

function readJsonFile(file: string, what: string): unknown {
  const text = readUserFile(file, (reason) => `cannot read ${what} ${file}: ${reason}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} ${file} is not valid JSON: ${jsonSyntaxProblem(error)}`);
  }
}

/** Reads and parses a JSON file given on the command line; a clear UsageError otherwise. */
export function readJsonArgument(file: string, what: string): unknown {
  return readJsonFile(file, what);
}

function fromEnvText(spec: SettingSpec, text: string, source: string): unknown {
  switch (spec.kind) {
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off', ''].includes(lower)) return false;
      throw new UsageError(`${source}: expected true or false, got ${JSON.stringify(text)}`);
    }
    case 'integer':
    case 'number': {
      const n = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(n) || (spec.kind === 'integer' && !Number.isInteger(n))) {
        throw new UsageError(`${source}: expected ${spec.kind === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}`);
      }
      return n;
    }
    case 'object':
    case 'array':
      try {
        return JSON.parse(text);
      } catch {
        throw new UsageError(`${source}: expected JSON (${spec.kind})`);
      }
    default:
      return text;
  }
}

/**
 * A key that is no setting but a slip of one (`start_dat`, `Schema`, `end-date`), as `"start_dat"
 * is not a setting; did you mean start_date?`; undefined for a setting or a key unlike any (kept:
 * Meltano may add some). Unread, a misspelt `end_date` or `schema` would load another range or
 * into another schema without a word.
 */
export function misspeltSetting(key: string, specs: readonly SettingSpec[]): string | undefined {
  if (specs.some((s) => s.name === key)) return undefined;
  const plain = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/-/g, '_');
  // one slip in a short name (host, port), two in a longer one: `list` is not a slip of `host`
  const slips = (name: string) => (name.length >= 8 ? 2 : 1);
  const near = specs
    .map((s) => ({ name: s.name, edits: distance(plain, s.name) }))
    .filter((s) => s.edits <= slips(s.name))
    .sort((a, b) => a.edits - b.edits)[0];
  return near && `${JSON.stringify(key)} is not a setting; did you mean ${near.name}?`;
}

/**
 * Merges settings from, in rising precedence: defaults, the --config JSON file, the
 * environment (`PREFIX_SETTING`), and files named by `PREFIX_SETTING_FILE` (Docker secrets).
 * Unknown keys in the file and overrides are kept (Meltano may add some), but one a slip away
 * from a setting is refused (`misspeltSetting`). Password values are registered for redaction
 * the moment they are read.
 */
export function loadSettings(options: LoadSettingsOptions): RawSettings {
  const env = options.env ?? process.env;
  const merged: RawSettings = {};
  for (const spec of options.specs) if (spec.default !== undefined) merged[spec.name] = spec.default;
  if (options.configFile) {
    const fileValue = readJsonFile(options.configFile, 'config file');
    if (typeof fileValue !== 'object' || fileValue === null || Array.isArray(fileValue)) {
      throw new UsageError(`config file ${options.configFile} must hold a JSON object`);
    }
    for (const [key, value] of Object.entries(fileValue)) {
      const misspelt = misspeltSetting(key, options.specs);
      if (misspelt) throw new UsageError(`config file ${options.configFile}: ${misspelt}`);
      if (value !== null) merged[key] = value;
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    const misspelt = misspeltSetting(key, options.specs);
    if (misspelt) throw new UsageError(misspelt);
    if (value !== null && value !== undefined) merged[key] = value;
  }
  for (const spec of options.specs) {
    const name = envName(options.envPrefix, spec.name);
    const direct = env[name];
    if (direct !== undefined) merged[spec.name] = fromEnvText(spec, direct, name);
    const fileName = envFileName(options.envPrefix, spec.name);
    const fileVar = env[fileName];
    if (fileVar !== undefined && fileVar !== '') {
      let text: string;
      try {
        text = readFileSync(fileVar, 'utf8');
      } catch (error) {
        throw new UsageError(`${fileName}: cannot read ${fileVar} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      merged[spec.name] = fromEnvText(spec, text.replace(/\r?\n$/, ''), fileName);
    }
  }
  for (const spec of options.specs) {
    const value = merged[spec.name];
    if (spec.kind === 'password' && typeof value === 'string') registerSecret(value);
  }
  return merged;
}

/** The settings as a JSON Schema, for `--about --format json`. */
export function settingsJsonSchema(specs: readonly SettingSpec[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const spec of specs) {
    const type = spec.kind === 'password' || spec.kind === 'date_iso8601' ? 'string' : spec.kind;
    properties[spec.name] = {
      type,
      description: spec.description,
      ...(spec.kind === 'password' ? { secret: true, writeOnly: true } : {}),
      ...(spec.kind === 'date_iso8601' ? { format: 'date-time' } : {}),
      ...(spec.default !== undefined ? { default: spec.default } : {}),
    };
  }
  return {
    type: 'object',
    properties,
    required: specs.filter((s) => s.required).map((s) => s.name),
  };
}
