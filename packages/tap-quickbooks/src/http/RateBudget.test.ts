import { describe, expect, it } from 'vitest';
import { RateBudget } from './RateBudget.js';

/** A manual clock: sleeping advances time instantly. */
function fakeClock() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

describe('RateBudget', () => {
  it('spaces starts evenly, so no window holds more than the limit', async () => {
    const clock = fakeClock();
    const budget = new RateBudget({ requestsPerMinute: 5, maxInFlight: 10, windowMs: 60_000, now: clock.now, sleep: clock.sleep });
    const starts: number[] = [];
    for (let i = 0; i < 7; i++) {
      const release = await budget.acquire();
      starts.push(clock.now());
      release();
    }
    expect(starts).toEqual([0, 12_000, 24_000, 36_000, 48_000, 60_000, 72_000]);
    expect(budget.recentStarts).toBe(5);
  });

  it('keeps to its grid when a start is late, and never lets a window hold more than the limit', async () => {
    let now = 0;
    // Every sleep overshoots by 3 ms, as timers on a busy machine do.
    const budget = new RateBudget({ requestsPerMinute: 600, maxInFlight: 10, windowMs: 60_000, now: () => now, sleep: async (ms) => void (now += ms + 3) });
    const starts: number[] = [];
    for (let i = 0; i < 1200; i++) {
      (await budget.acquire())();
      starts.push(now);
    }
    // 100 ms apart on average (600 a minute), not 103.
    expect(starts.at(-1)! - starts[0]!).toBeLessThanOrEqual(1199 * 100 + 3);
    for (let i = 600; i < starts.length; i++) expect(starts[i]! - starts[i - 600]!).toBeGreaterThanOrEqual(60_000 - 3);
    // After an idle minute the grid starts again from then: no burst.
    now += 60_000;
    const after: number[] = [];
    for (let i = 0; i < 3; i++) {
      (await budget.acquire())();
      after.push(now);
    }
    expect(after[2]! - after[0]!).toBeGreaterThanOrEqual(200);
  });

  it('holds at most maxInFlight requests until one is released', async () => {
    const budget = new RateBudget({ requestsPerMinute: 100, maxInFlight: 2 });
    const a = await budget.acquire();
    await budget.acquire();
    let third = false;
    const pending = budget.acquire().then((release) => {
      third = true;
      return release;
    });
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    expect(budget.inFlight).toBe(2);
    a();
    (await pending)();
    expect(third).toBe(true);
  });

  it('pauses every waiter after a throttle', async () => {
    const clock = fakeClock();
    const budget = new RateBudget({ requestsPerMinute: 100, maxInFlight: 5, now: clock.now, sleep: clock.sleep });
    budget.pauseFor(3000);
    (await budget.acquire())();
    expect(clock.now()).toBe(3000);
  });

  it('fails every waiter with the reason when its sleep is aborted (the run is stopping)', async () => {
    const stop = new AbortController();
    const sleep = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        stop.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(stop.signal.reason as Error);
        });
      });
    const budget = new RateBudget({ requestsPerMinute: 1, maxInFlight: 5, sleep });
    (await budget.acquire())();
    const waiting = [budget.acquire(), budget.acquire()];
    stop.abort(new Error('run failed'));
    for (const w of waiting) await expect(w).rejects.toThrow('run failed');
  });
});
