import { setTimeout as sleep } from 'node:timers/promises';

/** What `scheduler --once` drives: passes that start due triggers, the runs they started, and waiting for those. */
export interface OncePasses {
  /** One pass; the ids of the triggers it started (never one in `skip`). */
  pass(skip: ReadonlySet<string>): Promise<readonly string[]>;
  /** Runs going on now. */
  running(): number;
  /** Schedule slots this `--once` queued behind a busy job that still wait for it, before their next slot. */
  queued(): Promise<number>;
  /** Resolves when every run started has finished. */
  idle(): Promise<void>;
}

/** How often `--once` looks again while it only waits for a queued slot's job (held by a run elsewhere, perhaps for hours). */
export const QUEUED_POLL_MS = 2_000;

/**
 * `scheduler --once`: runs what is due now and waits for it. Passes go on while runs end and free
 * room for due triggers that had to wait (`--concurrency`, `max_parallel`), and while a slot it
 * queued behind a busy job (a run by hand, a reconcile) waits for that job: cron started it at the
 * slot, so the slot's sync runs when the job frees, not at the next invocation; until the
 * schedule's next slot at most, which replaces it (`queued`). The last pass is one that began with
 * nothing running (all the room there is), started nothing and left no queued slot waiting: a run
 * that ends during a pass may end after that pass looked for room for a waiting trigger, which the
 * next pass then starts. Each trigger is attempted once (`skip`): one whose job turned out busy as
 * it started waits for a later scheduler, instead of being started again at every pass while the
 * job's holder runs — but a slot it queued, which the pass starts again once the job's lock is
 * free (the passes between see the lock and only wait). Returns the ids of the triggers started.
 */
export async function runDueOnce(passes: OncePasses, pollMs: number, signal?: AbortSignal, queuedPollMs = QUEUED_POLL_MS): Promise<string[]> {
  const attempted = new Set<string>();
  for (;;) {
    const runningBefore = passes.running();
    const fresh = await passes.pass(attempted);
    for (const id of fresh) attempted.add(id);
    if (signal?.aborted) break;
    const settled = fresh.length === 0 && runningBefore === 0;
    if (settled && (await passes.queued()) === 0) break;
    await sleep(settled ? queuedPollMs : pollMs, undefined, signal ? { signal } : {}).catch(() => undefined);
  }
  await passes.idle();
  return [...attempted];
}
