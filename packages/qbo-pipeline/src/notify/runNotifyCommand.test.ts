import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from 'singer-kit';
import { runNotifyCommand } from './runNotifyCommand.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'notify-command-'));
const lines: string[] = [];
const logger = createLogger('qbo-pipeline', { sink: (line) => lines.push(line) });
const body = { kind: 'run-failed', level: 'error', company: 'acme', reason: 'r', text: 't', at: '2026-12-06T00:00:00.000Z' };
const node = (script: string) => ({ argv: [process.execPath, '-e', script], cwd, from: 'notify.command node' });

describe('runNotifyCommand', () => {
  it('exit 0 is delivered: the body is one JSON line on its stdin, the kind in its environment', async () => {
    const echo = node(
      `const b = require('fs').readFileSync(0, 'utf8'); if (b !== JSON.stringify(${JSON.stringify(body)}) + '\\n' || process.env.QBO_PIPELINE_NOTIFY_KIND !== 'run-failed') process.exit(9)`,
    );
    expect(await runNotifyCommand(echo, body, logger)).toBeUndefined();
  });

  it('a non-zero exit is its code and first stderr line; its stderr is logged with a prefix, at most 5 lines', async () => {
    lines.length = 0;
    const failing = node(`for (let i = 1; i <= 8; i++) console.error('line ' + i); process.exit(3)`);
    expect(await runNotifyCommand(failing, body, logger)).toBe('exit 3: line 1');
    expect(lines).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => `INFO qbo-pipeline: notify command ${process.execPath}: line ${i}`),
      `INFO qbo-pipeline: notify command ${process.execPath}: … 3 more stderr lines`,
    ]);
  });

  it('one that does not exit in time is killed with what it started; one that cannot start says why', async () => {
    const hanging = node(`require('child_process').spawn('sleep', ['60'], { stdio: 'inherit' }); setInterval(() => {}, 1000)`);
    const started = Date.now();
    expect(await runNotifyCommand(hanging, body, logger, 500)).toBe('no exit within 0.5 s (killed)');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await runNotifyCommand({ argv: ['no-such-mailer'], cwd, from: 'notify.command no-such-mailer' }, body, logger)).toBe('could not start (ENOENT)');
  });
});
