import type { Argv } from 'yargs';
import { UsageError } from 'singer-kit';

/** `--companies FILE`, or `QBO_PIPELINE_COMPANIES` (the compose scheduler's environment). */
export const COMPANIES_ENV = 'QBO_PIPELINE_COMPANIES';

/** `--companies FILE` and `--company NAME`, shared by every command that runs or lists companies. */
export function companiesOptions<T>(y: Argv<T>) {
  return y
    .option('companies', { type: 'string', describe: `companies file (YAML): one entry per QuickBooks company; default $${COMPANIES_ENV}` })
    .option('company', { type: 'string', describe: 'only this company of the companies file (default: all of them)' });
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
