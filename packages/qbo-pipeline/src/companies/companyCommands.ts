import path from 'node:path';
import { CliError, createLogger, EXIT, plural, UsageError, writeFileAtomic } from 'singer-kit';
import type { BackfillRequest } from '../BackfillRequest.js';
import type { Notifier } from '../notify/Notifier.js';
import { addTrigger } from '../triggers/addTrigger.js';
import { checkBackfill, runTargetSettings } from '../checkBackfill.js';
import { readConfigFile } from '../childConfigs.js';
import { formatTriggers } from '../triggers/formatTriggers.js';
import type { Trigger } from '../triggers/Trigger.js';
import { reportUnreadableTriggers, triggerStore } from '../triggers/TriggerStore.js';
import { formatSummary, printRunnerFailure } from '../formatSummary.js';
import { streamsDoneLines } from '../formatProgress.js';
import { runBackfill, type BackfillHooks } from '../runBackfill.js';
import { RunJournal } from '../runs/RunJournal.js';
import { combinedExitCode, outcomeOf, runForCompanies, type CompanyOutcome } from './runForCompanies.js';
import { CompaniesScheduler, companySchedules } from './CompaniesScheduler.js';
import { formatSchedules } from '../schedules/formatSchedules.js';
import { scheduleStore } from '../schedules/ScheduleStore.js';
import { Document } from 'yaml';
import { kubernetesCronJobs, meltanoCompanies } from './exportCompanies.js';
import { KUBERNETES_DEFAULTS, type KubernetesOptions } from './kubernetesOptions.js';
import { formatCompaniesEvidence, isUnreadable, readCompaniesEvidence } from './companyEvidence.js';
import { companiesEvidenceQueryText, newestEvidenceSql } from '../evidenceSql.js';
import { parseInstant } from 'singer-kit';
import { resolveStreams } from '../BackfillRequest.js';
import { runSync, type SyncRequest } from '../runSync.js';
import type { BackfillResult } from '../runBackfill.js';
import { companiesNotInFile, companiesStateDir, companyStateDir } from './companyRun.js';
import { formatCompanyList, formatCompanyOutcomes } from './formatCompanies.js';
import { cdcWindows, endLagOf, readsDeletionsOf, streamFreshness } from '../console/freshness.js';
import { listJobStates } from '../stateFile.js';
import { defaultMaxParallel } from './JobPool.js';
import {
  companiesByWarehouse,
  companiesFileIdentity,
  formatViews,
  refreshViews,
  targetSchemaWarehouse,
  viewsScript,
  type WarehouseCompanies,
} from './companyViews.js';
import { targetSchemaIdentity, type ViewsRequest } from './viewsSql.js';
import { DEFAULT_COMPANY, DEFAULT_VIEWS_SCHEMA } from './companiesOptions.js';
import { SCHEMA_NAME } from './companiesSchema.js';
import { loadCompanies, pickCompanies, requireSecretFiles, secretFileProblems, selectCompanies } from './loadCompanies.js';
import type { Companies, Company } from './parseCompanies.js';

const logger = createLogger('qbo-pipeline');

export interface CompanySelection {
  readonly file: string;
  readonly companies: Companies;
  readonly selected: readonly Company[];
}

/** Reads the file and picks the companies (`selectCompanies`: the one named is checked here; over all, each company's run checks its own). */
export async function selectFromFile(file: string, name: string | undefined): Promise<CompanySelection> {
  const companies = loadCompanies(file);
  return { file, companies, selected: await selectCompanies(companies, name, file) };
}

/** Stderr lines of one company's children, and its progress, each prefixed with the company. */
function companyHooks(company: Company, signal?: AbortSignal): BackfillHooks {
  const done = new Set<string>();
  return {
    ...(signal ? { signal } : {}),
    // The run's own lines (a run found gone and closed, a reconcile advised) name the company, as its children's do.
    logger: logger.child(company.name),
    onChildLog: (role, line) => process.stderr.write(`[${company.name} ${role}] ${line}\n`),
    onProgress: (progress) => {
      for (const line of streamsDoneLines(progress, done)) logger.info(`${company.name}: ${line}`);
    },
  };
}

/** What `backfill` or `sync` asks of each company: the request without its company. */
export type CompanyRunRequest =
  { readonly kind: 'backfill'; readonly request: Omit<BackfillRequest, 'company'> } | { readonly kind: 'sync'; readonly request: Omit<SyncRequest, 'company'> };

function runOne(what: CompanyRunRequest, file: string, company: Company, hooks: BackfillHooks): Promise<BackfillResult> {
  const ref = { company: { file, name: company.name } };
  return what.kind === 'sync' ? runSync({ ...what.request, ...ref }, hooks) : runBackfill({ ...what.request, ...ref }, hooks);
}

/**
 * `backfill` or `sync` with `--companies FILE [--company NAME]`: each company side by side up to
 * `maxParallel` (one per realm), each summary as it ends, then one table for all; the exit code is
 * the worst (2 when any company needs fixing). `single` runs one company as the command alone does.
 */
export async function runCompaniesCommand(options: {
  readonly selection: CompanySelection;
  readonly what: CompanyRunRequest;
  readonly maxParallel: number | undefined;
  readonly signal: AbortSignal;
  readonly single?: BackfillHooks;
}): Promise<number> {
  const { selection, what, signal } = options;
  if (options.single && selection.selected.length === 1) {
    const result = await runOne(what, selection.file, selection.selected[0] as Company, { ...options.single, signal });
    printRunnerFailure(result);
    process.stdout.write(formatSummary(result) + '\n');
    return result.exitCode;
  }
  const maxParallel = options.maxParallel ?? selection.companies.maxParallel ?? defaultMaxParallel();
  logger.info(`${what.kind} of ${plural(selection.selected.length, 'company')} from ${selection.file}, up to ${maxParallel} at once (one job per realm)`);
  const print = (o: CompanyOutcome) => {
    if (o.result) printRunnerFailure(o.result, o.company.name);
    process.stdout.write(`${companyHeader(o.company)}\n${o.result ? formatSummary(o.result) : `FAILED: ${o.error}`}\n\n`);
  };
  const outcomes = await runForCompanies({
    companies: selection.selected,
    maxParallel,
    signal,
    run: (company) => runOne(what, selection.file, company, companyHooks(company, signal)),
    onOutcome: print,
  });
  process.stdout.write(formatCompanyOutcomes(outcomes) + '\n');
  return combinedExitCode(outcomes);
}

/**
 * `company list`: every company with its realm, schema, streams, state folder, secret files, last run, what it is complete up to and its end_lag, and the streams
 * whose deletions QBO's change data capture soon stops reaching; exit 2 when one cannot run.
 */
export async function listCompanies(file: string, name: string | undefined, stateRoot: string): Promise<number> {
  const companies = loadCompanies(file);
  const now = new Date();
  const listings = [];
  for (const company of pickCompanies(companies, name, file)) {
    const stateDir = companyStateDir(path.resolve(stateRoot), company.name);
    const journal = RunJournal.of(stateDir);
    const runs = await journal.list();
    const [lastRun] = runs;
    const endLag = endLagOf(company, runs);
    const streams = streamFreshness(await listJobStates(stateDir), now, endLag.ms);
    listings.push({
      company,
      stateDir,
      problems: await secretFileProblems(company),
      lastRun,
      lastRunMissing: lastRun && (await journal.runnerMissing(lastRun)),
      streams,
      endLag,
      cdc: cdcWindows(streams, readsDeletionsOf(company.tap, runs)),
    });
  }
  // State folders of companies taken out of the file: say what became of them.
  const gone =
    name === undefined
      ? await companiesNotInFile(
          companies.companies.map((c) => c.name),
          stateRoot,
        )
      : [];
  process.stdout.write(formatCompanyList(file, listings, now, gone) + '\n');
  const broken = listings.filter((l) => l.problems.length > 0);
  // The first problem and who has one: a shared file wrong under defaults: is every company's, and
  // thirty clients spelling it thirty times made a line no one reads; the stdout lines name each.
  if (broken.length > 0)
    throw new UsageError(
      `${broken.length} of ${listings.length} companies cannot run (${broken.map((l) => l.company.name).join(', ')}): ${broken[0]?.problems[0]?.line}` +
        (broken.length > 1 ? '; the lines under the table name every problem' : ''),
    );
  return 0;
}

/** A company's triggers: `<state-dir>/companies/<name>/triggers/`. */
export const companyTriggerStore = (stateRoot: string, company: Pick<Company, 'name'>) => triggerStore(companyStateDir(path.resolve(stateRoot), company.name));

/** `trigger add --companies FILE [--company NAME]`: the same trigger for each company, in its own folder. */
export async function addCompanyTriggers(
  selection: CompanySelection,
  at: string,
  request: Omit<BackfillRequest, 'company'>,
): Promise<Array<{ company: Company; trigger: Trigger }>> {
  const stateRoot = request.stateDir ?? 'state';
  // Every company's trigger is checked before any is written: a problem with one adds none.
  const when = parseInstant(at, '--at').toJSDate();
  await requireSecretFiles(selection.selected);
  for (const company of selection.selected) {
    await checkBackfill({ ...request, company: { file: selection.file, name: company.name } }, { company, at: new Date(Math.max(Date.now(), when.getTime())) });
  }
  const added = [];
  for (const company of selection.selected) {
    const trigger = await addTrigger(
      companyTriggerStore(stateRoot, company),
      at,
      { ...request, company: { file: selection.file, name: company.name } },
      { company },
    );
    added.push({ company, trigger });
  }
  return added;
}

/**
 * `trigger list --companies FILE`: each company's triggers under its name; then those of each
 * company taken out of the file that still has pending ones (they wait, unrun), and what to do.
 * `--company` names such a company too: all its triggers.
 */
export async function listCompanyTriggers(file: string, name: string | undefined, stateRoot: string, now: Date): Promise<string> {
  const companies = loadCompanies(file);
  const gone = (
    await companiesNotInFile(
      companies.companies.map((c) => c.name),
      stateRoot,
    )
  ).filter((g) => name === undefined || g.name === name);
  const parts = [];
  for (const company of gone.length > 0 && name !== undefined ? [] : pickCompanies(companies, name, file)) {
    const scan = await companyTriggerStore(stateRoot, company).scan({ setAside: false });
    parts.push(`company ${company.name}:\n${formatTriggers(scan.triggers, now, scan.setAside)}`);
  }
  for (const company of gone) {
    const scan = await companyTriggerStore(stateRoot, company).scan({ setAside: false });
    const pending = scan.triggers.filter((t) => t.status === 'pending');
    if (name === undefined && pending.length === 0) continue;
    parts.push(
      `company ${company.name}, not in companies file ${file} any more (${plural(pending.length, 'pending trigger')}, waiting unrun: put it back in the file to run them, ` +
        `or delete a trigger's ${path.join(company.stateDir, 'triggers', '<id>.json')} to drop it):\n${formatTriggers(scan.triggers, now, scan.setAside)}`,
    );
  }
  return parts.join('\n\n');
}

/**
 * `schedule list --companies FILE`: each company's schedules under its name: those in its folder
 * and its `schedule:` in the file, each with its last slot (and how it went) and its next.
 */
export async function listCompanySchedules(file: string, name: string | undefined, stateRoot: string, now: Date): Promise<string> {
  const parts = [];
  for (const company of pickCompanies(loadCompanies(file), name, file)) {
    const folder = scheduleStore(companyStateDir(path.resolve(stateRoot), company.name));
    // As the console shows it: the file's schedule as if active from now (only the scheduler records since when).
    const schedules = await companySchedules(folder, path.resolve(file), path.resolve(stateRoot), company, now.toISOString());
    parts.push(`company ${company.name}:\n${formatSchedules(schedules, await companyTriggerStore(stateRoot, company).list(), now, company.streams)}`);
  }
  return parts.join('\n\n');
}

const companyHeader = (company: Company) => `== company ${company.name} (realm ${company.realmId}, schema ${company.schema}) ==`;

/**
 * `scheduler --companies FILE`: one scheduler for every company (see CompaniesScheduler). With
 * `once`, it runs what is due, waits, prints one table of the runs and returns the worst exit
 * code: 2 when a company needs fixing, also one with a secret file it cannot use though nothing
 * of it was due (its runs cannot work); otherwise it runs until the signal.
 */
export async function schedulerForCompanies(options: {
  readonly file: string;
  readonly stateRoot: string;
  readonly maxParallel: number | undefined;
  readonly leaseMs: number;
  readonly intervalMs: number;
  readonly once: boolean;
  readonly signal: AbortSignal;
  readonly targetConfig: string | undefined;
  /** Told after each run, and every `notifyEveryMs`, to notify what needs a person (when a webhook is configured). */
  readonly notifier: Notifier | undefined;
  readonly notifyEveryMs: number;
}): Promise<number> {
  const outcomes: CompanyOutcome[] = [];
  const notifier = options.notifier;
  const scheduler = await CompaniesScheduler.start({
    file: options.file,
    stateRoot: options.stateRoot,
    leaseMs: options.leaseMs,
    signal: options.signal,
    ...(options.targetConfig !== undefined ? { targetConfig: options.targetConfig } : {}),
    ...(options.maxParallel !== undefined ? { maxParallel: options.maxParallel } : {}),
    hooksFor: (company) => companyHooks(company),
    onRun: (run) => {
      const outcome = outcomeOf(run.company, run.result ? { ok: true, value: run.result } : { ok: false, error: run.error ?? new Error('no result') });
      outcomes.push(outcome);
      if (run.result) printRunnerFailure(run.result, run.company.name);
      process.stdout.write(
        `${companyHeader(run.company)} trigger ${run.triggerId}\n${run.result ? formatSummary(run.result) : `FAILED: ${outcome.error ?? ''}`}\n\n`,
      );
      void notifier?.check();
    },
  });
  logger.info(
    `scheduler for ${plural(scheduler.companies.length, 'company')} of ${options.file}: up to ${scheduler.maxParallel} runs at once, one per company (realm); state in ${companiesStateDir(path.resolve(options.stateRoot))}`,
  );
  if (!options.once) {
    await Promise.all([scheduler.runUntilStopped(options.intervalMs), notifier?.watch(options.notifyEveryMs, options.signal)]);
    return 0;
  }
  await scheduler.runOnce();
  await notifier?.check();
  if (outcomes.length > 0) process.stdout.write(formatCompanyOutcomes(outcomes) + '\n');
  let unreadable = 0;
  for (const company of scheduler.companies) unreadable += await reportUnreadableTriggers(companyTriggerStore(options.stateRoot, company), logger);
  // A company that cannot run needs a person, due or not: 2, as for an unreadable trigger file, after the others ran.
  const cannotRun = scheduler.cannotRun;
  if (cannotRun.length > 0) {
    logger.error(
      `scheduler --once: ${cannotRun.length} of ${scheduler.companies.length} companies cannot run (${cannotRun.map((c) => c.company.name).join(', ')}): fix their secret files (company list says which), then run again`,
    );
  }
  return unreadable > 0 || cannotRun.length > 0 ? EXIT.usage : combinedExitCode(outcomes);
}

/** A UTC day given as a date or an instant (the day it falls in), as `YYYY-MM-DD`. */
function utcDay(text: string, what: string): string {
  return parseInstant(text, what).toUTC().toISODate();
}

/**
 * `evidence [--companies FILE]`: every company's evidence per stream and UTC day (default the last
 * 7 days), read from each company's own schema; without a companies file, the target settings'
 * one schema, named as such (no company the user never named). Exit 2 (or 1) when a company (or
 * that schema) could not be read, as for a run over companies. `sql` prints instead the one query that shows all
 * companies side by side (or the one schema's), for psql or pgAdmin.
 */
export async function evidenceForCompanies(options: {
  readonly file: string | undefined;
  readonly company: string | undefined;
  readonly stateRoot: string;
  readonly since: string | undefined;
  readonly until: string | undefined;
  readonly streams: string | undefined;
  readonly problems: boolean;
  readonly sql: boolean;
  readonly targetConfig: string | undefined;
  readonly now?: Date;
}): Promise<number> {
  const { file, targetConfig } = options;
  const targetOf = (company?: Company) => () =>
    runTargetSettings({
      tapConfig: undefined,
      targetConfig,
      ...(company ? { company: { settings: company }, stateDir: companyStateDir(path.resolve(options.stateRoot), company.name) } : {}),
    });
  const companies = file === undefined ? undefined : pickCompanies(loadCompanies(file), options.company, file);
  if (options.sql) {
    process.stdout.write((companies ? companiesEvidenceQueryText(companies) : `${newestEvidenceSql(targetOf()().schema)}\nORDER BY stream, day_utc;`) + '\n');
    return 0;
  }
  const today = (options.now ?? new Date()).getTime();
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const range = {
    from: options.since ? utcDay(options.since, '--since') : day(today - 6 * 86_400_000),
    to: options.until ? utcDay(options.until, '--until') : day(today + 86_400_000),
  };
  if (range.to <= range.from) throw new UsageError(`--until (${range.to}) must be after --since (${range.from})`);
  // Once, before any company: a file named by mistake is one line, not an error per company.
  if (targetConfig) readConfigFile(path.resolve(targetConfig), 'target config');
  // Without a companies file, target settings that are wrong are the one error, before anything is read.
  const oneSchema = companies === undefined ? targetOf()() : undefined;
  const evidence = await readCompaniesEvidence({
    sources: oneSchema
      ? [{ company: { name: DEFAULT_COMPANY }, schema: oneSchema.schema, target: () => oneSchema }]
      : (companies ?? []).map((company) => ({ company, schema: company.schema, target: targetOf(company) })),
    ...range,
    streams: options.streams ? resolveStreams(options.streams.split(',')) : null,
  });
  process.stdout.write(formatCompaniesEvidence(evidence, range, options.problems, oneSchema?.schema) + '\n');
  // A company that could not be read is an error, as in any command over companies: the worst exit code.
  const unreadable = evidence.filter(isUnreadable);
  for (const e of unreadable) logger.error(oneSchema ? e.unreadable : `${e.company.name}: ${e.unreadable}`);
  return combinedExitCode(unreadable);
}

/**
 * `views [--companies FILE] [--schema NAME] [--drop-stale] [--take-over] [--sql]`: in each database
 * the companies load into, makes or replaces `<schema>.<stream>` views over every company of the
 * file that has the stream's table (`refreshViews`); one table per database on stdout. Without a
 * companies file, the same views over the one schema the target settings load
 * (`targetSchemaWarehouse`). With `sql`, prints each database's transaction instead and changes
 * nothing (`viewsScript`). A database that cannot be written says why on stderr and stops no
 * other; the exit code is the worst.
 */
export async function viewsForCompanies(options: {
  readonly file: string | undefined;
  readonly schema: string | undefined;
  readonly stateRoot: string;
  readonly targetConfig: string | undefined;
  readonly dropStale: boolean;
  readonly takeOver: boolean;
  readonly sql: boolean;
}): Promise<number> {
  const companies = options.file === undefined ? undefined : loadCompanies(options.file);
  const schema = options.schema ?? companies?.viewsSchema ?? DEFAULT_VIEWS_SCHEMA;
  if (!SCHEMA_NAME.test(schema))
    throw new UsageError(`--schema ${JSON.stringify(schema)}: must be a lower-case PostgreSQL name (letters, digits, _), e.g. ${DEFAULT_VIEWS_SCHEMA}`);
  if (options.targetConfig) readConfigFile(path.resolve(options.targetConfig), 'target config');
  const asked = { schema, dropStale: options.dropStale, takeOver: options.takeOver };
  let warehouses: Array<{ readonly warehouse: () => Promise<WarehouseCompanies>; readonly request: Omit<ViewsRequest, 'forSql'> }>;
  if (companies === undefined) {
    // Target settings that are wrong are the one error, before anything is read.
    const target = runTargetSettings({ tapConfig: undefined, targetConfig: options.targetConfig });
    if (target.schema === schema)
      throw new UsageError(
        `--schema ${schema}: it is the target settings' schema, where the company is loaded; the views need a schema of their own, e.g. ${DEFAULT_VIEWS_SCHEMA}`,
      );
    warehouses = [{ warehouse: () => targetSchemaWarehouse(target, schema), request: { ...asked, file: targetSchemaIdentity(target.schema) } }];
  } else {
    const owner = companies.companies.find((c) => c.schema === schema);
    if (owner)
      throw new UsageError(
        `--schema ${schema}: it is company ${owner.name}'s schema (${owner.where}); the views need a schema of their own, e.g. ${DEFAULT_VIEWS_SCHEMA}`,
      );
    const request = { ...asked, file: companiesFileIdentity(companies.file) };
    warehouses = companiesByWarehouse(companies.companies, options).map((warehouse) => ({ warehouse: () => Promise.resolve(warehouse), request }));
  }
  const outcomes: Array<{ exitCode: number }> = [];
  for (const { warehouse: open, request } of warehouses) {
    try {
      const warehouse = await open();
      process.stdout.write((options.sql ? await viewsScript(warehouse, request) : formatViews(await refreshViews(warehouse, request))) + '\n');
      outcomes.push({ exitCode: EXIT.ok });
    } catch (error) {
      logger.error((error as Error).message);
      outcomes.push({ exitCode: error instanceof CliError ? error.exitCode : EXIT.runFailed });
    }
  }
  const exitCode = combinedExitCode(outcomes);
  if (exitCode !== EXIT.ok || options.sql) return exitCode;
  if (companies === undefined)
    logger.info(`these views read the tables as they are: run views again after a stream is loaded for the first time (it gets its view then)`);
  else if (companies.viewsSchema !== schema)
    logger.info(
      `the scheduler keeps these views current after each company's run when ${options.file} says so: views: {schema: ${schema}}; until then, run views again after a company or stream is added`,
    );
  return exitCode;
}

/**
 * Every string value quoted: Meltano and Kubernetes read YAML 1.1, where an unquoted
 * `2025-01-01T00:00:00Z` is a timestamp (Meltano then drops its zone) and `on` a boolean.
 */
const YAML_1_1_SAFE = { defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' } as const;

/**
 * `export meltano|kubernetes --companies FILE`: the same companies past one machine (docs/scaling.md),
 * as YAML on stdout or in `out`. Meltano: a file for meltano.yml's `include_paths`. Kubernetes:
 * one CronJob per company, preceded by the `kubectl create secret` commands (as comments).
 */
export async function exportCompanies(options: {
  readonly what: 'meltano' | 'kubernetes';
  readonly file: string;
  readonly projectDir: string | undefined;
  readonly out: string | undefined;
  readonly kubernetes: Partial<KubernetesOptions>;
}): Promise<number> {
  const companies = loadCompanies(options.file);
  const projectDir = path.resolve(options.projectDir ?? path.dirname(companies.file));
  const generated = `Generated by qbo-pipeline export ${options.what} from ${options.file}: edit the companies file and export again, not this file.`;
  let text: string;
  if (options.what === 'meltano') {
    const { project, warnings } = meltanoCompanies(companies, projectDir);
    for (const w of warnings) logger.warn(w);
    const doc = new Document(project);
    doc.commentBefore = ` ${generated}\n meltano.yml takes it in with: include_paths: ['./${path.relative(projectDir, path.resolve(options.out ?? 'companies.meltano.yml'))}']`;
    text = doc.toString(YAML_1_1_SAFE);
  } else {
    const { manifests, secretCommands } = kubernetesCronJobs(companies, projectDir, { ...KUBERNETES_DEFAULTS, ...options.kubernetes });
    const docs = manifests.map((m) => new Document(m));
    const first = docs[0] as Document;
    first.commentBefore = [
      ` ${generated}`,
      ' The secret files are not in these manifests; create the Secrets they mount from them (in the project folder):',
      ...secretCommands.map((c) => `   ${c}`),
    ].join('\n');
    text = docs.map((d) => d.toString(YAML_1_1_SAFE)).join('---\n');
  }
  if (options.out === undefined) {
    process.stdout.write(text);
    return 0;
  }
  await writeFileAtomic(path.resolve(options.out), text, 0o644);
  logger.info(`wrote ${options.out}: ${plural(companies.companies.length, 'company')}`);
  return 0;
}
