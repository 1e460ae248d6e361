import { describe, expect, it } from 'vitest';
import { ACTIVE, generateIndex } from './generateIndex.js';

const fromSec = Date.parse('2025-02-18T00:00:00Z') / 1000;
const toSec = Date.parse('2025-03-20T00:00:00Z') / 1000;
const make = (seed: number, nameList = false) => generateIndex({ seed, entity: 'Invoice', count: 5000, fromSec, toSec, firstId: 1, nameList });

describe('generateIndex', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(make(7)).toEqual(make(7));
    expect(make(8).updated).not.toEqual(make(7).updated);
  });

  it('sorts rows by (LastUpdatedTime, Id), keeps them in range, each id once, never updated before created', () => {
    const { ids, created, updated } = make(1);
    expect(new Set(ids).size).toBe(5000);
    const bad: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const u = updated[i] as number;
      const inOrder = i === 0 || (updated[i - 1] as number) < u || ((updated[i - 1] as number) === u && (ids[i - 1] as number) < (ids[i] as number));
      if (u < fromSec || u >= toSec || (created[i] as number) > u || !inOrder) bad.push(i);
    }
    expect(bad).toEqual([]);
  });

  it('puts many rows on one second, at UTC midnight and on both sides of the DST switch', () => {
    const { updated } = make(1);
    const perSecond = new Map<number, number>();
    for (const u of updated) perSecond.set(u, (perSecond.get(u) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeGreaterThan(20);
    expect(perSecond.get(Date.parse('2025-02-19T00:00:00Z') / 1000)).toBeGreaterThan(5);
    expect(perSecond.get(Date.parse('2025-03-09T09:59:59Z') / 1000)).toBeGreaterThan(5);
    expect(perSecond.get(Date.parse('2025-03-09T10:00:00Z') / 1000)).toBeGreaterThan(5);
  });

  it('makes about a tenth of a name list inactive, and no transaction', () => {
    const inactive = (flags: Uint8Array) => flags.filter((f) => (f & ACTIVE) === 0).length;
    expect(inactive(make(1).flags)).toBe(0);
    expect(inactive(make(1, true).flags)).toBeGreaterThan(300);
    expect(inactive(make(1, true).flags)).toBeLessThan(700);
  });
});
