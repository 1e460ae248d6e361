import { describe, expect, it } from 'vitest';
import { RowBudget } from './RowBudget.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RowBudget', () => {
  it('holds at most its rows and serves waiters in order, a large one blocking those behind it', async () => {
    const budget = new RowBudget(100);
    const a = await budget.acquire(60);
    const b = await budget.acquire(30);
    const order: string[] = [];
    const c = budget.acquire(50).then((release) => (order.push('c'), release));
    const d = budget.acquire(5).then((release) => (order.push('d'), release)); // fits, but waits its turn
    await tick();
    expect(order).toEqual([]);
    b();
    b(); // releasing twice frees the rows once
    await tick();
    expect(order).toEqual([]);
    a();
    await tick();
    expect(order).toEqual(['c', 'd']);
    (await c)();
    (await d)();
  });

  it('never makes a span without rows wait, and caps a reservation at the whole budget', async () => {
    const budget = new RowBudget(10);
    const all = await budget.acquire(1_000);
    let empty = false;
    void budget.acquire(0).then(() => (empty = true));
    let one = false;
    void budget.acquire(1).then(() => (one = true));
    await tick();
    expect([empty, one]).toEqual([true, false]);
    all();
    await tick();
    expect(one).toBe(true);
  });
});
