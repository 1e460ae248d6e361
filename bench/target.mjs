// target-postgres-raw against the physical limit of a jsonb upsert on the same PostgreSQL, in the
// same minute (issue 11). Needs the built dists (npm run build) and python3.
//
//   node bench/target.mjs [--sizes 10k,100k] [--1m] [--rounds N] [--pg 13|17 | --url URL]
//
// Input: ../shared/bench/gen_invoices.py (or BENCH_GEN_INVOICES=path), the QBO-like invoices of the
// issue (1.53 kB each, a full invoice SCHEMA, STATE every 10,000 records), as a Singer file for
// the target and a COPY text file for the baseline. A second pair holds the same ids with every
// payload changed (SyncToken + 1, MetaData.LastUpdatedTime four years later — a leap day stays a
// real date — so the change is newer).
//
// Baseline: exactly the SQL of ../shared/bench/README.md, run by `psql` with `\copy` (the whole
// file in one transaction); without psql on PATH the same SQL goes through pg-copy-streams (the
// output says which). Target: the CLI with its default settings (BENCH_TARGET_SETTINGS='{"…":…}'
// adds or overrides settings, for experiments). Throughput = records ÷ wall seconds of the whole
// psql or target process.
//
// Three phases per loader, each into its own schema: first load (empty table), the same rows
// again (unchanged), the same ids with every payload changed. Rounds interleave the two loaders
// phase by phase, alternating which goes first; a CHECKPOINT precedes every measured run. Per
// size and phase the output lists every round, the medians and the median of the per-round
// ratios target ÷ baseline, and the target's peak RSS (ru_maxrss via /usr/bin/time, else VmHWM
// polled from /proc). With /usr/bin/time, a line after each round's and each phase's summary gives
// the target's CPU seconds (user + sys) and minor page faults: on a machine of two cores the
// target's own CPU is what limits it, and CPU time varies less than wall time on a shared one.
//
// The server is an embedded PostgreSQL 13 (or --pg 17), durable; `--url` (or BENCH_DATABASE_URL)
// names a running server instead (a superuser: the bench issues CHECKPOINT), e.g. the
// PostgreSQL 15 the issue measured on. The bench creates and drops its own schemas there.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { startLocalPostgres } from '../packages/local-postgres/dist/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'packages/target-postgres-raw/dist/cli.js');
const GENERATOR = process.env.BENCH_GEN_INVOICES ?? path.resolve(ROOT, '../shared/bench/gen_invoices.py');
const GOALS = { first: 1.2, unchanged: 2, changed: 0.9 };
const RSS_GOAL_MB = 200;
const PHASES = /** @type {const} */ (['first', 'unchanged', 'changed']);

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const parseSize = (s) => Number(s.replace(/k$/i, '000').replace(/m$/i, '000000'));
const sizes = option('sizes', '10k,100k').split(',').map(parseSize);
if (args.includes('--1m') && !sizes.includes(1_000_000)) sizes.push(1_000_000);
const rounds = Number(option('rounds', process.env.BENCH_ROUNDS ?? 3));
const pgVersion = option('pg', '13');
const serverUrl = option('url', process.env.BENCH_DATABASE_URL);
const extraSettings = JSON.parse(process.env.BENCH_TARGET_SETTINGS ?? '{}');
const PSQL = spawnSync('psql', ['--version'], { encoding: 'utf8' }).status === 0 ? 'psql' : undefined;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

if (!existsSync(GENERATOR)) {
  console.error(`bench/target.mjs: the input generator is not at ${GENERATOR}; set BENCH_GEN_INVOICES to the path of gen_invoices.py`);
  process.exit(2);
}
for (const n of sizes) if (!Number.isInteger(n) || n <= 0) throw new Error(`bad size in --sizes: ${option('sizes')}`);

/** The same ids with every payload changed, and newer: applied alike to Singer and COPY lines. */
function changeLine(line) {
  return line
    .replace(/"SyncToken":"(\d+)"/, (_, n) => `"SyncToken":"${Number(n) + 1}"`)
    .replace(/"LastUpdatedTime":"(\d{4})-/, (_, y) => `"LastUpdatedTime":"${Number(y) + 4}-`);
}

async function transformFile(from, to, fn) {
  const out = createWriteStream(to);
  for await (const line of createInterface({ input: createReadStream(from), crlfDelay: Infinity })) {
    if (!out.write(fn(line) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Writes the inputs for `n` records: {first, changed} × {singer, tsv}. */
async function makeInputs(dir, n) {
  const base = path.join(dir, `invoices-${n}`);
  const gen = spawnSync('python3', [GENERATOR, '--count', String(n), '--singer', `${base}.singer`, '--tsv', `${base}.tsv`], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen_invoices.py failed: ${gen.stderr}`);
  await transformFile(`${base}.singer`, `${base}-changed.singer`, changeLine);
  await transformFile(`${base}.tsv`, `${base}-changed.tsv`, changeLine);
  return {
    note: gen.stderr.trim(),
    first: { singer: `${base}.singer`, tsv: `${base}.tsv` },
    unchanged: { singer: `${base}.singer`, tsv: `${base}.tsv` },
    changed: { singer: `${base}-changed.singer`, tsv: `${base}-changed.tsv` },
  };
}

const TABLE_SQL = 'CREATE TABLE t (id text PRIMARY KEY, payload jsonb NOT NULL, ingested_at_utc timestamptz NOT NULL)';
const UPSERT_SQL = `INSERT INTO t SELECT id, payload, now() FROM st ORDER BY id
ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, ingested_at_utc = EXCLUDED.ingested_at_utc
WHERE t.payload IS DISTINCT FROM EXCLUDED.payload`;

async function sql(url, text) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** The baseline (shared/bench/README.md) loading `tsv` into `schema`.t; returns wall seconds. */
async function runBaseline(url, schema, tsv, dir) {
  if (PSQL) {
    const script = path.join(dir, `${schema}.sql`);
    writeFileSync(script, `BEGIN;\nCREATE TEMP TABLE st (id text, payload jsonb) ON COMMIT DROP;\n\\copy st FROM '${tsv}'\n${UPSERT_SQL};\nCOMMIT;\n`);
    const started = performance.now();
    const child = spawn(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', script, url], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PGOPTIONS: `-c search_path=${schema}` },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`psql exited ${code}: ${stderr}`);
    return (performance.now() - started) / 1000;
  }
  const started = performance.now();
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  await client.query('BEGIN');
  await client.query('CREATE TEMP TABLE st (id text, payload jsonb) ON COMMIT DROP');
  await pipeline(createReadStream(tsv), client.query(copyStreams.from('COPY st FROM STDIN')));
  await client.query(UPSERT_SQL);
  await client.query('COMMIT');
  await client.end();
  return (performance.now() - started) / 1000;
}

/** The target CLI loading `singer` into `schema`; returns wall seconds, peak RSS, and (with /usr/bin/time) CPU seconds and minor faults. */
async function runTarget(url, schema, singer, dir) {
  const config = path.join(dir, `${schema}.json`);
  writeFileSync(config, JSON.stringify({ database_url: url, schema, ...extraSettings }));
  const argv = [CLI, '--config', config, '--input', singer];
  const started = performance.now();
  const child = TIME
    ? spawn(TIME, ['-f', 'bench-maxrss-kb=%M bench-cpu=%U+%S bench-minflt=%R', process.execPath, ...argv], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'warn' },
      })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let polledKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) polledKb = Math.max(polledKb, Number(m[1]));
    } catch {
      // the process has just exited
    }
  }, 20);
  const [code] = await once(child, 'exit');
  const seconds = (performance.now() - started) / 1000;
  clearInterval(poll);
  if (code !== 0) throw new Error(`target exited ${code}: ${stderr}`);
  const timed = /bench-maxrss-kb=(\d+) bench-cpu=([\d.]+)\+([\d.]+) bench-minflt=(\d+)/.exec(stderr);
  return {
    seconds,
    peakMb: (timed ? Number(timed[1]) : polledKb) / 1024,
    cpu: timed ? { user: Number(timed[2]), sys: Number(timed[3]), minflt: Number(timed[4]) } : undefined,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const label = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

const dir = mkdtempSync(path.join(tmpdir(), 'bench-target-'));
const server = serverUrl
  ? { url: serverUrl, stop: async () => undefined }
  : await startLocalPostgres({ version: pgVersion, onLog: process.env.BENCH_PG_LOG ? (l) => console.error(String(l).trimEnd()) : undefined });
const failures = [];
try {
  const [{ version }] = await sql(server.url, 'SELECT version()');
  const [{ durability }] = await sql(
    server.url,
    `SELECT 'fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', jit ' || current_setting('jit') AS durability`,
  );
  console.log(`PostgreSQL: ${version} (${serverUrl ? 'given by --url' : 'embedded'}, ${durability})`);
  console.log(
    `node ${process.version}, ${cpus().length} cores, load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `baseline: ${PSQL ? `psql (${spawnSync('psql', ['--version'], { encoding: 'utf8' }).stdout.trim()}) with \\copy` : 'psql not found: the same SQL through pg-copy-streams'}`,
  );
  console.log(
    `target: ${CLI} settings ${JSON.stringify({ ...extraSettings })} (defaults otherwise); peak RSS via ${TIME ? '/usr/bin/time %M' : 'VmHWM polled every 20 ms'}`,
  );
  for (const n of sizes) {
    const inputs = await makeInputs(dir, n);
    console.log(`\n== ${label(n)} invoices (${inputs.note}), ${rounds} interleaved rounds ==`);
    /** phase → [{ baseline, target, ratio, rss }] */
    const results = Object.fromEntries(PHASES.map((p) => [p, []]));
    for (let round = 1; round <= rounds; round++) {
      // The pid: two benches on one server (two engineers at once) would otherwise load into each other's schemas.
      const b = `bench_b_${label(n)}_${round}_${process.pid}`.toLowerCase();
      const t = `bench_t_${label(n)}_${round}_${process.pid}`.toLowerCase();
      await sql(server.url, `CREATE SCHEMA ${b}; SET search_path = ${b}; ${TABLE_SQL}`);
      const order = round % 2 === 1 ? ['baseline', 'target'] : ['target', 'baseline'];
      for (const phase of PHASES) {
        const r = {};
        for (const who of order) {
          await sql(server.url, 'CHECKPOINT');
          if (who === 'baseline') r.baseline = n / (await runBaseline(server.url, b, inputs[phase].tsv, dir));
          else {
            const run = await runTarget(server.url, t, inputs[phase].singer, dir);
            r.target = n / run.seconds;
            r.rss = run.peakMb;
            r.cpu = run.cpu;
          }
        }
        r.ratio = r.target / r.baseline;
        results[phase].push(r);
        console.log(
          `round ${round} ${phase.padEnd(9)} baseline ${fmt(r.baseline).padStart(7)} rec/s  target ${fmt(r.target).padStart(7)} rec/s  ratio ${r.ratio.toFixed(2)}  target peak RSS ${r.rss.toFixed(0)} MB  (${order[0]} first, load ${loadavg()[0].toFixed(2)})`,
        );
        if (r.cpu)
          console.log(
            `  target CPU ${(r.cpu.user + r.cpu.sys).toFixed(2)} s (user ${r.cpu.user.toFixed(2)}, sys ${r.cpu.sys.toFixed(2)}), ${fmt(r.cpu.minflt)} minor page faults`,
          );
      }
      await sql(server.url, `DROP SCHEMA ${b} CASCADE; DROP SCHEMA ${t} CASCADE`);
    }
    console.log(`-- ${label(n)} summary (medians of ${rounds} rounds) --`);
    for (const phase of PHASES) {
      const rs = results[phase];
      const ratio = median(rs.map((r) => r.ratio));
      const rss = Math.max(...rs.map((r) => r.rss));
      const ok = ratio >= GOALS[phase];
      if (!ok) failures.push(`${label(n)} ${phase} ratio ${ratio.toFixed(2)} < ${GOALS[phase]}`);
      if (rss > RSS_GOAL_MB) failures.push(`${label(n)} ${phase} peak RSS ${rss.toFixed(0)} MB > ${RSS_GOAL_MB} MB`);
      console.log(
        `${phase.padEnd(9)} baseline ${fmt(median(rs.map((r) => r.baseline))).padStart(7)} rec/s  target ${fmt(median(rs.map((r) => r.target))).padStart(7)} rec/s  ratio ${ratio.toFixed(2)} (goal ≥ ${GOALS[phase]}${ok ? '' : ', MISSED'}; rounds ${rs.map((r) => r.ratio.toFixed(2)).join(' ')})  peak RSS ≤ ${rss.toFixed(0)} MB`,
      );
      const cpus = rs.flatMap((r) => (r.cpu ? [r.cpu] : []));
      if (cpus.length === rs.length) {
        console.log(
          `  target CPU median ${median(cpus.map((c) => c.user + c.sys)).toFixed(2)} s (user ${median(cpus.map((c) => c.user)).toFixed(2)}, sys ${median(cpus.map((c) => c.sys)).toFixed(2)}), minor page faults median ${fmt(median(cpus.map((c) => c.minflt)))}`,
        );
      }
    }
    for (const phase of PHASES) for (const file of Object.values(inputs[phase])) rmSync(file, { force: true });
  }
  console.log(
    `\nload average at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(failures.length ? `goals missed: ${failures.join('; ')}` : 'every goal met');
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
