import { describe, expect, it } from 'vitest';
import { MAX_SCAN_PAUSE, PROBE_LINES, ScanPolicy } from './ScanPolicy.js';

/** The lines scanned of each of `windows` windows of 500 lines, every scanned one judged with `equalShare` of its lines equal. */
function scannedLines(policy: ScanPolicy, windows: number, equalShare: number): number[] {
  const out: number[] = [];
  for (let w = 0; w < windows; w++) {
    const lines = policy.linesToScan(500, true);
    out.push(lines);
    if (lines > 0) policy.judge(Math.round(lines * equalShare), lines);
  }
  return out;
}

describe('ScanPolicy', () => {
  it('scans nothing before a table is ready, then every line while records are mostly equal', () => {
    const policy = new ScanPolicy();
    expect(policy.linesToScan(500, false)).toBe(0);
    expect(scannedLines(policy, 5, 1)).toEqual([500, 500, 500, 500, 500]);
  });

  it('pauses ever longer while records are new or changed, probing a sample in between', () => {
    const scanned = scannedLines(new ScanPolicy(), 200, 0);
    const probes = scanned.flatMap((n, w) => (n > 0 ? [w] : []));
    expect(probes).toEqual([0, 2, 5, 10, 19, 36, 69, 134, 199]);
    expect(scanned[0]).toBe(500);
    expect(probes.slice(1).every((w) => scanned[w] === PROBE_LINES)).toBe(true);
    expect(probes[8]! - probes[7]!).toBe(MAX_SCAN_PAUSE + 1);
  });

  it('scans whole windows again as soon as a probe finds a third of its records equal', () => {
    const policy = new ScanPolicy();
    expect(policy.linesToScan(500, true)).toBe(500);
    policy.judge(0, 500);
    expect(policy.linesToScan(500, true)).toBe(0);
    expect(policy.linesToScan(500, true)).toBe(PROBE_LINES);
    policy.judge(17, PROBE_LINES);
    expect(scannedLines(policy, 3, 1)).toEqual([500, 500, 500]);
  });
});
