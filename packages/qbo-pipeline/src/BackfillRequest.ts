import path from 'node:path';
import type { DateTime } from 'luxon';
import { ENTITIES } from 'qbo-catalog';
import { UsageError } from 'singer-kit';
import { formatInstant, parseInstant } from 'singer-kit';

/** What a person asks for: the `backfill` arguments, also what a trigger stores (JSON). */
export interface BackfillRequest {
  readonly streams: readonly string[];
  /** ISO 8601; a date alone is midnight UTC. */
  readonly start: string;
  /** Exclusive. */
  readonly end: string;
  /** Names the state file `<stateDir>/<job>.json`; default `qb_<streams joined by _>_backfill`. */
  readonly job?: string;
  /** Ignore the state file (a backup is kept) and extract the whole range again. */
  readonly fresh?: boolean;
  readonly tapConfig?: string;
  readonly targetConfig?: string;
  /** Default `state` (relative to the working directory). */
  readonly stateDir?: string;
}

export interface ResolvedBackfill {
  readonly streams: readonly string[];
  readonly start: DateTime<true>;
  readonly end: DateTime<true>;
  readonly job: string;
  readonly fresh: boolean;
  readonly tapConfig: string | undefined;
  readonly targetConfig: string | undefined;
  readonly stateDir: string;
  readonly stateFile: string;
}

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KNOWN_STREAMS = ENTITIES.map((e) => e.stream);

/** Checks and normalises a request; every problem is a UsageError naming the argument. */
export function resolveBackfill(request: BackfillRequest, cwd = process.cwd()): ResolvedBackfill {
  const streams = [...new Set(request.streams.map((s) => s.trim()).filter((s) => s !== ''))];
  if (streams.length === 0) throw new UsageError('--streams: name at least one stream, e.g. --streams invoices,customers,items');
  const unknown = streams.filter((s) => !KNOWN_STREAMS.includes(s));
  if (unknown.length > 0) {
    throw new UsageError(`--streams: unknown stream ${unknown.map((s) => JSON.stringify(s)).join(', ')}; known streams: ${KNOWN_STREAMS.join(', ')}`);
  }
  const start = parseInstant(request.start, '--start');
  const end = parseInstant(request.end, '--end');
  if (end <= start) throw new UsageError(`--end (${formatInstant(end)}) must be after --start (${formatInstant(start)})`);
  const job = request.job ?? `qb_${streams.join('_')}_backfill`;
  if (!JOB_NAME.test(job)) throw new UsageError(`--job: ${JSON.stringify(job)} may hold only letters, digits, _ . and -`);
  const stateDir = path.resolve(cwd, request.stateDir ?? 'state');
  const file = (f: string | undefined) => (f === undefined ? undefined : path.resolve(cwd, f));
  return Object.freeze({
    streams,
    start,
    end,
    job,
    fresh: request.fresh ?? false,
    tapConfig: file(request.tapConfig),
    targetConfig: file(request.targetConfig),
    stateDir,
    stateFile: path.join(stateDir, `${job}.json`),
  });
}

/** The request again, paths absolute and dates in UTC: what a trigger records. */
export function normaliseBackfill(resolved: ResolvedBackfill): BackfillRequest {
  return {
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
function shortPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative === '' ? '.' : relative.startsWith('..') ? file : relative;
}

const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** The backfill arguments as a person would type them (paths relative to `cwd`). */
export function backfillArgs(resolved: ResolvedBackfill, cwd = process.cwd()): string[] {
  const rel = (f: string) => shortPath(f, cwd);
  return [
    '--job', resolved.job,
    '--streams', resolved.streams.join(','),
    '--start', formatInstant(resolved.start),
    '--end', formatInstant(resolved.end),
    ...(resolved.tapConfig ? ['--tap-config', rel(resolved.tapConfig)] : []),
    ...(resolved.targetConfig ? ['--target-config', rel(resolved.targetConfig)] : []),
    ...(resolved.stateDir !== path.resolve(cwd, 'state') ? ['--state-dir', rel(resolved.stateDir)] : []),
  ];
}

/** The one command that resumes this backfill from its state file (never with --fresh). */
export function resumeCommand(resolved: ResolvedBackfill, cliPath: string, cwd = process.cwd()): string {
  return ['node', shortPath(cliPath, cwd), 'backfill', ...backfillArgs(resolved, cwd)].map(shellQuote).join(' ');
}
