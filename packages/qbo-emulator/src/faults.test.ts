import { describe, expect, it } from 'vitest';
import { FaultInjector, validateFaultPlan, type RequestKind } from './faults.js';

const run = (injector: FaultInjector, kinds: RequestKind[]) => kinds.map((k) => injector.decide(k) ?? '-');

describe('FaultInjector', () => {
  it('fires on the nth matching requests, on the next N and on every one from the Nth on, counting only the kinds named', () => {
    const injector = new FaultInjector(
      {
        rules: [
          { fault: '503', kinds: ['query'], nth: [2, 4] },
          { fault: 'reset', kinds: ['token'], next: 1 },
          { fault: 'stall', kinds: ['count'], from: 2 },
        ],
      },
      1,
    );
    expect(run(injector, ['query', 'token', 'query', 'count', 'query', 'query', 'token', 'count', 'count'])).toEqual([
      '-',
      'reset',
      '503',
      '-',
      '-',
      '503',
      '-',
      'stall',
      'stall',
    ]);
  });

  it('draws probabilities from the seed: the same plan and seed give the same faults', () => {
    const plan = { rules: [{ fault: '500' as const, probability: 0.3 }] };
    const kinds = Array.from({ length: 200 }, (): RequestKind => 'query');
    const a = run(new FaultInjector(plan, 9), kinds);
    expect(run(new FaultInjector(plan, 9), kinds)).toEqual(a);
    expect(run(new FaultInjector({ ...plan, seed: 10 }, 9), kinds)).not.toEqual(a);
    const fired = a.filter((f) => f === '500').length;
    expect(fired).toBeGreaterThan(30);
    expect(fired).toBeLessThan(90);
  });

  it('limits a rule to some companies: only their requests count and fire', () => {
    const injector = new FaultInjector({ rules: [{ fault: '503', realms: ['2'], probability: 1 }] }, 1);
    expect([injector.decide('query', '1'), injector.decide('query', '2'), injector.decide('token', '2'), injector.decide('count', undefined)]).toEqual([
      undefined,
      '503',
      '503',
      undefined,
    ]);
    expect(() => validateFaultPlan({ rules: [{ fault: '500', realms: [7], next: 1 }] })).toThrow(/fault rule 1: realms must be a list of realm ids/);
  });

  it('rejects plans it cannot follow, naming the rule', () => {
    expect(() => validateFaultPlan({ rules: [{ fault: '418', next: 1 }] })).toThrow(/fault rule 1: fault must be one of/);
    expect(() => validateFaultPlan({ rules: [{ fault: '500' }] })).toThrow(/fault rule 1: give nth, next, from or probability/);
    expect(() =>
      validateFaultPlan({
        rules: [
          { fault: '500', next: 1 },
          { fault: '500', from: 0 },
        ],
      }),
    ).toThrow(/fault rule 2: from must be a whole number from 1/);
    expect(() => validateFaultPlan({ rules: [{ fault: '500', kinds: ['reports'], next: 1 }] })).toThrow(/kinds/);
    expect(() => validateFaultPlan([])).toThrow(/rules/);
  });
});
