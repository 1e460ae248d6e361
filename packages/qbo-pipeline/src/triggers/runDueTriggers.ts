import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, createLogger, EXIT, type Logger } from 'singer-kit';
import type { BackfillRequest } from '../BackfillRequest.js';
import type { BackfillResult, RunContext } from '../runBackfill.js';
import type { Trigger } from './Trigger.js';
import type { TriggerStore } from './TriggerStore.js';

/** A trigger that starts more than this after its instant is marked late (the scheduler polls every few seconds). */
export const LATE_AFTER_MS = 60_000;

export interface SchedulerOptions {
  readonly store: TriggerStore;
  /** Runs one backfill; `context` names the trigger for the runs journal. */
  readonly run: (request: BackfillRequest, context: RunContext) => Promise<BackfillResult>;
  readonly now?: () => Date;
  readonly lateAfterMs?: number;
  readonly logger?: Logger;
  /** Once aborted, no further trigger is claimed (the one running is stopped by the backfill itself). */
  readonly signal?: AbortSignal;
}

function resultOf(outcome: BackfillResult | CliError | Error): NonNullable<Trigger['result']> {
  if (outcome instanceof Error) {
    const exitCode = outcome instanceof CliError ? outcome.exitCode : EXIT.runFailed;
    return { exitCode, message: outcome.message, runIds: [], ...(exitCode === EXIT.usage ? { fix: outcome.message } : {}) };
  }
  return {
    exitCode: outcome.exitCode,
    message: outcome.failure ? outcome.failure.reason : `done: ${outcome.progress.map((p) => `${p.stream} ${p.daysDone}/${p.totalDays} days`).join(', ')}`,
    runId: outcome.runId,
    runIds: outcome.runIds,
    ...(outcome.resumeCommand !== undefined ? { resumeCommand: outcome.resumeCommand } : {}),
    ...(outcome.fix !== undefined ? { fix: outcome.fix } : {}),
  };
}

/**
 * Runs every due, pending trigger once: claim (O_EXCL), mark running, run, then disable it with
 * its result. A trigger another scheduler claimed is skipped. Returns the triggers it ran.
 */
export async function runDueTriggers(options: SchedulerOptions): Promise<Trigger[]> {
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? createLogger('qbo-pipeline scheduler');
  const claimant = { pid: process.pid, host: hostname() };
  const ran: Trigger[] = [];
  for (const listed of await options.store.list()) {
    if (options.signal?.aborted) break;
    if (listed.status !== 'pending' || !listed.enabled || Date.parse(listed.at) > now().getTime()) continue;
    if (!(await options.store.claim(listed.id, claimant))) continue;
    const startedAt = now();
    const lateByMs = startedAt.getTime() - Date.parse(listed.at);
    const late = lateByMs > (options.lateAfterMs ?? LATE_AFTER_MS);
    const running: Trigger = { ...listed, status: 'running', claimedBy: claimant, startedAt: startedAt.toISOString(), lateByMs, late };
    await options.store.save(running);
    logger.info(`trigger ${listed.id} (due ${listed.at}${late ? `, late by ${Math.round(lateByMs / 1000)} s` : ''}): backfill ${listed.backfill.job ?? ''} starts`);
    const outcome = await options.run(listed.backfill, { triggerId: listed.id }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    const result = resultOf(outcome);
    const finished: Trigger = { ...running, status: result.exitCode === EXIT.ok ? 'completed' : 'failed', enabled: false, finishedAt: now().toISOString(), result };
    await options.store.save(finished);
    logger.info(`trigger ${listed.id} ${finished.status}: ${result.message}`);
    ran.push(finished);
  }
  return ran;
}

/** The `scheduler` service: run what is due, sleep, repeat, until the signal aborts. A failed pass is logged, not fatal. */
export async function runScheduler(options: SchedulerOptions & { readonly intervalMs: number }): Promise<void> {
  const logger = options.logger ?? createLogger('qbo-pipeline scheduler');
  while (!options.signal?.aborted) {
    await runDueTriggers({ ...options, logger }).catch((error: unknown) => logger.error(`scheduler pass failed (next pass in ${options.intervalMs / 1000} s): ${(error as Error).message}`));
    await sleep(options.intervalMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
