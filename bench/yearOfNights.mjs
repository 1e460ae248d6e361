// A year of nights for an accounting firm: N companies (default 30) of a companies file, an hourly
// sync each (one job per company, `qb_company`, as `scheduler --companies` runs it) for D days
// (default 365), with what a year brings: failed runs, runners killed mid-run (closed by the job's
// next run), reconciles advised (most done the next day, some never), monthly backfills from a
// trigger. Written by the product's own writers: RunJournal (records, logs, pruning), TriggerStore
// (slot triggers), writeStateText (bookmarks), Warehouse.recordRun / the `_pipeline_runs` upsert
// (every run of the year), and the target itself (runTarget) for `_volumetry`, `_load_stats` and
// rows. The journal of company 1 lives the whole year through RunJournal.start (its pruning at
// work every hour); the others get the hours that survive pruning (the last `TAIL_HOURS`) and
// every run whose reconcile is still to do (pruning keeps those).
//
// Then it measures, and prints (never asserts): the state folder's size and files, `company
// list`, a `scheduler --once` pass (30 real syncs against the QBO emulator), a sync's start-up
// (spawn → its first request to QBO), each console page over HTTP (median of 5) and in headless
// Chromium (rows shown), the console's memory, and `evidence prune --dry-run` over the companies.
//
//   npm run build && node bench/yearOfNights.mjs [companies] [days]
//   DATABASE_URL=postgres://… node bench/yearOfNights.mjs      (else an embedded PostgreSQL 13)
//   KEEP=1 …   keeps the folder (its path is printed) and the schemas for a look at the console afterwards
//   BASELINE=../other-checkout …   measures that (built) checkout first on the same state: before and after
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmulator } from '../packages/qbo-emulator/dist/index.js';
import { startLocalPostgres } from '../packages/local-postgres/dist/index.js';
import {
  RunJournal,
  Warehouse,
  TriggerStore,
  slotTriggerId,
  upsertPipelineRunSql,
  pipelineRunParams,
  writeStateText,
  companyStateDir,
} from '../packages/qbo-pipeline/dist/index.js';
import { parseTargetSettings, runTarget, TARGET_SETTINGS } from '../packages/target-postgres-raw/dist/index.js';
import { volumetryRecord, makeWindow } from '../packages/tap-quickbooks/dist/index.js';

const COUNT = Number(process.argv[2] ?? 30);
const DAYS = Number(process.argv[3] ?? 365);
const TAIL_HOURS = 150; // > the journal's 100 runs kept per job: what pruning leaves is exactly what a year leaves
const STREAMS = ['invoices', 'customers', 'payments', 'bills', 'vendors', 'items', 'accounts', 'estimates', 'credit_memos', 'journal_entries'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const names = Array.from({ length: COUNT }, (_, i) => `client-${String(i + 1).padStart(2, '0')}`);
/** Last night's failures, to be found in the console: companies 7 and 19 failed at 03:05 UTC; 12's runner died in the last hour. */
const FAILED_LAST_NIGHT = new Set([6, 18].filter((i) => i < COUNT));
const GONE_LAST_HOUR = Math.min(11, COUNT - 1);
/** Companies that never ran the reconcile they were advised (their advising runs stay in the journal). */
const NEVER_RECONCILES = (i) => i % 10 === 3;

const t0 = performance.now();
const seconds = (from) => ((performance.now() - from) / 1000).toFixed(1);
const out = (line) => console.log(line);

const dir = await mkdtemp(path.join(tmpdir(), 'bench-year-'));
const stateRoot = path.join(dir, 'state');
const now = Date.now();
const lastSlot = Math.floor((now - 5 * 60_000) / HOUR) * HOUR + 5 * 60_000; // hh:05, the newest slot before now
const firstSlot = lastSlot - DAYS * DAY + HOUR;

const embedded = process.env.DATABASE_URL ? undefined : await startLocalPostgres({ version: '13', fast: true });
const databaseUrl = process.env.DATABASE_URL ?? embedded.url;
const emulator = await startEmulator({ days: 2, companies: names.map(() => ({})) });

/** A tiny seeded random per company, so every run of the bench makes the same year. */
function random(seed) {
  let s = seed + 0x9e3779b9;
  return () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return s / 4294967296;
  };
}

/** What one hourly run of company `i` at `at` was (the mix a year brings), as RunJournal start and end. */
function plan(i, at, rand, state) {
  const hour = new Date(at).getUTCHours();
  const dayIndex = Math.floor((at - firstSlot) / DAY);
  const lastNight = at > lastSlot - DAY && hour === 3;
  const streams = STREAMS;
  const range = { start: new Date(at - HOUR).toISOString(), end: new Date(at).toISOString() };
  const r = rand();
  let kind = 'sync';
  let runRange = range;
  let extra = {};
  if (state.reconcileDue && hour === 4 && !NEVER_RECONCILES(i)) {
    kind = 'reconcile';
    extra = { reconcileStreams: state.reconcileDue };
    state.reconcileDue = undefined;
  } else if (dayIndex % 30 === 15 && hour === 2) {
    kind = 'backfill';
    runRange = { start: new Date(at - 30 * DAY).toISOString().slice(0, 10) + 'T00:00:00Z', end: new Date(at).toISOString().slice(0, 10) + 'T00:00:00Z' };
    extra = {
      triggerId: `trg-${new Date(at)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z')}-b${String(i).padStart(5, '0')}`,
    };
  }
  const start = {
    kind,
    job: 'qb_company',
    company: names[i],
    streams: kind === 'reconcile' ? extra.reconcileStreams : streams,
    range: runRange,
    ...(kind === 'sync' ? { scheduleId: slotTriggerId('company', new Date(at)) } : {}),
    ...(extra.triggerId ? { triggerId: extra.triggerId } : {}),
    stateFile: path.join(companyStateDir(stateRoot, names[i]), 'qb_company.json'),
    progress: [],
  };
  const tapRunId = randomUUID();
  const done = streams.map((stream) => ({ stream, doneUntil: runRange.end, daysDone: 1, totalDays: 1, complete: true }));
  if ((i === GONE_LAST_HOUR && at === lastSlot) || (!lastNight && r < 0.003)) return { start, gone: true, tapRunId };
  if ((FAILED_LAST_NIGHT.has(i) && lastNight) || (!lastNight && r < 0.02)) {
    return {
      start,
      tapRunId,
      end: {
        status: 'failed',
        exitCode: 1,
        tapExit: 1,
        targetExit: 0,
        reason: `QBO answered HTTP 503 to GET /v3/company/${emulator.companies[i].realmId}/query 5 times (retries exhausted)`,
        resumeCommand: `qbo-pipeline sync --companies companies.yaml --company ${names[i]}`,
        progress: done.map((p) => ({ ...p, doneUntil: runRange.start, daysDone: 0, complete: false })),
        tapRunIds: [tapRunId],
      },
    };
  }
  const advise = kind === 'sync' && hour === 3 && dayIndex % 30 === 7;
  if (advise) state.reconcileDue = ['invoices', 'payments'];
  return {
    start,
    tapRunId,
    end: {
      status: 'succeeded',
      exitCode: 0,
      tapExit: 0,
      targetExit: 0,
      moved: { loaded: kind === 'backfill' ? 4000 + Math.floor(r * 900) : Math.floor(r * 40), deleted: Math.floor(r * 3) },
      progress: done,
      tapRunIds: [tapRunId],
      ...(kind === 'reconcile' ? { moved: { loaded: 0, deleted: 2 } } : {}),
      ...(advise
        ? {
            reconcileCommand: `qbo-pipeline reconcile --companies companies.yaml --company ${names[i]} --streams invoices,payments`,
            reconcileStreams: ['invoices', 'payments'],
          }
        : {}),
    },
  };
}

/** The record a runner would have left, for a run older than the journal keeps (it only reaches `_pipeline_runs`). */
function historyRecord(p, at) {
  const id = `run-${new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${p.tapRunId.slice(0, 6)}`;
  const iso = new Date(at).toISOString();
  const end = p.end ?? { status: 'failed', reason: 'its runner was gone', progress: [], tapRunIds: [p.tapRunId] };
  return { id, ...p.start, attempt: 1, pid: 4242, host: 'bench', startedAt: iso, updatedAt: iso, finishedAt: iso, tapRunIds: [], logFile: '', ...end };
}

const LOG_LINES = [
  'INFO qbo-pipeline: sync of company {c}: 10 streams from their bookmarks to {end}',
  'INFO tap-quickbooks: token refreshed; access token valid until {end}',
  ...STREAMS.map((s) => `INFO tap-quickbooks: ${s} [{start}, {end}) count 3, read 3 in 1 page`),
  'INFO target-postgres-raw: commit 1: 30 received, 2 inserted, 1 updated, 27 unchanged',
  'INFO qbo-pipeline: state committed; bookmarks at {end}',
];

/** Company `i`'s journal: hours from `fromSlot` through RunJournal (records, logs, pruning), and its slot triggers. */
async function writeJournal(i, hours, timeStarts) {
  const folder = companyStateDir(stateRoot, names[i]);
  let clock = 0;
  const journal = RunJournal.of(folder, { now: () => new Date(clock) });
  const triggers = new TriggerStore(path.join(folder, 'triggers'));
  const records = [];
  const starts = [];
  for (const { at, p } of hours) {
    clock = at;
    const t = performance.now();
    const handle = await journal.start(p.start);
    starts.push(performance.now() - t);
    for (const line of LOG_LINES) handle.log(line.replace('{c}', names[i]).replace('{start}', p.start.range.start).replace('{end}', p.start.range.end));
    clock = at + 40_000;
    await handle.update({ tapRunIds: [p.tapRunId] });
    if (p.gone) {
      records.push(handle.record);
      continue;
    }
    clock = at + 75_000;
    records.push(await handle.finish(p.end));
    if (p.start.scheduleId && at > lastSlot - 100 * HOUR) {
      const slot = new Date(at).toISOString();
      await triggers.create({
        id: p.start.scheduleId,
        at: slot,
        atGiven: slot,
        createdAt: slot,
        sync: { streams: [], job: 'qb_company', stateDir: stateRoot, company: { file: path.join(dir, 'companies.yaml'), name: names[i] } },
        schedule: { name: 'company', slot, slots: 1 },
        status: p.end.status === 'succeeded' ? 'completed' : 'failed',
        enabled: false,
        finishedAt: new Date(at + 75_000).toISOString(),
        result: { exitCode: p.end.exitCode, message: p.end.status, runId: handle.id, runIds: [p.tapRunId] },
      });
    }
  }
  if (timeStarts) timeStarts(starts);
  return records;
}

/** Singer lines of one month of company `i`'s tap runs: per run, each stream's `_volumetry` record of its day and 3 invoices. */
function* monthLines(i, runs) {
  const realm = emulator.companies[i].realmId;
  yield JSON.stringify({ type: 'SCHEMA', stream: '_volumetry', key_properties: ['id'], schema: { type: 'object', properties: { id: { type: 'string' } } } });
  yield JSON.stringify({ type: 'SCHEMA', stream: 'invoices', key_properties: ['Id'], schema: { type: 'object', properties: { Id: { type: 'string' } } } });
  for (const { at, tapRunId } of runs) {
    const dayStart = Math.floor((at - HOUR) / DAY) * DAY;
    const day = makeWindow(dayStart, dayStart + DAY);
    const extractedAt = new Date(at + 30_000).toISOString();
    for (const [k, stream] of STREAMS.entries()) {
      const n = stream === 'invoices' ? 3 : k % 3;
      const evidence = {
        day,
        qboCount: n,
        extracted: n,
        extractedAt,
        span: makeWindow(at - HOUR, at),
        spanQboCount: n,
        spans: 1,
        pages: 1,
        requests: 2,
        retries: 0,
        rereads: 0,
        durationMs: 180,
      };
      yield JSON.stringify({ type: 'RECORD', stream: '_volumetry', record: volumetryRecord(tapRunId, stream, evidence) });
    }
    for (let n = 0; n < 3; n++) {
      const id = String((Math.floor(at / HOUR) * 7 + n) % 5000);
      yield JSON.stringify({
        type: 'RECORD',
        stream: 'invoices',
        record: {
          Id: id,
          TotalAmt: 100.1 + n,
          MetaData: { LastUpdatedTime: new Date(at - 600_000).toISOString() },
          _sdc_run_id: tapRunId,
          _sdc_realm_id: realm,
          _sdc_extract_window_start_utc: day.start,
          _sdc_extract_window_end_utc: day.end,
        },
      });
    }
    yield JSON.stringify({ type: 'STATE', value: { at: new Date(at).toISOString() } });
  }
}

async function loadWarehouse(i, schema, runs) {
  const byMonth = new Map();
  for (const run of runs) byMonth.set(new Date(run.at).toISOString().slice(0, 7), [...(byMonth.get(new Date(run.at).toISOString().slice(0, 7)) ?? []), run]);
  const quiet = { debug() {}, info() {}, warn() {}, error: (l) => console.error(l), child: () => quiet };
  for (const month of byMonth.values()) {
    const input = new PassThrough();
    const done = runTarget({
      settings: parseTargetSettings({
        ...Object.fromEntries(TARGET_SETTINGS.filter((s) => 'default' in s).map((s) => [s.name, s.default])),
        database_url: databaseUrl,
        schema,
        batch_size_rows: 50_000,
        validate_records: false,
      }),
      input,
      output: new Writable({ write: (_c, _e, cb) => cb() }),
      logger: quiet,
    });
    for (const line of monthLines(i, month)) if (!input.write(line + '\n')) await new Promise((r) => input.once('drain', r));
    input.end();
    await done;
  }
}

// ---- generate ------------------------------------------------------------------------------
await mkdir(path.join(dir, 'secrets'), { recursive: true });
await writeFile(path.join(dir, 'secrets/client_id'), emulator.clientId + '\n', { mode: 0o600 });
await writeFile(path.join(dir, 'secrets/client_secret'), emulator.clientSecret + '\n', { mode: 0o600 });
await writeFile(path.join(dir, 'secrets/warehouse_url'), databaseUrl + '\n', { mode: 0o600 });
for (const [i, name] of names.entries()) {
  await mkdir(path.join(dir, 'secrets', name), { recursive: true });
  await writeFile(path.join(dir, 'secrets', name, 'refresh_token'), emulator.companies[i].currentRefreshToken() + '\n', { mode: 0o600 });
}
const schemaOf = (name) => `h43y_${name.replace('-', '_')}_${process.pid}`;
await writeFile(
  path.join(dir, 'companies.yaml'),
  [
    'defaults:',
    `  streams: [${STREAMS.join(', ')}]`,
    `  start: "${new Date(lastSlot - 2 * DAY).toISOString().slice(0, 10)}"`,
    '  schedule: {cron: "5 * * * *", tz: UTC}',
    '  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret, database_url_file: secrets/warehouse_url}',
    `  tap: {base_url: "${emulator.baseUrl}", token_url: "${emulator.tokenUrl}"}`,
    'companies:',
    ...names.map(
      (name, i) =>
        `  - {name: ${name}, realm_id: "${emulator.companies[i].realmId}", schema: ${schemaOf(name)}, secrets: {refresh_token_file: secrets/${name}/refresh_token}}`,
    ),
    '',
  ].join('\n'),
);

const genStart = performance.now();
let fullYearStarts;
let pipelineRows = 0;
for (const [i, name] of names.entries()) {
  const rand = random(i);
  const state = {};
  const year = [];
  for (let at = firstSlot; at <= lastSlot; at += HOUR) year.push({ at, p: plan(i, at, rand, state) });
  const fullYear = i === 0;
  const advising = year.filter(({ p }) => p.end?.reconcileCommand && NEVER_RECONCILES(i));
  const journalHours = fullYear ? year : [...advising, ...year.filter(({ at }) => at > lastSlot - TAIL_HOURS * HOUR && !advising.some((a) => a.at === at))];
  const records = await writeJournal(i, journalHours, fullYear ? (s) => (fullYearStarts = s) : undefined);
  const schema = schemaOf(name);
  const warehouse = await Warehouse.open({ connectionString: databaseUrl }, schema);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const inJournal = new Set(journalHours.map((h) => h.at));
    await warehouse.recordRun(records[0]);
    await client.query('BEGIN');
    for (const { at, p } of year) if (!inJournal.has(at)) await client.query(upsertPipelineRunSql(schema), pipelineRunParams(historyRecord(p, at), []));
    await client.query('COMMIT');
    for (const record of records) await warehouse.recordRun(record);
    pipelineRows += year.length;
  } finally {
    await client.end();
    await warehouse.close();
  }
  await loadWarehouse(
    i,
    schema,
    year.map(({ at, p }) => ({ at, tapRunId: p.tapRunId })),
  );
  const bookmarks = Object.fromEntries(
    STREAMS.map((s) => [
      s,
      { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: new Date(lastSlot - 2 * HOUR).toISOString().replace('.000Z', 'Z') },
    ]),
  );
  await writeStateText(path.join(companyStateDir(stateRoot, name), 'qb_company.json'), JSON.stringify({ bookmarks }) + '\n');
  process.stderr.write(`generated ${name} (${seconds(genStart)} s)\n`);
}

// ---- measure -------------------------------------------------------------------------------
function folderFacts(folder) {
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(folder);
  return { files, mb: (bytes / 1e6).toFixed(1) };
}
const countIn = (folder, re) => readdirSync(folder).filter((n) => re.test(n)).length;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP_QUICKBOOKS_|TARGET_POSTGRES_RAW_|QBO_PIPELINE_|DATABASE_URL$)/.test(k)));
function cli(root, args, onSpawn) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(root, 'packages/qbo-pipeline/dist/cli.js'), ...args], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** A sync of company `i` by hand: from spawn to its first request to QBO (the emulator's log grows), and the whole run. */
async function timeSync(root, i) {
  const realm = emulator.companies[i].realmId;
  const before = emulator.requestLog().filter((r) => r.realmId === realm).length;
  let firstMs;
  const sync = await cli(root, ['sync', '--companies', 'companies.yaml', '--company', names[i], '--state-dir', 'state'], () => {
    const started = performance.now();
    const poll = setInterval(() => {
      if (emulator.requestLog().filter((r) => r.realmId === realm).length > before) {
        firstMs = performance.now() - started;
        clearInterval(poll);
      }
    }, 2);
    setTimeout(() => clearInterval(poll), 60_000);
  });
  out(`sync of ${names[i]}: first request to QBO ${firstMs?.toFixed(0)} ms after spawn; whole sync ${sync.ms.toFixed(0)} ms, exit ${sync.code}`);
}

/** `company list`, a sync, and the console (over HTTP and in Chromium) of the checkout at `root`. */
async function measure(root, label) {
  out(`\n## ${label} (${root})`);
  const list = await cli(root, ['company', 'list', '--companies', 'companies.yaml', '--state-dir', 'state']);
  out(`company list: ${list.ms.toFixed(0)} ms, exit ${list.code}, ${list.stdout.split('\n').length} lines`);
  await timeSync(root, 1);
  const consoleProcess = spawn(
    process.execPath,
    [path.join(root, 'packages/qbo-pipeline/dist/cli.js'), 'console', '--companies', 'companies.yaml', '--state-dir', 'state', '--port', '0'],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const base = await new Promise((resolve, reject) => {
    let text = '';
    consoleProcess.stderr.on('data', (d) => {
      text += d;
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(text);
      if (m) resolve(m[0]);
    });
    consoleProcess.on('close', () => reject(new Error(`console exited: ${text}`)));
  });
  // The company the sync above ran for: that sync made its evidence view this checkout's (a runner run refreshes it).
  const runId = readdirSync(path.join(companyStateDir(stateRoot, names[1]), 'runs'))
    .filter((n) => n.endsWith('.json'))
    .sort()
    .at(-1)
    .slice(0, -5);
  const pages = [
    ['overview', '/'],
    ['runs', '/runs'],
    ['runs of one company', `/runs?company=${names[Math.min(6, COUNT - 1)]}`],
    ['failed runs', '/runs?status=failed'],
    ['a run', `/runs/${runId}`],
    ['evidence (one company)', `/evidence?company=${names[1]}`],
    ['schedules & triggers', '/schedules'],
    ['trigger preview (JSON)', '/triggers/preview?at=2030-01-01T10:00&zone=UTC'],
  ];
  out('\n| page | median of 5 (ms) | bytes | table rows |');
  out('|---|---|---|---|');
  for (const [page, url] of pages) {
    const times = [];
    let body = '';
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      const res = await fetch(base + url);
      body = await res.text();
      times.push(performance.now() - t);
    }
    out(
      `| ${page} \`${url.length > 40 ? url.slice(0, 37) + '…' : url}\` | ${median(times).toFixed(0)} | ${body.length} | ${(body.match(/<tr[ >]/g) ?? []).length} |`,
    );
  }
  out(`\nconsole process memory after those pages: ${rss(consoleProcess.pid).toFixed(0)} MB RSS`);
  // In headless Chromium: how long a page takes to load, and how tall it is.
  try {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    for (const [name, url] of pages.filter(([l]) => !l.includes('JSON'))) {
      const t = performance.now();
      await page.goto(base + url, { waitUntil: 'load' });
      const ms = performance.now() - t;
      const height = await page.evaluate('document.documentElement.scrollHeight');
      out(`chromium ${name}: ${ms.toFixed(0)} ms to load, ${height} px tall (${(height / 800).toFixed(1)} screens at 1280×800)`);
    }
    const shots = path.join(ROOT, 'test-artifacts/bench-year', label.replace(/\W+/g, '-'));
    await mkdir(shots, { recursive: true });
    for (const [name, url] of [
      ['overview', '/'],
      ['runs', '/runs'],
    ]) {
      await page.goto(base + url, { waitUntil: 'load' });
      await page.screenshot({ path: path.join(shots, `${name}.png`) });
    }
    out(`screenshots (first screen): ${shots}/overview.png, runs.png`);
    await browser.close();
  } catch (error) {
    out(`chromium: not measured (${error.message.split('\n')[0]})`);
  }
  out(`console process memory at the end: ${rss(consoleProcess.pid).toFixed(0)} MB RSS`);
  consoleProcess.kill();
}

out(`# A year of nights: ${COUNT} companies × hourly syncs × ${DAYS} days (node bench/yearOfNights.mjs ${COUNT} ${DAYS})`);
out(`generated in ${seconds(genStart)} s; _pipeline_runs rows: ${pipelineRows}`);
const first = companyStateDir(stateRoot, names[0]);
out(
  `state folder: ${JSON.stringify(folderFacts(stateRoot))}; company 1 (a whole year through RunJournal): runs/ ${JSON.stringify(folderFacts(path.join(first, 'runs')))}, triggers/ ${countIn(path.join(first, 'triggers'), /\.json$/)} files`,
);
if (fullYearStarts) {
  const week = (from) => median(fullYearStarts.slice(from, from + 168)).toFixed(1);
  out(`RunJournal.start (close gone + prune) median: first week ${week(0)} ms, last week ${week(fullYearStarts.length - 168)} ms`);
}
const check = new pg.Client({ connectionString: databaseUrl });
await check.connect();
const sizes = (
  await check.query(
    `SELECT relname, sum(n_live_tup)::bigint AS rows, pg_size_pretty(sum(pg_total_relation_size(relid))) AS size FROM pg_stat_user_tables WHERE schemaname LIKE $1 GROUP BY relname ORDER BY relname`,
    [`h43y_%_${process.pid}`],
  )
).rows;
out(`warehouse (all companies): ${sizes.map((r) => `${r.relname} ${r.rows} rows ${r.size}`).join('; ')}`);

// One pass of the scheduler over every company (each runs its due hourly slot: a real sync against the emulator).
const pass = await cli(ROOT, ['scheduler', '--companies', 'companies.yaml', '--state-dir', 'state', '--once']);
out(`scheduler --once (${COUNT} companies, each runs its due hourly slot): ${(pass.ms / 1000).toFixed(1)} s, exit ${pass.code}`);
if (pass.code !== 0)
  out(
    pass.stderr
      .split('\n')
      .filter((l) => /ERROR|FATAL/.test(l))
      .slice(0, 3)
      .join('\n'),
  );
// BASELINE=<another checkout, built>: the same measures with its code first, on the same state and warehouse.
if (process.env.BASELINE) await measure(path.resolve(process.env.BASELINE), 'baseline');
await measure(ROOT, 'this checkout');

// evidence prune as a dry run (the same deletes, rolled back): what a year leaves to delete, and how long each company's transaction takes.
out('');
for (const age of ['400d', '90d']) {
  const prune = await cli(ROOT, ['evidence', 'prune', '--companies', 'companies.yaml', '--state-dir', 'state', '--older-than', age, '--dry-run']);
  out(`evidence prune --older-than ${age} --dry-run (${COUNT} companies): ${(prune.ms / 1000).toFixed(1)} s, exit ${prune.code}`);
  out(prune.code === 0 ? prune.stdout.split('\n')[0] : prune.stderr.split('\n')[0]);
}

if (!process.env.KEEP) for (const name of names) await check.query(`DROP SCHEMA IF EXISTS "${schemaOf(name)}" CASCADE`);
await check.end();
await emulator.close();
await embedded?.stop();
if (process.env.KEEP) out(`kept: ${dir}`);
else await rm(dir, { recursive: true, force: true });
out(`total ${seconds(t0)} s`);
