import { describe, expect, it } from 'vitest';
import { spawnPipeline, type PipelineRole } from './spawnPipeline.js';

const node = (source: string) => ({ command: process.execPath, args: ['-e', source] });

async function run(tapSource: string, targetSource: string, signal?: AbortSignal) {
  const lines: string[] = [];
  const logs: Array<[PipelineRole, string]> = [];
  const outcome = await spawnPipeline({
    tap: node(tapSource),
    target: node(targetSource),
    env: process.env,
    ...(signal ? { signal } : {}),
    onTargetLine: async (line) => {
      lines.push(line);
    },
    onLog: (role, line) => logs.push([role, line]),
  });
  return { outcome, lines, logs };
}

describe('spawnPipeline', () => {
  it('a stop ends the tap only, also one that came before the start: the target commits at end of input', async () => {
    const stop = new AbortController();
    stop.abort();
    const { outcome, lines } = await run(
      `setInterval(() => process.stdout.write('{"type":"RECORD"}\\n'), 10);`,
      // a target that treats any signal as "exit without committing", as ours does on a second one
      `process.on("SIGTERM", () => process.exit(9)); process.stdin.resume(); process.stdin.on("end", () => process.stdout.write('{"committed":true}\\n'));`,
      stop.signal,
    );
    expect(outcome.tap.signal).toBe('SIGTERM');
    expect(outcome.target.code).toBe(0);
    expect(lines).toEqual(['{"committed":true}']);
  });

  it('joins the tap to the target by a pipe and hands over every target stdout line in order', async () => {
    const { outcome, lines, logs } = await run(
      `for (let i = 1; i <= 3; i++) process.stdout.write(JSON.stringify({n: i}) + "\\n"); console.error("tap says hi");`,
      `let t = ""; process.stdin.on("data", (d) => (t += d)); process.stdin.on("end", () => { for (const l of t.trim().split("\\n")) process.stdout.write(l + "\\n"); });`,
    );
    expect(outcome.tap.code).toBe(0);
    expect(outcome.target.code).toBe(0);
    expect(lines).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(logs).toContainEqual(['tap', 'tap says hi']);
  });

  it("hands over a child's stderr with QuickBooks tokens redacted, also lines its logger never saw (a crash dumping its request)", async () => {
    // Shaped as Intuit's, without a random-looking literal (the repository's own scan for keys would flag one).
    const access = `eyJ${'hdr'.repeat(8)}..${'body'.repeat(8)}.${'tag'.repeat(6)}`;
    const refresh = `AB11${'1'.repeat(10)}${'Tok'.repeat(12)}`;
    const { outcome, logs } = await run(
      `console.error("  headers: { Authorization: 'Bearer ${access}' }"); console.error("FATAL tap-quickbooks: refresh token ${refresh} refused"); process.exit(1);`,
      `process.stdin.resume();`,
    );
    expect(logs).toEqual([
      ['tap', "  headers: { Authorization: 'Bearer [redacted]' }"],
      ['tap', 'FATAL tap-quickbooks: refresh token [redacted] refused'],
    ]);
    expect(outcome.tap.fatal).toBe('FATAL tap-quickbooks: refresh token [redacted] refused');
  });

  it('keeps the first FATAL line of each process as its reason', async () => {
    const { outcome } = await run(
      `console.error("INFO tap: working"); console.error("FATAL tap-quickbooks: token refused"); console.error("FATAL tap-quickbooks: second"); process.exit(1);`,
      `process.stdin.resume();`,
    );
    expect(outcome.tap).toMatchObject({ code: 1, signal: null, fatal: 'FATAL tap-quickbooks: token refused', exitOrder: 1 });
    expect(outcome.target.exitOrder).toBe(2);
    expect(outcome.target.code).toBe(0);
  });

  it('a target that dies leaves the tap with a broken pipe instead of blocked forever', async () => {
    const { outcome } = await run(
      `process.on("SIGTERM", () => undefined); const line = "x".repeat(1000) + "\\n"; const w = () => { while (process.stdout.write(line)); process.stdout.once("drain", w); }; process.stdout.on("error", () => process.exit(7)); w();`,
      // dies only once the tap is writing, so the tap's SIGTERM handler is in place
      `process.stdin.once("data", () => { console.error("FATAL target: database gone"); process.exit(1); });`,
    );
    expect(outcome.target).toMatchObject({ code: 1, fatal: 'FATAL target: database gone' });
    // the tap ignores SIGTERM here: only EPIPE (exit 7) can end it
    expect(outcome.tap.code).toBe(7);
  });
});
