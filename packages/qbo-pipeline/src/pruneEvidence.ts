import path from 'node:path';
import { CliError, createLogger, EXIT, UsageError } from 'singer-kit';
import { combinedExitCode } from './companies/runForCompanies.js';
import { runTargetSettings } from './checkBackfill.js';
import { readConfigFile } from './childConfigs.js';
import { Warehouse, type PrunedEvidence } from './Warehouse.js';

const logger = createLogger('qbo-pipeline');
const DAY = 86_400_000;

/** `--older-than`: a whole number of days, at least 1, written `400d`. */
function olderThanDays(text: string): number {
  const days = /^([1-9][0-9]{0,5})d$/.exec(text.trim());
  if (!days) throw new UsageError(`--older-than ${JSON.stringify(text)}: give a whole number of days followed by d, e.g. 400d (at least 1d)`);
  return Number(days[1]);
}

/** One line per schema: what was (or, in a dry run, would be) deleted. */
function formatPruned(where: string, cutOff: Date, pruned: PrunedEvidence, dryRun: boolean): string {
  return (
    `${where}: ${dryRun ? 'would delete' : 'deleted'} ${pruned.volumetry} _volumetry, ${pruned.loadStats} _load_stats, ` +
    `${pruned.loadRuns} _load_runs and ${pruned.pipelineRuns} _pipeline_runs rows older than ${cutOff.toISOString()} ` +
    `(the newest run of every stream and UTC day stays)${dryRun ? '; dry run, nothing changed' : ''}`
  );
}

/**
 * `qbo-pipeline evidence prune --older-than <N>d`: in each company's schema (a companies file) or
 * the target's one schema, deletes the evidence and run rows older than N days that no day needs
 * (`Warehouse.pruneEvidence`), one transaction each, and says what it deleted on stdout. A schema
 * that cannot be pruned says why on stderr and stops no other; the exit code is the worst.
 */
export async function pruneEvidence(options: {
  readonly olderThan: string;
  readonly dryRun: boolean;
  readonly file: string | undefined;
  readonly company: string | undefined;
  readonly stateRoot: string;
  readonly targetConfig: string | undefined;
  readonly now?: Date;
  readonly env?: NodeJS.ProcessEnv;
}): Promise<number> {
  const cutOff = new Date((options.now ?? new Date()).getTime() - olderThanDays(options.olderThan) * DAY);
  if (options.targetConfig) readConfigFile(path.resolve(options.targetConfig), 'target config');
  const env = options.env ? { env: options.env } : {};
  const schemas: Array<{ readonly where: string; readonly settings: () => ReturnType<typeof runTargetSettings> }> = [];
  if (options.file === undefined) {
    schemas.push({ where: 'schema', settings: () => runTargetSettings({ tapConfig: undefined, targetConfig: options.targetConfig }, env) });
  } else {
    const { loadCompanies, pickCompanies } = await import('./companies/loadCompanies.js');
    const { companyStateDir } = await import('./companies/companyRun.js');
    for (const company of pickCompanies(loadCompanies(options.file), options.company, options.file)) {
      schemas.push({
        where: `${company.name}: schema`,
        settings: () =>
          runTargetSettings(
            {
              tapConfig: undefined,
              targetConfig: options.targetConfig,
              company: { settings: company },
              stateDir: companyStateDir(path.resolve(options.stateRoot), company.name),
            },
            env,
          ),
      });
    }
  }
  const outcomes: Array<{ exitCode: number }> = [];
  for (const schema of schemas) {
    let warehouse: Warehouse | undefined;
    let where = schema.where;
    try {
      const target = schema.settings();
      where = `${schema.where} ${target.schema}`;
      warehouse = await Warehouse.connect(target.connection, target.schema);
      process.stdout.write(formatPruned(where, cutOff, await warehouse.pruneEvidence(cutOff, options.dryRun), options.dryRun) + '\n');
      outcomes.push({ exitCode: EXIT.ok });
    } catch (error) {
      logger.error(`${where}: cannot prune the evidence: ${(error as Error).message}`);
      outcomes.push({ exitCode: error instanceof CliError ? error.exitCode : EXIT.runFailed });
    } finally {
      await warehouse?.close().catch(() => undefined);
    }
  }
  return combinedExitCode(outcomes);
}
