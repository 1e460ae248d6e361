import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { diskFullText, formatInstant, loadSettings, readJsonArgument, RunError, settingInEnv, UsageError, withoutSettingEnv, type Logger } from 'singer-kit';
import { ENV_PREFIX as TAP_ENV_PREFIX, TAP_SETTINGS } from 'tap-quickbooks';
import { parseTargetSettings, TARGET_ENV_PREFIX, TARGET_SETTINGS, type TargetSettings } from 'target-postgres-raw';
import { companyChildSettings } from './companies/companyRun.js';
import type { Company } from './companies/parseCompanies.js';
import { ifExists, readdirIfExists } from './ifExists.js';
import { ownStart, processGone, processOnThisHost, type ProcessLookup } from './processOnHost.js';

/** Tap settings the runner decides itself (the range); the environment must not override them. */
const RUNNER_OWNED_TAP_SETTINGS = ['start_date', 'end_date'] as const;

/** A `--tap-config` or `--target-config` file's object ({} without one); a UsageError naming the file when it cannot be read. */
export function readConfigFile(file: string | undefined, what: string): Record<string, unknown> {
  if (file === undefined) return {};
  const value = readJsonArgument(file, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} ${file} must hold a JSON object`);
  return value as Record<string, unknown>;
}

/** The children's environment: ours, minus what the runner sets in their config files. */
export function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return withoutSettingEnv(env, TAP_ENV_PREFIX, RUNNER_OWNED_TAP_SETTINGS);
}

/**
 * The environment without any TAP_QUICKBOOKS_* / TARGET_POSTGRES_RAW_* setting (nor its *_FILE),
 * for runs whose config files say everything (the demo's): the environment would win over them.
 */
export function withoutPluginEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const names = (specs: readonly { readonly name: string }[]) => specs.map((spec) => spec.name);
  return withoutSettingEnv(withoutSettingEnv(env, TAP_ENV_PREFIX, names(TAP_SETTINGS)), TARGET_ENV_PREFIX, names(TARGET_SETTINGS));
}

/** The target's config: the user's file, plus DATABASE_URL when nothing else says where the warehouse is. */
export function targetConfig(file: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const named =
    file.database_url !== undefined || file.host !== undefined || ['database_url', 'host'].some((setting) => settingInEnv(env, TARGET_ENV_PREFIX, setting));
  return !named && env.DATABASE_URL ? { ...file, database_url: env.DATABASE_URL } : file;
}

/**
 * The warehouse as a run's target would see it with this config file and environment
 * (DATABASE_URL included), for a company of a companies file with its settings and schema:
 * what the console reads evidence from, without writing any file. The range does not matter here.
 */
export function warehouseSettings(
  targetConfig: string | undefined,
  env: NodeJS.ProcessEnv,
  company?: { readonly settings: Company; readonly stateDir: string },
): TargetSettings {
  const now = DateTime.utc();
  const child = childOptionsFor(
    { tapConfig: undefined, targetConfig, start: now, end: now, ...(company ? { company: { settings: company.settings }, stateDir: company.stateDir } : {}) },
    env,
  );
  return parseTargetSettings(
    loadSettings({ specs: TARGET_SETTINGS, envPrefix: TARGET_ENV_PREFIX, overrides: childConfigValues(child).target, env: child.childEnv }),
  );
}

export interface ChildConfigs {
  readonly dir: string;
  readonly tap: string;
  readonly target: string;
  /** Writes another file in the same private folder. */
  write(name: string, value: unknown): Promise<string>;
  /** Writes `text` as it is (e.g. a state file's own text, whose numbers JSON.parse could round). */
  writeText(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export interface ChildConfigOptions {
  readonly tapConfig: string | undefined;
  readonly targetConfig: string | undefined;
  readonly tapOverrides: Record<string, unknown>;
  readonly targetOverrides?: Record<string, unknown>;
  readonly env: NodeJS.ProcessEnv;
}

/** What decides a run's children's settings: the config files, the range, and the company if any. */
export interface ChildSettingsInput {
  readonly tapConfig: string | undefined;
  readonly targetConfig: string | undefined;
  /** The range the runner gives the tap (absent when only the target's settings are wanted). */
  readonly start?: DateTime;
  readonly end?: DateTime;
  readonly company?: { readonly settings: Company } | undefined;
  /** The job's folder (a company's: its token store is there). */
  readonly stateDir?: string;
}

/**
 * The one place a run's children's settings are put together: the config files, the range the
 * runner owns, and for a company its realm, schema, token store, settings and secret files, which
 * win over the environment (`companyChildSettings`). `childEnv` is the children's environment.
 */
export function childOptionsFor(input: ChildSettingsInput, env: NodeJS.ProcessEnv): ChildConfigOptions & { readonly childEnv: NodeJS.ProcessEnv } {
  const company = input.company && input.stateDir !== undefined ? companyChildSettings(input.company.settings, input.stateDir, env) : undefined;
  const runEnv = company?.env ?? env;
  return {
    tapConfig: input.tapConfig,
    targetConfig: input.targetConfig,
    tapOverrides: {
      ...company?.tap,
      ...(input.start ? { start_date: formatInstant(input.start) } : {}),
      ...(input.end ? { end_date: formatInstant(input.end) } : {}),
    },
    targetOverrides: company?.target ?? {},
    env: runEnv,
    childEnv: childEnv(runEnv),
  };
}

/** The tap's and target's config files' contents, as the runner hands them over. */
export function childConfigValues(options: ChildConfigOptions): { readonly tap: Record<string, unknown>; readonly target: Record<string, unknown> } {
  return {
    tap: { ...readConfigFile(options.tapConfig, 'tap config'), ...options.tapOverrides },
    target: targetConfig({ ...readConfigFile(options.targetConfig, 'target config'), ...options.targetOverrides }, options.env),
  };
}

/**
 * A run's config folder in the temporary folder: `qbo-pipeline-<host>-<pid>-<start>-XXXXXX`, named
 * after the process that made it, its host, pid and start (clock ticks since boot, Linux's
 * /proc/<pid>/stat; `x` elsewhere), so that a run on the same host can tell when it is gone.
 */
const CONFIG_DIR = /^qbo-pipeline-(.+)-(\d+)-(\d+|x)-[A-Za-z0-9]{6}$/;

/** The host as a config folder's name holds it. */
export function configDirHost(host = hostname()): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64);
}

/**
 * The config folders (names) whose runner is gone: made on `host` by a pid that no process has
 * now, or that a process started since has (its start differs: the pid was reused, as a
 * container's pid 1 after a restart). Folders of other hosts (a shared temporary folder), of
 * unknown names, and of a live process (a runner, or a scheduler running runs) are never named.
 */
export function abandonedConfigDirs(names: readonly string[], host: string, processOf: ProcessLookup): string[] {
  return names.filter((name) => {
    const match = CONFIG_DIR.exec(name);
    if (!match || match[1] !== host) return false;
    return processGone(Number(match[2]), match[3] === 'x' ? undefined : match[3], processOf);
  });
}

/**
 * Removes the config folders, in the temporary folder, of runners on this host that are gone
 * (`abandonedConfigDirs`): a runner or scheduler killed with kill -9 or by the OOM killer never
 * removed its own, and `tap.json` holds the client secret and a refresh token. Every run does it as
 * it writes its own, and a scheduler at each pass. Only this user's folders; never throws (a folder
 * it cannot remove is a warning). Returns the folders removed.
 */
export async function removeAbandonedConfigDirs(logger?: Logger): Promise<string[]> {
  const dir = tmpdir();
  const removed: string[] = [];
  try {
    for (const name of abandonedConfigDirs(await readdirIfExists(dir), configDirHost(), processOnThisHost)) {
      const folder = path.join(dir, name);
      const info = await ifExists(() => lstat(folder));
      if (!info?.isDirectory() || info.uid !== process.getuid?.()) continue;
      await rm(folder, { recursive: true, force: true });
      removed.push(folder);
      logger?.info(`removed ${folder}: the config files (secrets included) of a runner on this host that is gone (killed)`);
    }
  } catch (error) {
    logger?.warn(`could not remove the config folders of gone runners in ${dir}: ${(error as Error).message}`);
  }
  return removed;
}

/**
 * Config files for one tap | target run in a private temporary folder (0700, files 0600):
 * secrets reach the children through files or their inherited environment, never argv.
 * The folder's name says whose it is; first, the folders of runners that are gone are removed.
 */
export async function writeChildConfigs(options: ChildConfigOptions, logger?: Logger): Promise<ChildConfigs> {
  const { tap, target } = childConfigValues(options);
  await removeAbandonedConfigDirs(logger);
  const parent = tmpdir();
  // A failure here is the temporary folder's (full, not writable): one line saying so, no stack, and no half-written folder left.
  const cannotWrite = (error: unknown) =>
    new RunError(
      `cannot write the tap's and target's config files in ${parent}: ${diskFullText(error, parent) ?? `${(error as Error).message}; make it writable (TMPDIR names it)`}, then run again: it resumes`,
      { cause: error },
    );
  const dir = await mkdtemp(path.join(parent, `qbo-pipeline-${configDirHost()}-${process.pid}-${ownStart() ?? 'x'}-`)).catch((error: unknown) => {
    throw cannotWrite(error);
  });
  const writeText = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await writeFile(file, text, { mode: 0o600 }).catch(async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw cannotWrite(error);
    });
    return file;
  };
  const write = (name: string, value: unknown) => writeText(name, JSON.stringify(value));
  return {
    dir,
    tap: await write('tap.json', tap),
    target: await write('target.json', target),
    write,
    writeText,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
