import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, scratchSchema, withClient } from './support/db.js';
import { blockId, codeBlocks, documentedFailure, documentedLine, pipesIn, shellWalk, substituteDocumented, type CodeBlock } from './docsHarness.js';
import { fatalLine, userEnv, type ProcessRun } from './support/runProcess.js';

/**
 * A new user's first hour, word for word: the shell blocks of README.md and docs/runbook.md run
 * in document order, as written, in a fresh folder holding the repository's `packages/` and
 * `bin/` (nothing else of the checkout), with a shell that has none of the plugins' variables.
 * Each block must succeed, or fail exactly as it says (`# FATAL …` and `# exit status N`).
 * Then every SQL block of docs/evidence.md and the runbook runs against what they loaded.
 *
 * The documented substitutions, and nothing else:
 * - `npm install && npm run build` is skipped: the suite runs on a built checkout; so is the build
 *   of `npm run demo` (it runs as `node packages/qbo-demo/dist/cli.js`, its embedded PostgreSQL
 *   and all), and `npm test` is this suite;
 * - the example database URL `postgres://warehouse:<password>@localhost:5432/warehouse` is the
 *   test PostgreSQL, and `TARGET_POSTGRES_RAW_SCHEMA` (and `raw.` in SQL) a scratch schema.
 * Blocks that need what a test machine lacks (a QuickBooks company, Meltano, Docker) are named
 * below with the reason and the test that covers them; a block nobody named fails the test.
 */
const WALKED = ['README.md', 'docs/runbook.md'] as const;
/** The blocks walked, by their first command. */
const WALK = [
  'npm install && npm run demo',
  'npm install && npm run build',
  'node packages/qbo-pipeline/dist/cli.js schedule list',
  'bin/tap-quickbooks --config emulator.json --state state.jsonl | bin/target-postgres-raw',
];
const SKIPPED: Record<string, string> = {
  "cat > tap.json <<'EOF'": 'needs a QuickBooks company and its app; the emulator block above runs the same commands',
  'node packages/qbo-pipeline/dist/cli.js backfill --streams invoices,customers,items \\':
    'needs a QuickBooks company (tap.json); the emulator block above runs the same commands',
  'node packages/qbo-pipeline/dist/cli.js sync --streams invoices,customers,items --tap-config tap.json':
    'needs a company: from the bookmarks up to now minus end_lag; test/scheduler.test.ts runs sync and schedules against the emulator',
  'node packages/qbo-pipeline/dist/cli.js reconcile --streams invoices,bills --tap-config tap.json [--dry-run]':
    'needs a company whose tables are older than CDC reaches; test/reconcile.test.ts runs reconcile (dry run, marking, again, refusals) against the emulator',
  'node packages/qbo-pipeline/dist/cli.js reconcile --streams invoices,bills --dry-run':
    'needs a company whose tables are older than CDC reaches; test/reconcile.test.ts runs reconcile (dry run, marking, again, refusals) against the emulator',
  'pipx install meltano==4.2.2': 'needs Meltano and a company; test/meltano.run.test.ts runs the plugins as Meltano does',
  'mkdir -p secrets && for f in secrets.example/*.example; do cp -n "$f" "secrets/$(basename "$f" .example)"; done':
    'needs Docker; test/compose.test.ts checks the compose file',
  'REALM=$(cat secrets/qbo_realm_id)': 'calls the real QuickBooks API (read-by-id of companyinfo is not emulated)',
  'find "${TMPDIR:-/tmp}" -maxdepth 1 -type d -name \'qbo-pipeline-??????\' -user "$(id -u)" -exec rm -rf {} +':
    "deletes what runners of earlier versions left in the machine's temporary folder; test/upgrade.test.ts runs it in a folder of its own (TMPDIR)",
  'node packages/qbo-pipeline/dist/cli.js company list --companies companies.yaml':
    'needs QuickBooks companies; the same commands run against three emulated companies in docs/companies.md, walked by test/companiesWalk.test.ts',
};
const DEMO = 'npm install && npm run demo';

const work = mkdtempSync(path.join(tmpdir(), 'first-hour-'));
chmodSync(work, 0o755); // as root, the demo's PostgreSQL runs as user postgres, which must enter it
for (const dir of ['packages', 'bin']) symlinkSync(path.join(REPO_ROOT, dir), path.join(work, dir));
const envFile = path.join(work, '.walk-env');
afterAll(() => rmSync(work, { recursive: true, force: true }));
const schema = scratchSchema('walk');

/** A block is named by its first command, without its comment; `set -o pipefail`, which starts many, does not count. */
function nameOf(block: CodeBlock): string {
  const lines = block.text
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return (/^set -o pipefail$/.test(lines[0] ?? '') ? lines[1] : lines[0]) ?? '';
}

const runBlock = shellWalk({ dir: work, envFile, env: { ...userEnv(), TARGET_POSTGRES_RAW_SCHEMA: schema }, background: 'ended' });

describe('README and runbook, word for word', () => {
  const blocks = WALKED.flatMap((file) => codeBlocks(file)).filter((b) => b.lang === 'sh');

  it('names every shell block: walked, or skipped with the reason and the test that covers it', () => {
    const unnamed = blocks.filter((b) => !(nameOf(b) in SKIPPED) && !WALK.includes(nameOf(b)));
    expect(unnamed.map((b) => `${b.file}:${b.line} ${nameOf(b)}`)).toEqual([]);
    // Each name is of a block that still exists.
    const names = new Set(blocks.map(nameOf));
    expect([...WALK, ...Object.keys(SKIPPED)].filter((name) => !names.has(name))).toEqual([]);
  });

  it('the demo, the emulator walk-through and the runbook examples run as written and do what they say', { timeout: 600_000 }, async () => {
    const walked = blocks.filter((b) => WALK.includes(nameOf(b)));
    expect(walked.map(nameOf)).toEqual(WALK);
    const outputs = new Map<string, ProcessRun>();
    for (const block of walked) {
      const failure = documentedFailure(block.text);
      const run = await runBlock(substituteDocumented(block.text), failure === undefined);
      outputs.set(nameOf(block), run);
      const where = `${block.file}:${block.line} (${nameOf(block)})\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
      if (failure === undefined) {
        expect(run.code, where).toBe(0);
        continue;
      }
      expect(run.code, where).toBe(failure.exit);
      if (failure.fatal !== undefined) expect(fatalLine(run.stderr), where).toMatch(documentedLine(failure.fatal));
    }
    // The demo, without a terminal: its backfill twice (the second changes nothing), then it stops
    // its PostgreSQL, says so, and ends with the console's URL. It ran with the walk's
    // TARGET_POSTGRES_RAW_SCHEMA exported: its rows stay in its own PostgreSQL (the runs below
    // are the walk's only), where they once went to that schema and the demo died reading raw.evidence.
    const demo = outputs.get(DEMO)?.stdout.trim().split('\n') ?? [];
    expect(demo).toContain('Second run: 0 rows inserted or updated, 3420 unchanged.');
    expect(demo.at(-2)).toMatch(/^PostgreSQL has stopped; its data stays in .*\/\.data\/pg for the next demo/);
    expect(demo.at(-1)).toMatch(/^Console: http:\/\/127\.0\.0\.1:\d+\/ \(it stopped with the demo; npm run demo -- --keep-running keeps it up until Ctrl-C\)$/);
    // What the walk-through left: the data, each stream complete, and the runs of qbo-pipeline recorded.
    expect(readFileSync(path.join(work, 'state.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2);
    expect(existsSync(path.join(work, 'state', 'qb_customers_invoices_items.json'))).toBe(true);
    expect(readdirSync(path.join(work, 'state', 'runs')).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(2);
    const runs = await withClient((c) => c.query(`SELECT job, status, tap_exit, target_exit FROM "${schema}"._pipeline_runs ORDER BY started_at_utc`));
    expect(runs.rows).toEqual([
      { job: 'qb_customers_invoices_items', status: 'succeeded', tap_exit: 0, target_exit: 0 },
      { job: 'qb_invoices', status: 'succeeded', tap_exit: 0, target_exit: 0 },
    ]);
  });

  it('every SQL block of the evidence page and the runbook runs against what the walk-through loaded', async () => {
    const sql = ['docs/evidence.md', 'docs/runbook.md'].flatMap((file) => codeBlocks(file)).filter((b) => b.lang === 'sql');
    expect(sql.length).toBeGreaterThanOrEqual(4);
    await withClient(async (c) => {
      for (const block of sql) {
        const text = block.text.replace(/\braw\./g, `"${schema}".`);
        await expect(c.query(text), `${block.file}:${block.line}`).resolves.toBeDefined();
      }
    });
  });
});

describe("the secrets folder's permission lines, as written", () => {
  // The compose walk (needs Docker) is skipped above, but its secrets lines run anywhere. A firm
  // that followed docs/companies.md first has folders in secrets/ (secrets/acme/refresh_token):
  // the files must become readable by the containers' users and the folders stay enterable.
  it.each(['README.md', 'docs/compose.md', 'secrets.example/README.md'])('%s', (file) => {
    const lines = codeBlocks(file)
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => b.text.split('\n'))
      .filter((l) => /^(mkdir -p secrets|chmod 700 secrets)\b/.test(l));
    expect(lines).toHaveLength(2);
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-walk-'));
    try {
      symlinkSync(path.join(REPO_ROOT, 'secrets.example'), path.join(dir, 'secrets.example'));
      mkdirSync(path.join(dir, 'secrets', 'acme'), { recursive: true, mode: 0o700 });
      writeFileSync(path.join(dir, 'secrets', 'acme', 'refresh_token'), 'token\n', { mode: 0o600 });
      execFileSync('bash', ['-ec', lines.join('\n')], { cwd: dir });
      const mode = (p: string) => statSync(path.join(dir, p)).mode & 0o777;
      expect(mode('secrets')).toBe(0o700);
      expect(mode('secrets/postgres_password')).toBe(0o644);
      expect(mode('secrets/acme/refresh_token')).toBe(0o644);
      expect(mode('secrets/acme') & 0o100).toBe(0o100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every shell example that pipes uses set -o pipefail', () => {
  const docs = [
    'README.md',
    ...readdirSync(path.join(REPO_ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
    ...readdirSync(path.join(REPO_ROOT, 'packages')).map((p) => `packages/${p}/README.md`),
    'state/README.md',
    'secrets.example/README.md',
  ].filter((f) => existsSync(path.join(REPO_ROOT, f)));

  it.each(docs)('%s', (file) => {
    const missing = codeBlocks(file)
      .filter((b) => b.lang === 'sh' && pipesIn(b.text) && !/^set -o pipefail\b/m.test(b.text))
      .map((b) => `${file}:${b.line} ${blockId(b)}`);
    expect(missing).toEqual([]);
  });
});
