import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { parseStateText, UsageError, writeFileAtomic } from 'singer-kit';
import { bookmarkInstant } from 'tap-quickbooks';
import { ifExists, readdirIfExists } from './ifExists.js';

/** A Singer state value as the tap reads it with --state (DESIGN §4). */
export interface StateValue {
  readonly bookmarks?: Record<string, { readonly replication_key_value?: string; readonly [key: string]: unknown }>;
  readonly [key: string]: unknown;
}

/** Checks a state value's shape; returns the problem, or undefined when it is usable. */
export function stateProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it must hold a JSON object';
  const bookmarks = (value as StateValue).bookmarks;
  if (bookmarks === undefined) return undefined;
  if (typeof bookmarks !== 'object' || bookmarks === null || Array.isArray(bookmarks)) return '"bookmarks" must be an object';
  for (const [stream, bookmark] of Object.entries(bookmarks)) {
    if (typeof bookmark !== 'object' || bookmark === null || Array.isArray(bookmark)) return `bookmark of stream "${stream}" must be an object`;
    const at = bookmark.replication_key_value;
    // Read as the tap reads it, so a state the runner accepts is one the tap resumes from.
    if (at !== undefined && (typeof at !== 'string' || bookmarkInstant(at) === undefined)) {
      return `bookmark of stream "${stream}" has replication_key_value ${JSON.stringify(at)}, not an ISO 8601 instant`;
    }
  }
  return undefined;
}

/**
 * The job's state file: `undefined` when there is none yet. A file that exists but cannot be
 * used is a UsageError naming it: resuming from scratch silently would re-extract everything
 * (or, worse, hide that the bookmarks were lost).
 */
export async function readStateFile(file: string): Promise<StateValue | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read state file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const fix = 'repair it, or run again with --fresh to start over (the file is kept as a backup)';
  const parsed = parseStateText(text);
  if (parsed.kind === 'log') {
    throw new UsageError(
      `state file ${file} holds ${parsed.lines} lines, a log of states; a state file is only the last one: tail -n 1 ${file} > ${file}.tmp && mv ${file}.tmp ${file}`,
    );
  }
  if (parsed.kind === 'invalid') throw new UsageError(`state file ${file} is not valid JSON (${parsed.error}); ${fix}`);
  const value = parsed.value;
  const problem = stateProblem(value);
  if (problem) throw new UsageError(`state file ${file} is malformed: ${problem}; ${fix}`);
  return value as StateValue;
}

/** Streams with a bookmark in a state value. */
function bookmarkedStreams(state: StateValue | undefined): string[] {
  return Object.keys(state?.bookmarks ?? {});
}

/**
 * A job's state file must be that job's: one holding bookmarks of streams the run does not
 * extract was written for another job (`--job` naming the wrong one), and resuming from it
 * would merge the two jobs' bookmarks. Returns the problem, naming the file to use instead.
 */
export function stateJobProblem(
  state: StateValue | undefined,
  job: { readonly streams: readonly string[]; readonly stateFile: string; readonly defaultStateFile: string },
): string | undefined {
  const foreign = bookmarkedStreams(state).filter((stream) => !job.streams.includes(stream));
  if (foreign.length === 0) return undefined;
  const theirs = bookmarkedStreams(state).join(',');
  const own =
    job.defaultStateFile === job.stateFile
      ? 'move it aside, or run with --fresh'
      : `leave out --job (streams ${job.streams.join(',')} keep their state in ${job.defaultStateFile})`;
  return `state file ${job.stateFile} holds bookmarks of ${foreign.join(', ')}, which this run (streams ${job.streams.join(',')}) does not extract: it belongs to another job. Use --streams ${theirs} to continue that job, or ${own}`;
}

/**
 * Writes a state value given as its JSON text (one line, as the target printed it), unchanged:
 * a number in a key the runner does not own (9007199254740993, 1.10) keeps its digits, which a
 * JSON.parse and JSON.stringify round trip would not.
 */
export async function writeStateText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, text.trim() + '\n');
}

/**
 * Moves the state file aside before a deliberate fresh run; returns the backup's path, if any.
 * Moved, not copied: if the fresh run fails before its first commit, the job has no state and
 * its resume command starts over too, instead of resuming from the old bookmarks.
 */
export async function backupStateFile(file: string, now: Date): Promise<string | undefined> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/Z$/, 'Z');
  const backup = file.replace(/\.json$/, '') + `.${stamp}.bak.json`;
  return ifExists(async () => {
    await rename(file, backup);
    return backup;
  });
}

/** A job's state file as found in a state folder: its value, or why it cannot be used. */
export interface JobState {
  readonly job: string;
  readonly file: string;
  readonly state: StateValue | undefined;
  readonly problem: string | undefined;
}

const STATE_FILE = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\.json$/;

/** Every job state file `<dir>/<job>.json` (not backups), each read on its own: one damaged file does not hide the others. */
export async function listJobStates(dir: string): Promise<JobState[]> {
  const names = await readdirIfExists(dir);
  const jobs = names
    .filter((n) => !n.endsWith('.bak.json'))
    .map((n) => STATE_FILE.exec(n)?.[1])
    .filter((job): job is string => job !== undefined);
  const read = jobs.sort().map(async (job): Promise<JobState> => {
    const file = path.join(dir, `${job}.json`);
    try {
      return { job, file, state: await readStateFile(file), problem: undefined };
    } catch (error) {
      return { job, file, state: undefined, problem: (error as Error).message };
    }
  });
  return Promise.all(read);
}
