import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './support/db.js';

/** The help's text as one line: wrapping undone and yargs' `[string]`, `[default: …]` notes left out. */
function unwrapped(help: string): string {
  return help
    .replace(/\[(boolean|string|number|array|required|default: [^\]]*|choices: [^\]]*)\]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `--help` as on a terminal this many columns wide (yargs reads the width from stdout). */
function help(pkg: string, args: readonly string[], columns: number) {
  const width = `data:text/javascript,process.stdout.columns=${columns}`;
  return spawnSync(process.execPath, ['--import', width, path.join(REPO_ROOT, 'packages', pkg, 'dist/cli.js'), ...args, '--help'], { encoding: 'utf8' });
}

/**
 * Every CLI's `--help` on a narrow and a usual terminal: no line past the width, and each long
 * text, wrapped between words only, reads whole once unwrapped (the ES-module build of yargs cut
 * words: `[sta` / `rt, end)`).
 */
describe('--help wraps between words', () => {
  const clis: Array<[string, string[], string[]]> = [
    [
      'qbo-pipeline',
      ['backfill'],
      [
        "run tap-quickbooks | target-postgres-raw over [start, end), resuming from the job's state file",
        'start, inclusive: 2025-01-01 (midnight UTC), 2025-01-01T00:00:00Z or any offset',
      ],
    ],
    ['qbo-pipeline', [], ["run tap-quickbooks | target-postgres-raw from the job's bookmarks up to now (the daily run after a backfill)"]],
    [
      'tap-quickbooks',
      [],
      [
        'tap-quickbooks --config FILE [--state FILE] [--catalog FILE | --properties FILE] [--discover] [--about [--format json|markdown]]',
        'settings JSON (also TAP_QUICKBOOKS_* and *_FILE)',
      ],
    ],
    [
      'target-postgres-raw',
      [],
      [
        'target-postgres-raw --config FILE [--input FILE] < messages.singer > state.jsonl',
        'JSON settings file (settings may also come from TARGET_POSTGRES_RAW_* env vars)',
      ],
    ],
    ['qbo-emulator', [], ['Serves a QuickBooks Online company on 127.0.0.1 and prints the tap settings to use (one JSON line on stdout).']],
    [
      'qbo-demo',
      [],
      [
        'The one-command demo (npm run demo): QBO emulator + embedded PostgreSQL (.data/pg), 30 days of invoices, customers, items, then the console.',
        'keep PostgreSQL and the console up until Ctrl-C (default: when run on a terminal)',
      ],
    ],
  ];
  it.each(clis.flatMap(([pkg, args, texts]) => [60, 80].map((columns) => [pkg, args, columns, texts] as const)))(
    '%s %j at %i columns',
    (pkg, args, columns, texts) => {
      const run = help(pkg, args, columns);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.split('\n').filter((line) => line.length > columns)).toEqual([]);
      for (const text of texts) expect(unwrapped(run.stdout)).toContain(text);
    },
  );
});

describe('--help says what a command does with --company', () => {
  it('reconcile takes one company at a time (it refuses --companies alone), so its help does not say "default: all of them"', () => {
    const out = help('qbo-pipeline', ['reconcile'], 100);
    expect(unwrapped(out.stdout)).toContain('--company the company of the companies file to reconcile (needed with --companies: one company at a time)');
    expect(unwrapped(out.stdout)).not.toContain('all of them');
  });

  it.each(['scheduler', 'console', 'export meltano', 'schedule add'])('%s does not offer --company, which it refuses', (command) => {
    const out = help('qbo-pipeline', command.split(' '), 100);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).not.toMatch(/--company\b(?!ies)/);
  });

  it.each(['scheduler --once', 'console', 'export meltano'])('%s refuses --company naming every command that takes it', (command) => {
    const cli = path.join(REPO_ROOT, 'packages/qbo-pipeline/dist/cli.js');
    const run = spawnSync(process.execPath, [cli, ...command.split(' '), '--companies', 'companies.yaml', '--company', 'acme'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /^FATAL qbo-pipeline: (scheduler|console|export meltano): .* every company of the file; leave out --company \(it is for backfill, sync, reconcile, trigger add, trigger list, schedule list, evidence and company list\)$/m,
    );
  });
});
