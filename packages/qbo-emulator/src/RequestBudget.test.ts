import { describe, expect, it } from 'vitest';
import { RequestBudget } from './RequestBudget.js';

describe('RequestBudget', () => {
  it('admits N requests per sliding minute, then refuses until the oldest is a minute old', () => {
    const budget = new RequestBudget(3, 10);
    for (const t of [0, 1000, 2000]) {
      expect(budget.tryStart(t)).toBeUndefined();
      budget.finish();
    }
    expect(budget.tryStart(59_999)).toBe('rate');
    expect(budget.tryStart(60_000)).toBeUndefined();
  });

  it('refuses more requests in flight than allowed until one finishes', () => {
    const budget = new RequestBudget(500, 2);
    expect(budget.tryStart(0)).toBeUndefined();
    expect(budget.tryStart(0)).toBeUndefined();
    expect(budget.tryStart(0)).toBe('concurrency');
    budget.finish();
    expect(budget.tryStart(0)).toBeUndefined();
  });
});
