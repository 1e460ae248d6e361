import { describe, expect, it } from 'vitest';
import { StateGate } from './StateGate.js';

describe('StateGate', () => {
  it('releases the state cut before a commit, once, and nothing when none was received', () => {
    const gate = new StateGate();
    expect(gate.release(gate.cut())).toBeUndefined();
    gate.receive('{"a":1}');
    const cut = gate.cut();
    gate.receive('{"a":2}'); // arrives while the commit runs: not covered by it
    expect(gate.release(cut)).toBe('{"a":1}');
    expect(gate.release(gate.cut())).toBe('{"a":2}');
    expect(gate.release(gate.cut())).toBeUndefined();
  });

  it('prints an empty state the tap sent, verbatim', () => {
    const gate = new StateGate();
    gate.receive('{}');
    expect(gate.release(gate.cut())).toBe('{}');
  });
});
