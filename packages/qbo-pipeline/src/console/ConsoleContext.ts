import { stat } from 'node:fs/promises';
import path from 'node:path';
import { IANAZone } from 'luxon';
import { UsageError, type Logger } from 'singer-kit';
import type { TargetSettings } from 'target-postgres-raw';
import type { Warehouse } from '../Warehouse.js';
import { visitWarehouse } from '../visitWarehouse.js';
import { readConfigFile, warehouseSettings } from '../childConfigs.js';
import { DEFAULT_COMPANY } from '../companies/companiesOptions.js';
import { companyStateDir } from '../companies/companyRun.js';
import { loadCompanies } from '../companies/loadCompanies.js';
import type { Company } from '../companies/parseCompanies.js';
import { consoleAccess, type ConsoleAccess } from './consoleAccess.js';

/** One company as the console sees it: its state folder and its warehouse. */
export interface ConsoleCompany {
  readonly name: string;
  /** Its own folder: job state files, triggers, schedules, runs, token stores. */
  readonly stateDir: string;
  /** The warehouse as its runs' target sees it, or why that cannot be worked out (the evidence page says so). */
  readonly warehouse: TargetSettings | { readonly unavailable: string };
  /** Its entry in the companies file, when there is one. */
  readonly entry?: { readonly file: string; readonly settings: Company };
}

/** Everything the console reads, and the defaults of the triggers it adds. */
export interface ConsoleOptions extends ConsoleReading {
  readonly access: ConsoleAccess;
}

/** What the console's pages read (the scheduler's notifications read the same, `notify/`). */
export interface ConsoleReading {
  /** The runner's state folder (`--state-dir`); with a companies file, each company's is `companies/<name>/` in it. */
  readonly stateDir: string;
  /**
   * The companies file (`--companies` or QBO_PIPELINE_COMPANIES): one company each; without it, one
   * company of the state folder. As given, so its errors name it as the other commands do.
   */
  readonly companiesFile?: string;
  /** Passed to the triggers added through the form, as `trigger add --tap-config/--target-config` would; the target's also names the warehouse. */
  readonly tapConfig?: string;
  readonly targetConfig?: string;
  /** Where TARGET_POSTGRES_RAW_*, DATABASE_URL and the companies file's secrets are read; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The second time zone shown beside UTC, and the trigger form's default (default UTC). */
  readonly zone?: string;
  readonly now?: () => Date;
  readonly logger?: Logger;
}

/** The console's read access to its state and warehouse. */
export class ConsoleContext {
  readonly options: ConsoleReading;
  readonly stateDir: string;
  readonly zone: string;
  #loaded: { readonly mtimeMs: number; readonly companies: readonly ConsoleCompany[] } | undefined;

  constructor(options: ConsoleReading) {
    this.options = options;
    this.stateDir = path.resolve(options.stateDir);
    this.zone = options.zone ?? 'UTC';
  }

  now(): Date {
    return this.options.now?.() ?? new Date();
  }

  #warehouse(company?: ConsoleCompany['entry'], stateDir?: string): ConsoleCompany['warehouse'] {
    try {
      return warehouseSettings(
        this.options.targetConfig,
        this.options.env ?? process.env,
        company && stateDir ? { settings: company.settings, stateDir } : undefined,
      );
    } catch (error) {
      return { unavailable: (error as Error).message };
    }
  }

  /**
   * The companies of the companies file (read again when it changes), each in its own folder; a
   * file that cannot be read is a UsageError. Without a companies file, one company: the state folder.
   */
  async companies(): Promise<readonly ConsoleCompany[]> {
    const file = this.options.companiesFile;
    if (file === undefined) {
      if (!this.#loaded) this.#loaded = { mtimeMs: 0, companies: [{ name: DEFAULT_COMPANY, stateDir: this.stateDir, warehouse: this.#warehouse() }] };
      return this.#loaded.companies;
    }
    const mtimeMs = await stat(file).then(
      (s) => s.mtimeMs,
      () => -1,
    );
    if (this.#loaded?.mtimeMs === mtimeMs) return this.#loaded.companies;
    const loaded = loadCompanies(file);
    const companies = loaded.companies.map((settings): ConsoleCompany => {
      const stateDir = companyStateDir(this.stateDir, settings.name);
      const entry = { file: loaded.file, settings };
      return { name: settings.name, stateDir, warehouse: this.#warehouse(entry, stateDir), entry };
    });
    this.#loaded = { mtimeMs, companies };
    return companies;
  }

  /** A company by name (the first when no name is given); undefined when there is none of that name. */
  async company(name: string | undefined): Promise<ConsoleCompany | undefined> {
    const all = await this.companies();
    return name === undefined || name === '' ? all[0] : all.find((c) => c.name === name);
  }

  /** A short visit to a company's warehouse for one page: connect, read, close. */
  async withWarehouse<T>(company: ConsoleCompany, read: (warehouse: Warehouse, schema: string) => Promise<T>): Promise<T> {
    const settings = company.warehouse;
    if ('unavailable' in settings) throw new Error(settings.unavailable);
    return visitWarehouse(settings, 'qbo-pipeline console', read);
  }
}

/** The console's command-line arguments. */
export interface ConsoleArgs {
  readonly host?: string;
  readonly port?: number;
  readonly passwordFile?: string;
  readonly stateDir: string;
  readonly companiesFile?: string;
  readonly tapConfig?: string;
  readonly targetConfig?: string;
  readonly zone?: string;
}

/**
 * Checks the arguments (UsageError, exit 2, for where it may listen, the password, the zone, and a
 * `--tap-config` or `--target-config` that cannot be read: a file named by mistake is refused at
 * start-up, not found out on a page). A warehouse that otherwise cannot be configured (nothing
 * says where it is) does not stop the console: its evidence page says why.
 */
export function consoleOptions(args: ConsoleArgs, env: NodeJS.ProcessEnv, logger?: Logger): ConsoleOptions {
  const access = consoleAccess({
    ...(args.host !== undefined ? { host: args.host } : {}),
    ...(args.port !== undefined ? { port: args.port } : {}),
    ...(args.passwordFile !== undefined ? { passwordFile: args.passwordFile } : {}),
    env,
  });
  if (args.zone !== undefined && !IANAZone.isValidZone(args.zone))
    throw new UsageError(`--zone: ${JSON.stringify(args.zone)} is not an IANA time zone, e.g. America/Guayaquil`);
  // Read now only to refuse a bad file; each page reads it again, so an edit takes effect.
  if (args.tapConfig) readConfigFile(path.resolve(args.tapConfig), 'tap config');
  if (args.targetConfig) readConfigFile(path.resolve(args.targetConfig), 'target config');
  return {
    access,
    stateDir: args.stateDir,
    env,
    ...(args.companiesFile ? { companiesFile: args.companiesFile } : {}),
    ...(args.tapConfig ? { tapConfig: path.resolve(args.tapConfig) } : {}),
    ...(args.targetConfig ? { targetConfig: path.resolve(args.targetConfig) } : {}),
    ...(args.zone ? { zone: args.zone } : {}),
    ...(logger ? { logger } : {}),
  };
}
