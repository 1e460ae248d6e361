import type { Argv } from 'yargs';
import { UsageError } from 'singer-kit';

/** `--companies FILE`, or `QBO_PIPELINE_COMPANIES` (the compose scheduler's environment). */
const COMPANIES_ENV = 'QBO_PIPELINE_COMPANIES';

const COMPANIES_OPTION = { type: 'string', describe: `companies file (YAML): one entry per QuickBooks company; default $${COMPANIES_ENV}` } as const;

/** `--companies FILE` and `--company NAME`, shared by every command that runs or lists companies. */
export function companiesOptions<T>(y: Argv<T>) {
  return y
    .option('companies', COMPANIES_OPTION)
    .option('company', { type: 'string', describe: 'only this company of the companies file (default: all of them)' });
}

/** The name of the one company when there is no companies file (the console, `evidence`). */
export const DEFAULT_COMPANY = 'default';

/** The schema of the views over every company (`qbo-pipeline views`) when neither `--schema` nor the file's `views.schema` says. */
export const DEFAULT_VIEWS_SCHEMA = 'qbo_all';

/** The commands that take `--company NAME`: what a command that refuses it points at. */
const COMPANY_COMMANDS = 'backfill, sync, reconcile, trigger add, trigger list, schedule list, evidence and company list';

/**
 * `--companies FILE` for a command over every company of the file (scheduler, console, export):
 * its --help does not offer `--company`, which it takes only to refuse it (`refuseCompany`) with
 * a line saying why, rather than yargs' "unknown argument".
 */
export function allCompaniesOptions<T>(y: Argv<T>) {
  return y.option('companies', COMPANIES_OPTION).option('company', { type: 'string', hidden: true });
}

/** `--company` given to a command over every company (`allCompaniesOptions`): a UsageError saying why and which commands take it. */
export function refuseCompany(argv: { company?: string | undefined }, command: string, why: string): void {
  if (argv.company !== undefined) throw new UsageError(`${command}: ${why}; leave out --company (it is for ${COMPANY_COMMANDS})`);
}

/** The companies file a command uses, if any: `--companies`, else the environment; `--company` alone is refused. */
export function companiesFileOf(
  argv: { companies?: string | undefined; company?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const file = argv.companies ?? (env[COMPANIES_ENV] || undefined);
  if (argv.company !== undefined && file === undefined)
    throw new UsageError(`--company ${argv.company}: say which companies file holds it (--companies FILE, or ${COMPANIES_ENV})`);
  return file;
}

/** `--max-parallel`: a whole number of runs at least 1, or undefined for the file's or the default. */
export function maxParallelOf(value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new UsageError(`--max-parallel: ${value} must be a whole number of at least 1`);
  return value;
}
