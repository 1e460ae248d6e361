import { describe, expect, it } from 'vitest';
import { PayloadArena } from './PayloadArena.js';

describe('PayloadArena', () => {
  it('keeps bytes and text as UTF-8 copies that stay as they were until their batch is released', () => {
    const arena = new PayloadArena(64);
    const line = Buffer.from('{"a":1}{"b":"Zoë"}');
    const first = arena.keep(line.subarray(0, 7));
    const second = arena.keep('{"b":"Zoë"}');
    line.fill(0); // the input chunk may be reused or freed once kept
    expect([first.toString(), second.toString()]).toEqual(['{"a":1}', '{"b":"Zoë"}']);
    const taken = arena.take();
    const third = arena.keep('{"c":3}');
    expect(first.toString()).toBe('{"a":1}');
    expect(third.buffer).not.toBe(first.buffer);
    arena.release(taken);
    expect(third.toString()).toBe('{"c":3}');
  });

  it('reuses a released block for the next batches, and only then', () => {
    const arena = new PayloadArena(32);
    const a = arena.keep('x'.repeat(8));
    const batchA = arena.take();
    const b = arena.keep('y'.repeat(8));
    expect(b.buffer).not.toBe(a.buffer);
    const batchB = arena.take();
    arena.release(batchA);
    const c = arena.keep('z'.repeat(8));
    expect(c.buffer).toBe(a.buffer);
    expect(b.toString()).toBe('y'.repeat(8));
    arena.release(batchB);
  });

  it('starts a new block when a payload does not fit, and leaves payloads over a quarter block where they are', () => {
    const arena = new PayloadArena(32);
    const a = arena.keep('a'.repeat(6));
    const b = arena.keep('b'.repeat(6));
    expect(b.buffer).toBe(a.buffer);
    const big = Buffer.from('c'.repeat(20));
    expect(arena.keep(big)).toBe(big);
    expect(arena.keep('d'.repeat(20)).toString()).toBe('d'.repeat(20));
    for (let i = 0; i < 4; i++) arena.keep('e'.repeat(8));
    expect(arena.take()).toHaveLength(2);
  });
});
