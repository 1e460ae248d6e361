import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { parseInstant, UsageError } from 'singer-kit';
import { checkTapSetting } from 'tap-quickbooks';
import { checkTargetSetting } from 'target-postgres-raw';
import { parseCron } from '../schedules/cronSlots.js';
import {
  COMPANIES_SCHEMA,
  KNOWN_STREAMS,
  OWNED_SETTINGS,
  PATTERN_HINTS,
  REQUIRED_SECRETS,
  SECRET_FILE_KEYS,
  SECRET_VALUE_KEYS,
  type SecretFileKey,
} from './companiesSchema.js';

export type SettingValue = string | number | boolean;

/** One company (realm) of the companies file, its defaults applied. */
export interface Company {
  readonly name: string;
  readonly realmId: string;
  /** One company per schema. Default `raw_<name>` (`-` as `_`). */
  readonly schema: string;
  readonly streams: readonly string[];
  /** Where its history starts (as written; a valid instant): the first sync of a stream begins here. */
  readonly start: string | undefined;
  /** Its recurring sync: a cron expression read in `tz` (checked), and where: its own `schedule:` or the defaults' (`companies.yaml:6`). */
  readonly schedule: { readonly cron: string; readonly tz: string; readonly where: string } | undefined;
  /** The files its secrets are read from (the runner never reads them itself): absolute path, as written, and where. */
  readonly secretFiles: Readonly<Partial<Record<SecretFileKey, SecretFile>>>;
  /** tap-quickbooks settings (no secrets, none the runner owns). */
  readonly tap: Readonly<Record<string, SettingValue>>;
  /** target-postgres-raw settings (no secrets, not the schema). */
  readonly target: Readonly<Record<string, SettingValue>>;
  /** `companies.yaml:12`, for messages. */
  readonly where: string;
}

interface SecretFile {
  /** Absolute. */
  readonly path: string;
  /** As the file gives it. */
  readonly given: string;
  /** `companies.yaml:17:7`, the line that names it. */
  readonly where: string;
}

export interface Companies {
  /** Absolute path. */
  readonly file: string;
  readonly companies: readonly Company[];
  /** `scheduler.max_parallel`, when the file sets it. */
  readonly maxParallel: number | undefined;
  /** `views.schema`, when the file sets it: the scheduler keeps the views over every company there current. */
  readonly viewsSchema: string | undefined;
  /** `notify:`, when the file sets it: where the scheduler posts what needs a person (`notifySettings`). */
  readonly notify:
    | {
        readonly webhookUrlFile: SecretFile | undefined;
        /** The argv of a command given each notification's JSON on stdin (never a shell string). */
        readonly command: readonly string[] | undefined;
        readonly consoleUrl: string | undefined;
      }
    | undefined;
}

interface Shared {
  streams?: 'all' | string[];
  start?: string;
  schedule?: { cron: string; tz?: string };
  secrets?: Partial<Record<SecretFileKey, string>>;
  tap?: Record<string, SettingValue>;
  target?: Record<string, SettingValue>;
}
interface RawFile {
  defaults?: Shared;
  scheduler?: { max_parallel?: number };
  views?: { schema: string };
  notify?: { webhook_url_file?: string; command?: string[]; console_url?: string };
  companies: Array<Shared & { name: string; realm_id: string; schema?: string }>;
}

/**
 * ajv for the companies schema. Every company command (a person's, or a scheduler's child per
 * slot) compiles it once to check one small file, so the compile is kept cheap: the schema is not
 * checked against JSON Schema's meta-schema at each start (compiling that was 55 ms of CPU; the
 * unit test checks it once), nor is the generated code optimised (30 ms, to save microseconds on
 * one document).
 */
export const COMPANIES_AJV_OPTIONS = { allErrors: false, strict: true, verbose: true, validateSchema: false, code: { optimize: false } } as const;

let compiled: ValidateFunction<RawFile> | undefined;
/** Compiled on first use: commands that take no companies file do not pay for it. */
const validate = (value: unknown): value is RawFile => {
  compiled ??= new Ajv(COMPANIES_AJV_OPTIONS).compile<RawFile>(COMPANIES_SCHEMA);
  return compiled(value);
};

type Segment = string | number;

/** `companies[1].secrets.refresh_token_file`, as a person reads a path into the file. */
function dotted(segments: readonly Segment[]): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${s}` : s), '') || 'the file';
}

function segmentsOf(instancePath: string): Segment[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

const quoteList = (items: readonly string[]) => items.map((i) => JSON.stringify(i)).join(', ');

const valueAt = (root: unknown, segments: readonly Segment[]): unknown =>
  segments.reduce<unknown>((v, s) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined), root);

/** ajv's first error as one sentence a person can act on. */
function describe(error: ErrorObject, root: unknown): { segments: Segment[]; key?: string; message: string } {
  const segments = segmentsOf(error.instancePath);
  const last = segments.at(-1);
  const streamsAt = segments.lastIndexOf('streams');
  if (streamsAt >= 0) {
    const streamSegments = segments.slice(0, streamsAt + 1);
    const value = valueAt(root, streamSegments);
    if (Array.isArray(value)) {
      const unknown: unknown = value.find((s) => !KNOWN_STREAMS.includes(s as string));
      if (unknown !== undefined)
        return { segments: streamSegments, message: `unknown stream ${JSON.stringify(unknown)}; known streams: ${KNOWN_STREAMS.join(', ')}` };
      if (value.length === 0) return { segments: streamSegments, message: 'name at least one stream, or say all' };
      return { segments: streamSegments, message: 'a stream is named twice' };
    }
    return { segments: streamSegments, message: 'must be all, or a list of streams such as [invoices, customers, items]' };
  }
  switch (error.keyword) {
    case 'required':
      return { segments, message: `missing ${(error.params as { missingProperty: string }).missingProperty}` };
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const section = typeof last === 'string' ? last : undefined;
      if ((section === 'tap' || section === 'target') && key in OWNED_SETTINGS)
        return { segments, key, message: `${key} cannot be set here: ${OWNED_SETTINGS[key]}` };
      if (section === 'secrets') return { segments, key, message: `unknown secret file ${JSON.stringify(key)}; known: ${quoteList(SECRET_FILE_KEYS)}` };
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      return { segments, key, message: `unknown setting ${JSON.stringify(key)}; known here: ${known.join(', ')}` };
    }
    case 'pattern':
      return { segments, message: PATTERN_HINTS[String(last)] ?? `does not match ${(error.params as { pattern: string }).pattern}` };
    case 'type': {
      if (last === 'realm_id') return { segments, message: `${PATTERN_HINTS.realm_id} (an unquoted number can lose digits)` };
      // `end_lag: 5`, `page_size: 5.5`, `port: "5432"`: what the tap or target accepts, not just
      // "a string" or "an integer".
      const section = segments.at(-2);
      if (isPluginSection(section) && typeof last === 'string') {
        const pluginSays = settingProblem(section, last, valueAt(root, segments));
        if (pluginSays !== undefined) return { segments, message: pluginSays };
      }
      return {
        segments,
        message: `must be ${(error.params as { type: string }).type === 'object' ? 'a mapping (key: value lines)' : `of type ${(error.params as { type: string }).type}`}`,
      };
    }
    default:
      return { segments, message: error.message ?? 'is not valid' };
  }
}

/**
 * Reads a companies file (YAML): checks it against the schema and the rules no schema says (no
 * secret values, every company with its secret files, names, realms and schemas each used once),
 * applies `defaults`, and resolves secret file paths against the file's folder. Every problem is
 * a UsageError, `file:line:column: where: what`, never quoting a value that could be a secret.
 */
export function parseCompanies(text: string, file: string, shownAs = file): Companies {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return `${shownAs}:${pos.line}:${pos.col}`;
  };
  const fail = (offset: number | undefined, where: string, message: string): never => {
    throw new UsageError(`companies file ${at(offset)}: ${where}: ${message}`);
  };
  const yamlError = doc.errors[0];
  if (yamlError) fail(yamlError.pos[0], 'not valid YAML', yamlError.message.split(' at line ')[0] as string);

  const value = doc.toJS() as unknown;
  refuseSecretValues(doc, value, fail);
  if (!validate(value)) {
    const problem = describe(compiled?.errors?.[0] as ErrorObject, value);
    fail(offsetOf(doc, problem.segments, problem.key), labelled(value, problem.segments, problem.key), problem.message);
  }
  const raw = value as RawFile;
  const dir = path.dirname(file);
  const defaults = raw.defaults ?? {};
  // The tap's and the target's settings are checked here, each at its own line, not when a
  // company's run starts: every command reading the file stops on them (a run of all companies, a
  // list, the console, an export that would write the value on). Where it is written: a default
  // every company overrides is still a mistake in the file.
  const checkSetting = (segments: Segment[], section: PluginSection, key: string, given: unknown) => {
    const pluginSays = settingProblem(section, key, given);
    if (pluginSays !== undefined) fail(offsetOf(doc, segments), labelled(value, segments), pluginSays);
  };
  const checkPlugins = (at: Segment[], shared: Shared) => {
    for (const section of PLUGIN_SECTIONS)
      for (const [key, given] of Object.entries(shared[section] ?? {})) checkSetting([...at, section, key], section, key, given);
  };
  checkPlugins(['defaults'], defaults);
  const secretFile = (segments: Segment[], given: string): SecretFile => ({ path: path.resolve(dir, given), given, where: at(offsetOf(doc, segments)) });
  const secretsOf = (segments: Segment[], secrets: Shared['secrets']) =>
    Object.fromEntries(Object.entries(secrets ?? {}).map(([k, given]) => [k, secretFile([...segments, 'secrets', k], given)]));
  const defaultSecrets = secretsOf(['defaults'], defaults.secrets);
  const companies = raw.companies.map((entry, i): Company => {
    const secrets = { ...defaultSecrets, ...secretsOf(['companies', i], entry.secrets) };
    const missing = REQUIRED_SECRETS.filter((k) => secrets[k] === undefined);
    if (missing.length > 0) {
      fail(
        offsetOf(doc, ['companies', i]),
        labelled(value, ['companies', i]),
        `no ${missing.join(', ')} under secrets: (here or under defaults:); the file names where each secret is, e.g. refresh_token_file: secrets/${entry.name}/refresh_token`,
      );
    }
    const streams = entry.streams ?? defaults.streams ?? 'all';
    // Its start and schedule too, as they apply to it (its own, else the defaults'), at their line.
    const from = (...key: string[]) => (valueAt(entry, key) !== undefined ? ['companies', i, ...key] : ['defaults', ...key]);
    const start = entry.start ?? defaults.start;
    if (start !== undefined) {
      try {
        parseInstant(start, 'start');
      } catch (error) {
        fail(offsetOf(doc, from('start')), labelled(value, from('start')), (error as Error).message.replace(/^start: /, ''));
      }
    }
    const schedule = entry.schedule ?? defaults.schedule;
    if (schedule !== undefined) {
      try {
        parseCron(schedule.cron, schedule.tz ?? 'UTC');
      } catch (error) {
        fail(offsetOf(doc, from('schedule')), labelled(value, from('schedule')), (error as Error).message.replace(/^--(cron|tz): /, '$1: '));
      }
    }
    checkPlugins(['companies', i], entry);
    // Its schema is the target's schema setting: held to the target's rule too (not pg_…).
    if (entry.schema !== undefined) checkSetting(['companies', i, 'schema'], 'target', 'schema', entry.schema);
    return Object.freeze({
      name: entry.name,
      realmId: entry.realm_id,
      schema: entry.schema ?? `raw_${entry.name.replace(/-/g, '_')}`,
      streams: streams === 'all' ? KNOWN_STREAMS : streams,
      start,
      schedule:
        schedule === undefined
          ? undefined
          : { cron: schedule.cron, tz: schedule.tz ?? 'UTC', where: `${shownAs}:${lineCounter.linePos(offsetOf(doc, from('schedule')) ?? 0).line}` },
      secretFiles: secrets,
      tap: { ...defaults.tap, ...entry.tap },
      target: { ...defaults.target, ...entry.target },
      where: `${shownAs}:${lineCounter.linePos((doc.getIn(['companies', i], true) as Node).range?.[0] ?? 0).line}`,
    });
  });
  for (const [field, of, why] of [
    ['name', (c: Company) => c.name, 'each company needs its own name (its state folder)'],
    ['realm_id', (c: Company) => c.realmId, 'one realm is one company: two entries would keep two token stores, and the first refresh breaks the other'],
    ['schema', (c: Company) => c.schema, 'one company per schema: QBO Ids repeat across companies'],
  ] as const) {
    const seen = new Map<string, number>();
    companies.forEach((c, i) => {
      const first = seen.get(of(c));
      if (first !== undefined) {
        const given = field !== 'schema' || raw.companies[i]?.schema !== undefined;
        fail(
          offsetOf(doc, given ? ['companies', i, field] : ['companies', i]),
          labelled(value, ['companies', i]),
          `${field} ${of(c)} is also company ${companies[first]?.name}'s (${companies[first]?.where}): ${why}`,
        );
      }
      seen.set(of(c), i);
    });
  }
  const viewsOwner = companies.find((c) => c.schema === raw.views?.schema);
  if (viewsOwner)
    fail(
      offsetOf(doc, ['views', 'schema']),
      'views.schema',
      `${viewsOwner.schema} is company ${viewsOwner.name}'s schema (${viewsOwner.where}): the views over every company need a schema of their own, e.g. qbo_all`,
    );
  if (raw.notify && raw.notify.webhook_url_file === undefined && raw.notify.command === undefined)
    fail(offsetOf(doc, ['notify']), 'notify', 'says nowhere to notify: give webhook_url_file: <file holding the URL>, command: [program, args…], or both');
  return Object.freeze({
    file,
    companies: Object.freeze(companies),
    maxParallel: raw.scheduler?.max_parallel,
    viewsSchema: raw.views?.schema,
    notify: raw.notify && {
      webhookUrlFile: raw.notify.webhook_url_file === undefined ? undefined : secretFile(['notify', 'webhook_url_file'], raw.notify.webhook_url_file),
      command: raw.notify.command && Object.freeze([...raw.notify.command]),
      consoleUrl: raw.notify.console_url,
    },
  });
}

/** The sections of a company (or `defaults:`) holding a plugin's settings, each checked by its plugin's own rules. */
const PLUGIN_CHECKS = { tap: checkTapSetting, target: checkTargetSetting } as const;
type PluginSection = keyof typeof PLUGIN_CHECKS;
const PLUGIN_SECTIONS = Object.keys(PLUGIN_CHECKS) as PluginSection[];
const isPluginSection = (segment: Segment | undefined): segment is PluginSection => typeof segment === 'string' && Object.hasOwn(PLUGIN_CHECKS, segment);

/**
 * Why a run would refuse this value of a tap or target setting (the plugin's own rule,
 * `checkTapSetting` / `checkTargetSetting`, so the file accepts exactly what a run does), as what
 * follows the key: `must be an integer from 1 to 1000, got 5000`; undefined when the plugin takes it.
 */
function settingProblem(section: PluginSection, key: string, given: unknown): string | undefined {
  try {
    PLUGIN_CHECKS[section](key, given);
    return undefined;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // `setting page_size must be…`, `setting schema: "pg_x" starts with…`: what follows the name.
    return error.message.replace(`setting ${key}`, '').replace(/^:? /, '');
  }
}

/** `companies[1] (globex).secrets.refresh_token_file`: the path, with the company's name when it has one. */
function labelled(value: unknown, segments: readonly Segment[], key?: string): string {
  const full = key === undefined ? segments : [...segments, key];
  if (full[0] !== 'companies' || typeof full[1] !== 'number') return dotted(full);
  const name = (value as RawFile).companies?.[full[1]]?.name;
  const head = `companies[${full[1]}]${typeof name === 'string' ? ` (${name})` : ''}`;
  return full.length > 2 ? `${head}.${dotted(full.slice(2))}` : head;
}

/** Where a path (and optionally a key of the mapping there) starts in the text. */
function offsetOf(doc: Document, segments: readonly Segment[], key?: string): number | undefined {
  const node = segments.length === 0 ? doc.contents : doc.getIn(segments, true);
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (pair && isScalar(pair.key)) return pair.key.range?.[0];
  }
  if (isMap(node) || isSeq(node) || isScalar(node)) return node.range?.[0];
  return undefined;
}

/** The file names files; a key that would hold a secret value is refused wherever it is, and its value never shown. */
function refuseSecretValues(doc: Document, value: unknown, fail: (offset: number | undefined, where: string, message: string) => never): void {
  visit(doc, {
    Pair(_key, pair, ancestors) {
      if (!isPair(pair) || !isScalar(pair.key) || typeof pair.key.value !== 'string') return;
      const key = pair.key.value;
      if (!SECRET_VALUE_KEYS.includes(key)) return;
      const segments: Segment[] = [];
      for (const a of ancestors) {
        if (isPair(a) && isScalar(a.key)) segments.push(String(a.key.value));
        if (isSeq(a)) {
          const child = ancestors[ancestors.indexOf(a) + 1];
          segments.push(a.items.indexOf(child));
        }
      }
      const fileKey = `${key}_file`;
      const hint = (SECRET_FILE_KEYS as readonly string[]).includes(fileKey)
        ? `write it to a file and give ${fileKey}: <path> under secrets:`
        : key === 'webhook_url'
          ? 'write it to a file and give webhook_url_file: <path> under notify:'
          : 'keep secrets in files, named under secrets: (client_id_file, client_secret_file, refresh_token_file, password_file, database_url_file)';
      fail(pair.key.range?.[0], labelled(value, segments, key), `would hold a secret value, and the companies file names files only: ${hint}`);
    },
  });
}
