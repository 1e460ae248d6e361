import { DateTime } from 'luxon';
import path from 'node:path';
import { UsageError } from 'singer-kit';
import { missingRunnerAdvice, RunJournal } from '../runs/RunJournal.js';
import { RUN_ID, RUN_ID_EXAMPLE, type RunRecord } from '../runs/RunRecord.js';
import { listJobStates } from '../stateFile.js';
import { addTrigger } from '../triggers/addTrigger.js';
import { triggerStore, type SetAside } from '../triggers/TriggerStore.js';
import { triggerStreams, type Trigger } from '../triggers/Trigger.js';
import { lastSlotOf } from '../scheduler/planPass.js';
import { nextSlot, parseCron } from '../schedules/cronSlots.js';
import { pauseSchedule, removeSchedule, resumeSchedule } from '../schedules/scheduleCommands.js';
import { SCHEDULE_NAME, scheduleStore } from '../schedules/ScheduleStore.js';
import { companySchedule } from '../companies/CompaniesScheduler.js';
import { KNOWN_STREAMS } from '../companies/companiesSchema.js';
import { secretProblems } from '../companies/loadCompanies.js';
import { companiesNotInFile, notInFile } from '../companies/companyRun.js';
import type { EvidenceTotals } from '../Warehouse.js';
import type { ConsoleCompany, ConsoleContext, ConsoleReading } from './ConsoleContext.js';
import { configuredRefreshToken } from './configuredRefreshToken.js';
import { streamEvidence } from './evidenceModel.js';
import { cdcWindows, endLagOf, readsDeletionsOf, streamFreshness } from './freshness.js';
import type { SafeHtml } from './html.js';
import { readTokenHealth } from './tokenHealth.js';
import { scheduledStreams, type Schedule } from '../schedules/Schedule.js';
import { evidenceView, type EvidenceFilterForm, type EvidencePage } from './views/evidenceView.js';
import { overviewView, type CompanyOverview } from './views/overviewView.js';
import { runsView, runView, type ListedRun } from './views/runsView.js';
import { schedulesView, type ScheduleRow, type SlotsOf, type TriggerForm } from './views/schedulesView.js';
import { timeZones, zonedInstant, type ZonedInstant } from './zonedInstant.js';

/** Days the evidence page shows when no date is given: the newest day with evidence and the 30 before it. */
const DEFAULT_EVIDENCE_DAYS = 31;

/** A query or form value as one string ('' when absent; the last one when repeated). */
export function one(value: unknown): string {
  if (Array.isArray(value)) return one(value.at(-1));
  return typeof value === 'string' ? value.trim() : '';
}

/** A query or form value as a list (repeated fields and commas both work). */
function many(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list
    .flatMap((v) => (typeof v === 'string' ? v.split(',') : []))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

const journalOf = (company: ConsoleCompany) => RunJournal.of(company.stateDir);
/** Triggers the schedules page lists at most (a schedule's slots are listed apart, from its row; `trigger list` has them all). */
const LISTED_TRIGGERS = 100;
/** A company's newest runs that the evidence page's run filter offers and the schedules page finds a trigger's run among. */
const LISTED_RUNS = 200;
/** Log lines a run page shows. */
export const LOG_TAIL_LINES = 200;

async function companyOrFail(ctx: ConsoleContext, name: string, what: string): Promise<ConsoleCompany> {
  const company = await ctx.company(name);
  if (!company) throw new UsageError(`${what}: no company ${JSON.stringify(name)}`);
  return company;
}

// ---- overview -------------------------------------------------------------------------------

/** A run as the overview counts it: one that says running but has no runner (`RunJournal.runnerMissing`) failed, and why. */
async function withMissingRunner(journal: RunJournal, r: RunRecord): Promise<RunRecord> {
  const missing = await journal.runnerMissing(r);
  if (missing === undefined) return r;
  return { ...r, status: 'failed', reason: missingRunnerAdvice(r, missing) };
}

/** What the overview (and the scheduler's notifications, `notify/`) knows of a company at `now`. */
export async function companyOverview(company: ConsoleCompany, reading: ConsoleReading, now: Date): Promise<CompanyOverview> {
  const [jobs, tokens, triggers, runs, secrets] = await Promise.all([
    listJobStates(company.stateDir),
    configuredRefreshToken(company, reading).then((configured) => readTokenHealth(path.join(company.stateDir, 'tokens'), now, configured)),
    triggerStore(company.stateDir).scan({ setAside: false }),
    // Every run the journal keeps (its pruning bounds them): a reconcile still to do may have been advised many runs ago.
    journalOf(company)
      .list()
      .then(
        async (records) => ({ records: await Promise.all(records.map((r) => withMissingRunner(journalOf(company), r))) }),
        (error: unknown) => ({ records: [] as RunRecord[], problem: (error as Error).message }),
      ),
    company.entry ? secretProblems(company.entry.settings) : [],
  ]);
  const endLag = endLagOf(company.entry?.settings, runs.records);
  const streams = streamFreshness(jobs, now, endLag.ms);
  return {
    name: company.name,
    ...(company.entry ? { realmId: company.entry.settings.realmId } : {}),
    schema: 'unavailable' in company.warehouse ? undefined : company.warehouse.schema,
    stateDir: company.stateDir,
    streams,
    endLag,
    cdc: cdcWindows(streams, readsDeletionsOf(company.entry?.settings.tap, runs.records)),
    secretProblems: secrets,
    stateProblems: jobs.filter((j) => j.problem !== undefined).map((j) => ({ file: j.file, problem: j.problem ?? '' })),
    tokens,
    triggers: triggers.triggers,
    unreadableTriggers: triggers.setAside,
    runs: runs.records,
    ...('problem' in runs && runs.problem ? { runsProblem: runs.problem } : {}),
  };
}

export async function overviewPage(ctx: ConsoleContext): Promise<SafeHtml> {
  const now = ctx.now();
  const companies = await Promise.all((await ctx.companies()).map((c) => companyOverview(c, ctx.options, now)));
  return overviewView(companies, now);
}

// ---- evidence -------------------------------------------------------------------------------

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const RUN_FILTER = /^[\w.-]{1,100}$/;

function checkDay(value: string, what: string): string {
  if (value === '') return '';
  if (!DAY.test(value) || !DateTime.fromISO(value, { zone: 'utc' }).isValid)
    throw new UsageError(`${what}: ${JSON.stringify(value)} is not a day like 2025-01-31`);
  return value;
}

/** Reads and checks the evidence filter from the query string; a UsageError names the bad field. */
function evidenceFilterOf(query: Record<string, unknown>): EvidenceFilterForm {
  const stream = one(query.stream);
  if (stream !== '' && !KNOWN_STREAMS.includes(stream)) throw new UsageError(`Stream: no stream ${JSON.stringify(stream)}; pick one from the list`);
  const run = one(query.run);
  if (run !== '' && !RUN_FILTER.test(run)) throw new UsageError(`Run: ${JSON.stringify(run.slice(0, 40))} is not a run id`);
  const from = checkDay(one(query.from), 'From');
  const to = checkDay(one(query.to), 'To');
  if (from !== '' && to !== '' && from > to) throw new UsageError(`From (${from}) is after To (${to})`);
  return { company: one(query.company), stream, run, from, to, problems: one(query.problems) === '1' };
}

export async function evidencePage(ctx: ConsoleContext, query: Record<string, unknown>): Promise<{ body: SafeHtml; badInput?: string }> {
  const companies = (await ctx.companies()).map((c) => c.name);
  let filter: EvidenceFilterForm = { company: one(query.company) || (companies[0] ?? ''), stream: '', run: '', from: '', to: '', problems: false };
  const base: Omit<EvidencePage, 'filter'> = { companies, streams: KNOWN_STREAMS, runs: [], series: [] };
  try {
    filter = { ...evidenceFilterOf(query), company: filter.company };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return { body: evidenceView({ ...base, filter, unavailable: `${error.message}. Nothing is shown until the filter reads.` }), badInput: error.message };
  }
  const company = await ctx.company(filter.company);
  if (!company)
    return { body: evidenceView({ ...base, filter, unavailable: `Company: no company ${JSON.stringify(filter.company)}.` }), badInput: 'unknown company' };
  if ('unavailable' in company.warehouse) {
    return { body: evidenceView({ ...base, filter, unavailable: `The warehouse is not configured for the console: ${company.warehouse.unavailable}` }) };
  }
  try {
    return {
      body: await ctx.withWarehouse(company, async (warehouse, schema) => {
        if (!(await warehouse.hasEvidence())) {
          return evidenceView({ ...base, filter, unavailable: `No evidence yet in schema ${schema}: it appears after the first run that loads data.` });
        }
        const journalRuns = await journalOf(company)
          .list({ limit: LISTED_RUNS })
          .catch(() => [] as RunRecord[]);
        const known = new Set(journalRuns.flatMap((r) => r.tapRunIds));
        const tapRuns = (await warehouse.evidenceRuns(50)).filter((r) => !known.has(r.runId));
        const runs = [
          ...journalRuns.filter((r) => r.tapRunIds.length > 0).map((r) => ({ value: r.id, label: `${r.id} · ${r.kind} ${r.job} · ${r.status}` })),
          ...tapRuns.map((r) => ({
            value: r.runId,
            label: `tap run ${r.runId.slice(0, 8)} · ${r.firstAt.slice(0, 16).replace('T', ' ')}Z · ${r.streams.join(', ')}`,
          })),
        ];
        // A runner run stands for the tap runs it made; any other value is a tap run id.
        const runIds =
          filter.run === '' ? undefined : RUN_ID.test(filter.run) ? (journalRuns.find((r) => r.id === filter.run)?.tapRunIds ?? ['(none)']) : [filter.run];
        const sql = { ...(filter.stream ? { streams: [filter.stream] } : {}), ...(runIds ? { runIds } : {}) };
        let { from, to } = filter;
        if (from === '' && to === '') {
          const newest = await warehouse.newestEvidenceDay(sql);
          if (newest) {
            to = newest;
            from =
              DateTime.fromISO(newest, { zone: 'utc' })
                .minus({ days: DEFAULT_EVIDENCE_DAYS - 1 })
                .toISODate() ?? '';
          }
        }
        const days = await warehouse.filteredEvidence({ ...sql, ...(from ? { from } : {}), ...(to ? { to } : {}) });
        // Each day's tap run links to the runner run that made it, when the journal still has it.
        const runnerRuns = new Map(journalRuns.flatMap((r) => r.tapRunIds.map((tap) => [tap, r.id] as const)));
        return evidenceView({ ...base, runs, runnerRuns, filter: { ...filter, from, to }, series: streamEvidence(days) });
      }),
    };
  } catch (error) {
    return { body: evidenceView({ ...base, filter, unavailable: `Cannot read the warehouse: ${(error as Error).message}` }) };
  }
}

// ---- schedules and triggers -----------------------------------------------------------------

/** Labels of the form's fields, for the runner's messages (which name its command-line flags). */
const FIELD_OF_FLAG: Readonly<Record<string, string>> = { '--at': 'When', '--streams': 'Streams', '--start': 'Start', '--end': 'End', '--job': 'Job' };
const formMessage = (message: string) => message.replace(/--(at|streams|start|end|job)\b/g, (flag) => FIELD_OF_FLAG[flag] ?? flag);

export function triggerFormOf(body: Record<string, unknown>, zone: string): TriggerForm {
  return {
    company: one(body.company),
    at: one(body.at),
    zone: one(body.zone) || zone,
    streams: many(body.streams),
    start: one(body.start),
    end: one(body.end),
    job: one(body.job),
    fresh: one(body.fresh) === '1',
  };
}

function emptyTriggerForm(company: string, zone: string): TriggerForm {
  return { company, at: '', zone, streams: [], start: '', end: '', job: '', fresh: false };
}

interface CompanyTriggers {
  readonly company: ConsoleCompany;
  readonly triggers: readonly Trigger[];
  /** Trigger files the scheduler set aside as unreadable, or will at its next pass (as `trigger list` shows them). */
  readonly setAside: readonly SetAside[];
  readonly runs: readonly RunRecord[];
}

async function triggersOf(company: ConsoleCompany): Promise<CompanyTriggers> {
  const [scan, runs] = await Promise.all([
    triggerStore(company.stateDir).scan({ setAside: false }),
    journalOf(company)
      .list({ limit: LISTED_RUNS })
      .catch(() => [] as RunRecord[]),
  ]);
  return { company, triggers: scan.triggers, setAside: scan.setAside, runs };
}

/** The run a trigger started: from its result, or from the journal while it runs. */
const runOfTrigger = (trigger: Trigger, runs: readonly RunRecord[]) => trigger.result?.runId ?? runs.find((r) => r.triggerId === trigger.id)?.id;

/** Every trigger of every company, newest instant first, with the run it started. */
function listedTriggers(all: readonly CompanyTriggers[]): Array<{ company: string; trigger: Trigger; streams: readonly string[]; runId?: string }> {
  return all
    .flatMap(({ company, triggers, runs }) =>
      triggers.map((trigger) => {
        const runId = runOfTrigger(trigger, runs);
        return { company: company.name, trigger, streams: triggerStreams(trigger, company.entry?.settings.streams), ...(runId ? { runId } : {}) };
      }),
    )
    .sort((a, b) => b.trigger.at.localeCompare(a.trigger.at));
}

async function allTriggers(ctx: ConsoleContext): Promise<Array<{ company: string; trigger: Trigger; streams: readonly string[]; runId?: string }>> {
  return listedTriggers(await Promise.all((await ctx.companies()).map(triggersOf)));
}

/** Pure: a schedule's row: its last slot and how it went (from the triggers), and its next slot. */
function scheduleRow(company: ConsoleCompany, schedule: Schedule, triggers: readonly Trigger[], runs: readonly RunRecord[], now: Date): ScheduleRow {
  const last = lastSlotOf(schedule.name, triggers);
  const lastTrigger = last ? triggers.find((t) => t.schedule?.name === schedule.name && Date.parse(t.schedule.slot) === last.getTime()) : undefined;
  const runId = lastTrigger ? runOfTrigger(lastTrigger, runs) : undefined;
  let next: ScheduleRow['next'];
  if (schedule.paused) next = { none: 'paused' };
  else {
    try {
      const at = nextSlot(parseCron(schedule.cron, schedule.tz), new Date(Math.max(now.getTime(), last?.getTime() ?? 0)));
      next = at ? { at: at.toISOString() } : { none: 'never again' };
    } catch (error) {
      next = { none: `cannot run: ${(error as Error).message}` };
    }
  }
  const slots: Record<string, number> = {};
  for (const t of triggers) if (t.schedule?.name === schedule.name) slots[t.status] = (slots[t.status] ?? 0) + 1;
  return {
    company: company.name,
    schedule,
    streams: scheduledStreams(schedule, company.entry?.settings.streams),
    slots,
    ...(last ? { last: { slot: last.toISOString(), ...(lastTrigger ? { trigger: lastTrigger } : {}), ...(runId ? { runId } : {}) } } : {}),
    next,
  };
}

export async function findTrigger(ctx: ConsoleContext, id: string): Promise<Trigger | undefined> {
  return (await allTriggers(ctx)).find((t) => t.trigger.id === id)?.trigger;
}

export interface SchedulesInput {
  readonly csrfToken: string;
  readonly zone?: string;
  readonly form?: TriggerForm;
  readonly preview?: ZonedInstant;
  readonly formError?: string;
  /** List this schedule's slot triggers instead of the one-time triggers. */
  readonly slotsOf?: SlotsOf;
}

/** What needs a look first: what runs now, what is to run, what failed; then the rest, each newest first. */
const TRIGGER_ORDER: readonly string[] = ['running', 'pending', 'failed'];
const triggerRank = (status: string) => (TRIGGER_ORDER.includes(status) ? TRIGGER_ORDER.indexOf(status) : TRIGGER_ORDER.length);

/** The triggers the page lists: one schedule's slots, or the one-time triggers with the slots now pending or running (the others are counted in their schedule's row). */
function shownTriggers<T extends { readonly company: string; readonly trigger: Trigger }>(listed: readonly T[], slotsOf: SlotsOf | undefined): T[] {
  return listed
    .filter(({ company, trigger: t }) =>
      slotsOf ? company === slotsOf.company && t.schedule?.name === slotsOf.schedule : !t.schedule || t.status === 'pending' || t.status === 'running',
    )
    .sort((a, b) => triggerRank(a.trigger.status) - triggerRank(b.trigger.status));
}

export async function schedulesPage(ctx: ConsoleContext, input: SchedulesInput): Promise<SafeHtml> {
  const companies = await ctx.companies();
  const zones = timeZones();
  const zone = input.zone && zones.includes(input.zone) ? input.zone : ctx.zone;
  const now = ctx.now();
  const all = await Promise.all(companies.map(triggersOf));
  const scheduleProblems: string[] = [];
  const schedules = (
    await Promise.all(
      all.map(async ({ company, triggers, runs }) => [
        ...(
          await scheduleStore(company.stateDir)
            .list()
            .catch((error: unknown) => {
              scheduleProblems.push(`schedules of ${company.name}: ${(error as Error).message}`);
              return [] as Schedule[];
            })
        ).map((schedule) => scheduleRow(company, schedule, triggers, runs, now)),
        // A company's `schedule:` in the companies file: shown, changed only by editing the file.
        ...fileSchedule(ctx, company, now).map((schedule) => ({
          ...scheduleRow(company, schedule, triggers, runs, now),
          fromFile: company.entry?.settings.schedule?.where ?? '',
        })),
      ]),
    )
  ).flat();
  const listed = listedTriggers(all);
  const triggers = shownTriggers(listed, input.slotsOf);
  return schedulesView({
    companies: companies.map((c) => c.name),
    companiesFile: ctx.options.companiesFile !== undefined,
    schedules,
    scheduleProblems,
    triggers: triggers.slice(0, LISTED_TRIGGERS),
    unreadableTriggers: all.flatMap(({ company, setAside }) =>
      setAside.map((a) => ({ company: company.name, file: path.basename(a.file), folder: path.dirname(a.file), problem: a.problem, when: a.when })),
    ),
    hiddenTriggers: Math.max(0, triggers.length - LISTED_TRIGGERS),
    ...(input.slotsOf ? { slotsOf: input.slotsOf } : { foldedSlots: listed.length - triggers.length }),
    allStreams: KNOWN_STREAMS,
    zones,
    zone,
    form: input.form ?? emptyTriggerForm(companies[0]?.name ?? '', zone),
    ...(input.preview ? { preview: input.preview } : {}),
    ...(input.formError ? { formError: input.formError } : {}),
    csrfToken: input.csrfToken,
    now,
  });
}

function fileSchedule(ctx: ConsoleContext, company: ConsoleCompany, now: Date): Schedule[] {
  if (!company.entry) return [];
  const schedule = companySchedule(company.entry.file, ctx.stateDir, company.entry.settings, now.toISOString());
  return schedule ? [schedule] : [];
}

const SCHEDULE_ACTIONS = ['pause', 'resume', 'remove'] as const;
export type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

/** Pauses, resumes or removes a schedule through the runner's own commands; a UsageError names what is wrong. */
export async function changeSchedule(ctx: ConsoleContext, companyName: string, name: string, action: string): Promise<ScheduleAction> {
  const known = SCHEDULE_ACTIONS.find((a) => a === action);
  if (!known) throw new UsageError(`${JSON.stringify(action)} is not something a schedule can do; say pause, resume or remove`);
  // The name becomes a file name: only a schedule's own name may reach the store.
  if (!SCHEDULE_NAME.test(name)) throw new UsageError(`${JSON.stringify(name)} is not a schedule name`);
  const company = await companyOrFail(ctx, companyName, 'Company');
  const store = scheduleStore(company.stateDir);
  if (known === 'pause') await pauseSchedule(store, name, { now: ctx.now() });
  else if (known === 'resume') await resumeSchedule(store, name, { now: ctx.now() });
  else await removeSchedule(store, name);
  return known;
}

/** Checks the form and records the trigger; a UsageError (naming the field) changes nothing. */
export async function addTriggerFromForm(ctx: ConsoleContext, form: TriggerForm): Promise<{ trigger: Trigger; at: ZonedInstant }> {
  try {
    const at = zonedInstant(form.at, form.zone);
    const company = await companyOrFail(ctx, form.company, 'Company');
    // A company of a companies file runs its own streams when none is ticked.
    if (form.streams.length === 0 && !company.entry) throw new UsageError('Streams: tick at least one stream');
    if (form.start === '') throw new UsageError('Start: give the first UTC day of the range');
    if (form.end === '') throw new UsageError('End: give the UTC day after the last one of the range');
    const trigger = await addTrigger(
      triggerStore(company.stateDir),
      at.given,
      {
        streams: form.streams,
        start: form.start,
        end: form.end,
        ...(form.job ? { job: form.job } : {}),
        fresh: form.fresh,
        // A company's jobs live in its folder under the state root, which the request names.
        stateDir: company.entry ? ctx.stateDir : company.stateDir,
        ...(company.entry ? { company: { file: company.entry.file, name: company.name } } : {}),
        ...(ctx.options.tapConfig ? { tapConfig: ctx.options.tapConfig } : {}),
        ...(ctx.options.targetConfig ? { targetConfig: ctx.options.targetConfig } : {}),
      },
      { now: ctx.now(), ...(ctx.options.env ? { env: ctx.options.env } : {}), ...(company.entry ? { company: company.entry.settings } : {}) },
    );
    return { trigger, at };
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(formMessage(error.message));
    throw error;
  }
}

// ---- runs -----------------------------------------------------------------------------------

const listedRun = async (company: ConsoleCompany, record: RunRecord): Promise<ListedRun> => ({
  company: company.name,
  record,
  orphaned: await journalOf(company).runnerMissing(record),
});

/**
 * Why a company filter names none of the console's companies: one taken out of the companies file
 * is said as `company list` says it (its state folder, runs included, is kept; the console shows the
 * file's companies only), any other name with the companies there are.
 */
async function unknownCompany(ctx: ConsoleContext, name: string, companies: readonly ConsoleCompany[]): Promise<string> {
  const file = ctx.options.companiesFile;
  const names = companies.map((c) => c.name);
  const gone = file === undefined ? undefined : (await companiesNotInFile(names, ctx.stateDir)).find((g) => g.name === name);
  if (file !== undefined && gone) return `Company: ${notShown(file, gone)}`;
  return `Company: no company ${JSON.stringify(name)}${file === undefined ? '' : ` in companies file ${file}`}; its companies: ${names.join(', ')}.`;
}

/** Why the console shows nothing of a company taken out of the companies file, as `company list` says it. */
const notShown = (file: string, gone: { readonly name: string; readonly stateDir: string }) =>
  `${notInFile(gone.name, file, gone.stateDir)}. The console shows the companies in the file only: its runs are listed here again once it is back in it.`;

/**
 * Why run `id` is not shown when it is in the runs journal of a company taken out of the companies
 * file (an old notification links to it): said as the runs page says it of that company. Undefined otherwise.
 */
export async function runNotShown(ctx: ConsoleContext, id: string): Promise<string | undefined> {
  const file = ctx.options.companiesFile;
  if (file === undefined || !RUN_ID.test(id)) return undefined;
  const names = (await ctx.companies()).map((c) => c.name);
  for (const gone of await companiesNotInFile(names, ctx.stateDir)) {
    const record = await RunJournal.of(gone.stateDir)
      .read(id)
      .catch(() => undefined);
    if (record) return `Run ${id}: ${notShown(file, gone)}`;
  }
  return undefined;
}

/** Runs the runs page lists at once, newest first; older ones are a link away (`before`: the last run id shown). */
export const RUNS_PER_PAGE = 100;

/**
 * The runs page: the runs of every company's journal (their pruning bounds them), filtered, newest
 * first, `RUNS_PER_PAGE` at a time from `before` (a run id: only runs that started before it). A
 * `before` that is not a run id is bad input: the page says so and lists nothing.
 */
export async function runsPage(ctx: ConsoleContext, query: Record<string, unknown>): Promise<{ body: SafeHtml; badInput?: string }> {
  const companies = await ctx.companies();
  const filter = { company: one(query.company), job: one(query.job), status: one(query.status) };
  const before = one(query.before);
  const view = { companies: companies.map((c) => c.name), filter, now: ctx.now() };
  if (before !== '' && !RUN_ID.test(before)) {
    const badInput = `Older than: ${JSON.stringify(before.slice(0, 40))} is not a run id like ${RUN_ID_EXAMPLE}`;
    return { body: runsView({ ...view, runs: [], jobs: [], page: { total: 0, skipped: 0 }, problems: [badInput] }), badInput };
  }
  if (filter.company !== '' && !companies.some((c) => c.name === filter.company)) {
    const badInput = await unknownCompany(ctx, filter.company, companies);
    return { body: runsView({ ...view, runs: [], jobs: [], page: { total: 0, skipped: 0 }, problems: [badInput] }), badInput };
  }
  const problems: string[] = [];
  const lists = await Promise.all(
    companies
      .filter((c) => filter.company === '' || c.name === filter.company)
      .map(async (company) =>
        (
          await journalOf(company)
            .list()
            .catch((error: unknown) => {
              problems.push(`runs of ${company.name}: ${(error as Error).message}`);
              return [] as RunRecord[];
            })
        ).map((record) => ({ company, record })),
      ),
  );
  // Run ids sort by start time, and are unique: the order, and the place `before` names in it.
  const all = lists.flat().sort((a, b) => b.record.id.localeCompare(a.record.id));
  const matching = all.filter((r) => (filter.job === '' || r.record.job === filter.job) && (filter.status === '' || r.record.status === filter.status));
  const older = before === '' ? matching : matching.filter((r) => r.record.id < before);
  const shown = await Promise.all(older.slice(0, RUNS_PER_PAGE).map(({ company, record }) => listedRun(company, record)));
  const jobs = [...new Set(all.map((r) => r.record.job))].sort();
  const page = {
    total: matching.length,
    skipped: matching.length - older.length,
    ...(older.length > RUNS_PER_PAGE ? { olderThan: shown.at(-1)?.record.id ?? '' } : {}),
  };
  return { body: runsView({ ...view, runs: shown, jobs, page, problems }) };
}

/** A run by id, from whichever company's journal has it; undefined when none does. */
export async function findRun(ctx: ConsoleContext, id: string): Promise<{ run: ListedRun; journal: RunJournal } | undefined> {
  if (!RUN_ID.test(id)) return undefined;
  for (const company of await ctx.companies()) {
    const journal = journalOf(company);
    const record = await journal.read(id).catch(() => undefined);
    if (record) return { run: await listedRun(company, record), journal };
  }
  return undefined;
}

/** A run's totals per stream from the evidence, or a sentence saying why there are none. */
export async function runTotalsOf(ctx: ConsoleContext, run: ListedRun): Promise<EvidenceTotals[] | string> {
  const company = await ctx.company(run.company);
  if (run.record.tapRunIds.length === 0)
    return run.record.status === 'running'
      ? 'Counts appear here when the run ends.'
      : run.record.notStarted
        ? 'Nothing: it did not start (its tap never ran).'
        : 'This run left no evidence (it committed no window).';
  if (!company) return `No company ${run.company} any more.`;
  if ('unavailable' in company.warehouse) return `The warehouse is not configured for the console: ${company.warehouse.unavailable}`;
  try {
    return await ctx.withWarehouse(company, async (warehouse) =>
      (await warehouse.hasEvidence()) ? warehouse.totals(run.record.tapRunIds) : 'No evidence view in the warehouse yet.',
    );
  } catch (error) {
    return `Cannot read the warehouse: ${(error as Error).message}`;
  }
}

export async function runPage(ctx: ConsoleContext, found: { run: ListedRun; journal: RunJournal }): Promise<SafeHtml> {
  const [log, totals] = await Promise.all([found.journal.tail(found.run.record.id, LOG_TAIL_LINES), runTotalsOf(ctx, found.run)]);
  return runView(found.run, totals, log, LOG_TAIL_LINES, ctx.now());
}
