import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { LineWriter, type Logger } from 'singer-kit';
import { discoverCatalog, selectStreams, type SelectedStream } from 'qbo-catalog';
import { OutputChannel } from './emit/OutputChannel.js';
import { readDeletions, type DeletionRange } from './extract/readDeletions.js';
import { WindowSlots } from './extract/WindowSlots.js';
import { readWindow, type ReadContext, type StreamTarget, type WindowRead, type WindowResult } from './extract/readWindow.js';
import { isoZ, makeWindow, planWindows, resolveStart, type Window } from './plan/planWindows.js';
import { openQboSession } from './QboSession.js';
import { RunReport } from './report/RunReport.js';
import { VOLUMETRY_STREAM, volumetryRecord } from './report/volumetryRecord.js';
import type { TapSettings } from './settings.js';
import { lookupBookmark, normaliseState, REPLICATION_KEY, type TapState } from './state/mergeState.js';

export interface RunTapOptions {
  readonly settings: TapSettings;
  /** The parsed --catalog/--properties file; undefined syncs every stream selected by default. */
  readonly catalog: unknown;
  /** The parsed --state file, if given. */
  readonly state: unknown;
  readonly out: Writable;
  readonly logger: Logger;
  /** stderr when it is a terminal: enables the live progress line. */
  readonly tty?: NodeJS.WriteStream | undefined;
  /** Windows with more rows are split in halves rather than buffered; default MAX_WINDOW_ROWS. */
  readonly maxWindowRows?: number;
}

/**
 * Memory bound: a window with more rows is split in halves rather than buffered, and at most
 * WINDOW_SLOTS_PER_REQUEST × max_concurrency windows are held at once, across all streams.
 */
export const MAX_WINDOW_ROWS = 10_000;
const WINDOW_SLOTS_PER_REQUEST = 2;
const MAX_REREADS = 3;
/** CDC looks back at most 30 days; keep a few minutes of margin for clock differences. */
const CDC_LOOKBACK_MS = 30 * 86_400_000 - 10 * 60_000;

interface Runner {
  readonly ctx: ReadContext;
  readonly channel: OutputChannel;
  readonly report: RunReport;
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly lookahead: number;
  /** The `_volumetry` evidence stream is selected. */
  readonly evidence: boolean;
  readonly slots: WindowSlots;
}

async function emitRead(runner: Runner, stream: string, read: WindowRead, advance: boolean): Promise<void> {
  const evidence = runner.evidence ? [{ stream: VOLUMETRY_STREAM, record: volumetryRecord(runner.runId, stream, read) }] : [];
  await runner.channel.writeWindow(read.lines, evidence, advance ? { stream, value: read.window.end } : undefined);
  runner.report.windowDone(stream, read);
}

interface StreamJob {
  readonly selected: SelectedStream;
  readonly target: StreamTarget;
  /** INCREMENTAL: resume from the bookmark and advance it after each window. */
  readonly incremental: boolean;
}

async function emitResult(runner: Runner, job: StreamJob, result: WindowResult): Promise<void> {
  const { target } = job;
  if (result.kind === 'split') {
    runner.ctx.logger.info(`${target.stream} ${result.halves[0].start}..${result.halves[1].end}: more than ${runner.ctx.maxWindowRows} rows; splitting the window in halves`);
    runner.report.plan(1);
    for (const half of result.halves) await emitResult(runner, job, await readWindow(runner.ctx, target, half));
    return;
  }
  await emitRead(runner, target.stream, result, job.incremental);
}

/**
 * Windows are read ahead (concurrently, within the shared budget and the shared window slots)
 * and emitted strictly in order; a window's slot is freed once it is emitted.
 */
async function syncStream(runner: Runner, job: StreamJob, windows: readonly Window[]): Promise<void> {
  const pending: Array<Promise<{ result: WindowResult; release: () => void }>> = [];
  let next = 0;
  const launch = () => {
    while (pending.length < runner.lookahead && next < windows.length && !runner.signal.aborted) {
      const window = windows[next++]!;
      const read = runner.slots.acquire().then(async (release) => {
        try {
          return { result: await readWindow(runner.ctx, job.target, window), release };
        } catch (error) {
          release();
          throw error;
        }
      });
      read.catch(() => undefined); // awaited below in order; avoid an unhandled rejection meanwhile
      pending.push(read);
    }
  };
  launch();
  while (pending.length > 0) {
    const { result, release } = await pending.shift()!;
    try {
      if (runner.signal.aborted) return;
      await emitResult(runner, job, result);
    } finally {
      release();
    }
    launch();
  }
}

function toTarget(selected: SelectedStream): StreamTarget | undefined {
  const entity = selected.entity;
  if (!entity) return undefined;
  return { stream: selected.stream, entity: entity.entity, nameList: entity.nameList, included: selected.includedProperties, fullTable: entity.replication === 'FULL_TABLE', cdc: entity.cdc };
}

/** Where each incremental stream starts, honouring its bookmark (D7, D12, D13). */
function streamStart(settings: TapSettings, state: TapState, stream: string, logger: Logger): number {
  const bookmark = lookupBookmark(state, stream);
  if (bookmark.kind === 'other-key') {
    logger.warn(`${stream}: the state's bookmark is for replication key ${bookmark.key}, not ${REPLICATION_KEY}; starting from start_date`);
  }
  return resolveStart(settings.startDate, bookmark.kind === 'found' ? bookmark.value : undefined);
}

/**
 * The tap's composition root: settings, catalog and state in; SCHEMA, RECORD and STATE lines out.
 * Streams and windows are fetched concurrently within one rate budget per realm.
 */
export async function runTap(options: RunTapOptions): Promise<void> {
  const { settings, logger } = options;
  const runId = randomUUID();
  const inputState = normaliseState(options.state);
  const selected = selectStreams(options.catalog ?? discoverCatalog(), (message: string) => logger.warn(message));
  const jobs = selected.flatMap((s): StreamJob[] => {
    const target = toTarget(s);
    return target ? [{ selected: s, target, incremental: s.replicationMethod === 'INCREMENTAL' && !target.fullTable }] : [];
  });
  const volumetry = selected.find((s) => s.stream === VOLUMETRY_STREAM);

  // latin1: the channel's lines are UTF-8 byte strings, so each char goes out as the byte it stands for.
  options.out.setDefaultEncoding('latin1');
  // The default 64 KiB chunks, not larger: a chunk string above V8's large-object size (128 KiB)
  // is allocated and freed as fresh pages each time, which cost more CPU (measured) than the
  // extra write calls; 64 KiB is also what a pipe holds.
  const writer = new LineWriter(options.out);
  const channel = new OutputChannel(writer, inputState);
  if (options.state !== undefined) await channel.writeState(); // D9: echo the input state first

  const abort = new AbortController();
  const sleep = (ms: number) => sleepFor(ms, undefined, { signal: abort.signal });
  // Each calls the other only once requests run.
  const session = openQboSession({ settings, logger, sleep, onRetry: (reason) => report.retried(reason) });
  const report = new RunReport({ logger, tty: options.tty, requestsLastMinute: () => session.budget.recentStarts });
  const { client, auth } = session;
  const ctx: ReadContext = {
    client,
    logger,
    pageSize: settings.pageSize,
    realmId: settings.realmId,
    runId,
    minorVersion: settings.minorVersion,
    maxWindowRows: options.maxWindowRows ?? MAX_WINDOW_ROWS,
    maxRereads: MAX_REREADS,
  };
  const runner: Runner = { ctx, channel, report, runId, signal: abort.signal, lookahead: settings.maxConcurrency,
    evidence: volumetry !== undefined,
    slots: new WindowSlots(WINDOW_SLOTS_PER_REQUEST * settings.maxConcurrency),
  };

  try {
    await auth.accessToken(); // refresh at start: a bad token fails before any SCHEMA
    // bookmark_properties must name top-level fields; MetaData.LastUpdatedTime is nested, so none are declared.
    for (const { selected: s } of jobs) await channel.writeSchema(s.stream, s.schema, s.keyProperties);
    if (volumetry) await channel.writeSchema(volumetry.stream, volumetry.schema, volumetry.keyProperties);

    const endMs = settings.endDate.toMillis();
    const starts = new Map(jobs.map((job) => [job, job.incremental ? streamStart(settings, inputState, job.target.stream, logger) : settings.startDate.toMillis()]));
    // A stream's deletions go out before its first window, so before any STATE that passes them.
    if (settings.includeDeleted) await emitDeletions(runner, inputState, jobs.filter((j) => j.incremental && j.target.cdc).map((j) => ({ job: j, from: starts.get(j)! })), endMs);
    const running: Array<Promise<void>> = [];
    for (const job of jobs) {
      const { target } = job;
      const from = starts.get(job)!;
      const windows = target.fullTable ? [makeWindow(from, endMs)] : planWindows(from, endMs, settings.window);
      report.plan(windows.length);
      running.push(syncStream(runner, job, windows));
    }
    const failure = await firstFailure(running, () => {
      channel.close();
      abort.abort();
      session.close();
    });
    report.summary(); // also after a failure: what was extracted before it
    if (failure) throw failure;
    await channel.writeState(); // a run always ends with its final STATE (D1, D8)
    await channel.flush();
  } finally {
    session.close();
  }
}

/** Waits for all jobs; on the first failure stops the rest (`stop`) and returns that failure. */
async function firstFailure(jobs: ReadonlyArray<Promise<void>>, stop: () => void): Promise<unknown> {
  let first: unknown;
  await Promise.all(
    jobs.map((job) =>
      job.catch((error: unknown) => {
        if (first === undefined) {
          first = error;
          stop();
        }
      }),
    ),
  );
  return first;
}

/**
 * Deletions on each stream's own records, from QBO's CDC, for `[from, end)` of each stream. CDC
 * looks back 30 days: an older resume point leaves a gap that only `qbo-pipeline reconcile` can
 * close, and says so.
 */
async function emitDeletions(runner: Runner, state: TapState, streams: ReadonlyArray<{ job: StreamJob; from: number }>, endMs: number): Promise<void> {
  const { logger } = runner.ctx;
  const oldest = Math.ceil((Date.now() - CDC_LOOKBACK_MS) / 1000) * 1000;
  const ranges: DeletionRange[] = [];
  for (const { job, from } of streams) {
    const stream = job.target.stream;
    // Only a stream that resumes from a bookmark has rows in the table that may have been deleted unseen.
    if (from < oldest && lookupBookmark(state, stream).kind === 'found') {
      logger.warn(
        `${stream}: deletions between ${isoZ(from)} and ${isoZ(Math.min(oldest, endMs))} are older than QBO's 30-day change data capture and cannot be read; ` +
          `to mark the rows QBO no longer has, run \`qbo-pipeline reconcile --streams ${stream}\``,
      );
    }
    const fromMs = Math.max(from, oldest);
    if (fromMs < endMs) ranges.push({ stream, entity: job.target.entity, fromMs });
  }
  if (ranges.length === 0) return;
  const sinceMs = Math.min(...ranges.map((r) => r.fromMs));
  const read = await readDeletions(runner.ctx, ranges, sinceMs, endMs);
  for (const range of ranges) {
    const lines = read.lines.get(range.stream) ?? [];
    if (lines.length > 0) await runner.channel.writeWindow(lines, [], undefined);
  }
  const counts = ranges.map((r) => `${r.stream} ${read.lines.get(r.stream)?.length ?? 0}`).join(', ');
  logger.info(`deletions since ${isoZ(sinceMs)} (CDC, ${read.requests} request${read.requests === 1 ? '' : 's'}): ${counts}`);
}
