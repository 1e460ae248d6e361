import { CliError, EXIT } from 'singer-kit';
import type { BackfillResult } from '../runBackfill.js';
import { JobPool } from './JobPool.js';
import type { Company } from './parseCompanies.js';

/** How one company's run ended: its result, or the error that kept it from running. */
export interface CompanyOutcome {
  readonly company: Company;
  readonly exitCode: number;
  readonly result?: BackfillResult;
  /** Refused before its pipeline ran (its settings, its state file, a lock), in one line. */
  readonly error?: string;
}

/** One exit code for many companies: 2 when any needs fixing, else 1 when any failed, else 0. */
export function combinedExitCode(outcomes: readonly Pick<CompanyOutcome, 'exitCode'>[]): number {
  if (outcomes.some((o) => o.exitCode === EXIT.usage)) return EXIT.usage;
  return outcomes.some((o) => o.exitCode !== EXIT.ok) ? EXIT.runFailed : EXIT.ok;
}

/** A run's exit code: its result's, or for an error that kept it from running, 2 for one to fix first, else 1. */
export function exitCodeOf(outcome: BackfillResult | Error): number {
  if (!(outcome instanceof Error)) return outcome.exitCode;
  return outcome instanceof CliError ? outcome.exitCode : EXIT.runFailed;
}

export function outcomeOf(company: Company, outcome: { ok: true; value: BackfillResult } | { ok: false; error: Error }): CompanyOutcome {
  if (outcome.ok) return { company, exitCode: exitCodeOf(outcome.value), result: outcome.value };
  return { company, exitCode: exitCodeOf(outcome.error), error: outcome.error.message };
}

/**
 * The same run (backfill or sync) for several companies of one file, side by side up to
 * `maxParallel` (one per realm): each in its own state folder, schema and token store. A company
 * that fails is reported for itself and stops no other; `onOutcome` hears each as it ends.
 */
export async function runForCompanies(options: {
  readonly companies: readonly Company[];
  readonly maxParallel: number;
  readonly run: (company: Company) => Promise<BackfillResult>;
  readonly onOutcome?: (outcome: CompanyOutcome) => void;
  readonly signal?: AbortSignal;
}): Promise<CompanyOutcome[]> {
  const outcomes: CompanyOutcome[] = [];
  const pool = new JobPool<BackfillResult>(options.maxParallel, (job, outcome) => {
    const company = options.companies.find((c) => c.name === job.id) as Company;
    const settled = outcomeOf(company, outcome);
    outcomes.push(settled);
    options.onOutcome?.(settled);
  });
  for (const company of options.companies) pool.submit({ id: company.name, realm: company.realmId, run: () => options.run(company) });
  const stop = () => pool.clearQueue();
  options.signal?.addEventListener('abort', stop, { once: true });
  await pool.idle();
  options.signal?.removeEventListener('abort', stop);
  return options.companies.map((c) => outcomes.find((o) => o.company === c)).filter((o): o is CompanyOutcome => o !== undefined);
}
