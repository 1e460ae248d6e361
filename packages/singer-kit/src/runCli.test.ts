import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const RUN_CLI = pathToFileURL(path.resolve(import.meta.dirname, '../dist/runCli.js')).href;

/** A program run through runCli whose parent is never the pid in SINGER_PARENT_PID (as once its runner is gone). */
function orphan(body: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  const script = `import { runCli, holdingExit } from ${JSON.stringify(RUN_CLI)};\nrunCli('prog', async () => { ${body} });`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, SINGER_PARENT_PID: String(process.pid + 1_000_000) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, ms: performance.now() - started }));
  });
}

describe('runCli with SINGER_PARENT_PID', () => {
  it('exits 1 within about a second once its parent is not that process, saying so', async () => {
    const run = await orphan('await new Promise((r) => setTimeout(r, 20_000));');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^FATAL prog: the process that started it \(pid \d+, SINGER_PARENT_PID\) is gone; stopping\n$/);
    expect(run.ms).toBeLessThan(10_000);
  });

  it('holds that exit while holdingExit work (a token on its way to disk) is unfinished, then exits', async () => {
    const run = await orphan(
      "await holdingExit(() => new Promise((r) => setTimeout(r, 2_500))); process.stderr.write('held work done\\n'); await new Promise((r) => setTimeout(r, 20_000));",
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^held work done\nFATAL prog: the process that started it/);
  });
});
