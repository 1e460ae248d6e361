/**
 * The ecosystem promises, proven with the real tools (installed by test/support/pythonPeers.ts):
 * Meltano 4.2.2 runs this repository's meltano.yml following docs/meltano.md word for word,
 * the tap's output passes singer-check-tap, and it loads into the two peer PostgreSQL targets
 * with the differences docs/meltano.md names.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { diffWithTruth } from './pipelineHarness.js';
import { codeBlocks } from './docsHarness.js';
import { databaseUrl, REPO_ROOT, scratchSchema, withClient } from './support/db.js';
import { PYTHON_TOOLS_ENV, pythonPeers } from './support/pythonPeers.js';
import { runProcess, type ProcessRun } from './support/runProcess.js';
import { catalogSelecting, runTapCli, tapSettings, tempDir, writeJson } from './tapHarness.js';

const peers = await pythonPeers();
const skipped = peers.ok ? '' : ` (skipped: ${peers.reason})`;
if (!peers.ok) console.warn(peers.reason);
const tools = () => {
  if (!peers.ok) throw new Error(peers.reason);
  return peers.tools;
};

const NOW = new Date('2025-01-10T00:00:00Z');
const START = '2025-01-01T00:00:00Z';
const END = NOW.toISOString().replace('.000Z', 'Z');

/** Runs one of the Python tools with their environment. */
function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<ProcessRun> {
  return runProcess(command, args, { ...options, env: { ...process.env, ...PYTHON_TOOLS_ENV, ...options.env } });
}

const withoutComment = (line: string) => line.replace(/\s+#.*$/, '').trim();

describe.skipIf(!peers.ok)(`Meltano 4.2.2 following docs/meltano.md word for word${skipped}`, () => {
  const schema = scratchSchema('meltano_real');
  const blocks = codeBlocks('docs/meltano.md').map((block) => block.text.split('\n'));
  const envBlocks = blocks.filter((lines) => lines[0]?.startsWith('# .env'));
  const firstRun = blocks.find((lines) => lines.some((l) => l.startsWith('meltano install')));
  let emulator: Emulator;
  let project: string;

  beforeAll(async () => {
    emulator = await startEmulator({ now: NOW, days: 9, counts: { invoices: 40, customers: 12, items: 6 }, requestsPerMinute: 1_000_000 });
    project = mkdtempSync(path.join(tmpdir(), 'meltano-real-'));
    // The project is this repository's meltano.yml, byte for byte, with the two wrappers.
    copyFileSync(path.join(REPO_ROOT, 'meltano.yml'), path.join(project, 'meltano.yml'));
    mkdirSync(path.join(project, 'bin'));
    for (const name of ['tap-quickbooks', 'target-postgres-raw']) symlinkSync(path.join(REPO_ROOT, 'bin', name), path.join(project, 'bin', name));
    const url = new URL(databaseUrl());
    const secrets: Record<string, string> = {
      qbo_client_id: emulator.clientId,
      qbo_client_secret: emulator.clientSecret,
      qbo_refresh_token: emulator.currentRefreshToken(),
      qbo_realm_id: emulator.realmId,
      postgres_password: decodeURIComponent(url.password),
      warehouse_url: databaseUrl(),
    };
    mkdirSync(path.join(project, 'secrets'));
    for (const [name, value] of Object.entries(secrets)) writeFileSync(path.join(project, 'secrets', name), `${value}\n`);
  });

  afterAll(async () => {
    await emulator?.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('documents the .env to write and the commands of a first run', () => {
    expect(envBlocks.length).toBe(2);
    expect(firstRun).toBeDefined();
  });

  it(
    'runs the first-run commands as written: install leaves meltano.yml untouched, the job loads the truth, state resumes, a second run asks QBO for nothing',
    { timeout: 300_000 },
    async () => {
      // .env as the page says: the secrets block verbatim, the "elsewhere" block with this test's values.
      const values: Record<string, string> = {
        TARGET_POSTGRES_RAW_DATABASE_URL_FILE: 'secrets/warehouse_url',
        TARGET_POSTGRES_RAW_SCHEMA: schema,
        TAP_QUICKBOOKS_START_DATE: START,
        TAP_QUICKBOOKS_END_DATE: END,
        TAP_QUICKBOOKS_BASE_URL: emulator.baseUrl,
        TAP_QUICKBOOKS_TOKEN_URL: emulator.tokenUrl,
      };
      const [secretsBlock, elsewhereBlock] = envBlocks as [string[], string[]];
      const elsewhere = elsewhereBlock.slice(1).map((line) => {
        const name = line.split('=')[0]!;
        expect(values, `docs/meltano.md sets ${name}; give it a value in this test`).toHaveProperty(name);
        return `${name}=${values[name]}`;
      });
      writeFileSync(path.join(project, '.env'), [...secretsBlock, ...elsewhere].join('\n') + '\n');

      const committed = readFileSync(path.join(project, 'meltano.yml'));
      const env: Record<string, string> = {};
      const outputs: string[] = [];
      const queriesBefore: number[] = [];
      for (const line of firstRun!.map(withoutComment).filter((l) => l !== '')) {
        const exported = /^export (\w+)=(\S+)$/.exec(line);
        if (exported) {
          env[exported[1]!] = exported[2]!;
          continue;
        }
        expect(line, 'only meltano commands and exports in the first-run block').toMatch(/^meltano /);
        queriesBefore.push(emulator.requestLog().filter((r) => r.kind === 'query').length);
        const ran = await run(tools().meltano, line.split(/\s+/).slice(1), { cwd: project, env });
        expect(ran.code, `${line}\n${ran.stderr.slice(-3000)}`).toBe(0);
        outputs.push(ran.stdout);
      }

      expect(readFileSync(path.join(project, 'meltano.yml')).equals(committed), 'meltano.yml changed by Meltano: commit it in the form Meltano writes').toBe(
        true,
      );
      // With telemetry on (a user's default; off in tests, which must not call out), Meltano adds a
      // project_id to a meltano.yml without one and rewrites the whole file.
      expect(committed.toString()).toMatch(/^project_id: [0-9a-f-]{36}$/m);
      const diff = await diffWithTruth(databaseUrl(), schema, emulator, 'invoices', START, END);
      expect(diff).toMatchObject({ missing: [], extra: [], different: [] });
      expect(diff.rows).toBe(diff.expected);
      expect(diff.rows).toBeGreaterThan(0);
      // The job's evidence lands beside the rows (docs/evidence.md): one _volumetry row per invoices day of the range,
      // whose extracted counts add up to the rows. A select without _volumetry.* leaves none.
      const evidence = await withClient(
        async (c) =>
          (
            await c.query<{ days: number; extracted: number }>(
              `SELECT count(DISTINCT payload->>'window_start_utc')::int AS days, sum((payload->>'extracted')::int)::int AS extracted
               FROM ${pg.escapeIdentifier(schema)}._volumetry WHERE payload->>'stream' = 'invoices'`,
            )
          ).rows[0]!,
      );
      expect(evidence).toEqual({ days: (Date.parse(END) - Date.parse(START)) / 86_400_000, extracted: diff.rows });

      // The view over that evidence is qbo-pipeline's: the page's command, with the settings of .env, makes it and lists the days.
      const evidenceCommand = blocks.flat().find((line) => line.includes('cli.js evidence'));
      expect(evidenceCommand).toBeDefined();
      symlinkSync(path.join(REPO_ROOT, 'packages'), path.join(project, 'packages'));
      const days = await run('bash', ['-c', evidenceCommand!], { cwd: project });
      expect(days.code, days.stderr).toBe(0);
      // Without a companies file the evidence is the target settings' schema's, without a company column.
      expect(days.stdout).toMatch(new RegExp(`^evidence of schema ${schema}, `));
      expect(days.stdout).toMatch(/^invoices \| \d{4}-\d\d-\d\d /m);
      expect(days.stdout).toContain(' 0 where extracted ≠ loaded');

      const commands = firstRun!.map(withoutComment).filter((l) => l.startsWith('meltano'));
      const stateGet = outputs[commands.findIndex((c) => c.startsWith('meltano state get'))]!;
      expect(JSON.parse(stateGet)).toEqual({
        singer_state: { bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: END } } },
      });
      // The last command is the second run: resumed at END, it makes no data request.
      expect(commands.at(-1)).toBe('meltano run qb_invoice_backfill');
      expect(emulator.requestLog().filter((r) => r.kind === 'query').length).toBe(queriesBefore.at(-1));
      const listed = outputs[commands.findIndex((c) => c.includes('config list'))]!;
      expect(listed).toContain(`base_url [env: TAP_QUICKBOOKS_BASE_URL] current value: '${emulator.baseUrl}'`);
      expect(listed).toMatch(/sandbox .*True \(from the active environment/);
      expect(outputs.join('\n')).not.toContain(emulator.clientSecret);
    },
  );
});

describe.skipIf(!peers.ok)(`the tap with other Singer tools${skipped}`, () => {
  const dir = tempDir('peers-');
  const schemas = { pipelinewise: scratchSchema('pw'), meltanolabs: scratchSchema('ml') };
  const streams = ['invoices', 'customers', 'items'];
  let emulator: Emulator;
  let singer: string;

  beforeAll(async () => {
    emulator = await startEmulator({ now: NOW, days: 9, counts: { invoices: 60, customers: 12, items: 6 }, requestsPerMinute: 1_000_000 });
    const config = writeJson(dir, 'tap.json', tapSettings(emulator, dir, { start_date: START, end_date: END }));
    const discovered = await runTapCli(['--config', config, '--discover']);
    const catalog = writeJson(dir, 'catalog.json', catalogSelecting(JSON.parse(discovered.stdout), streams));
    const tap = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(tap.code, tap.stderr).toBe(0);
    singer = tap.stdout;
  });

  afterAll(async () => emulator?.close());

  it('passes singer-check-tap (singer-tools 0.4.1)', async () => {
    const checked = await run(tools().singerCheckTap, [], { cwd: dir, input: singer });
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/invoices\s*\|\s*60\s*\|/);
  });

  const url = () => new URL(databaseUrl());
  const truthOf = (stream: string) => emulator.truth(stream).map((r) => JSON.parse(r.text) as { Id: string });
  /** Invoice TotalAmt as QBO wrote it, e.g. "84.20", by Id. */
  const totalText = () => new Map(emulator.truth('invoices').map((r) => [r.id, /"TotalAmt":([-\d.eE+]+)/.exec(r.text)![1]!]));

  it('loads into pipelinewise-target-postgres 2.1.2: every row, money as double precision (value kept, trailing zeros lost)', async () => {
    const config = writeJson(dir, 'pw.json', {
      host: url().hostname,
      port: Number(url().port),
      user: decodeURIComponent(url().username),
      password: decodeURIComponent(url().password),
      dbname: url().pathname.slice(1),
      default_target_schema: schemas.pipelinewise,
    });
    const loaded = await run(tools().pipelinewise, ['--config', config], { input: singer });
    expect(loaded.code, loaded.stderr.slice(-3000)).toBe(0);
    await withClient(async (client) => {
      for (const stream of streams) {
        const ids = (await client.query<{ id: string }>(`SELECT id FROM ${pg.escapeIdentifier(schemas.pipelinewise)}.${pg.escapeIdentifier(stream)}`)).rows.map(
          (r) => r.id,
        );
        expect(ids.sort(), stream).toEqual(
          truthOf(stream)
            .map((r) => r.Id)
            .sort(),
        );
      }
      const type = await client.query(
        `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'invoices' AND column_name = 'totalamt'`,
        [schemas.pipelinewise],
      );
      expect(type.rows[0].data_type).toBe('double precision');
      const rows = (
        await client.query<{ id: string; total: number }>(`SELECT id, totalamt AS total FROM ${pg.escapeIdentifier(schemas.pipelinewise)}.invoices`)
      ).rows;
      const texts = totalText();
      for (const row of rows) expect(row.total, `invoice ${row.id}`).toBe(Number(texts.get(row.id)));
      // What docs/meltano.md says it changes: a trailing zero of the text is gone.
      const zeroEnded = rows.filter((r) => /\.\d*0$/.test(texts.get(r.id)!));
      expect(zeroEnded.length).toBeGreaterThan(0);
      for (const row of zeroEnded) expect(String(row.total)).not.toBe(texts.get(row.id));
    });
  });

  it('loads into MeltanoLabs target-postgres 0.8.0: every row, money as numeric with every digit of the text', async () => {
    const config = writeJson(dir, 'ml.json', {
      sqlalchemy_url: databaseUrl().replace(/^postgres(ql)?:/, 'postgresql+psycopg:'),
      default_target_schema: schemas.meltanolabs,
    });
    const loaded = await run(tools().meltanolabs, ['--config', config], { input: singer });
    expect(loaded.code, loaded.stderr.slice(-3000)).toBe(0);
    expect(loaded.stderr).not.toContain('No schema for record field');
    await withClient(async (client) => {
      for (const stream of streams) {
        const ids = (
          await client.query<{ Id: string }>(`SELECT "Id" FROM ${pg.escapeIdentifier(schemas.meltanolabs)}.${pg.escapeIdentifier(stream)}`)
        ).rows.map((r) => r.Id);
        expect(ids.sort(), stream).toEqual(
          truthOf(stream)
            .map((r) => r.Id)
            .sort(),
        );
      }
      const rows = (
        await client.query<{ id: string; total: string }>(
          `SELECT "Id" AS id, "TotalAmt"::text AS total FROM ${pg.escapeIdentifier(schemas.meltanolabs)}.invoices`,
        )
      ).rows;
      const texts = totalText();
      for (const row of rows) expect(row.total, `invoice ${row.id}`).toBe(texts.get(row.id));
    });
  });
});
