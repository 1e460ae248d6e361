import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
    [
      'qbo-pipeline',
      [],
      ["run tap-quickbooks | target-postgres-raw from the job's bookmarks up to now minus the tap's end_lag (the daily run after a backfill)"],
    ],
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

  it.each(['scheduler', 'console', 'export meltano', 'views', 'schedule add', 'notify test'])('%s does not offer --company, which it refuses', (command) => {
    const out = help('qbo-pipeline', command.split(' '), 100);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).not.toMatch(/--company\b(?!ies)/);
  });

  it.each(['scheduler --once', 'console', 'export meltano', 'views', 'notify test'])('%s refuses --company naming every command that takes it', (command) => {
    const cli = path.join(REPO_ROOT, 'packages/qbo-pipeline/dist/cli.js');
    const run = spawnSync(process.execPath, [cli, ...command.split(' '), '--companies', 'companies.yaml', '--company', 'acme'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /^FATAL qbo-pipeline: (scheduler|console|export meltano|views|notify test): .* every company of the file; leave out --company \(it is for backfill, sync, reconcile, trigger add, trigger list, schedule list, evidence and company list\)$/m,
    );
  });
});

/** Every qbo-pipeline command, subcommands included, as its --help lists them (`trigger add`, `evidence prune`, …). */
function pipelineCommands(args: readonly string[] = []): string[][] {
  const listed = [...help('qbo-pipeline', args, 200).stdout.matchAll(/^ {2}qbo-pipeline ([a-z]+(?: [a-z]+)*)/gm)].map((m) => (m[1] as string).split(' '));
  const own = listed.filter((command) => command.length === args.length + 1);
  return own.flatMap((command) => [command, ...pipelineCommands(command)]);
}
const options = new Map<string, string[]>();
/** The options a command's --help lists (but --help and --version). */
function optionsOf(pkg: string, args: readonly string[]): string[] {
  const key = [pkg, ...args].join(' ');
  if (!options.has(key))
    options.set(
      key,
      [...help(pkg, args, 200).stdout.matchAll(/^ +(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1] as string).filter((o) => o !== '--help' && o !== '--version'),
    );
  return options.get(key) as string[];
}
const DOCS = [
  'README.md',
  ...readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...readdirSync(path.join(REPO_ROOT, 'packages'))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(path.join(REPO_ROOT, f))),
];
const docText = (file: string) => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const named = (text: string, option: string) => new RegExp(`${option}(?![\\w-])`).test(text);

/** What --help lists and what the README and docs say are the same options. */
describe('every CLI option is in the docs, and the docs name only options the command takes', () => {
  const commands = pipelineCommands();
  it('finds the commands', () =>
    expect(commands.map((c) => c.join(' '))).toEqual(expect.arrayContaining(['backfill', 'trigger add', 'evidence prune', 'company list'])));

  it.each(commands.map((c) => c.join(' ')))('qbo-pipeline %s: each option is documented somewhere', (command) => {
    const docs = DOCS.map(docText).join('\n');
    expect(optionsOf('qbo-pipeline', command.split(' ')).filter((o) => !named(docs, o))).toEqual([]);
  });

  it.each(['tap-quickbooks', 'target-postgres-raw', 'qbo-emulator', 'qbo-demo'])('%s: each option is in its README', (pkg) => {
    const readme = docText(`packages/${pkg}/README.md`);
    expect(optionsOf(pkg, []).filter((o) => !named(readme, o))).toEqual([]);
  });

  it('a documented qbo-pipeline command line names only options of that command', () => {
    const taken = new Map(commands.map((c) => [c.join(' '), new Set(optionsOf('qbo-pipeline', c))]));
    const wrong: string[] = [];
    for (const file of DOCS) {
      docText(file)
        .replace(/\\\n\s*/g, ' ')
        .split('\n')
        .forEach((line, i) => {
          for (const m of line.matchAll(/(?:qbo-pipeline|qbo-pipeline\/dist\/cli\.js) ([a-z]+(?: [a-z]+)?)([^`|;&#]*)/g)) {
            const [first, second] = (m[1] as string).split(' ');
            const command = taken.has(`${first} ${second}`) ? `${first} ${second}` : (first as string);
            const options = taken.get(command);
            if (!options) continue; // prose: "qbo-pipeline is …"
            for (const [option] of (m[2] as string).matchAll(/--[a-z-]+/g)) if (!options.has(option)) wrong.push(`${file}:${i + 1}: ${command} ${option}`);
          }
        });
    }
    expect(wrong).toEqual([]);
  });
});
