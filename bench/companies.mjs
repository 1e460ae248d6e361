// Issue 10's full-size check: one scheduler, N emulator companies (default 10) × every stream ×
// D days (default 30), the 7th company's refresh token revoked; QBO's own per-realm limits (500
// requests/minute, 10 in flight). Prints the command, its wall time, the scheduler's last table,
// and every table of every other company compared with its company's truth (ids and payloads).
// Run after a build: node bench/companies.mjs [companies] [days]
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ENTITIES } from '../packages/qbo-catalog/dist/index.js';
import { startEmulator } from '../packages/qbo-emulator/dist/index.js';
import { startLocalPostgres } from '../packages/local-postgres/dist/index.js';

const count = Number(process.argv[2] ?? 10);
const days = Number(process.argv[3] ?? 30);
const REVOKED = Math.min(6, count - 1);
const cli = fileURLToPath(new URL('../packages/qbo-pipeline/dist/cli.js', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'bench-companies-'));
const names = Array.from({ length: count }, (_, i) => `client-${String(i + 1).padStart(2, '0')}`);
const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const START = new Date(today - days * DAY).toISOString().replace('.000Z', 'Z');
const END = new Date(today).toISOString().replace('.000Z', 'Z');

const warehouse = await startLocalPostgres({ version: '13', fast: true });
const emulator = await startEmulator({ days: days + 1, companies: names.map(() => ({})) });
try {
  const secret = async (file, value) => {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), `${value}\n`, { mode: 0o600 });
  };
  await secret('secrets/client_id', emulator.clientId);
  await secret('secrets/client_secret', emulator.clientSecret);
  await secret('secrets/warehouse_url', warehouse.url);
  for (const [i, name] of names.entries()) await secret(`secrets/${name}/refresh_token`, emulator.companies[i].currentRefreshToken());
  await writeFile(
    path.join(dir, 'companies.yaml'),
    [
      'defaults:',
      '  streams: all',
      '  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret, database_url_file: secrets/warehouse_url}',
      `  tap: {base_url: "${emulator.baseUrl}", token_url: "${emulator.tokenUrl}"}`,
      'companies:',
      ...names.map(
        (name, i) => `  - {name: ${name}, realm_id: "${emulator.companies[i].realmId}", secrets: {refresh_token_file: secrets/${name}/refresh_token}}`,
      ),
      '',
    ].join('\n'),
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP_QUICKBOOKS_|TARGET_POSTGRES_RAW_|QBO_PIPELINE_|DATABASE_URL$)/.test(k)));
  const run = (args) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
    });
  const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const added = await run(['trigger', 'add', '--companies', 'companies.yaml', '--at', due, '--start', START, '--end', END]);
  if (added.code !== 0) throw new Error(added.err);
  emulator.companies[REVOKED].revokeTokens();

  console.log(
    `$ qbo-pipeline scheduler --companies companies.yaml --once   # ${count} companies × ${ENTITIES.length} streams × [${START}, ${END}), ${names[REVOKED]} revoked`,
  );
  const t0 = Date.now();
  const scheduler = await run(['scheduler', '--companies', 'companies.yaml', '--once']);
  console.log(`exit ${scheduler.code}, wall time ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
  console.log(scheduler.out.slice(scheduler.out.lastIndexOf(`${count} companies:`)).replace(/^(.{160}).*$/gm, '$1…'));

  const client = new pg.Client({ connectionString: warehouse.url });
  await client.connect();
  let rows = 0;
  let differences = 0;
  for (const [i, name] of names.entries()) {
    if (i === REVOKED) continue;
    for (const { stream, replication } of ENTITIES) {
      // A FULL_TABLE stream (company_info) is read whole on every run, whatever the range.
      const truth = emulator.companies[i]
        .truth(stream)
        .filter((r) => replication === 'FULL_TABLE' || (Date.parse(r.lastUpdated) >= Date.parse(START) && Date.parse(r.lastUpdated) < Date.parse(END)));
      const diff = await client.query(
        `SELECT coalesce(t.id, r.id) AS id FROM unnest($1::text[], $2::text[]) AS t(id, text)
         FULL JOIN ${pg.escapeIdentifier(`raw_${name.replace(/-/g, '_')}`)}.${pg.escapeIdentifier(stream)} r ON r.id = t.id
         WHERE r.id IS NULL OR t.id IS NULL OR r.payload::text <> t.text::jsonb::text`,
        [truth.map((r) => r.id), truth.map((r) => r.text)],
      );
      for (const { id } of diff.rows) console.log(`DIFFERENT ${name} ${stream} ${id}`);
      differences += diff.rows.length;
      rows += truth.length;
    }
  }
  await client.end();
  console.log(
    `${count - 1} companies checked against their truth: ${rows} rows, ${differences} missing, extra or different; emulator: ${emulator.stats().requests} requests, ${emulator.stats().throttled} throttled (429)`,
  );
  process.exitCode = differences === 0 && scheduler.code === 2 ? 0 : 1;
} finally {
  await emulator.close();
  await warehouse.stop();
  await rm(dir, { recursive: true, force: true });
}
