import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from 'singer-kit';
import { startEmulator, type Emulator } from '../packages/qbo-emulator/src/index.js';
import { formatSummary, runBackfill } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, REPO_ROOT, scratchSchema } from './support/db.js';
import { runCliProcess, runnerArgs } from './pipelineHarness.js';
import { runTapCli } from './tapHarness.js';
import { documentedLine } from './docsHarness.js';
import { query, R, runTargetCli, S, singer } from './targetHarness.js';
import { fatalLine, userEnv } from './support/runProcess.js';

/**
 * docs/runbook.md "What each failure says": every row is brought about here, and the program
 * must exit with the row's code and say the row's line (`…` = what varies). A row without a
 * scenario, or a scenario without a row, fails: the table and the programs cannot drift apart.
 */
interface Said {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Row {
  readonly situation: string;
  readonly exit: number;
  readonly line: string;
}

function runbookRows(): Row[] {
  const text = readFileSync(path.join(REPO_ROOT, 'docs/runbook.md'), 'utf8');
  const section = text.slice(text.indexOf('### What each failure says'));
  const rows: Row[] = [];
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    const m = /^\| (.+?) \| (\d) \| `([^`]+)`.* \|$/.exec(line);
    if (m) rows.push({ situation: m[1] as string, exit: Number(m[2]), line: m[3] as string });
  }
  return rows;
}

/**
 * A FATAL line must be the program's first FATAL line on stderr; an ERROR line (a run that went on)
 * is one of stderr's lines; the runner's summary lines are on stdout.
 */
function lineSaid(run: Said, documented: string): string | undefined {
  if (documented.startsWith('FATAL')) return fatalLine(run.stderr);
  const pattern = documentedLine(documented);
  const said = documented.startsWith('ERROR') ? run.stderr : run.stdout;
  return said.split('\n').find((l) => pattern.test(l)) ?? said;
}

const dir = mkdtempSync(path.join(tmpdir(), 'exit-codes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let emulator: Emulator;
let n = 0;
beforeAll(async () => {
  emulator = await startEmulator({
    seed: 3,
    now: new Date('2025-02-01T00:00:00Z'),
    days: 2,
    counts: { invoices: 10, customers: 4 },
    requestsPerMinute: 1_000_000,
  });
});
afterAll(() => emulator?.close());

/** A folder of its own for one scenario, with a tap config for the emulator (token store inside). */
function place(tap: Record<string, unknown> = {}): {
  cwd: string;
  tapConfig: string;
  targetConfig: (schema: string, extra?: Record<string, unknown>) => string;
} {
  const cwd = path.join(dir, `s${++n}`);
  mkdirSync(cwd, { recursive: true });
  const tapConfig = path.join(cwd, 'tap.json');
  writeFileSync(
    tapConfig,
    JSON.stringify(
      emulator.tapSettings({
        start_date: '2025-01-30T00:00:00Z',
        end_date: '2025-02-01T00:00:00Z',
        token_store: path.join(cwd, 'tokens.json'),
        retry_backoff_seconds: 0.01,
        ...tap,
      }),
    ),
  );
  const targetConfig = (schema: string, extra: Record<string, unknown> = {}) => {
    const file = path.join(cwd, `target-${schema}.json`);
    writeFileSync(file, JSON.stringify({ database_url: databaseUrl(), schema, ...extra }));
    return file;
  };
  return { cwd, tapConfig, targetConfig };
}

/**
 * A folder with a companies file of two companies, acme (`acmeMore`: lines added to its entry) and
 * globex, whose refresh token file is missing; the secret files are dummies. Returns the folder.
 */
function firmPlace(acmeMore?: string): string {
  const p = place();
  mkdirSync(path.join(p.cwd, 'secrets'));
  for (const name of ['client_id', 'client_secret', 'acme_refresh']) writeFileSync(path.join(p.cwd, 'secrets', name), `${name}-dummy\n`);
  writeFileSync(
    path.join(p.cwd, 'companies.yaml'),
    [
      'defaults:',
      '  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret}',
      'companies:',
      '  - name: acme',
      '    realm_id: "9341453050000000"',
      '    secrets: {refresh_token_file: secrets/acme_refresh}',
      ...(acmeMore === undefined ? [] : [acmeMore]),
      '  - name: globex',
      '    realm_id: "4620816365000000000"',
      '    secrets: {refresh_token_file: secrets/globex_refresh}',
      '',
    ].join('\n'),
  );
  return p.cwd;
}

const tap = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) => runTapCli(args, { cwd, env: { ...userEnv(), ...env } });
const runner = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) => runCliProcess(args, { cwd, env: { ...userEnv(), ...env } });
const dbUrl = (change: (url: URL) => void) => {
  const url = new URL(databaseUrl());
  change(url);
  return url.toString();
};
/** Runs `run` as a login role of its own, made with `attributes` then `settings` (ALTER ROLE … SET), dropped after. */
async function asRole(attributes: string, settings: string, run: (url: string) => Promise<Said>): Promise<Said> {
  const role = `exit_${randomBytes(4).toString('hex')}`;
  const password = `pw-${role}`;
  await query(databaseUrl(), `CREATE ROLE ${role} LOGIN PASSWORD '${password}' ${attributes}; ${settings.replace(/ROLE/g, `ROLE ${role}`)}`);
  try {
    return await run(dbUrl((u) => ((u.username = role), (u.password = password))));
  } finally {
    await query(databaseUrl(), `DROP ROLE ${role}`);
  }
}
const invoicesState = (at: string) => JSON.stringify({ bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: at } } });

const schema = scratchSchema('exit');
const companySchema = scratchSchema('acme');
const otherLoaderSchema = scratchSchema('peer');
const SCENARIOS: Record<string, () => Promise<Said>> = {
  'a required setting is missing': async () => {
    const p = place();
    const { realm_id: _realm, ...settings } = JSON.parse(readFileSync(p.tapConfig, 'utf8')) as Record<string, unknown>;
    writeFileSync(p.tapConfig, JSON.stringify(settings));
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'a config key that is a slip of a setting (`strat_date`, `startDate`, `Schema`), which would otherwise be ignored': async () => {
    const p = place();
    const { start_date: start, ...settings } = JSON.parse(readFileSync(p.tapConfig, 'utf8')) as Record<string, unknown>;
    writeFileSync(p.tapConfig, JSON.stringify({ ...settings, strat_date: start }));
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'an option given without its value (`--config` with nothing after it; also an empty value, a word for a number, a single-value option given twice)':
    async () => {
      const p = place();
      return tap(['--config'], p.cwd);
    },
  'a date without a time zone': async () => {
    const p = place({ start_date: '2025-01-01T00:00:00' });
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'a `*_FILE` secret that cannot be read': async () => {
    const p = place();
    return tap(['--config', p.tapConfig], p.cwd, { TAP_QUICKBOOKS_CLIENT_SECRET_FILE: 'secrets/qbo_client_secret' });
  },
  '`trigger add` (or `backfill`, `schedule add`) without the settings its run needs': async () => {
    const p = place();
    return runner(['trigger', 'add', '--at', '2025-02-01T02:00:00Z', '--streams', 'invoices', '--start', '2025-01-30', '--end', '2025-02-01'], p.cwd, {
      DATABASE_URL: databaseUrl(),
    });
  },
  '`backfill` (or `sync`, `trigger add`, `schedule add`) with nothing saying where PostgreSQL is': async () => {
    const p = place();
    return runner(['backfill', '--streams', 'invoices', '--start', '2025-01-30', '--end', '2025-02-01', '--tap-config', p.tapConfig], p.cwd);
  },
  'QuickBooks rejects the refresh token': async () => {
    const p = place({ refresh_token: 'AB11-a-token-this-emulator-never-issued' });
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'a wrong client id or secret': async () => {
    const p = place({ client_secret: 'not-the-client-secret' });
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'a wrong realm id': async () => {
    const p = place({ realm_id: '4620816365000000000' });
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'a damaged token store': async () => {
    const p = place();
    // a bare token pasted in place of the JSON: V8's parse error would quote it, the line must not
    writeFileSync(path.join(p.cwd, 'tokens.json'), 'AB11SECRETTOKENTEXT');
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'the whole state log given as `--state`': async () => {
    const p = place();
    writeFileSync(path.join(p.cwd, 'state.jsonl'), `${invoicesState('2025-01-31T00:00:00Z')}\n${invoicesState('2025-02-01T00:00:00Z')}\n`);
    return tap(['--config', p.tapConfig, '--state', 'state.jsonl'], p.cwd);
  },
  'a damaged state file': async () => {
    const p = place();
    mkdirSync(path.join(p.cwd, 'state'));
    writeFileSync(path.join(p.cwd, 'state', 'qb_invoices.json'), '{"bookmarks": {');
    return runner(
      runnerArgs('backfill', { streams: 'invoices', start: '2025-01-30', end: '2025-02-01', tapConfig: p.tapConfig, targetConfig: p.targetConfig(schema) }),
      p.cwd,
    );
  },
  "another job's state file (`--job qb_invoices --streams customers`)": async () => {
    const p = place();
    mkdirSync(path.join(p.cwd, 'state'));
    writeFileSync(path.join(p.cwd, 'state', 'qb_invoices.json'), invoicesState('2025-01-31T00:00:00Z'));
    return runner(
      runnerArgs('backfill', {
        job: 'qb_invoices',
        streams: 'customers',
        start: '2025-01-30',
        end: '2025-02-01',
        tapConfig: p.tapConfig,
        targetConfig: p.targetConfig(schema),
      }),
      p.cwd,
    );
  },
  'a wrong database password': async () =>
    runTargetCli({ database_url: dbUrl((u) => (u.password = 'not-the-password')), schema }, singer(S('x')), { ...userEnv(), LOG_LEVEL: 'info' }),
  'a database that does not exist': async () =>
    runTargetCli({ database_url: dbUrl((u) => (u.pathname = '/nodb')), schema }, singer(S('x')), { ...userEnv(), LOG_LEVEL: 'info' }),
  "a table of the stream's name that another loader made (here MeltanoLabs target-postgres's `invoices`)": async () => {
    await query(
      databaseUrl(),
      `CREATE SCHEMA "${otherLoaderSchema}"; CREATE TABLE "${otherLoaderSchema}".invoices ("Id" text PRIMARY KEY, "TotalAmt" numeric, _sdc_extracted_at timestamptz)`,
    );
    return runTargetCli({ database_url: databaseUrl(), schema: otherLoaderSchema }, singer(S('invoices'), R('invoices', { Id: '1', TotalAmt: 1.5 })));
  },
  'a schema that holds another company': async () => {
    const company = companySchema;
    const first = await runTargetCli(
      { database_url: databaseUrl(), schema: company },
      singer(S('invoices'), R('invoices', { Id: '1', _sdc_realm_id: '1111' })),
    );
    expect(first.code, first.stderr).toBe(0);
    return runTargetCli({ database_url: databaseUrl(), schema: company }, singer(S('invoices'), R('invoices', { Id: '1', _sdc_realm_id: '2222' })));
  },
  'a trigger file the scheduler cannot read, under `scheduler --once`': async () => {
    const p = place();
    mkdirSync(path.join(p.cwd, 'state', 'triggers'), { recursive: true });
    writeFileSync(path.join(p.cwd, 'state', 'triggers', 'trg-damaged.json'), '{"id": "trg-damaged", "at": ');
    return runner(['scheduler', '--once'], p.cwd);
  },
  "a company's secret file that is missing, under `scheduler --companies … --once` (nothing due)": async () =>
    runner(['scheduler', '--companies', 'companies.yaml', '--once'], firmPlace()),
  "a companies file value not of its form (here the tap's `end_lag`; also any other tap setting such as `window`, `page_size` or `sandbox`, a target setting such as `batch_size_rows`, `sslmode` or `port`, a `realm_id`, `start`, `schedule`)":
    async () => runner(['company', 'list', '--companies', 'companies.yaml'], firmPlace('    tap: {end_lag: soon}')),
  'a cron expression that is not one': async () => {
    const p = place();
    return runner(['schedule', 'add', '--cron', 'every day', '--streams', 'invoices', '--tap-config', p.tapConfig], p.cwd, { DATABASE_URL: databaseUrl() });
  },
  'under `qbo-pipeline`, a program that exits 2': async () => {
    const p = place();
    return runner(
      runnerArgs('backfill', {
        streams: 'invoices',
        start: '2025-01-30',
        end: '2025-02-01',
        tapConfig: p.tapConfig,
        targetConfig: p.targetConfig(schema, { database_url: dbUrl((u) => (u.password = 'not-the-password')) }),
      }),
      p.cwd,
    );
  },
  'QuickBooks keeps failing (5xx, 429) beyond `max_retries`': async () => {
    const p = place({ max_retries: 1 });
    emulator.setFaults({ rules: [{ fault: '503', kinds: ['count'], probability: 1 }] });
    try {
      return await tap(['--config', p.tapConfig], p.cwd);
    } finally {
      emulator.setFaults({ rules: [] });
    }
  },
  'QuickBooks (or a proxy in front of it) keeps answering HTTP 200 with a garbled body beyond `max_retries`': async () => {
    const p = place({ max_retries: 1 });
    emulator.setFaults({ rules: [{ fault: '200-html', kinds: ['count'], probability: 1 }] });
    try {
      return await tap(['--config', p.tapConfig], p.cwd);
    } finally {
      emulator.setFaults({ rules: [] });
    }
  },
  'QuickBooks cannot be reached': async () => {
    const p = place({ max_retries: 1, base_url: 'http://127.0.0.1:1' });
    return tap(['--config', p.tapConfig], p.cwd);
  },
  'PostgreSQL cannot be reached and the input ends with no message (the tap failed first)': async () =>
    runTargetCli({ database_url: 'postgres://loader:pw-never-used@127.0.0.1:1/warehouse', reconnect_timeout_seconds: 120 }, '', {
      ...userEnv(),
      LOG_LEVEL: 'info',
    }),
  'PostgreSQL cannot be reached beyond `reconnect_timeout_seconds`': async () =>
    runTargetCli({ database_url: 'postgres://loader:pw-never-used@127.0.0.1:1/warehouse', reconnect_timeout_seconds: 1 }, singer(S('x')), {
      ...userEnv(),
      LOG_LEVEL: 'info',
    }),
  'PostgreSQL accepts the connection but never answers, beyond `reconnect_timeout_seconds`': async () => {
    const swallower = net.createServer((socket) => socket.on('data', () => undefined));
    await new Promise<void>((resolve) => swallower.listen(0, '127.0.0.1', resolve));
    const { port } = swallower.address() as net.AddressInfo;
    try {
      return await runTargetCli(
        { database_url: `postgres://loader:pw-never-used@127.0.0.1:${port}/warehouse`, connect_timeout_seconds: 0.5, reconnect_timeout_seconds: 1 },
        singer(S('x')),
        { ...userEnv(), LOG_LEVEL: 'info' },
      );
    } finally {
      swallower.close();
    }
  },
  'the database takes no writes (a standby, `default_transaction_read_only`) beyond `reconnect_timeout_seconds`': async () =>
    asRole('', 'ALTER ROLE SET default_transaction_read_only = on', (url) =>
      runTargetCli({ database_url: url, schema, reconnect_timeout_seconds: 1 }, singer(S('x')), { ...userEnv(), LOG_LEVEL: 'info' }),
    ),
  'the server lets no more sessions in (`CONNECTION LIMIT`, `max_connections`) beyond `reconnect_timeout_seconds`': async () =>
    asRole('CONNECTION LIMIT 0', '', (url) =>
      runTargetCli({ database_url: url, schema, reconnect_timeout_seconds: 1 }, singer(S('x')), { ...userEnv(), LOG_LEVEL: 'info' }),
    ),
  'under `qbo-pipeline`, the tap is killed': async () => {
    const p = place();
    const result = await runBackfill(
      {
        streams: ['invoices'],
        start: '2025-01-30',
        end: '2025-02-01',
        tapConfig: p.tapConfig,
        targetConfig: p.targetConfig(schema),
        stateDir: path.join(p.cwd, 'state'),
      },
      {
        cwd: p.cwd,
        env: userEnv(),
        logger: createLogger('test', { sink: () => undefined }),
        onChildLog: () => undefined,
        onSpawn: (children) => children.tap.kill('SIGKILL'),
      },
    );
    return { code: result.exitCode, stdout: formatSummary(result), stderr: '' };
  },
};

describe('docs/runbook.md exit codes: every row holds', () => {
  const rows = runbookRows();

  it('the table and the scenarios name the same situations', () => {
    expect(rows.length).toBeGreaterThan(15);
    expect(rows.map((r) => r.situation).sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  it.each(rows.map((r) => [r.situation, r] as const))('%s', async (_situation, row) => {
    const scenario = SCENARIOS[row.situation];
    expect(scenario, `no scenario for runbook row "${row.situation}"`).toBeDefined();
    const run = await scenario!();
    expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(row.exit);
    expect(lineSaid(run, row.line)).toMatch(documentedLine(row.line));
    // One line says it: a FATAL line is the first FATAL of the run, and no secret is in any of it.
    expect(run.stderr + run.stdout).not.toContain(emulator.clientSecret);
    expect(run.stderr + run.stdout).not.toContain('not-the-password');
    expect(run.stderr + run.stdout).not.toContain('SECRETTOKEN');
  });
});

describe('a wrong database password under `qbo-pipeline backfill`', () => {
  it("is said once, by the summary: not by the target's FATAL line passed through (the run's log keeps it), nor by the runner, which says only that the run is not recorded", async () => {
    const run = await SCENARIOS['under `qbo-pipeline`, a program that exits 2']!();
    expect(run.code, run.stderr).toBe(2);
    const runnerLines = run.stderr.split('\n').filter((l) => l.includes(' qbo-pipeline: '));
    expect(runnerLines.join('\n')).toMatch(/could not record run \S+ in \S+\._pipeline_runs: the same error the run failed on/);
    expect(`${run.stderr}\n${run.stdout}`.split('\n').filter((l) => l.includes('password authentication failed'))).toEqual([
      expect.stringMatching(/^FAILED: target-postgres-raw: PostgreSQL at .* refused the connection: password authentication failed/),
    ]);
    const logFile = /^log: (.+)$/m.exec(run.stdout)![1]!;
    expect(readFileSync(logFile, 'utf8')).toMatch(
      /^\S+ \[target\] FATAL target-postgres-raw: PostgreSQL at .* refused the connection: password authentication failed/m,
    );
  });
});
