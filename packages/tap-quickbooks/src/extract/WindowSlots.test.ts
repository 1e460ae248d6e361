import { describe, expect, it } from 'vitest';
import { WindowSlots } from './WindowSlots.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WindowSlots', () => {
  it('holds at most N and serves waiters in order', async () => {
    const slots = new WindowSlots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    await tick();
    expect(order).toEqual([]);
    b();
    b(); // releasing twice frees one slot only
    await tick();
    expect(order).toEqual(['c']);
    a();
    await tick();
    expect(order).toEqual(['c', 'd']);
    (await c)();
    (await d)();
    const e = await slots.acquire();
    const f = await slots.acquire();
    let third = false;
    void slots.acquire().then(() => (third = true));
    await tick();
    expect(third).toBe(false);
    e();
    f();
  });
});
