import { describe, expect, it } from 'vitest';
import { defaultMaxParallel, JobPool, type PoolOutcome } from './JobPool.js';

/** A job that runs until released, recording when it started and ended. */
function harness() {
  const events: string[] = [];
  const release = new Map<string, () => void>();
  const job = (id: string, realm: string, fail = false) => ({
    id,
    realm,
    run: () =>
      new Promise<string>((resolve, reject) => {
        events.push(`start ${id}`);
        release.set(id, () => {
          events.push(`end ${id}`);
          if (fail) reject(new Error(`${id} failed`));
          else resolve(id);
        });
      }),
  });
  const finish = async (id: string) => {
    release.get(id)?.();
    await new Promise((r) => setImmediate(r));
  };
  return { events, job, finish };
}

describe('JobPool', () => {
  it('runs at most maxParallel jobs at once, one per realm, in submission order otherwise', async () => {
    const { events, job, finish } = harness();
    const settled: Array<[string, PoolOutcome<string>]> = [];
    const pool = new JobPool<string>(2, (j, o) => settled.push([j.id, o]));
    pool.submit(job('acme/backfill', 'realm-a'));
    pool.submit(job('acme/sync', 'realm-a'));
    pool.submit(job('globex/backfill', 'realm-g'));
    pool.submit(job('initech/backfill', 'realm-i'));
    await new Promise((r) => setImmediate(r));
    // acme's second job waits for its realm; initech waits for a slot.
    expect(events).toEqual(['start acme/backfill', 'start globex/backfill']);
    expect(pool.size).toEqual({ running: 2, queued: 2 });
    await finish('acme/backfill');
    // The freed slot goes to the first queued job whose realm is free: acme/sync.
    expect(events.slice(2)).toEqual(['end acme/backfill', 'start acme/sync']);
    await finish('globex/backfill');
    expect(events.slice(4)).toEqual(['end globex/backfill', 'start initech/backfill']);
    await finish('acme/sync');
    await finish('initech/backfill');
    await pool.idle();
    expect(settled.map(([id, o]) => `${id}:${o.ok}`)).toEqual(['acme/backfill:true', 'globex/backfill:true', 'acme/sync:true', 'initech/backfill:true']);
  });

  it('never queues a job twice, and a failing job stops nothing else', async () => {
    const { job, finish } = harness();
    const settled: string[] = [];
    const pool = new JobPool<string>(3, (j, o) => settled.push(o.ok ? `${j.id} ok` : `${j.id} ${o.error.message}`));
    expect(pool.submit(job('acme/backfill', 'a', true))).toBe(true);
    expect(pool.submit(job('acme/backfill', 'a'))).toBe(false);
    expect(pool.submit(job('globex/backfill', 'g'))).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(pool.has('acme/backfill')).toBe(true);
    await finish('acme/backfill');
    expect(pool.has('acme/backfill')).toBe(false);
    await finish('globex/backfill');
    await pool.idle();
    expect(settled).toEqual(['acme/backfill acme/backfill failed', 'globex/backfill ok']);
  });

  it('a job that throws synchronously is a failed job too; idle() resolves at once when empty', async () => {
    const settled: boolean[] = [];
    const pool = new JobPool<number>(1, (_j, o) => settled.push(o.ok));
    await pool.idle();
    pool.submit({
      id: 'x',
      realm: 'r',
      run: () => {
        throw new Error('bad');
      },
    });
    pool.submit({ id: 'y', realm: 'r', run: async () => 1 });
    await pool.idle();
    expect(settled).toEqual([false, true]);
  });

  it('clearQueue drops what has not started', async () => {
    const { job, finish, events } = harness();
    const pool = new JobPool<string>(1);
    pool.submit(job('a', 'r1'));
    pool.submit(job('b', 'r2'));
    await new Promise((r) => setImmediate(r));
    expect(pool.clearQueue().map((j) => j.id)).toEqual(['b']);
    await finish('a');
    await pool.idle();
    expect(events).toEqual(['start a', 'end a']);
  });

  it('sizes the default for one machine: twice the cores, between 2 and 8', () => {
    expect([1, 2, 3, 16].map((c) => defaultMaxParallel(c))).toEqual([2, 4, 6, 8]);
    expect(() => new JobPool(0)).toThrow(RangeError);
  });
});
