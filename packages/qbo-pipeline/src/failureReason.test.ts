import { describe, expect, it } from 'vitest';
import { failureReason } from './runBackfill.js';
import type { ProcessOutcome } from './spawnPipeline.js';

const ok: ProcessOutcome = { code: 0, signal: null, fatal: undefined, exitOrder: 2, stoppedByRunner: false };

describe('failureReason', () => {
  it('is undefined when both processes succeeded', () => {
    expect(failureReason({ tap: { ...ok, exitOrder: 1 }, target: ok })).toBeUndefined();
  });

  it('puts the process that failed first first, with its own FATAL line', () => {
    expect(
      failureReason({
        tap: { code: null, signal: 'SIGKILL', fatal: undefined, exitOrder: 1, stoppedByRunner: false },
        target: { code: 1, signal: null, fatal: 'FATAL target-postgres-raw: line 346: not valid JSON', exitOrder: 2, stoppedByRunner: false },
      }),
    ).toBe('tap-quickbooks was killed by SIGKILL; then target-postgres-raw: line 346: not valid JSON');
  });

  it('leaves out a tap the runner stopped because the target was gone', () => {
    expect(
      failureReason({
        tap: { code: null, signal: 'SIGTERM', fatal: undefined, exitOrder: 2, stoppedByRunner: true },
        target: { code: 1, signal: null, fatal: 'FATAL target-postgres-raw: database connection lost', exitOrder: 1, stoppedByRunner: false },
      }),
    ).toBe('target-postgres-raw: database connection lost');
  });
});
