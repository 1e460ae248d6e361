import { setTimeout as sleep } from 'node:timers/promises';

/** What `scheduler --once` drives: passes that start due triggers, the runs they started, and waiting for those. */
export interface OncePasses {
  /** One pass; the ids of the triggers it started (never one in `skip`). */
  pass(skip: ReadonlySet<string>): Promise<readonly string[]>;
  /** Runs going on now. */
  running(): number;
  /** Resolves when every run started has finished. */
  idle(): Promise<void>;
}

/**
 * `scheduler --once`: runs what is due now and waits for it. Passes go on while runs end and free
 * room for due triggers that had to wait (`--concurrency`, `max_parallel`). The last pass is one
 * that began with nothing running (all the room there is) and started nothing: a run that ends
 * during a pass may end after that pass looked for room for a waiting trigger, which the next pass
 * then starts. Each trigger is attempted once: one whose job turned out busy waits for a later
 * scheduler, instead of being started again at every pass while the job's holder runs.
 * Returns the ids of the triggers started.
 */
export async function runDueOnce(passes: OncePasses, pollMs: number, signal?: AbortSignal): Promise<string[]> {
  const attempted = new Set<string>();
  for (;;) {
    const runningBefore = passes.running();
    const fresh = await passes.pass(attempted);
    for (const id of fresh) attempted.add(id);
    if ((fresh.length === 0 && runningBefore === 0) || signal?.aborted) break;
    await sleep(pollMs, undefined, signal ? { signal } : {}).catch(() => undefined);
  }
  await passes.idle();
  return [...attempted];
}
