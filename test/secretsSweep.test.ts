import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { databaseUrl, REPO_ROOT } from './support/db.js';
import { startFirm, type Firm } from './companiesHarness.js';
import { CookieJar, csrfTokenIn, send } from './consoleHttp.js';
import { killRunningClis, startRunnerCli, waitFor } from './pipelineHarness.js';
import { runProcess, userEnv } from './support/runProcess.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver.js';
import { query } from './targetHarness.js';

/**
 * Every surface at once, at LOG_LEVEL=debug: a firm's commands (loads, failures, the console, the
 * plugins' own CLIs) run with distinctive secrets, then stdout/stderr, every file they wrote, every
 * row of every table they touched, every console page, and the argv of every process seen while
 * they ran are searched for each secret. A failure names the surface and the kind of secret, never
 * the secret. Token stores hold refresh tokens by design (mode 0600) and `secrets/` is the input.
 */
const START = '2025-02-27T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const tag = Math.random().toString(16).slice(2, 8);
const prefix = `sws_${tag}`;
const CLIENT_SECRET = `SweepClientSecret-${tag}-9f3e`;
/** With characters a URL must percent-encode: both spellings are looked for. */
const DB_PASSWORD = `Sweep@Db%Password-${tag}-71c2`;
const WEBHOOK_PATH = `/services/T0SWEEP/B0SWEEP/SweepWebhookPath${tag}`;
const CONSOLE_PASSWORD = `SweepConsolePassword-${tag}`;
const initialRefresh = (name: string) => `SweepRefresh-${name}-${tag}-3a77`;
/** What the emulator issues: rotated refresh tokens and access tokens (TokenAuthority's shapes). */
const ISSUED: ReadonlyArray<readonly [string, RegExp]> = [
  ['rotated refresh token', /AB11\d{13}[A-Za-z0-9_-]{24}/],
  ['access token', /eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0\.\.[A-Za-z0-9_-]{20,}/],
];

const DEBUG = { LOG_LEVEL: 'debug' };
let firm: Firm;
let receiver: WebhookReceiver;
let sweepTmp: string;
let warehouseUrl: string;
/** Refresh tokens the emulator holds at each step: every one issued (rotation) is looked for by value too. */
const refreshTokens = new Set<string>();
const surfaces: Array<{ readonly surface: string; readonly text: string }> = [];
const argvSeen: string[] = [];
/** Files of the runner's config folders (`qbo-pipeline-*` in TMPDIR, removed when a run ends) that held a secret, with their modes. */
const childConfigsSeen = new Map<string, string>();

function secrets(): Array<readonly [string, string]> {
  return [
    ['QBO client secret', CLIENT_SECRET],
    ['database password', DB_PASSWORD],
    ['database password (percent-encoded)', encodeURIComponent(DB_PASSWORD)],
    ['webhook path', WEBHOOK_PATH],
    ['console password', CONSOLE_PASSWORD],
    ...[...refreshTokens].map((t) => ['refresh token', t] as const),
  ];
}

/** The kinds of secret in `text` (never the values). */
function leaks(text: string): string[] {
  return [
    ...new Set([
      ...secrets()
        .filter(([, v]) => text.includes(v))
        .map(([k]) => k),
      ...ISSUED.filter(([, re]) => re.test(text)).map(([k]) => k),
    ]),
  ];
}

function noteTokens(): void {
  for (const name of firm.names) refreshTokens.add(firm.company(name).currentRefreshToken());
}

/**
 * Reads the argv of every process on the host every 25 ms (world-readable: a secret there is any local
 * user's), and the modes of the runner's config files that hold secrets while they exist.
 */
function sampleArgv(): () => void {
  const timer = setInterval(() => {
    for (const folder of readdirSync(sweepTmp).filter((n) => n.startsWith('qbo-pipeline-'))) {
      try {
        const dir = path.join(sweepTmp, folder);
        childConfigsSeen.set(`${folder.replace(/-[^-]+$/, '')}/`, (statSync(dir).mode & 0o777).toString(8));
        for (const file of readdirSync(dir)) {
          const full = path.join(dir, file);
          if (leaks(readFileSync(full, 'utf8')).length > 0) childConfigsSeen.set(file, (statSync(full).mode & 0o777).toString(8));
        }
      } catch {
        // removed as the run ended
      }
    }
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        if (argv.includes(firm.dir) || argv.includes(sweepTmp) || /tap-quickbooks|target-postgres-raw/.test(argv)) argvSeen.push(argv);
        else if (leaks(argv).length > 0) argvSeen.push(argv);
      } catch {
        // gone between the listing and the read
      }
    }
  }, 25);
  return () => clearInterval(timer);
}

async function cli(label: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const stop = sampleArgv();
  try {
    const run = await firm.cli(args, { ...DEBUG, TMPDIR: sweepTmp, ...env });
    surfaces.push({ surface: `${label}: stdout`, text: run.stdout }, { surface: `${label}: stderr`, text: run.stderr });
    return run;
  } finally {
    stop();
    noteTokens();
  }
}

async function plugin(label: string, cliPath: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const run = await runProcess(process.execPath, [cliPath, ...args], { cwd: firm.dir, env: { ...userEnv(), ...DEBUG, TMPDIR: sweepTmp, ...env } });
  surfaces.push({ surface: `${label}: stdout`, text: run.stdout }, { surface: `${label}: stderr`, text: run.stderr });
  return run;
}

const TAP = path.join(REPO_ROOT, 'packages/tap-quickbooks/dist/cli.js');
const TARGET = path.join(REPO_ROOT, 'packages/target-postgres-raw/dist/cli.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A company's token store: `<company state>/tokens/<realm>.json` (companyTokenStore). */
const isTokenStore = (file: string): boolean => /\/tokens\/\d+\.json$/.test(file);
const tokenStores = (): string[] => writtenFiles(path.join(firm.dir, 'state')).filter(isTokenStore);

function writtenFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile());
}

/**
 * The warehouse user: a login role with DB_PASSWORD, a member of the test's own role (its
 * privileges), so any server checks the password (the embedded one does; a trust server ignores
 * it) and it travels through every setting and message.
 */
const DB_ROLE = `sweep_${tag}`;

beforeAll(async () => {
  const url = new URL(databaseUrl());
  const [me] = await query<{ name: string }>(databaseUrl(), 'SELECT current_user AS name');
  await query(
    databaseUrl(),
    `CREATE ROLE ${pg.escapeIdentifier(DB_ROLE)} LOGIN PASSWORD ${pg.escapeLiteral(DB_PASSWORD)} IN ROLE ${pg.escapeIdentifier(me!.name)}`,
  );
  url.username = DB_ROLE;
  url.password = encodeURIComponent(DB_PASSWORD);
  warehouseUrl = url.toString();
  receiver = await startWebhookReceiver(WEBHOOK_PATH);
  firm = await startFirm({
    names: ['acme', 'globex'],
    databaseUrl: warehouseUrl,
    clientSecret: CLIENT_SECRET,
    companies: [{ refreshToken: initialRefresh('acme') }, { refreshToken: initialRefresh('globex') }],
    seed: 11,
    now: new Date(END),
    days: 2,
    counts: { customers: 4, invoices: 4 },
  });
  noteTokens();
  sweepTmp = await mkdtemp(path.join(tmpdir(), 'sweep-tmp-'));
  await writeFile(path.join(firm.dir, 'secrets/notify_webhook'), `${receiver.url}\n`, { mode: 0o600 });
  await writeFile(path.join(firm.dir, 'secrets/console_password'), `${CONSOLE_PASSWORD}\n`, { mode: 0o600 });
  await firm.writeCompanies(
    firm.companiesYaml({
      schemaPrefix: prefix,
      streams: ['customers', 'invoices'],
      extra: `  start: 2025-02-27\nnotify:\n  webhook_url_file: secrets/notify_webhook\n  console_url: https://console.example.com/`,
    }),
  );
  await writeFile(path.join(firm.dir, 'target.json'), JSON.stringify({ database_url: warehouseUrl, schema: `${prefix}_acme` }));
});
afterAll(async () => {
  killRunningClis();
  receiver?.close();
  await firm?.close();
  // The schemas the firm's companies file does not name (firm.close drops those).
  await query(databaseUrl(), ['views', 'plugin', 'one'].map((name) => `DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(`${prefix}_${name}`)} CASCADE;`).join('\n'));
  await query(databaseUrl(), `DROP OWNED BY ${pg.escapeIdentifier(DB_ROLE)} CASCADE; DROP ROLE IF EXISTS ${pg.escapeIdentifier(DB_ROLE)}`).catch(
    () => undefined,
  );
  if (sweepTmp) await rm(sweepTmp, { recursive: true, force: true });
});

describe('no secret on any surface at LOG_LEVEL=debug', { timeout: 240_000 }, () => {
  it('runs a firm through loads, failures and the console, then finds no secret anywhere', async () => {
    // Loads: a backfill, a sync, a reconcile, each rotating the refresh tokens.
    const backfill = await cli('backfill', ['backfill', '--companies', 'companies.yaml', '--start', START, '--end', END]);
    expect(backfill.code, backfill.stdout + backfill.stderr).toBe(0);
    const sync = await cli('sync', ['sync', '--companies', 'companies.yaml', '--company', 'acme']);
    expect(sync.code, sync.stderr).toBe(0);
    const reconcile = await cli('reconcile', ['reconcile', '--companies', 'companies.yaml', '--company', 'acme']);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await cli('trigger add', ['trigger', 'add', '--companies', 'companies.yaml', '--at', due, '--start', START, '--end', END]);
    const scheduler = await cli('scheduler --once', ['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(scheduler.code, scheduler.stderr).toBe(0);

    // Reading commands.
    for (const [label, args] of [
      ['company list', ['company', 'list', '--companies', 'companies.yaml']],
      ['trigger list', ['trigger', 'list', '--companies', 'companies.yaml']],
      ['evidence', ['evidence', '--companies', 'companies.yaml', '--since', START, '--until', END]],
      ['views', ['views', '--companies', 'companies.yaml', '--schema', `${prefix}_views`]],
      ['export meltano', ['export', 'meltano', '--companies', 'companies.yaml']],
      ['export kubernetes', ['export', 'kubernetes', '--companies', 'companies.yaml']],
      ['notify test', ['notify', 'test', '--companies', 'companies.yaml']],
      ['--help', ['--help']],
      ['--version', ['--version']],
    ] as const) {
      await cli(label, args);
    }
    expect(receiver.received.length, 'notify test reached the webhook').toBeGreaterThan(0);
    surfaces.push({ surface: 'webhook posts', text: JSON.stringify(receiver.received) });

    // Failures: QBO refuses the client (invalid_client), a revoked company (invalid_grant), a damaged
    // token store, an unreachable warehouse, a console password file where none belongs.
    await writeFile(path.join(firm.dir, 'secrets/qbo_client_secret'), `${CLIENT_SECRET}-wrong\n`, { mode: 0o600 });
    // A 401 first, so the tap refreshes with the refused secret.
    firm.company('acme').expireAccessTokens();
    const badClient = await cli('sync, client secret refused', ['sync', '--companies', 'companies.yaml', '--company', 'acme']);
    expect(badClient.code, badClient.stderr).not.toBe(0);
    await writeFile(path.join(firm.dir, 'secrets/qbo_client_secret'), `${CLIENT_SECRET}\n`, { mode: 0o600 });
    firm.company('globex').revokeTokens();
    const revoked = await cli('sync, token revoked', ['sync', '--companies', 'companies.yaml', '--company', 'globex']);
    expect(revoked.code, revoked.stderr).not.toBe(0);
    const store = tokenStores().find((file) => file.endsWith(`${firm.company('acme').realmId}.json`))!;
    const storeText = readFileSync(store, 'utf8');
    await writeFile(store, storeText.slice(0, Math.floor(storeText.length / 2)), { mode: 0o600 });
    const damaged = await cli('sync, token store damaged', ['sync', '--companies', 'companies.yaml', '--company', 'acme']);
    expect(damaged.code, damaged.stderr).not.toBe(0);
    await writeFile(store, storeText, { mode: 0o600 });
    // A database that is not there fails at once (an unreachable host is retried for minutes).
    const unreachable = new URL(warehouseUrl);
    unreachable.pathname = `/no_such_db_${tag}`;
    await writeFile(path.join(firm.dir, 'secrets/warehouse_url'), `${unreachable.toString()}\n`, { mode: 0o600 });
    const noWarehouse = await cli('sync, no such database', ['sync', '--companies', 'companies.yaml', '--company', 'acme']);
    expect(noWarehouse.code, noWarehouse.stderr).not.toBe(0);
    await cli('evidence, no such database', ['evidence', '--companies', 'companies.yaml']);
    await writeFile(path.join(firm.dir, 'secrets/warehouse_url'), `${warehouseUrl}\n`, { mode: 0o600 });

    // One company without a companies file, its secrets in the environment: TAP_QUICKBOOKS_*, DATABASE_URL, PGPASSWORD.
    const globex = firm.company('globex');
    const oneTap = path.join(firm.dir, 'tap-one.json');
    const {
      client_secret: _secret,
      refresh_token: _token,
      ...oneTapSettings
    } = firm.emulator.tapSettings({
      realm_id: globex.realmId,
      token_store: path.join(firm.dir, 'state-one/tokens', `${globex.realmId}.json`),
      retry_backoff_seconds: 0.01,
    });
    await writeFile(oneTap, JSON.stringify(oneTapSettings));
    const oneEnv = {
      TAP_QUICKBOOKS_CLIENT_SECRET: CLIENT_SECRET,
      TAP_QUICKBOOKS_REFRESH_TOKEN: globex.reconnect(),
      DATABASE_URL: warehouseUrl,
      PGPASSWORD: DB_PASSWORD,
      TARGET_POSTGRES_RAW_SCHEMA: `${prefix}_one`,
    };
    noteTokens();
    const one = await cli(
      'backfill, one company, secrets in the environment',
      ['backfill', '--streams', 'customers', '--start', START, '--end', END, '--tap-config', 'tap-one.json', '--state-dir', 'state-one'],
      oneEnv,
    );
    expect(one.code, one.stdout + one.stderr).toBe(0);
    await cli('evidence, one company, DATABASE_URL', ['evidence', '--since', START, '--until', END], oneEnv);

    // The plugins' own CLIs, alone, at debug: a load, help, a refused token, an unreachable database.
    const tapConfig = path.join(sweepTmp, 'tap.json');
    const tapSettings = {
      ...firm.emulator.tapSettings({ token_store: path.join(sweepTmp, 'tokens.json') }),
      client_secret: CLIENT_SECRET,
      start_date: START,
      end_date: END,
    };
    await writeFile(tapConfig, JSON.stringify(tapSettings), { mode: 0o600 });
    for (const args of [['--help'], ['--version'], ['--about'], ['--discover']])
      await plugin(`tap-quickbooks ${args[0]}`, TAP, [...args, '--config', tapConfig]);
    const tapRun = await plugin('tap-quickbooks run', TAP, ['--config', tapConfig]);
    noteTokens();
    const messages = path.join(sweepTmp, 'messages.singer');
    await writeFile(messages, tapRun.stdout);
    const targetConfig = path.join(sweepTmp, 'target.json');
    await writeFile(targetConfig, JSON.stringify({ database_url: warehouseUrl, schema: `${prefix}_plugin` }), { mode: 0o600 });
    await plugin('target-postgres-raw run', TARGET, ['--config', targetConfig, '--input', messages]);
    for (const args of [['--help'], ['--version'], ['--about']]) await plugin(`target-postgres-raw ${args[0]}`, TARGET, [...args, '--config', targetConfig]);
    await plugin('target-postgres-raw, no such database', TARGET, ['--input', messages], {
      TARGET_POSTGRES_RAW_DATABASE_URL: unreachable.toString(),
      TARGET_POSTGRES_RAW_SCHEMA: `${prefix}_plugin`,
    });
    await writeFile(tapConfig, JSON.stringify({ ...tapSettings, client_secret: `${CLIENT_SECRET}-wrong` }), { mode: 0o600 });
    await plugin('tap-quickbooks, client refused', TAP, ['--config', tapConfig]);
    await writeFile(tapConfig, JSON.stringify({ ...tapSettings, refresh_token: `${initialRefresh('acme')}-stale` }), { mode: 0o600 });
    await rm(path.join(sweepTmp, 'tokens.json'), { force: true });
    await plugin('tap-quickbooks, refresh token refused', TAP, ['--config', tapConfig]);
    // The test's own inputs, not what the commands wrote.
    await rm(tapConfig);
    await rm(targetConfig);
    await rm(messages);

    // The console, signed in: every page, a run and its log, its events, error pages.
    const port = await freePort();
    const web = startRunnerCli(
      ['console', '--companies', 'companies.yaml', '--port', String(port), '--target-config', 'target.json', '--password-file', 'secrets/console_password'],
      { cwd: firm.dir, env: { ...userEnv(), ...DEBUG, TMPDIR: sweepTmp } },
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the console', async () => (await send(base, '/healthz').catch(() => undefined))?.status === 200, 30_000, web.output);
    const jar = new CookieJar();
    const login = await send(base, '/login', { jar });
    await send(base, '/login', { jar, form: { _csrf: csrfTokenIn(login.text), password: 'not-the-password' } });
    await send(base, '/login', { jar, form: { _csrf: csrfTokenIn(login.text), password: CONSOLE_PASSWORD } });
    const page = async (route: string) => {
      const answer = await send(base, route, { jar });
      surfaces.push({ surface: `console ${route} (${answer.status})`, text: `${JSON.stringify(answer.headers)}\n${answer.text}` });
      return answer;
    };
    const runs = await page('/runs');
    expect(runs.status).toBe(200);
    const runIds = [...new Set([...runs.text.matchAll(/href="\/runs\/([^"/?#]+)"/g)].map((m) => m[1]!))];
    expect(runIds.length, 'runs on the console').toBeGreaterThan(3);
    for (const id of runIds) {
      await page(`/runs/${id}`);
      await page(`/runs/${id}/events`);
    }
    for (const route of [
      '/',
      '/runs?status=failed',
      '/evidence',
      '/schedules',
      '/triggers/preview',
      '/runs/no-such-run',
      '/no-such-page',
      '/assets/no-such.js',
      '/healthz',
    ])
      await page(route);
    process.kill(-web.child.pid!, 'SIGTERM');
    await web.exited;
    surfaces.push({ surface: 'console: stdout+stderr', text: web.output() });

    // Files the runs wrote: the firm's folder (state, journal, logs, locks, exports) and the temporary folder.
    for (const file of [...writtenFiles(firm.dir), ...writtenFiles(sweepTmp)]) {
      const relative = path.relative(firm.dir, file);
      if (relative.startsWith(`secrets${path.sep}`) || relative === 'target.json' || relative === 'tap-one.json') continue;
      if (isTokenStore(file)) {
        expect((statSync(file).mode & 0o777).toString(8), `${relative}: a token store is the owner's alone`).toBe('600');
        continue;
      }
      surfaces.push({ surface: `file ${relative}`, text: readFileSync(file, 'latin1') });
    }

    // Every row of every table in the schemas the runs touched.
    const client = new pg.Client({ connectionString: databaseUrl() });
    await client.connect();
    try {
      const tables = await client.query<{ s: string; t: string }>(
        `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema LIKE $1 ORDER BY 1, 2`,
        [`${prefix}%`],
      );
      expect(tables.rows.map((r) => r.t)).toEqual(expect.arrayContaining(['_load_runs', '_pipeline_runs', 'customers', 'invoices']));
      for (const { s, t } of tables.rows) {
        const rows = await client.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${pg.escapeIdentifier(s)}.${pg.escapeIdentifier(t)} x`);
        surfaces.push({ surface: `table ${s.replace(prefix, '<prefix>')}.${t}`, text: rows.rows.map((r) => r.j).join('\n') });
      }
    } finally {
      await client.end();
    }

    // argv of the runner's children while they ran.
    expect(
      argvSeen.some((a) => a.includes('tap-quickbooks')),
      'a tap was seen running',
    ).toBe(true);
    expect(
      argvSeen.some((a) => a.includes('target-postgres-raw')),
      'a target was seen running',
    ).toBe(true);
    // The runner hands secrets to its children in files only its user can read.
    expect(
      [...childConfigsSeen.keys()].some((file) => !file.endsWith('/')),
      'a runner config file holding a secret was seen',
    ).toBe(true);
    for (const [file, mode] of childConfigsSeen) expect(mode, `runner config ${file}`).toBe(file.endsWith('/') ? '700' : '600');
    for (const argv of new Set(argvSeen)) surfaces.push({ surface: `argv of ${argv.split(' ').slice(0, 3).join(' ')}…`, text: argv });

    expect(refreshTokens.size, 'the emulator rotated the refresh tokens').toBeGreaterThan(2);
    const found = surfaces.flatMap(({ surface, text }) => leaks(text).map((kind) => `${surface}: ${kind}`));
    expect(found).toEqual([]);
  });
});
