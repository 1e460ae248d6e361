import { DateTime, type Duration } from 'luxon';
import { loadSettings, UsageError } from 'singer-kit';
import { endLagSetting, ENV_PREFIX as TAP_ENV_PREFIX, parseTapSettings, TAP_SETTINGS, TokenStore, type TapSettings } from 'tap-quickbooks';
import { parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS, type TargetSettings } from 'target-postgres-raw';
import { resolveBackfill, shortPath, type BackfillRequest, type ResolvedBackfill } from './BackfillRequest.js';
import { childConfigValues, childOptionsFor, type ChildSettingsInput } from './childConfigs.js';
import type { Company } from './companies/parseCompanies.js';
import { readStateFile, stateJobProblem, type StateValue } from './stateFile.js';

/** A backfill whose every input was checked: its settings as the tap and target will read them, and its state. */
export interface CheckedBackfill {
  readonly job: ResolvedBackfill;
  readonly tap: TapSettings;
  readonly target: TargetSettings;
  /** The state the run resumes from: undefined before the first commit, and with --fresh. */
  readonly state: StateValue | undefined;
}

export interface CheckOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** When the run will start (a trigger's instant); default now. A start_date after it is refused. */
  readonly at?: Date;
  /** The request's company, as its companies file says now (`loadCompany`). */
  readonly company?: Company;
}

/**
 * Everything a backfill needs, checked when the command is given rather than when it runs (so
 * `trigger add` refuses what would fail at 2 a.m.): the arguments; every tap and target setting
 * exactly as the children will read them (config files, `TAP_QUICKBOOKS_*` /
 * `TARGET_POSTGRES_RAW_*`, `*_FILE` secrets, `DATABASE_URL`); the token store; the job's state
 * file, which must be that job's. Any problem is a UsageError (exit 2), one line naming what and
 * where. The scheduler's `schedule add` and `sync` call it too.
 */
export async function checkBackfill(request: BackfillRequest, options: CheckOptions = {}): Promise<CheckedBackfill> {
  const cwd = options.cwd ?? process.cwd();
  return checkResolvedBackfill(resolveBackfill(request, cwd, options.company), { ...options, cwd });
}

/** `checkBackfill` for a request already resolved. */
export async function checkResolvedBackfill(job: ResolvedBackfill, options: CheckOptions = {}): Promise<CheckedBackfill> {
  const settings = await checkRunSettings(job, options);
  const state = job.fresh ? undefined : await readStateFile(job.stateFile);
  // A company's own job follows the streams of its file: a bookmark of a stream taken out of it is carried along.
  const problem = job.company && !job.streamsGiven ? undefined : stateJobProblem(state, job);
  if (problem) throw new UsageError(problem);
  return { job, ...settings, state };
}

/** Where a run's settings come from (the company's too), and the range the runner will give the tap. */
export type RunSettingsInput = ChildSettingsInput & { readonly start: DateTime; readonly end: DateTime };

/**
 * The tap's and target's settings exactly as the children will read them, and the tap's token
 * store: the part of `checkBackfill` a schedule (whose range is only known when it fires) needs.
 */
export async function checkRunSettings(
  input: RunSettingsInput,
  options: CheckOptions = {},
): Promise<{ readonly tap: TapSettings; readonly target: TargetSettings }> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const at = DateTime.fromJSDate(options.at ?? new Date(), { zone: 'utc' });
  const child = childOptionsFor(input, env);
  const values = childConfigValues(child);
  const children = child.childEnv;
  const tap = explained(`tap-quickbooks settings (${settingsSource('tap', input, cwd, TAP_ENV_PREFIX)})`, () =>
    parseTapSettings(loadSettings({ specs: TAP_SETTINGS, envPrefix: TAP_ENV_PREFIX, overrides: values.tap, env: children }), at),
  );
  const target = parsedTargetSettings(input, values.target, children, cwd);
  if (!namesWarehouse(values.target, children)) {
    throw new UsageError(
      `target-postgres-raw settings (${settingsSource('target', input, cwd, TARGET_ENV_PREFIX)}): nothing says which PostgreSQL to load into, so the run would try the defaults (user ${target.connection.user} at ${target.connection.host}:${target.connection.port}/${target.connection.database}); ` +
        `set ${TARGET_ENV_PREFIX}_DATABASE_URL (or _FILE), ${TARGET_ENV_PREFIX}_HOST/_USER/_DATABASE, or DATABASE_URL, or give --target-config`,
    );
  }
  await new TokenStore(tap.tokenStorePath).read();
  return { tap, target };
}

/** The settings that say where PostgreSQL is; a run given none of them would try the target's defaults, which is a forgotten setting far more often than a choice. */
const WAREHOUSE_SETTINGS = ['database_url', 'host', 'port', 'user', 'password', 'database'];

/** True when the config file, the runner's overrides or the environment set any of `WAREHOUSE_SETTINGS` (defaults do not count). */
function namesWarehouse(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv): boolean {
  const specs = TARGET_SETTINGS.filter((spec) => WAREHOUSE_SETTINGS.includes(spec.name)).map(({ default: _default, ...spec }) => spec);
  const given = loadSettings({ specs, envPrefix: TARGET_ENV_PREFIX, overrides, env });
  return WAREHOUSE_SETTINGS.some((name) => given[name] !== undefined && given[name] !== '');
}

/**
 * The tap's `end_lag` as a run's tap would read it (config file, environment, the company's
 * `tap:`), before the range is known: a sync ends its range that long before its start, as the
 * tap's own default end does. Only that setting is read, so any other problem is still named
 * where the run's settings are checked.
 */
export function runEndLag(input: ChildSettingsInput, options: Pick<CheckOptions, 'env' | 'cwd'> = {}): Duration {
  const child = childOptionsFor(input, options.env ?? process.env);
  const specs = TAP_SETTINGS.filter((spec) => spec.name === 'end_lag');
  const given = loadSettings({ specs, envPrefix: TAP_ENV_PREFIX, overrides: childConfigValues(child).tap, env: child.childEnv });
  return explained(`tap-quickbooks settings (${settingsSource('tap', input, options.cwd ?? process.cwd(), TAP_ENV_PREFIX)})`, () => endLagSetting(given));
}

/** The target's settings alone, as a run's target would read them (the warehouse of a company, for its evidence). */
export function runTargetSettings(input: ChildSettingsInput, options: Pick<CheckOptions, 'env' | 'cwd'> = {}): TargetSettings {
  const child = childOptionsFor(input, options.env ?? process.env);
  return parsedTargetSettings(input, childConfigValues(child).target, child.childEnv, options.cwd ?? process.cwd());
}

function parsedTargetSettings(input: ChildSettingsInput, overrides: Record<string, unknown>, env: NodeJS.ProcessEnv, cwd: string): TargetSettings {
  return explained(`target-postgres-raw settings (${settingsSource('target', input, cwd, TARGET_ENV_PREFIX)})`, () =>
    parseTargetSettings(loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, overrides, env })),
  );
}

/** Where a program's settings came from, for the message of a setting that is wrong. */
function settingsSource(program: 'tap' | 'target', input: ChildSettingsInput, cwd: string, prefix: string): string {
  const file = program === 'tap' ? input.tapConfig : input.targetConfig;
  const company = input.company ? `company ${input.company.settings.name} (${input.company.settings.where}), ` : '';
  return file === undefined
    ? `${company}no --${program}-config given, so ${prefix}_* and *_FILE variables only`
    : `${company}--${program}-config ${shortPath(file, cwd)}, ${prefix}_* and *_FILE variables`;
}

/** Runs `parse`; a UsageError it throws gets `context` in front, saying whose setting and where it came from. */
function explained<T>(context: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${context}: ${error.message}`, { cause: error });
    throw error;
  }
}
