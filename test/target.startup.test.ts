import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TARGET_CLI } from './targetHarness.js';

// Start-up cost (issue 11): loading the target must not load Node's fetch implementation
// (undici), which pg's Cloudflare probe pulled in on Node 20 (~25 ms of CPU at every start).

const PROBE = `process.on('exit', () => process.stderr.write('undici loaded: ' + process.moduleLoadList.some((m) => m.includes('undici')) + '\\n'));`;

describe('target start-up', () => {
  it('loads everything it needs without loading undici', () => {
    const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(PROBE)}`, TARGET_CLI, '--about'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('undici loaded: false');
  });
});
