import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { DateTime } from 'luxon';
import { LineWriter, RunError, type Logger } from 'singer-kit';
import { discoverCatalog, selectStreams, streamSchema, type SelectedStream } from 'qbo-catalog';
import { OAuthClient } from './auth/OAuthClient.js';
import { TokenStore } from './auth/TokenStore.js';
import { OutputChannel } from './emit/OutputChannel.js';
import { DELETED_STREAM, readDeleted } from './extract/readDeleted.js';
import { WindowSlots } from './extract/WindowSlots.js';
import { readWindow, type ReadContext, type StreamTarget, type WindowRead, type WindowResult } from './extract/readWindow.js';
import { QboClient } from './http/QboClient.js';
import { Transport } from './http/Transport.js';
import { RateBudget } from './http/RateBudget.js';
import { makeWindow, planWindows, resolveStart, type Window } from './plan/planWindows.js';
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
  const deleted = selected.find((s) => s.stream === DELETED_STREAM) ?? (settings.includeDeleted ? { stream: DELETED_STREAM, schema: streamSchema(DELETED_STREAM), keyProperties: ['id'] } : undefined);

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
  const retry = { maxRetries: settings.maxRetries, backoffMs: settings.retryBackoffMs, throttleWaitMs: settings.throttleWaitMs };
  const transport = new Transport({ timeoutMs: settings.requestTimeoutMs, userAgent: settings.userAgent, maxSockets: settings.maxConcurrency + 1 });
  const budget = new RateBudget({ requestsPerMinute: settings.maxRequestsPerMinute, maxInFlight: settings.maxConcurrency, sleep });
  const report = new RunReport({ logger, tty: options.tty, requestsLastMinute: () => budget.recentStarts });
  const auth = new OAuthClient({
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    refreshToken: settings.refreshToken,
    tokenUrl: settings.tokenUrl,
    realmId: settings.realmId,
    store: new TokenStore(settings.tokenStorePath),
    transport,
    retry,
    logger,
    sleep,
  });
  const client = new QboClient({
    transport,
    auth,
    budget,
    retry,
    logger,
    baseUrl: settings.baseUrl,
    realmId: settings.realmId,
    minorVersion: settings.minorVersion,
    sandbox: settings.sandbox,
    sleep,
    onRetry: (reason) => report.retried(reason),
  });
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
    if (deleted) await channel.writeSchema(deleted.stream, deleted.schema, deleted.keyProperties);

    const endMs = settings.endDate.toMillis();
    const running: Array<Promise<void>> = [];
    for (const job of jobs) {
      const { target } = job;
      const from = job.incremental ? streamStart(settings, inputState, target.stream, logger) : settings.startDate.toMillis();
      const windows = target.fullTable ? [makeWindow(from, endMs)] : planWindows(from, endMs, settings.window);
      report.plan(windows.length);
      running.push(syncStream(runner, job, windows));
    }
    if (deleted) running.push(syncDeleted(runner, settings, inputState, jobs.map((j) => j.target)));
    const failure = await firstFailure(running, () => {
      channel.close();
      abort.abort();
      transport.close();
    });
    report.summary(); // also after a failure: what was extracted before it
    if (failure) throw failure;
    await channel.writeState(); // a run always ends with its final STATE (D1, D8)
    await channel.flush();
  } finally {
    transport.close();
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

async function syncDeleted(runner: Runner, settings: TapSettings, state: TapState, targets: readonly StreamTarget[]): Promise<void> {
  const entities = targets.filter((t) => t.cdc).map((t) => ({ entity: t.entity, stream: t.stream }));
  if (entities.length === 0) return;
  const endMs = settings.endDate.toMillis();
  const from = streamStart(settings, state, DELETED_STREAM, runner.ctx.logger);
  const oldest = Date.now() - CDC_LOOKBACK_MS;
  if (from < oldest) {
    runner.ctx.logger.warn(
      `${DELETED_STREAM}: ${DateTime.fromMillis(from, { zone: 'utc' }).toISO()} is older than CDC's 30-day look-back; deletions before ${DateTime.fromMillis(oldest, { zone: 'utc' }).toISO()} cannot be seen (a full reload detects them)`,
    );
  }
  const start = Math.floor(Math.max(from, oldest) / 1000) * 1000;
  if (start >= endMs) return;
  runner.report.plan(1);
  const read = await readDeleted({ client: runner.ctx.client, logger: runner.ctx.logger, realmId: settings.realmId, runId: runner.runId }, entities, makeWindow(start, endMs));
  if (runner.signal.aborted) return;
  await emitRead(runner, DELETED_STREAM, read, true);
}
