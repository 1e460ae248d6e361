// A first backfill as users run it: every stream, 3 years, `tap-quickbooks | target-postgres-raw`
// into PostgreSQL, against an emulated company whose rows fill its last 60 days, with QBO's
// 500 requests/minute enforced by the emulator and 300 ms latency on every answer.
//   node bench/backfill.mjs [--years 3] [--days 60] [--latency 300] [--page-size 100] [--scale 1] [--rate 500]
// Reports the data requests (COUNT and page queries) against the bound of issue 12,
// 1.5 × (Σ over streams of ⌈rows/page_size⌉ + number of streams), the wall time, and whether
// every raw table equals the emulator's truth (same ids, payloads equal as jsonb and as text).
// Needs the built dists (npm run build).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ENTITIES } from '../packages/qbo-catalog/dist/index.js';
import { startEmulator } from '../packages/qbo-emulator/dist/index.js';
import { startLocalPostgres } from '../packages/local-postgres/dist/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TAP = process.env.BENCH_TAP_CLI ?? path.join(ROOT, 'packages/tap-quickbooks/dist/cli.js');
const TARGET = path.join(ROOT, 'packages/target-postgres-raw/dist/cli.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const years = option('years', 3);
const days = option('days', 60);
const latencyMs = option('latency', 300);
const pageSize = option('page-size', 100);
const scale = option('scale', 1);
const rate = option('rate', 500);

// A mid-sized company: the big transaction streams above one 10,000-row span, the rest small.
const COUNTS = {
  invoices: 30_000,
  payments: 14_000,
  bills: 9_000,
  purchases: 6_000,
  journal_entries: 4_000,
  estimates: 3_000,
  customers: 2_500,
  items: 600,
  vendors: 400,
  accounts: 150,
};
const counts = Object.fromEntries(Object.entries(COUNTS).map(([k, v]) => [k, Math.round(v * scale)]));

const NOW = new Date('2025-03-20T12:00:00Z');
const end = NOW.toISOString().replace('.000Z', 'Z');
const startDate = new Date(Date.UTC(NOW.getUTCFullYear() - years, NOW.getUTCMonth(), NOW.getUTCDate())).toISOString().replace('.000Z', 'Z');
const dir = mkdtempSync(path.join(tmpdir(), 'bench-backfill-'));
const emu = await startEmulator({ seed: 12, now: NOW, days, counts, latencyMs, requestsPerMinute: rate });
const server = await startLocalPostgres({ version: '13', fast: true });
const schema = 'bench_backfill';
try {
  const tapConfig = path.join(dir, 'tap.json');
  writeFileSync(
    tapConfig,
    JSON.stringify(
      emu.tapSettings({
        token_store: path.join(dir, 'tokens.json'),
        start_date: startDate,
        end_date: end,
        page_size: pageSize,
        max_requests_per_minute: rate,
      }),
    ),
  );
  const targetConfig = path.join(dir, 'target.json');
  writeFileSync(targetConfig, JSON.stringify({ database_url: server.url, schema }));

  const started = performance.now();
  const tap = spawn('bash', ['-c', '"$0" "$@"; rc=$?; times >&2; exit $rc', process.execPath, TAP, '--config', tapConfig], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const target = spawn(process.execPath, [TARGET, '--config', targetConfig], { stdio: ['pipe', 'ignore', 'pipe'] });
  tap.stdout.pipe(target.stdin);
  let tapErr = '';
  let targetErr = '';
  tap.stderr.on('data', (b) => (tapErr += b));
  target.stderr.on('data', (b) => (targetErr += b));
  const exit = (child) => new Promise((resolve) => child.on('close', resolve));
  const [tapCode, targetCode] = await Promise.all([exit(tap), exit(target)]);
  const wallSeconds = (performance.now() - started) / 1000;
  if (tapCode !== 0 || targetCode !== 0)
    throw new Error(
      `tap exited ${tapCode}, target ${targetCode}:\n${tapErr
        .split('\n')
        .filter((l) => /FATAL|ERROR/.test(l))
        .join('\n')}\n${targetErr.slice(-2000)}`,
    );

  const log = emu.requestLog().filter((e) => e.kind === 'query' || e.kind === 'count');
  const requests = log.length;
  const throttled = emu.stats().throttled;
  const endMs = Date.parse(end);
  const fromMs = Date.parse(startDate);
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  let ideal = 0;
  let rows = 0;
  const mismatches = [];
  for (const { stream, replication } of ENTITIES) {
    const truth = emu.truth(stream).filter((r) => replication === 'FULL_TABLE' || (Date.parse(r.lastUpdated) >= fromMs && Date.parse(r.lastUpdated) < endMs));
    rows += truth.length;
    ideal += Math.ceil(truth.length / pageSize) + 1;
    await client.query('CREATE TEMP TABLE IF NOT EXISTS truth (id text PRIMARY KEY, payload text NOT NULL)');
    await client.query('TRUNCATE truth');
    for (let i = 0; i < truth.length; i += 1000) {
      const batch = truth.slice(i, i + 1000);
      await client.query('INSERT INTO truth SELECT * FROM unnest($1::text[], $2::text[])', [batch.map((r) => r.id), batch.map((r) => r.text)]);
    }
    const table = `${schema}.${stream}`;
    const {
      rows: [diff],
    } = await client.query(`SELECT
        (SELECT count(*) FROM truth t LEFT JOIN ${table} r USING (id) WHERE r.id IS NULL OR r.payload <> t.payload::jsonb OR r.payload::text <> (t.payload::jsonb)::text)::int AS missing_or_different,
        (SELECT count(*) FROM ${table} r LEFT JOIN truth t USING (id) WHERE t.id IS NULL)::int AS extra`);
    if (diff.missing_or_different || diff.extra) mismatches.push(`${stream}: ${diff.missing_or_different} missing or different, ${diff.extra} extra`);
  }
  await client.end();
  const bound = 1.5 * ideal;
  const cpu = (
    tapErr
      .trim()
      .split('\n')
      .at(-1)
      .match(/(\d+)m([\d.]+)s/g) ?? []
  ).map((t) => {
    const [, m, s] = /(\d+)m([\d.]+)s/.exec(t);
    return Number(m) * 60 + Number(s);
  });
  process.stdout.write(
    `backfill: ${ENTITIES.length} streams, ${startDate}..${end} (${years} years), rows in the last ${days} days: ${rows.toLocaleString('en-US')}, page_size ${pageSize}, ${latencyMs} ms latency, emulator and tap at ${rate} requests/min\n` +
      `  requests: ${requests.toLocaleString('en-US')} (bound 1.5 × ${ideal} = ${bound}; ${(requests / ideal).toFixed(2)} × the ideal), ${throttled} × 429\n` +
      `  wall: ${(wallSeconds / 60).toFixed(1)} min (${wallSeconds.toFixed(0)} s), ${((requests / wallSeconds) * 60).toFixed(0)} requests/min; tap CPU ${cpu.reduce((a, b) => a + b, 0).toFixed(1)} s\n` +
      `  raw tables equal the truth: ${mismatches.length === 0 ? 'yes' : `NO\n    ${mismatches.join('\n    ')}`}\n`,
  );
  if (mismatches.length > 0 || requests > bound) process.exitCode = 1;
} finally {
  await emu.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
