import type { Duration } from 'luxon';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { compactJson, LineWriter, plural, UsageError, type Logger } from 'singer-kit';
import { discoverCatalog, selectStreams, type SelectedStream } from 'qbo-catalog';
import { OutputChannel, type BlockPart } from './emit/OutputChannel.js';
import { readDeletions, type DeletionRange } from './extract/readDeletions.js';
import { RowBudget } from './extract/RowBudget.js';
import { countRows, readSpan, type ReadContext, type SpanRead, type StreamTarget } from './extract/readSpan.js';
import type { RequestStats } from './http/QboClient.js';
import { planSpans, type Span } from './plan/planSpans.js';
import { bookmarkInstant, isoZ, makeWindow, planWindows, resolveStart, windowHolding, type Window } from './plan/planWindows.js';
import { openQboSession } from './QboSession.js';
import { RunReport } from './report/RunReport.js';
import { dayComplete, spanEvidence, spanLabel, VOLUMETRY_STREAM, volumetryRecord, type DayEvidence } from './report/volumetryRecord.js';
import { HELD_SPANS, type TapSettings } from './settings.js';
import { lookupBookmark, normaliseState, REPLICATION_KEY, type TapState } from './state/mergeState.js';
import { reconcileAdvice } from './reconcileAdvice.js';

export interface RunTapOptions {
  readonly settings: TapSettings;
  /** The parsed --catalog/--properties file; undefined syncs every stream selected by default. */
  readonly catalog: unknown;
  /** The parsed --state file, if given. */
  readonly state: unknown;
  /** The --state file's text (whose value is `state`): what the tap carries forward is copied from it exactly. */
  readonly stateText?: string | undefined;
  readonly out: Writable;
  readonly logger: Logger;
  /** stderr when it is a terminal: enables the live progress line. */
  readonly tty?: NodeJS.WriteStream | undefined;
}

const MAX_REREADS = 3;
/**
 * CDC looks back at most 30 days; keep a few minutes of margin for clock differences. A stream
 * resumed from a bookmark older than this (now − bookmark > it) has deletions CDC cannot give.
 */
export const CDC_LOOKBACK_MS = 30 * 86_400_000 - 10 * 60_000;

interface Runner {
  readonly ctx: ReadContext;
  readonly channel: OutputChannel;
  readonly report: RunReport;
  readonly runId: string;
  readonly signal: AbortSignal;
  /** Spans of one stream being read or waiting to be written. */
  readonly lookahead: number;
  readonly maxSpanRows: number;
  /** The `_volumetry` evidence stream is selected. */
  readonly evidence: boolean;
  readonly rows: RowBudget;
}

interface StreamJob {
  readonly selected: SelectedStream;
  readonly target: StreamTarget;
  /** INCREMENTAL: resume from the bookmark and advance it after each complete day. */
  readonly incremental: boolean;
}

/**
 * Writes a span's records day by day, each complete day followed by its evidence and — after
 * a day with records, and after the span's last complete day — the STATE at the day's end.
 * Returns the evidence of a day still open (a crowded day whose later pieces are still to come).
 */
async function emitSpan(runner: Runner, job: StreamJob, read: SpanRead, open: DayEvidence | undefined): Promise<DayEvidence | undefined> {
  const { stream } = job.target;
  const evidence = spanEvidence(read, open);
  const complete = evidence.map(dayComplete);
  const lastComplete = complete.lastIndexOf(true);
  const parts: BlockPart[] = read.span.days.map((day, d) => ({
    records: (writer) => read.writeDay(d, writer),
    extra: complete[d] && runner.evidence ? [{ stream: VOLUMETRY_STREAM, record: volumetryRecord(runner.runId, stream, evidence[d]!) }] : [],
    bookmark: complete[d] && job.incremental && (read.perDay[d]! > 0 || d === lastComplete) ? { stream, value: day.end } : undefined,
  }));
  await runner.channel.writeBlock(parts);
  const done = evidence.filter((_, d) => complete[d]);
  runner.report.spanDone(
    stream,
    { window: read.span.window, qboCount: read.qboCount, extracted: read.extracted, ...read.cost },
    done.map((e) => e.day.endMs),
    done.filter((e) => e.qboCount === 0).length,
  );
  return complete[evidence.length - 1] ? undefined : evidence[evidence.length - 1];
}

interface Started {
  readonly read: Promise<SpanRead>;
  readonly release: () => void;
}

/**
 * Plans a stream's spans from QBO's counts (a span is counted only when the next one is
 * needed), reads up to `lookahead` of them at once within the shared rate and row budgets,
 * and writes them strictly in order; a span's rows are freed once it is written.
 */
async function syncStream(runner: Runner, job: StreamJob, days: readonly Window[]): Promise<void> {
  const { ctx, signal } = runner;
  const { target } = job;
  // The COUNTs of spans that were cut are requests too: each span's evidence carries those made since the span before it.
  let planning: RequestStats = { attempts: 0, retries: 0 };
  const spans = planSpans(days, {
    maxRows: runner.maxSpanRows,
    count: (window) => countRows(ctx, target, window, planning),
    onCut: (window, rows, crowdedDay) => {
      if (crowdedDay)
        ctx.logger.info(
          `${target.stream} ${spanLabel(window)}: ${rows} rows in one window, more than max_span_rows (${runner.maxSpanRows}); reading it in pieces`,
        );
    },
  });
  const next = async (): Promise<Started | undefined> => {
    const planned: IteratorResult<Span> = signal.aborted ? { done: true, value: undefined } : await spans.next();
    if (planned.done) return undefined;
    const span = planned.value;
    const stats = planning;
    planning = { attempts: 0, retries: 0 };
    const release = await runner.rows.acquire(span.count);
    const read = readSpan(ctx, target, span, stats);
    read.catch(release); // a failed read holds nothing; awaited below in order
    return { read, release };
  };
  const pending: Array<Promise<Started | undefined>> = [];
  let previous: Promise<unknown> = Promise.resolve();
  let exhausted = false;
  const launch = () => {
    while (!exhausted && pending.length < runner.lookahead) {
      // Spans are planned one after the other: each waits for the one before it to start.
      const started = previous.then(next).then((s) => {
        if (!s) exhausted = true;
        return s;
      });
      started.catch(() => undefined); // awaited below in order; avoid an unhandled rejection meanwhile
      previous = started.catch(() => undefined);
      pending.push(started);
    }
  };
  launch();
  let open: DayEvidence | undefined;
  for (let started = await pending.shift(); started; started = await pending.shift()) {
    try {
      const read = await started.read;
      if (signal.aborted) return;
      open = await emitSpan(runner, job, read, open);
    } finally {
      started.release();
    }
    launch();
  }
}

function toTarget(selected: SelectedStream): StreamTarget | undefined {
  const entity = selected.entity;
  if (!entity) return undefined;
  return {
    stream: selected.stream,
    entity: entity.entity,
    nameList: entity.nameList,
    included: selected.includedProperties,
    fullTable: entity.replication === 'FULL_TABLE',
    cdc: entity.cdc,
  };
}

/**
 * Where each incremental stream starts, honouring its bookmark (D7, D12, D13). A bookmark that is
 * no instant is refused: starting that stream from start_date instead would read it all again
 * unasked (hours of a backfill's requests).
 */
function streamStart(settings: TapSettings, state: TapState, stream: string, logger: Logger): number {
  const bookmark = lookupBookmark(state, stream);
  if (bookmark.kind === 'other-key') {
    logger.warn(`${stream}: the state's bookmark is for replication key ${bookmark.key}, not ${REPLICATION_KEY}; starting from start_date`);
  }
  if (bookmark.kind !== 'found') return resolveStart(settings.startDate, undefined);
  const at = bookmarkInstant(bookmark.value);
  if (at === undefined) {
    throw new UsageError(
      `--state: the bookmark of stream ${stream}, ${JSON.stringify(bookmark.value)}, is not an ISO 8601 instant such as 2025-01-01T00:00:00Z; correct it, or remove that stream's bookmark to read the stream from start_date`,
    );
  }
  return resolveStart(settings.startDate, at);
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
  // Before anything is printed or requested: an unreadable bookmark is the user's to fix.
  const starts = new Map(
    jobs.map((job) => [job, job.incremental ? streamStart(settings, inputState, job.target.stream, logger) : settings.startDate.toMillis()]),
  );

  // latin1: the channel's lines are UTF-8 byte strings, so each char goes out as the byte it stands
  // for; records are copied from the pages' bytes. The default 64 KiB chunks: what a pipe holds.
  const writer = new LineWriter(options.out, { encoding: 'latin1' });
  // The given text only when it is the state used (normaliseState takes anything but an object as none).
  const inputText = options.stateText !== undefined && inputState === options.state ? compactJson(options.stateText.trim(), true) : undefined;
  const channel = new OutputChannel(writer, inputState, inputText);
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
    pageConcurrency: settings.maxConcurrency,
    maxRereads: MAX_REREADS,
  };
  const maxSpanRows = settings.maxSpanRows;
  const runner: Runner = {
    ctx,
    channel,
    report,
    runId,
    signal: abort.signal,
    lookahead: settings.maxConcurrency,
    maxSpanRows,
    evidence: volumetry !== undefined,
    rows: new RowBudget(HELD_SPANS * maxSpanRows),
  };

  try {
    await auth.accessToken(); // refresh at start: a bad token fails before any SCHEMA
    // bookmark_properties must name top-level fields; MetaData.LastUpdatedTime is nested, so none are declared.
    for (const { selected: s } of jobs) await channel.writeSchema(s.stream, s.schema, s.keyProperties);
    if (volumetry) await channel.writeSchema(volumetry.stream, volumetry.schema, volumetry.keyProperties);

    const endMs = settings.endDate.toMillis();
    // A stream's deletions go out before its first window, so before any STATE that passes them.
    if (settings.includeDeleted)
      await emitDeletions(
        runner,
        inputState,
        jobs.filter((j) => j.incremental && j.target.cdc).map((j) => ({ job: j, from: starts.get(j)! })),
        endMs,
        settings.window,
      );
    const running: Array<Promise<void>> = [];
    for (const job of jobs) {
      const { target } = job;
      const from = starts.get(job)!;
      if (job.incremental && from >= endMs) {
        // Its bookmark is at or after the end (a run within end_lag of the last one, a lag raised
        // since): nothing to read, and the bookmark stays where it is, never moved back.
        logger.info(
          `${target.stream}: nothing to read, it resumes at ${isoZ(from)}, at or after the range end ${isoZ(endMs)} (end_date, else the run start minus end_lag ${settings.endLag.toISO() ?? ''}); its bookmark stays`,
        );
      }
      const days = target.fullTable ? [makeWindow(from, endMs)] : planWindows(from, endMs, settings.window);
      report.plan(days.length);
      running.push(syncStream(runner, job, days));
    }
    const failure = await firstFailure(running, () => {
      channel.close();
      abort.abort();
      session.close();
    });
    report.summary(); // also after a failure: what was extracted before it
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a stream job threw, unchanged
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
 * close, and one warning says so for every stream with a gap (after an outage, all of them).
 */
async function emitDeletions(
  runner: Runner,
  state: TapState,
  streams: ReadonlyArray<{ job: StreamJob; from: number }>,
  endMs: number,
  window: Duration,
): Promise<void> {
  const { logger } = runner.ctx;
  const oldest = Math.ceil((Date.now() - CDC_LOOKBACK_MS) / 1000) * 1000;
  const ranges: DeletionRange[] = [];
  const gaps: Array<{ stream: string; from: number }> = [];
  // Only a stream that resumes from a bookmark has rows in the table that may have been deleted
  // unseen, and only a range left to read that starts before CDC reaches has a gap (a stream
  // whose bookmark is already at the end has none).
  const gapEnd = Math.min(oldest, endMs);
  for (const { job, from } of streams) {
    const stream = job.target.stream;
    const resumed = lookupBookmark(state, stream).kind === 'found';
    if (from < gapEnd && resumed) gaps.push({ stream, from });
    const fromMs = Math.max(from, oldest);
    const windowOf = (atMs: number) => windowHolding(atMs, from, endMs, window);
    if (fromMs < endMs) ranges.push({ stream, entity: job.target.entity, fromMs, windowOf, resumed });
  }
  if (gaps.length > 0) {
    const names = gaps.map((g) => g.stream);
    logger.warn(
      `${names.join(', ')}: deletions between ${isoZ(Math.min(...gaps.map((g) => g.from)))} and ${isoZ(gapEnd)} are older than QBO's 30-day change data capture and cannot be read; ` +
        `to mark the rows QBO no longer has, run ${reconcileAdvice(names)}`,
    );
  }
  if (ranges.length === 0) return;
  const sinceMs = Math.min(...ranges.map((r) => r.fromMs));
  const read = await readDeletions(runner.ctx, ranges, sinceMs, endMs);
  for (const range of ranges) {
    const lines = read.lines.get(range.stream) ?? [];
    if (lines.length > 0) {
      const records = async (writer: LineWriter) => {
        for (const line of lines) await writer.writeLine(line);
      };
      await runner.channel.writeBlock([{ records, extra: [] }]);
    }
  }
  const counts = ranges.map((r) => `${r.stream} ${read.lines.get(r.stream)?.length ?? 0}`).join(', ');
  logger.info(`deletions since ${isoZ(sinceMs)} (CDC, ${plural(read.requests, 'request')}): ${counts}`);
}
