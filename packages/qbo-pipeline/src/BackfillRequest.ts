import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DateTime } from 'luxon';
import { ENTITIES } from 'qbo-catalog';
import { UsageError } from 'singer-kit';
import { formatInstant, parseInstant } from 'singer-kit';
import type { RunKind } from './runs/RunRecord.js';

/** What a person asks for: the `backfill` arguments, also what a trigger stores (JSON). */
export interface BackfillRequest {
  /** `sync` when the range was computed by `runSync` (it names the run and makes the resume command a sync); default `backfill`. */
  readonly kind?: RunKind;
  readonly streams: readonly string[];
  /** ISO 8601; a date alone is midnight UTC. */
  readonly start: string;
  /** Exclusive. */
  readonly end: string;
  /** Names the state file `<stateDir>/<job>.json`; default `defaultJob(streams)`. */
  readonly job?: string;
  /** Ignore the state file (a backup is kept) and extract the whole range again. */
  readonly fresh?: boolean;
  readonly tapConfig?: string;
  readonly targetConfig?: string;
  /** Default `state` (relative to the working directory). */
  readonly stateDir?: string;
}

export interface ResolvedBackfill {
  readonly kind: RunKind;
  readonly streams: readonly string[];
  readonly start: DateTime<true>;
  readonly end: DateTime<true>;
  readonly job: string;
  readonly fresh: boolean;
  readonly tapConfig: string | undefined;
  readonly targetConfig: string | undefined;
  readonly stateDir: string;
  readonly stateFile: string;
  /** The state file these streams have without `--job`. */
  readonly defaultStateFile: string;
}

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KNOWN_STREAMS = ENTITIES.map((e) => e.stream);

/** The streams of `--streams`, trimmed and without repeats; unknown names are a UsageError listing the known ones. */
export function resolveStreams(requested: readonly string[]): string[] {
  const streams = [...new Set(requested.map((s) => s.trim()).filter((s) => s !== ''))];
  if (streams.length === 0) throw new UsageError('--streams: name at least one stream, e.g. --streams invoices,customers,items');
  const unknown = streams.filter((s) => !KNOWN_STREAMS.includes(s));
  if (unknown.length > 0) {
    throw new UsageError(`--streams: unknown stream ${unknown.map((s) => JSON.stringify(s)).join(', ')}; known streams: ${KNOWN_STREAMS.join(', ')}`);
  }
  return streams;
}

/**
 * The job a stream set belongs to when `--job` is not given: `qb_<streams in alphabetical order>`,
 * the same for `backfill` and `sync`, so the daily sync continues where the backfill ended.
 * A state file of the name earlier versions gave a backfill (`qb_<streams as typed>_backfill`)
 * is kept using when it exists and the new one does not.
 */
export function defaultJob(streams: readonly string[], stateDir: string): string {
  const job = `qb_${[...streams].sort().join('_')}`;
  const legacy = `qb_${streams.join('_')}_backfill`;
  return !existsSync(path.join(stateDir, `${job}.json`)) && existsSync(path.join(stateDir, `${legacy}.json`)) ? legacy : job;
}

/** `--job` as given, or the stream set's default; a name that is not a plain file name is a UsageError. */
export function resolveJob(job: string | undefined, streams: readonly string[], stateDir: string): string {
  const name = job ?? defaultJob(streams, stateDir);
  if (!JOB_NAME.test(name)) throw new UsageError(`--job: ${JSON.stringify(name)} may hold only letters, digits, _ . and -`);
  return name;
}

/** Checks and normalises a request; every problem is a UsageError naming the argument. */
export function resolveBackfill(request: BackfillRequest, cwd = process.cwd()): ResolvedBackfill {
  const streams = resolveStreams(request.streams);
  const start = parseInstant(request.start, '--start');
  const end = parseInstant(request.end, '--end');
  if (end <= start) throw new UsageError(`--end (${formatInstant(end)}) must be after --start (${formatInstant(start)})`);
  const stateDir = path.resolve(cwd, request.stateDir ?? 'state');
  const job = resolveJob(request.job, streams, stateDir);
  const file = (f: string | undefined) => (f === undefined ? undefined : path.resolve(cwd, f));
  return Object.freeze({
    kind: request.kind ?? 'backfill',
    streams,
    start,
    end,
    job,
    fresh: request.fresh ?? false,
    tapConfig: file(request.tapConfig),
    targetConfig: file(request.targetConfig),
    stateDir,
    stateFile: path.join(stateDir, `${job}.json`),
    defaultStateFile: path.join(stateDir, `${defaultJob(streams, stateDir)}.json`),
  });
}

/** The request again, paths absolute and dates in UTC: what a trigger records. */
export function normaliseBackfill(resolved: ResolvedBackfill): BackfillRequest {
  return {
    ...(resolved.kind === 'backfill' ? {} : { kind: resolved.kind }),
    streams: resolved.streams,
    start: formatInstant(resolved.start),
    end: formatInstant(resolved.end),
    job: resolved.job,
    ...(resolved.fresh ? { fresh: true } : {}),
    ...(resolved.tapConfig ? { tapConfig: resolved.tapConfig } : {}),
    ...(resolved.targetConfig ? { targetConfig: resolved.targetConfig } : {}),
    stateDir: resolved.stateDir,
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
export function backfillArgs(resolved: ResolvedBackfill, cwd = process.cwd()): string[] {
  const rel = (f: string) => shortPath(f, cwd);
  return [
    resolved.kind,
    '--job', resolved.job,
    '--streams', resolved.streams.join(','),
    '--start', formatInstant(resolved.start),
    ...(resolved.kind === 'sync' ? [] : ['--end', formatInstant(resolved.end)]),
    ...(resolved.tapConfig ? ['--tap-config', rel(resolved.tapConfig)] : []),
    ...(resolved.targetConfig ? ['--target-config', rel(resolved.targetConfig)] : []),
    ...(resolved.stateDir !== path.resolve(cwd, 'state') ? ['--state-dir', rel(resolved.stateDir)] : []),
  ];
}

/** The one command that resumes this run from its state file (never with --fresh). */
export function resumeCommand(resolved: ResolvedBackfill, cliPath: string, cwd = process.cwd()): string {
  return ['node', shortPath(cliPath, cwd), ...backfillArgs(resolved, cwd)].map(shellQuote).join(' ');
}
