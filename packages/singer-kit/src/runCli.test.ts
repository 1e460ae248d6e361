import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

const RUN_CLI = pathToFileURL(path.resolve(import.meta.dirname, '../dist/runCli.js')).href;

/** Work that never ends (a timer keeps the process alive): only the exit for a gone parent ends the program. */
const FOREVER = 'await new Promise(() => setInterval(() => undefined, 60_000));';

/**
 * A program run through runCli whose parent is never the pid in SINGER_PARENT_PID (as once its runner is gone).
 * Killed when the test ends, so a program that never exits fails the test at its timeout and is not left behind.
 */
function orphan(body: string): Promise<{ code: number | null; stderr: string }> {
  const script = `import { runCli, holdingExit } from ${JSON.stringify(RUN_CLI)};\nrunCli('prog', async () => { ${body} });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, SINGER_PARENT_PID: String(process.pid + 1_000_000) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('runCli with SINGER_PARENT_PID', () => {
  it('exits 1 once its parent is not that process, saying so, without waiting for its work to end', async () => {
    const run = await orphan(FOREVER);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^FATAL prog: the process that started it \(pid \d+, SINGER_PARENT_PID\) is gone; stopping\n$/);
  });

  it('holds that exit while holdingExit work (a token on its way to disk) is unfinished, then exits', async () => {
    const run = await orphan(`await holdingExit(() => new Promise((r) => setTimeout(r, 2_500))); process.stderr.write('held work done\\n'); ${FOREVER}`);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^held work done\nFATAL prog: the process that started it/);
  });
});
