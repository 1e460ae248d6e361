// A firm's nights with faults: `scheduler --companies FILE --once` at each night's slot, for N
// nights, over C companies (max_parallel P), while faults land at random points of the night: the
// scheduler, a tap or a target killed with SIGKILL, the warehouse (an embedded PostgreSQL of its
// own) restarted, QBO answering 5xx and resets, or 429 to a third of all requests, one company's
// refresh token revoked (reconnected the next night, as the README says), records created, edited
// (amounts with many digits), voided and deleted between nights (some created and deleted the same
// night, never loaded), and what a firm does meanwhile: a backfill or a reconcile of one company
// started by hand while the scheduler runs, a company taken out of the companies file for a night,
// max_parallel edited in the file mid-night. A "night" is a minute: the
// companies' schedule is `* * * * *`, on the real clock (a shifted clock would make the runners
// misjudge the age of the locks a killed runner leaves, stamped by the file system's clock).
//
// After each night it checks, per company: every row against the emulator's truth up to the
// stream's bookmark (ids, payload as jsonb, many-digit amounts as text, deletions marked at their
// instant; no row QBO never had), so state is never ahead of committed rows; no run left
// `running` (journal or `_pipeline_runs`) once the night is over; the night's trigger, its runs in
// the journal and `_pipeline_runs`, and the scheduler's table agree on ok/failed; a company no
// fault touched is ok; a company out of the file ran nothing, and back in, runs its missed slot; the
// command by hand succeeded, and every row a reconcile marked deleted QBO did delete; the views over
// every company (`views:` in the file) hold each company's rows. The last night has no faults:
// every table then equals the truth.
// Prints one line per night and every discrepancy; exits 1 when there was one.
//
//   npm run build && node bench/faultyNights.mjs [seed] [nights] [companies] [max_parallel]
//   (defaults 1 6 4 2; a night a minute, two for a killed scheduler)   SERVICE=1 runs the scheduler as a service (a pass a
//   second, SIGTERM once the night's runs have ended) instead of --once   KEEP=1 keeps the folder, VERBOSE=1 prints each scheduler's log
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmulator, Rng } from '../packages/qbo-emulator/dist/index.js';
import { startLocalPostgres } from '../packages/local-postgres/dist/index.js';

const SEED = Number(process.argv[2] ?? 1);
const NIGHTS = Number(process.argv[3] ?? 6);
const COUNT = Number(process.argv[4] ?? 4);
const PARALLEL = Number(process.argv[5] ?? 2);
const SERVICE = process.env.SERVICE === '1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'packages/qbo-pipeline/dist/cli.js');
const MINUTE = 60_000;
const START = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
const LEASE_SECONDS = 10;
const STREAMS = ['invoices', 'customers', 'payments', 'items'];
const ENTITY = { invoices: 'Invoice', customers: 'Customer', payments: 'Payment', items: 'Item' };
const NAME_LISTS = new Set(['customers', 'items']);
const MONEY = ['TotalAmt', 'Balance', 'UnitPrice'];
/** Each night draws one of each: what QBO does, and what happens to the processes and the warehouse. */
const QBO_FAULTS = ['qbo-5xx', 'qbo-429-storm', 'revoke', 'none'];
const HOST_FAULTS = ['kill-scheduler', 'kill-tap', 'kill-target', 'restart-postgres', 'none'];
/** And one thing the firm does: a command by hand for one company, an edit of the companies file. Drawn apart, so a seed's QBO and host faults stay what they were. */
const FIRM_EVENTS = ['hand-backfill', 'hand-reconcile', 'hand-sync', 'company-out', 'max-parallel', 'none'];
const VIEWS = 'qbo_all';

const rng = new Rng(SEED);
const firmRng = new Rng(SEED * 7919 + 1);
const names = Array.from({ length: COUNT }, (_, i) => `firm-${i + 1}`);
const problems = [];
const problem = (night, text) => {
  problems.push(`night ${night}: ${text}`);
  console.log(`  PROBLEM night ${night}: ${text}`);
};
const dir = await mkdtemp(path.join(tmpdir(), 'faulty-nights-'));
await mkdir(path.join(dir, 'tmp'));
const warehouse = await startLocalPostgres({ version: '13', fast: true });
const emulator = await startEmulator({
  seed: SEED,
  days: 10,
  counts: { invoices: 30, customers: 10, payments: 15, items: 8 },
  companies: names.map((_, i) => ({ seed: SEED * 100 + i })),
});
const company = (name) => emulator.companies[names.indexOf(name)];
/** The soak's own session; made anew after a restart of the warehouse. */
let db;
const query = async (text, params) => {
  if (!db) {
    db = new pg.Client({ connectionString: warehouse.url });
    await db.connect();
  }
  return db.query(text, params);
};

const secret = async (file, value) => {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, file), `${value}\n`, { mode: 0o600 });
};
await secret('secrets/client_id', emulator.clientId);
await secret('secrets/client_secret', emulator.clientSecret);
await secret('secrets/warehouse_url', warehouse.url);
for (const name of names) await secret(`secrets/${name}/refresh_token`, company(name).currentRefreshToken());
const schemaOf = (name) => `raw_${name.replace(/-/g, '_')}`;
/** The companies file: every company but those `out`, with `maxParallel`. */
const writeCompaniesFile = (out = new Set(), maxParallel = PARALLEL) =>
  writeFile(
    path.join(dir, 'companies.yaml'),
    [
      'defaults:',
      `  streams: [${STREAMS.join(', ')}]`,
      `  start: ${START}`,
      '  schedule: {cron: "* * * * *", tz: UTC}',
      '  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret, database_url_file: secrets/warehouse_url}',
      // Nights a minute apart, from an emulator that shows a change at once: no end_lag, so a night reads up to its slot (test/endLag has the lag).
      `  tap: {base_url: "${emulator.baseUrl}", token_url: "${emulator.tokenUrl}", retry_backoff_seconds: 0.05, throttle_wait_seconds: 0.1, request_timeout_seconds: 20, max_concurrency: 5, end_lag: PT0S}`,
      '  target: {max_batch_age_seconds: 0.2, reconnect_timeout_seconds: 30}',
      `scheduler: {max_parallel: ${maxParallel}}`,
      `views: {schema: ${VIEWS}}`,
      'companies:',
      ...names
        .filter((name) => !out.has(name))
        .map(
          (name) =>
            `  - {name: ${name}, realm_id: "${company(name).realmId}", schema: ${schemaOf(name)}, secrets: {refresh_token_file: secrets/${name}/refresh_token}}`,
        ),
      '',
    ].join('\n'),
  );
await writeCompaniesFile();

const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP_QUICKBOOKS_|TARGET_POSTGRES_RAW_|QBO_PIPELINE_|DATABASE_URL$|LOG_LEVEL$)/.test(k))),
  TMPDIR: path.join(dir, 'tmp'),
};
/**
 * `scheduler --once`, or with SERVICE=1 the scheduler as the compose service runs it (a pass a
 * second) until every company's run of the night since `since` has ended, then SIGTERM.
 * `child.kill(signal)` reaches it alone (its tap and target must notice).
 */
function scheduler(since) {
  const mode = SERVICE ? ['--interval', '1'] : ['--once'];
  const child = spawn(process.execPath, [CLI, 'scheduler', '--companies', 'companies.yaml', ...mode, '--lease-seconds', String(LEASE_SECONDS)], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: signal ? signal : code, stdout, stderr })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  void exited.then(() => clearTimeout(timer));
  if (SERVICE) void nightOver(since, exited).then(() => child.kill('SIGTERM'));
  return { child, exited };
}

/**
 * Resolves once every company has a trigger recorded since `since` and all of those are final, or
 * the scheduler exited. Without `since` (the first scheduler), once it has seen every company:
 * their schedules count slots from then (`schedule-since.json`), so night 1's slot is due.
 */
async function nightOver(since, exited) {
  let gone = false;
  void exited.then(() => (gone = true));
  const folder = (name) => path.join(dir, 'state/companies', name);
  const over = () =>
    inFile().every((name) => {
      if (since === undefined) return existsSync(path.join(folder(name), 'schedule-since.json'));
      const triggers = jsonFiles(path.join(folder(name), 'triggers')).filter((t) => Date.parse(t.createdAt) >= since);
      return triggers.length > 0 && triggers.every((t) => ['completed', 'failed', 'skipped'].includes(t.status));
    });
  await sleep(1500);
  while (!gone && !over()) await sleep(500);
}

/** Another qbo-pipeline command in the folder: its exit (a code, or the signal that ended it), pid, stdout and stderr. */
async function command(args) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
  const code = await new Promise((resolve) => child.on('close', (code, signal) => resolve(signal ?? code)));
  return { code, pid: child.pid, stdout, stderr };
}

/** Living processes (not zombies) whose command line mentions `text`: this soak's taps and targets, by their config folder. */
function processesWith(text) {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        if (readFileSync(`/proc/${d}/stat`, 'utf8').includes(') Z ')) return [];
        const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        return args.some((a) => a.includes(text)) ? [{ pid: Number(d), args }] : [];
      } catch {
        return [];
      }
    });
}
const children = (kind) => processesWith(path.join(dir, 'tmp')).filter((p) => p.args.some((a) => a.includes(kind)));

/** Per company: deletions (stream → id → second), many-digit amounts (stream → id → text). */
const models = new Map(names.map((n) => [n, { deletions: new Map(), exact: new Map() }]));
/** Companies taken out of the companies file for this night, and its max_parallel now. */
const out = new Set();
let maxParallel = PARALLEL;
const inFile = () => names.filter((name) => !out.has(name));

function mutate(name, night) {
  const c = company(name);
  const model = models.get(name);
  const r = new Rng(SEED * 1000 + night * 10 + names.indexOf(name));
  const pick = (stream, filter = () => true) => {
    const rows = c.truth(stream).filter((t) => filter(t.text));
    return rows.length === 0 ? undefined : rows[r.int(0, rows.length - 1)];
  };
  for (const stream of STREAMS) {
    const entity = ENTITY[stream];
    for (let k = r.int(1, 3); k > 0; k--) c.create(entity);
    const edited = pick(stream);
    const key = MONEY.find((k) => edited.text.includes(`"${k}":`));
    if (key) {
      const amount = `${r.int(1, 9_999_999)}${r.int(1_000_000, 9_999_999)}.${String(r.int(0, 99_999_999)).padStart(8, '0')}${r.int(1, 9)}0`;
      c.update(entity, edited.id, { [key]: amount });
      if (!model.exact.has(stream)) model.exact.set(stream, new Map());
      model.exact.get(stream).set(edited.id, amount);
    } else c.update(entity, edited.id, { PrivateNote: JSON.stringify(`night ${night}`) });
    if (NAME_LISTS.has(stream)) {
      const active = pick(stream, (t) => t.includes('"Active":true'));
      if (active) c.deleteTransaction(entity, active.id);
      continue;
    }
    if (!model.deletions.has(stream)) model.deletions.set(stream, new Map());
    const deleted = (id) => model.deletions.get(stream).set(id, Math.floor(emulator.now().getTime() / 1000) * 1000);
    const victim = pick(stream);
    if (victim) {
      c.deleteTransaction(entity, victim.id);
      deleted(victim.id);
    }
    // Created and deleted between two syncs: QBO's CDC gives only its deletion, of a record never loaded.
    if (r.int(0, 1) === 1) {
      const fleeting = c.create(entity);
      c.deleteTransaction(entity, fleeting);
      deleted(fleeting);
    }
    if (stream === 'invoices') {
      const v = pick(stream, (t) => !t.includes('"Voided"'));
      if (v) c.voidTransaction(entity, v.id);
    }
  }
}

function bookmarksOf(name) {
  try {
    const state = JSON.parse(readFileSync(path.join(dir, 'state/companies', name, 'qb_company.json'), 'utf8'));
    return Object.fromEntries(Object.entries(state.bookmarks ?? {}).map(([s, b]) => [s, Date.parse(b.replication_key_value)]));
  } catch {
    return {};
  }
}

/** Rows vs the truth up to each stream's bookmark (state never ahead of committed rows); returns the bookmarks. */
async function checkRows(night, name) {
  const c = company(name);
  const model = models.get(name);
  const bookmarks = bookmarksOf(name);
  for (const stream of STREAMS) {
    const table = `${pg.escapeIdentifier(schemaOf(name))}.${pg.escapeIdentifier(stream)}`;
    const exists = (await query('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0].ok;
    const rows = exists
      ? new Map(
          (await query(`SELECT id, payload::text AS p, deleted_at_utc AS d, realm_id AS realm FROM ${table}`)).rows.map((row) => [
            row.id,
            { payload: row.p, deleted: row.d?.getTime() ?? null, realm: row.realm },
          ]),
        )
      : new Map();
    const truth = c.truth(stream);
    const deletions = model.deletions.get(stream) ?? new Map();
    const known = new Set([...truth.map((t) => t.id), ...deletions.keys()]);
    const at = `${name}.${stream}`;
    const strangers = [...rows.keys()].filter((id) => !known.has(id));
    if (strangers.length > 0) problem(night, `${at}: rows QBO never had: ${strangers.join(', ')}`);
    // A reconcile marks what QBO deleted, at the instant it found it gone (a row CDC marked first keeps QBO's).
    const reconciled = new Map();
    const reconciliations = exists
      ? await query(
          `SELECT unnest(missing_ids) AS id, deleted_at_utc AS at FROM ${pg.escapeIdentifier(schemaOf(name))}._reconciliations WHERE stream = $1 AND NOT dry_run`,
          [stream],
        ).catch(() => ({ rows: [] }))
      : { rows: [] };
    for (const { id, at: markedAt } of reconciliations.rows) {
      if (!deletions.has(id)) problem(night, `${at}: a reconcile marked ${id} deleted, which QBO never deleted`);
      reconciled.set(id, markedAt.getTime());
    }
    if ([...rows.values()].some((r) => r.realm !== c.realmId)) problem(night, `${at}: rows of another realm`);
    const bookmark = bookmarks[stream];
    if (bookmark === undefined) continue;
    const due = truth.filter((t) => Date.parse(t.lastUpdated) < bookmark && Date.parse(t.lastUpdated) >= Date.parse(`${START}T00:00:00Z`));
    const texts = (await query('SELECT t::jsonb::text AS t FROM unnest($1::text[]) WITH ORDINALITY u(t, n) ORDER BY n', [due.map((t) => t.text)])).rows;
    const wrong = due.flatMap((t, k) => {
      const row = rows.get(t.id);
      if (!row) return [`${t.id} missing`];
      if (row.deleted !== null) return [`${t.id} marked deleted`];
      return row.payload === texts[k].t ? [] : [`${t.id} differs`];
    });
    if (wrong.length > 0) problem(night, `${at}: before its bookmark ${new Date(bookmark).toISOString()}: ${wrong.join(', ')}`);
    for (const [id, ms] of deletions) {
      if (ms >= bookmark || !rows.has(id)) continue; // a record deleted before it was ever loaded has no row (CDC gives deletions of the last sync's range)
      const row = rows.get(id);
      if (!row) problem(night, `${at}: deleted ${id} has no row`);
      else if (row.deleted !== ms && row.deleted !== reconciled.get(id))
        problem(
          night,
          `${at}: deleted ${id}: deleted_at_utc ${row.deleted && new Date(row.deleted).toISOString()}, QBO deleted it at ${new Date(ms).toISOString()}`,
        );
    }
    for (const [id, amount] of model.exact.get(stream) ?? []) {
      const t = due.find((d) => d.id === id);
      const key = t && MONEY.find((k) => t.text.includes(`"${k}":${amount}`));
      if (!key) continue;
      const v = (await query(`SELECT payload->>$2 AS v FROM ${table} WHERE id = $1`, [id, key])).rows[0]?.v;
      if (v !== amount) problem(night, `${at}: ${id}.${key} is ${v}, QBO says ${amount}`);
    }
  }
  return bookmarks;
}

const jsonFiles = (folder) => {
  try {
    return readdirSync(folder)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(path.join(folder, f), 'utf8')));
  } catch {
    return [];
  }
};

/**
 * What the night's triggers, the journal, `_pipeline_runs` and the scheduler's tables say: every
 * trigger recorded since `since` is final, no run says running, and the last of them that ran
 * agrees with its run in the journal and in `_pipeline_runs`, and with the scheduler's table.
 * Returns its outcome ('ok' | 'failed') and the slot it ran for.
 */
async function checkTruthTold(night, name, since, tables, killedPid, syncByHand) {
  const folder = path.join(dir, 'state/companies', name);
  const runs = jsonFiles(path.join(folder, 'runs'));
  for (const run of runs.filter((r) => r.status === 'running')) problem(night, `${name}: journal run ${run.id} still says running after the night`);
  const schema = pg.escapeIdentifier(schemaOf(name));
  const stillRunning = await query(`SELECT run_id FROM ${schema}._pipeline_runs WHERE status = 'running'`).catch(() => ({ rows: [] }));
  for (const r of stillRunning.rows) problem(night, `${name}: _pipeline_runs ${r.run_id} still says running after the night`);
  // Tonight's slot, and a slot an earlier night left waiting (it runs tonight, and tonight's slot queues behind it and runs after it).
  const triggers = jsonFiles(path.join(folder, 'triggers')).filter((t) => Date.parse(t.createdAt) >= since || Date.parse(t.finishedAt ?? since) >= since);
  const waiting = triggers.filter((t) => !['completed', 'failed', 'skipped'].includes(t.status));
  // A slot due while a sync by hand held its job is queued behind it, and `scheduler --once` waits for it and runs it when
  // the sync ends. It leaves to a later scheduler only a slot that found the job busy as it started (the sync by hand
  // took the lock between the pass and the run), or one still queued at its next slot (the sync by hand outlasted the night).
  const leftForLater = (t) =>
    t.status === 'pending' &&
    ((t.attempts ?? []).length > 0
      ? t.attempts.every((a) => a.outcome === 'job busy')
      : t.queued?.until !== undefined && Date.parse(t.queued.until) <= Date.now());
  if (syncByHand && !SERVICE && waiting.length > 0 && waiting.every(leftForLater)) return { status: 'waits' };
  for (const t of waiting) problem(night, `${name}: trigger ${t.id} is ${t.status} after the night`);
  const ran = triggers
    .filter((t) => t.status !== 'skipped')
    .sort((x, y) => x.at.localeCompare(y.at))
    .at(-1);
  if (triggers.some((t) => t.status === 'skipped'))
    problem(night, `${name}: a slot was skipped (a busy job queues it): ${triggers.map((t) => `${t.id} ${t.status}`).join(', ')}`);
  if (!ran) {
    problem(night, `${name}: no run this night (triggers: ${triggers.map((t) => `${t.id} ${t.status}`).join(', ') || 'none'})`);
    return { status: 'failed' };
  }
  const ok = ran.status === 'completed';
  const last = ran.result?.runId;
  const journalLast = runs.find((r) => r.id === last);
  const dbLast = last && (await query(`SELECT status FROM ${schema}._pipeline_runs WHERE run_id = $1`, [last]).catch(() => ({ rows: [] }))).rows[0];
  if (journalLast && (journalLast.status === 'succeeded') !== ok)
    problem(night, `${name}: trigger ${ran.id} ${ran.status} but its run ${last} says ${journalLast.status} in the journal`);
  if (dbLast && (dbLast.status === 'succeeded') !== ok)
    problem(night, `${name}: trigger ${ran.id} ${ran.status} but its run ${last} says ${dbLast.status} in _pipeline_runs`);
  if (ok && !dbLast) problem(night, `${name}: completed run ${last} is not in _pipeline_runs`);
  // A slot that waited behind a busy job says so where its run is read: late, and behind what.
  if (ran.queued && journalLast && !/^late by .*, queued behind /.test(journalLast.late ?? ''))
    problem(night, `${name}: trigger ${ran.id} was queued behind ${ran.queued.behind}, but its run ${last} says late ${JSON.stringify(journalLast.late)}`);
  // The service prints no table (--once does, at its end).
  const line = SERVICE
    ? undefined
    : tables
        .split('\n')
        .filter((l) => l.startsWith(`${name} `))
        .at(-1);
  const status = line?.split('|')[3]?.trim();
  // A run the killed scheduler finished before it died is in no table: that one never printed its own.
  const endedBeforeKill = ran.attempts?.at(-1)?.pid === killedPid;
  if (!line && !SERVICE && !endedBeforeKill) problem(night, `${name}: not in the scheduler's tables, though trigger ${ran.id} ${ran.status}`);
  else if (line && (status === 'ok') !== ok) problem(night, `${name}: the scheduler's table says ${status}, trigger ${ran.id} ${ran.status}: ${line}`);
  return { status: ok ? 'ok' : 'failed', slot: Date.parse(ran.at), slots: ran.schedule?.slots ?? 1 };
}

/**
 * The views over every company (`views:` in the file) hold each company of the file, with its
 * table's rows, and no other: refreshed after every run. A refresh the night's restart or kill cut
 * off is tried again after the next run (`strict` false: said, not counted).
 */
async function checkViews(night, strict) {
  for (const stream of STREAMS) {
    const counts = new Map();
    for (const name of inFile()) {
      // A company whose first load has not happened yet has no table, and joins the views after it.
      const table = `${pg.escapeIdentifier(schemaOf(name))}.${pg.escapeIdentifier(stream)}`;
      if ((await query('SELECT to_regclass($1) IS NOT NULL AS ok', [table])).rows[0].ok)
        counts.set(name, Number((await query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n));
    }
    const viewed = new Map(
      (await query(`SELECT company, count(*) AS n FROM ${VIEWS}.${pg.escapeIdentifier(stream)} GROUP BY company`).catch(() => ({ rows: [] }))).rows.map((r) => [
        r.company,
        Number(r.n),
      ]),
    );
    const wrong = [...new Set([...counts.keys(), ...viewed.keys()])].filter((name) => counts.get(name) !== viewed.get(name));
    if (wrong.length === 0) continue;
    const text = `${VIEWS}.${stream}: ${wrong.map((name) => `${name} ${viewed.get(name) ?? 'absent'} rows, its table ${counts.get(name) ?? 'not in the file, or not loaded'}`).join(', ')}`;
    if (strict) problem(night, text);
    else console.log(`  note night ${night}: ${text} (a refresh the fault cut off; the next run's refresh mends it)`);
  }
}

/** Rows the company's reconciles since `since` marked deleted (before its sync's CDC did). */
async function reconcileMarked(name, since) {
  const sql = `SELECT coalesce(sum(marked), 0) AS n FROM ${pg.escapeIdentifier(schemaOf(name))}._reconciliations WHERE finished_at_utc >= $1`;
  return (await query(sql, [new Date(since)]).catch(() => ({ rows: [{ n: '?' }] }))).rows[0].n;
}

/** The most runs the schedulers ran at once since `since`, by the runs journal (runs with a trigger). */
function mostRunsAtOnce(since) {
  const edges = names.flatMap((name) =>
    jsonFiles(path.join(dir, 'state/companies', name, 'runs'))
      .filter((r) => r.triggerId && Date.parse(r.startedAt) >= since)
      .flatMap((r) => [
        [Date.parse(r.startedAt), 1],
        [Date.parse(r.finishedAt ?? r.updatedAt), -1],
      ]),
  );
  let now = 0;
  let most = 0;
  for (const [, step] of edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])) most = Math.max(most, (now += step));
  return most;
}

/** Resolves a second into the next minute: a night's slot. */
async function nextSlot() {
  const slot = Math.floor(Date.now() / MINUTE) * MINUTE + MINUTE;
  await sleep(slot + 1000 - Date.now());
  return slot;
}

const t0 = performance.now();
let reconnect;
console.log(`faulty nights: seed ${SEED}, ${NIGHTS} nights, ${COUNT} companies, max_parallel ${PARALLEL}, folder ${dir}`);
try {
  // The scheduler first starts the minute before night 1: each company's schedule is active from then.
  const first = await scheduler().exited;
  if (first.code !== 0) problem(0, `the first scheduler --once: exit ${first.code}: ${first.stderr}`);
  for (let night = 1; night <= NIGHTS; night++) {
    for (const name of names) mutate(name, night);
    if (reconnect) {
      await secret(`secrets/${reconnect}/refresh_token`, company(reconnect).reconnect());
      reconnect = undefined;
    }
    // A company out for a night is put back (same name, realm and schema): it goes on from its bookmarks.
    const back = [...out];
    if (back.length > 0) {
      out.clear();
      await writeCompaniesFile(out, maxParallel);
    }
    const slot = await nextSlot();
    const qboFault = night === NIGHTS ? 'none' : QBO_FAULTS[rng.int(0, QBO_FAULTS.length - 1)];
    const fault = night === NIGHTS ? 'none' : HOST_FAULTS[rng.int(0, HOST_FAULTS.length - 1)];
    const before = emulator.stats();
    const victim = names[rng.int(0, COUNT - 1)];
    const delayMs = rng.int(100, 2500);
    const firmEvent = night === NIGHTS ? 'none' : FIRM_EVENTS[firmRng.int(0, FIRM_EVENTS.length - 1)];
    const firmVictim = inFile()[firmRng.int(0, inFile().length - 1)];
    const firmDelayMs = firmRng.int(100, 4000);
    const parallelBefore = maxParallel;
    if (firmEvent === 'company-out') {
      out.add(firmVictim);
      await writeCompaniesFile(out, maxParallel);
    }
    if (qboFault === 'revoke') {
      company(victim).revokeTokens();
      reconnect = victim;
    }
    if (qboFault === 'qbo-5xx')
      emulator.setFaults({
        seed: SEED + night,
        rules: [
          { fault: '503', probability: 0.08 },
          { fault: 'reset', kinds: ['query', 'count'], probability: 0.04 },
          { fault: '500', kinds: ['cdc'], probability: 0.1 },
        ],
      });
    // Every company throttled on a third of its requests all night (each 429 waits throttle_wait_seconds, 0.1 s here).
    if (qboFault === 'qbo-429-storm') emulator.setFaults({ seed: SEED + night, rules: [{ fault: '429', probability: 0.3 }] });
    let run = scheduler(slot);
    // What the firm does meanwhile, beside the scheduler: a command by hand for one company (its own job:
    // the scheduler's run of the company waits for the realm, or makes it wait), or max_parallel edited.
    const byHand = (async () => {
      if (!firmEvent.startsWith('hand-') && firmEvent !== 'max-parallel') return undefined;
      await sleep(firmDelayMs);
      if (firmEvent === 'max-parallel') {
        maxParallel = 1 + ((maxParallel + firmRng.int(0, COUNT - 2)) % COUNT);
        await writeCompaniesFile(out, maxParallel);
        return undefined;
      }
      const which = ['--companies', 'companies.yaml', '--company', firmVictim];
      if (firmEvent === 'hand-sync') return command(['sync', ...which]); // the company's own job, the scheduler's
      const ownJob = [...which, '--streams', 'invoices,payments'];
      return firmEvent === 'hand-backfill'
        ? command(['backfill', ...ownJob, '--start', START, '--end', new Date(slot).toISOString(), '--fresh'])
        : command(['reconcile', ...ownJob]);
    })();
    let killed = '';
    let killedPid;
    if (fault.startsWith('kill') || fault === 'restart-postgres') {
      await sleep(delayMs);
      if (fault === 'kill-scheduler') {
        killedPid = run.child.pid;
        run.child.kill('SIGKILL');
        killed = 'the scheduler';
      } else if (fault === 'restart-postgres') {
        await db?.end().catch(() => undefined);
        db = undefined;
        await warehouse.restart();
        killed = 'postgres restarted';
      } else {
        const kind = fault === 'kill-tap' ? 'tap-quickbooks' : 'target-postgres-raw';
        for (let k = 0; k < 40 && children(kind).length === 0; k++) await sleep(100);
        const running = children(kind);
        const target = running[rng.int(0, Math.max(0, running.length - 1))];
        if (target) {
          process.kill(target.pid, 'SIGKILL');
          const cfg = target.args.find((a) => a.includes(path.join(dir, 'tmp')));
          killed = `${kind} pid ${target.pid} (${cfg})`;
        } else killed = `no ${kind} running`;
      }
    }
    let result = await run.exited;
    let log = result.stderr;
    let tables = result.stdout;
    if (fault === 'kill-scheduler') {
      // cron starts it again a few minutes later: the lease has expired, the run resumes from the state file.
      for (const p of [...children('tap-quickbooks'), ...children('target-postgres-raw')]) {
        for (let k = 0; k < 100 && existsProc(p.pid); k++) await sleep(100);
        if (existsProc(p.pid)) problem(night, `${p.args.join(' ')} still runs 10 s after its scheduler was killed`);
      }
      // Right after the kill, too: no bookmark ahead of the rows committed.
      for (const name of names) await checkRows(night, name);
      // Its lease (LEASE_SECONDS) and the locks its runs held (30 s) must expire first.
      await sleep(32_000);
      run = scheduler(slot);
      result = await run.exited;
      log += result.stderr;
      tables += result.stdout;
    }
    const handRun = await byHand;
    emulator.setFaults({ rules: [] });
    if (process.env.VERBOSE) console.log(log);
    // The command by hand succeeds unless a fault of its own stopped it: its company's token revoked,
    // its tap or target killed, the warehouse restarted under it (a reconcile works in one session).
    const handMayFail = (qboFault === 'revoke' && victim === firmVictim) || ['kill-tap', 'kill-target', 'restart-postgres'].includes(fault);
    // A sync by hand of the job the scheduler's run holds is refused, as it says.
    const refusedBusy = firmEvent === 'hand-sync' && handRun?.code === 1 && handRun.stderr.includes('is already running');
    if (handRun && handRun.code !== 0 && !handMayFail && !refusedBusy)
      problem(night, `${firmEvent} of ${firmVictim}: exit ${handRun.code} on a night no fault of its own touched:\n${handRun.stderr.slice(-2000)}`);
    if (fault === 'none' && qboFault === 'none' && result.code !== 0)
      problem(night, `scheduler exit ${result.code} on a night without faults:\n${result.stderr.slice(-2000)}`);
    for (const p of [...children('tap-quickbooks'), ...children('target-postgres-raw')]) problem(night, `left running after the night: ${p.args.join(' ')}`);
    const after = emulator.stats();
    const statuses = {};
    for (const name of names) {
      const bookmarks = await checkRows(night, name);
      if (out.has(name)) {
        // Out of the file: nothing of it ran, its rows and bookmarks stay (checked above).
        const triggers = jsonFiles(path.join(dir, 'state/companies', name, 'triggers')).filter((t) => Date.parse(t.createdAt) >= slot);
        const runs = jsonFiles(path.join(dir, 'state/companies', name, 'runs')).filter((r) => Date.parse(r.startedAt) >= slot);
        if (triggers.length + runs.length > 0)
          problem(night, `${name} is out of the companies file, yet has ${triggers.length} triggers and ${runs.length} runs this night`);
        statuses[name] = 'out';
        continue;
      }
      const told = await checkTruthTold(night, name, slot, tables, killedPid, firmEvent === 'hand-sync' && name === firmVictim ? handRun : undefined);
      if (told.status === 'waits') {
        statuses[name] = told.status;
        continue;
      }
      if (back.includes(name) && !(told.slots >= 2))
        problem(night, `${name} is back in the companies file, but its run took ${told.slots} slot(s), not the one it missed too`);
      statuses[name] = told.status;
      if (told.status === 'ok' && STREAMS.some((s) => !(bookmarks[s] >= told.slot)))
        problem(night, `${name} ok but its bookmarks ${JSON.stringify(bookmarks)} are before its slot`);
    }
    // The run by hand says in the journal what its exit said.
    const handRecord =
      handRun &&
      jsonFiles(path.join(dir, 'state/companies', firmVictim, 'runs')).find((r) => !r.triggerId && Date.parse(r.startedAt) >= slot && r.pid === handRun.pid);
    if (handRecord && (handRecord.status === 'succeeded') !== (handRun.code === 0))
      problem(night, `${firmEvent} of ${firmVictim} exited ${handRun.code}, its run ${handRecord.id} says ${handRecord.status}`);
    // `company list` (what a person asks first in the morning) tells each company's last run as it went:
    // the night's, or the run by hand when that one started later.
    const listed = (await command(['company', 'list', '--companies', 'companies.yaml'])).stdout;
    for (const name of inFile().filter((n) => statuses[n] !== 'waits')) {
      const latest = jsonFiles(path.join(dir, 'state/companies', name, 'runs'))
        .sort((x, y) => x.startedAt.localeCompare(y.startedAt))
        .at(-1);
      const expected = handRecord && latest?.id === handRecord.id ? (handRun.code === 0 ? 'ok' : 'failed') : statuses[name];
      const lastRun =
        listed
          .split('\n')
          .find((l) => l.startsWith(`${name} `))
          ?.split('|')
          .at(-1)
          ?.trim() ?? '';
      if (lastRun.startsWith('succeeded') !== (expected === 'ok'))
        problem(
          night,
          `${name}: company list says "${lastRun}", the night ${statuses[name]}${expected === statuses[name] ? '' : `, the run by hand ${expected}`}`,
        );
    }
    // Only the company whose token was revoked, or whose tap or target was killed, may fail: every
    // other fault is retried, reconnected or taken over, and the night still ends done.
    const failed = inFile().filter((n) => statuses[n] !== 'ok' && statuses[n] !== 'waits');
    const mayFail = [
      ...(qboFault === 'revoke' ? [victim] : []),
      ...(fault === 'kill-tap' || fault === 'kill-target' ? failed.filter((n) => qboFault !== 'revoke' || n !== victim).slice(0, 1) : []),
    ];
    for (const name of failed.filter((n) => !mayFail.includes(n))) {
      problem(
        night,
        `${name} failed on a night no fault of its own touched: ${
          tables
            .split('\n')
            .filter((l) => l.startsWith(`${name} `))
            .at(-1) ?? ''
        }`,
      );
    }
    await checkViews(night, ['none', 'kill-tap', 'kill-target'].includes(fault));
    if (fault !== 'kill-scheduler') {
      const most = mostRunsAtOnce(slot);
      if (most > Math.max(parallelBefore, maxParallel))
        problem(night, `${most} runs at once, with max_parallel ${parallelBefore}${parallelBefore === maxParallel ? '' : ` then ${maxParallel}`}`);
    }
    const firmSaid =
      firmEvent === 'none'
        ? ''
        : firmEvent === 'max-parallel'
          ? ` + max_parallel ${parallelBefore} → ${maxParallel} after ${firmDelayMs} ms`
          : firmEvent === 'company-out'
            ? ` + ${firmVictim} out of the file`
            : ` + ${firmEvent} ${firmVictim} after ${firmDelayMs} ms: exit ${handRun?.code}${firmEvent === 'hand-reconcile' ? `, ${await reconcileMarked(firmVictim, slot)} rows marked deleted` : ''}`;
    console.log(
      `night ${night} (${new Date(slot).toISOString().slice(11, 16)}): ${qboFault}${qboFault === 'revoke' ? ` ${victim}` : ''} + ${fault}${killed ? ` after ${delayMs} ms: ${killed}` : ''}${firmSaid}${back.length > 0 ? ` (${back.join(', ')} back in the file)` : ''}; QBO answered ${after.requests - before.requests} requests (faults ${faultsBetween(before, after)}); exit ${result.code}; ${names.map((n) => `${n} ${statuses[n]}`).join(', ')} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
} finally {
  await db?.end().catch(() => undefined);
  await emulator.close();
  await warehouse.stop();
  if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
}
console.log(problems.length === 0 ? `no discrepancy in ${NIGHTS} nights (seed ${SEED})` : `${problems.length} discrepancies (seed ${SEED})`);
process.exitCode = problems.length === 0 ? 0 : 1;

/** The faults QBO answered between two of the emulator's stats, e.g. `429 ×12, reset ×2`, or `none`. */
function faultsBetween(before, after) {
  const counts = Object.entries(after.faults).map(([kind, n]) => [kind, n - (before.faults[kind] ?? 0)]);
  return (
    counts
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${kind} ×${n}`)
      .join(', ') || 'none'
  );
}

function existsProc(pid) {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}
