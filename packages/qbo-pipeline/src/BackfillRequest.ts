import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DateTime } from 'luxon';
import { formatInstant, parseInstant, UsageError } from 'singer-kit';
import { KNOWN_STREAMS } from './companies/companiesSchema.js';
import { companyStateDir } from './companies/companyRun.js';
import type { Company } from './companies/parseCompanies.js';
import type { RunKind } from './runs/RunRecord.js';
import { isEveryStream } from './streamsText.js';

/** One company of a companies file, by name: what `--companies FILE --company NAME` says. */
export interface CompanyRef {
  readonly file: string;
  readonly name: string;
}

/** What backfill, sync and reconcile are asked alike: which streams of which job, with which settings. */
export interface JobRequest {
  /** Empty for a company: its own streams (from the companies file when the run starts). */
  readonly streams: readonly string[];
  /** Names the state file `<stateDir>/<job>.json`; default `defaultJob(streams)`, shared by backfill and sync. */
  readonly job?: string;
  readonly tapConfig?: string;
  readonly targetConfig?: string;
  /** Default `state` (relative to the working directory). */
  readonly stateDir?: string;
  /** Run for this company: its realm, secrets, settings and schema, state in `<stateDir>/companies/<name>/`. */
  readonly company?: CompanyRef;
}

/** What a person asks for: the `backfill` arguments, also what a trigger stores (JSON). */
export interface BackfillRequest extends JobRequest {
  /** `sync` when the range was computed by `runSync` (it names the run and makes the resume command a sync); default `backfill`. */
  readonly kind?: RunKind;
  /** ISO 8601; a date alone is midnight UTC. */
  readonly start: string;
  /** Exclusive. */
  readonly end: string;
  /** Ignore the state file (a backup is kept) and extract the whole range again. */
  readonly fresh?: boolean;
}

/** Where a job runs and on what: what backfill and sync resolve alike. */
export interface JobScope {
  readonly streams: readonly string[];
  /** False when the streams are the company's own (the request named none). */
  readonly streamsGiven: boolean;
  readonly job: string;
  /** `--state-dir`. */
  readonly stateRoot: string;
  /** Where the job's files live: the state root, or the company's folder in it. */
  readonly stateDir: string;
  readonly stateFile: string;
  /** The state file these streams have without `--job`. */
  readonly defaultStateFile: string;
  /** The company, read from its file when the run was resolved; `ref.file` absolute. */
  readonly company: { readonly ref: CompanyRef; readonly settings: Company } | undefined;
}

export interface ResolvedBackfill extends JobScope {
  readonly kind: RunKind;
  readonly streams: readonly string[];
  readonly start: DateTime<true>;
  readonly end: DateTime<true>;
  readonly job: string;
  readonly fresh: boolean;
  readonly tapConfig: string | undefined;
  readonly targetConfig: string | undefined;
}

/** A company's job over its own streams (no --streams): shared by its backfill and its sync. */
export const COMPANY_JOB = 'qb_company';

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `--streams all`: every stream of the catalog. */
const ALL_STREAMS = 'all';

/**
 * The streams of `--streams`, trimmed and without repeats (`all`: every stream there is to take).
 * A name outside those is a UsageError listing them: the catalog's streams, or, for a company of a
 * companies file, its `streams:` there (a run of a stream it does not list would load data its
 * schedule never keeps fresh). One check for the CLI and the console's trigger form.
 */
export function resolveStreams(requested: readonly string[], company?: Pick<Company, 'name' | 'streams'>): string[] {
  const names = [...new Set(requested.map((s) => s.trim()).filter((s) => s !== ''))];
  if (names.length === 0) throw new UsageError('--streams: name at least one stream, e.g. --streams invoices,customers,items (or --streams all)');
  const allowed = company?.streams ?? KNOWN_STREAMS;
  const refused = names.filter((s) => s !== ALL_STREAMS && !allowed.includes(s));
  if (refused.length > 0) {
    const listed = refused.map((s) => JSON.stringify(s)).join(', ');
    throw new UsageError(
      company
        ? `--streams: ${listed} ${refused.length === 1 ? 'is' : 'are'} not among company ${company.name}'s streams (its streams: in the companies file): ${allowed.join(', ')}`
        : `--streams: unknown stream ${listed}; known streams: ${allowed.join(', ')} (or all)`,
    );
  }
  return names.includes(ALL_STREAMS) ? [...allowed] : names;
}

/** Longest default job name spelled out: its files (`<job>.json`, `.lock`, a `--fresh` backup `<job>.<instant>.bak.json`) stay within the 255 bytes a file name may have. */
const MAX_SPELLED_JOB = 200;

/**
 * The job a stream set belongs to when `--job` is not given: `qb_<streams in alphabetical order>`,
 * the same for `backfill` and `sync`, so the daily sync continues where the backfill ended.
 * Every stream is `qb_all`; a set whose name would be too long for a file name is
 * `qb_<n>_streams_<hash of the set>`. A state file of the name earlier versions gave a backfill
 * (`qb_<streams as typed>_backfill`) is kept using when it exists and the new one does not.
 */
export function defaultJob(streams: readonly string[], stateDir: string): string {
  const sorted = [...new Set(streams)].sort();
  const spelled = `qb_${sorted.join('_')}`;
  const job = KNOWN_STREAMS.every((s) => sorted.includes(s))
    ? `qb_${ALL_STREAMS}`
    : spelled.length <= MAX_SPELLED_JOB
      ? spelled
      : `qb_${sorted.length}_streams_${createHash('sha256').update(sorted.join(',')).digest('hex').slice(0, 12)}`;
  const legacy = `qb_${streams.join('_')}_backfill`;
  return !existsSync(path.join(stateDir, `${job}.json`)) && existsSync(path.join(stateDir, `${legacy}.json`)) ? legacy : job;
}

/** `--job` as given, or the stream set's default; a name that is not a plain file name is a UsageError. */
function resolveJob(job: string | undefined, streams: readonly string[], stateDir: string): string {
  const name = job ?? defaultJob(streams, stateDir);
  if (!JOB_NAME.test(name)) throw new UsageError(`--job: ${JSON.stringify(name)} may hold only letters, digits, _ . and -`);
  return name;
}

/** The folder a request's job lives in: the state root, or its company's folder there. */
export function jobFolder(stateRoot: string, company: Pick<CompanyRef, 'name'> | undefined): string {
  return company ? companyStateDir(stateRoot, company.name) : stateRoot;
}

/**
 * Streams, job and state folder of a backfill or sync. A company request needs the company as its
 * companies file says (`loadCompany`): without --streams it runs the company's own streams as job
 * `qb_company`, and its files live in the company's folder.
 */
export function resolveScope(request: Pick<JobRequest, 'streams' | 'job' | 'stateDir' | 'company'>, cwd: string, company: Company | undefined): JobScope {
  if (request.company && company?.name !== request.company.name) throw new Error(`resolveScope: company ${request.company.name} was not given`);
  const streamsGiven = request.streams.some((s) => s.trim() !== '');
  const streams = resolveStreams(!streamsGiven && company ? company.streams : request.streams, request.company && company);
  const stateRoot = path.resolve(cwd, request.stateDir ?? 'state');
  const stateDir = jobFolder(stateRoot, request.company && company);
  const ownJob = request.company && !streamsGiven ? COMPANY_JOB : defaultJob(streams, stateDir);
  const job = resolveJob(request.job ?? ownJob, streams, stateDir);
  return {
    streams,
    streamsGiven,
    job,
    stateRoot,
    stateDir,
    stateFile: path.join(stateDir, `${job}.json`),
    defaultStateFile: path.join(stateDir, `${ownJob}.json`),
    company: request.company && company ? { ref: { file: path.resolve(cwd, request.company.file), name: company.name }, settings: company } : undefined,
  };
}

/** Checks and normalises a request; every problem is a UsageError naming the argument. A company request needs its company (`resolveScope`). */
export function resolveBackfill(request: BackfillRequest, cwd = process.cwd(), company?: Company): ResolvedBackfill {
  const scope = resolveScope(request, cwd, company);
  const start = parseInstant(request.start, '--start');
  const end = parseInstant(request.end, '--end');
  if (end <= start) throw new UsageError(`--end (${formatInstant(end)}) must be after --start (${formatInstant(start)})`);
  const file = (f: string | undefined) => (f === undefined ? undefined : path.resolve(cwd, f));
  return Object.freeze({
    ...scope,
    kind: request.kind ?? 'backfill',
    start,
    end,
    fresh: request.fresh ?? false,
    tapConfig: file(request.tapConfig),
    targetConfig: file(request.targetConfig),
  });
}

/** The request again, paths absolute and dates in UTC: what a trigger records. */
export function normaliseBackfill(resolved: ResolvedBackfill): BackfillRequest {
  return {
    ...(resolved.kind === 'backfill' ? {} : { kind: resolved.kind }),
    streams: resolved.streamsGiven ? resolved.streams : [],
    start: formatInstant(resolved.start),
    end: formatInstant(resolved.end),
    job: resolved.job,
    ...(resolved.fresh ? { fresh: true } : {}),
    ...(resolved.tapConfig ? { tapConfig: resolved.tapConfig } : {}),
    ...(resolved.targetConfig ? { targetConfig: resolved.targetConfig } : {}),
    stateDir: resolved.stateRoot,
    ...(resolved.company ? { company: resolved.company.ref } : {}),
  };
}

/** Relative to `cwd` when inside it, absolute otherwise (`../../x` helps nobody). */
export function shortPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative === '' ? '.' : relative.startsWith('..') ? file : relative;
}

const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/**
 * The command and arguments as a person would type them (paths relative to `cwd`). A sync goes
 * on from the bookmarks up to its own start, so it takes no --end; its --start only matters to
 * a stream without a bookmark yet.
 */
function backfillArgs(resolved: ResolvedBackfill, cwd = process.cwd()): string[] {
  return [
    resolved.kind,
    ...companyArgs(resolved, cwd),
    '--job',
    resolved.job,
    // Every stream is `all`, as typed: 28 names say less, and make a line no one reads before pasting.
    ...(resolved.streamsGiven ? ['--streams', isEveryStream(resolved.streams) ? ALL_STREAMS : resolved.streams.join(',')] : []),
    '--start',
    formatInstant(resolved.start),
    ...(resolved.kind === 'sync' ? [] : ['--end', formatInstant(resolved.end)]),
    ...settingsArgs(resolved, cwd),
  ];
}

/** `--companies FILE --company NAME` of a company's run (paths relative to `cwd`). */
function companyArgs(resolved: ResolvedBackfill, cwd: string): string[] {
  return resolved.company ? ['--companies', shortPath(resolved.company.ref.file, cwd), '--company', resolved.company.ref.name] : [];
}

/** Where a run's settings and state are: `--tap-config`, `--target-config`, `--state-dir` when not the default. */
function settingsArgs(resolved: ResolvedBackfill, cwd: string): string[] {
  const rel = (f: string) => shortPath(f, cwd);
  return [
    ...(resolved.tapConfig ? ['--tap-config', rel(resolved.tapConfig)] : []),
    ...(resolved.targetConfig ? ['--target-config', rel(resolved.targetConfig)] : []),
    ...(resolved.stateRoot !== path.resolve(cwd, 'state') ? ['--state-dir', rel(resolved.stateRoot)] : []),
  ];
}

/** The one command that resumes this run from its state file (never with --fresh). */
export function resumeCommand(resolved: ResolvedBackfill, cliPath: string, cwd = process.cwd()): string {
  return ['node', shortPath(cliPath, cwd), ...backfillArgs(resolved, cwd)].map(shellQuote).join(' ');
}

/**
 * The command that reconciles `streams` for this run: its company, its job (whose lock reconcile
 * takes), its settings and state folder. What the tap's advice (`qbo-pipeline reconcile --streams
 * …`, which knows none of these) becomes under the runner.
 */
export function reconcileCommand(resolved: ResolvedBackfill, streams: readonly string[], cliPath: string, cwd = process.cwd()): string {
  return [
    'node',
    shortPath(cliPath, cwd),
    'reconcile',
    ...companyArgs(resolved, cwd),
    '--job',
    resolved.job,
    '--streams',
    streams.join(','),
    ...settingsArgs(resolved, cwd),
  ]
    .map(shellQuote)
    .join(' ');
}
