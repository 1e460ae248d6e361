import { describe, expect, it } from 'vitest';
import { failureReason } from './runBackfill.js';
import type { ProcessOutcome } from './spawnPipeline.js';

/** A process that exited 0 second, changed by `facts`. */
const exited = (facts: Partial<ProcessOutcome> = {}): ProcessOutcome => ({
  code: 0,
  signal: null,
  fatal: undefined,
  exitOrder: 2,
  stoppedByRunner: false,
  ...facts,
});

describe('failureReason', () => {
  it('is undefined when both processes succeeded', () => {
    expect(failureReason({ tap: exited({ exitOrder: 1 }), target: exited() })).toBeUndefined();
  });

  it('puts the process that failed first first, with its own FATAL line', () => {
    const tap = exited({ code: null, signal: 'SIGKILL', exitOrder: 1 });
    const target = exited({ code: 1, fatal: 'FATAL target-postgres-raw: line 346: not valid JSON' });
    expect(failureReason({ tap, target })).toBe('tap-quickbooks was killed by SIGKILL; then target-postgres-raw: line 346: not valid JSON');
  });

  it('puts the target first when the tap failed only because the target stopped reading (broken pipe), though its exit was seen first', () => {
    const tap = exited({ code: 1, fatal: 'FATAL tap-quickbooks: stdout was closed by the reading process (broken pipe); stopping', exitOrder: 1 });
    const target = exited({ code: 1, fatal: 'FATAL target-postgres-raw: cannot connect to PostgreSQL' });
    expect(failureReason({ tap, target })).toBe(
      'target-postgres-raw: cannot connect to PostgreSQL; then tap-quickbooks: stdout was closed by the reading process (broken pipe); stopping',
    );
  });

  it('leaves out a tap the runner stopped because the target was gone', () => {
    const tap = exited({ code: null, signal: 'SIGTERM', stoppedByRunner: true });
    const target = exited({ code: 1, fatal: 'FATAL target-postgres-raw: database connection lost', exitOrder: 1 });
    expect(failureReason({ tap, target })).toBe('target-postgres-raw: database connection lost');
  });

  it('says stopped for a process that ended on Ctrl-C or SIGTERM by itself (exit 130, 143)', () => {
    expect(failureReason({ tap: exited({ code: 130, exitOrder: 1 }), target: exited() })).toBe('tap-quickbooks stopped on SIGINT');
    expect(failureReason({ tap: exited({ code: 143, exitOrder: 1 }), target: exited() })).toBe('tap-quickbooks stopped on SIGTERM');
  });

  it("names the runner's signal for a tap stopped on the SIGTERM the runner passed it on as (kill -INT <runner pid>)", () => {
    expect(failureReason({ tap: exited({ code: 143, exitOrder: 1 }), target: exited() }, 'SIGINT')).toBe('tap-quickbooks stopped on SIGINT');
    expect(failureReason({ tap: exited({ code: 143, exitOrder: 1 }), target: exited() }, 'SIGHUP')).toBe('tap-quickbooks stopped on SIGHUP');
    // Ctrl-C on a terminal reaches the tap itself.
    expect(failureReason({ tap: exited({ code: 130, exitOrder: 1 }), target: exited() }, 'SIGINT')).toBe('tap-quickbooks stopped on SIGINT');
  });
});
