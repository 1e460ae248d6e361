/**
 * The soak: 10 days of daily syncs (SOAK_DAYS for more) over five companies of one companies file, checked against
 * the emulator's truth after every run. The emulator's clock and the runner's (through
 * test/support/shiftClock.mjs, like libfaketime) move a day at a time, so a sync really covers
 * the day since the last one, crosses UTC midnights and reads QBO's 30-day CDC.
 *
 * Between syncs, users create, edit (amounts with many digits, edits exactly on UTC midnight,
 * one second before it, and at the instant the last sync ended, i.e. this sync's start), void,
 * delete (also a record created and deleted between two syncs, never loaded), deactivate and
 * reactivate names, delete an invoice and enter it again under a new Id, and edit records far
 * older than the bookmark. A company joins the file on day 4; one leaves it after day 7 and comes back on day 10; two
 * realm ids differ only past 2^53 (9007199254740992 and …993: equal as JavaScript numbers). Day 3
 * QBO answers with 500s, 502s, 503s and dropped connections; day 5 the sync is killed with SIGKILL
 * (runner, tap and target) while a company's tap waits on QBO, and is run again.
 *
 * After every run, per company and stream: the alive rows are QBO's records, byte for byte as
 * jsonb keeps them (and the many-digit amounts as text); the deleted ones keep the payload the
 * table had (or QBO's stub) with deleted_at_utc = the deletion; no row of another realm; the
 * evidence adds up to the truth (QBO's count = extracted = loaded = the records changed in the
 * run's range, inserted/updated/unchanged as the table changed, deletions counted once); and the
 * state file is never ahead of what is committed (checked also right after the kill), and keeps a
 * key someone else put in it (9007199254740993, 0.10) digit for digit.
 *
 * SOAK_DEBUG=1 prints each sync's log tail.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPacific, Rng } from '../packages/qbo-emulator/src/index.js';
import { startFirm, type Firm } from './companiesHarness.js';
import { RUNNER_CLI } from './pipelineHarness.js';
import { databaseUrl } from './support/db.js';
import { shiftedClockEnv } from './support/shiftedClockEnv.js';

const DAY = 86_400_000;
const T0 = Date.parse('2025-03-03T00:00:00Z');
const START = '2025-02-01';
const FOREIGN_DAY = 2;
const FAULT_DAY = 3;
const JOIN_DAY = 4;
const KILL_DAY = 5;
const LEAVE_AFTER = 7;
/** globex comes back (its bookmarks 3 days old; what QBO deleted meanwhile is in CDC's 30 days). */
const REJOIN_DAY = 10;
/**
 * Days of syncs: 10 by default, up to the last day with a scenario of its own (globex's return), so
 * CI runs every scenario once; SOAK_DAYS=60 npx vitest run test/soak.test.ts for a longer soak.
 */
const DAYS = Math.max(8, Number(process.env.SOAK_DAYS ?? REJOIN_DAY));
/** umbrella's users save two invoices while its tap reads them: rows shift between its pages. */
const MIDREAD_DAY = 6;
/** Put in acme's state file on FOREIGN_DAY by someone else (a person, another tool): carried, never rewritten. */
const FOREIGN = '"firm_note":{"batch":9007199254740993,"rate":0.10}';

interface Spec {
  readonly name: string;
  readonly realmId: string;
  readonly streams: readonly string[];
  /** The company's own tap settings, as YAML flow. */
  readonly tap?: string;
}
const COMPANIES: readonly Spec[] = [
  { name: 'acme', realmId: '9341453050000000', streams: ['invoices', 'customers', 'items'] },
  { name: 'globex', realmId: '9341453050000001', streams: ['invoices', 'payments', 'customers'] },
  { name: 'initech', realmId: '9007199254740992', streams: ['bills', 'vendors', 'invoices'] },
  // Pages of 3: each day's changes span several pages.
  { name: 'umbrella', realmId: '9007199254740993', streams: ['invoices', 'customers'], tap: '{page_size: 3}' },
  { name: 'hooli', realmId: '9341453050000004', streams: ['invoices', 'items'] },
];
const ENTITY: Record<string, string> = {
  invoices: 'Invoice',
  customers: 'Customer',
  items: 'Item',
  payments: 'Payment',
  bills: 'Bill',
  vendors: 'Vendor',
};
const NAME_LISTS = new Set(['customers', 'items', 'vendors']);
const MONEY_KEYS = ['TotalAmt', 'Balance', 'UnitPrice'];

/** What a deleted transaction's row must hold: the payload the table had when QBO deleted it (or QBO's stub), and when. */
interface Deletion {
  readonly sec: number;
  readonly payload: string;
}
/** Per company: deletions by stream and id; amounts written with many digits, by stream and id. */
interface Model {
  readonly deletions: Map<string, Map<string, Deletion>>;
  readonly exact: Map<string, Map<string, string>>;
}

const prefix = `soak_${Math.random().toString(16).slice(2, 8)}`;
const schemaOf = (name: string) => `${prefix}_${name}`;
const table = (name: string, stream: string) => `${pg.escapeIdentifier(schemaOf(name))}.${pg.escapeIdentifier(stream)}`;

let firm: Firm;
let db: pg.Client;
const models = new Map<string, Model>(COMPANIES.map((c) => [c.name, { deletions: new Map(), exact: new Map() }]));

beforeAll(async () => {
  firm = await startFirm({
    names: COMPANIES.map((c) => c.name),
    databaseUrl: databaseUrl(),
    now: new Date(T0),
    days: 20,
    companies: COMPANIES.map((c, i) => ({ realmId: c.realmId, seed: 700 + i })),
    counts: { invoices: 40, customers: 12, items: 10, payments: 20, bills: 15, vendors: 8 },
  });
  db = new pg.Client({ connectionString: databaseUrl() });
  await db.connect();
});
afterAll(async () => {
  for (const c of COMPANIES) await db?.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schemaOf(c.name))} CASCADE`);
  await db?.end();
  await firm?.close();
});

function companiesYaml(active: readonly Spec[]): string {
  return [
    'defaults:',
    `  start: ${START}`,
    '  secrets:',
    '    client_id_file: secrets/qbo_client_id',
    '    client_secret_file: secrets/qbo_client_secret',
    '    database_url_file: secrets/warehouse_url',
    '  tap:',
    `    base_url: ${firm.emulator.baseUrl}`,
    `    token_url: ${firm.emulator.tokenUrl}`,
    '    retry_backoff_seconds: 0.01',
    '    throttle_wait_seconds: 0.1',
    '    request_timeout_seconds: 60',
    '  target: {max_batch_age_seconds: 0.2}',
    'scheduler: {max_parallel: 5}',
    'companies:',
    ...active.flatMap((c) => [
      `  - name: ${c.name}`,
      `    realm_id: "${c.realmId}"`,
      `    schema: ${schemaOf(c.name)}`,
      `    streams: [${c.streams.join(', ')}]`,
      ...(c.tap ? [`    tap: ${c.tap}`] : []),
      `    secrets: {refresh_token_file: secrets/${c.name}/refresh_token}`,
    ]),
    '',
  ].join('\n');
}

/** The runner's environment: the emulator's clock. */
function clockEnv(): NodeJS.ProcessEnv {
  return shiftedClockEnv(firm.emulator.now().getTime() - Date.now());
}

async function stateOf(name: string): Promise<Record<string, number>> {
  const text = await readFile(path.join(firm.dir, 'state/companies', name, 'qb_company.json'), 'utf8').catch(() => '{}');
  const bookmarks = (JSON.parse(text) as { bookmarks?: Record<string, { replication_key_value?: string }> }).bookmarks ?? {};
  return Object.fromEntries(Object.entries(bookmarks).map(([s, b]) => [s, Date.parse(b.replication_key_value ?? '')]));
}

async function tableExists(name: string, stream: string): Promise<boolean> {
  const r = await db.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table(name, stream)]);
  return r.rows[0].ok as boolean;
}

interface Row {
  readonly id: string;
  readonly payload: string;
  readonly deleted: number | null;
  readonly realm: string;
}
async function rowsOf(name: string, stream: string): Promise<Map<string, Row>> {
  if (!(await tableExists(name, stream))) return new Map();
  const r = await db.query<{ id: string; payload: string; deleted: Date | null; realm: string }>(
    `SELECT id, payload::text AS payload, deleted_at_utc AS deleted, realm_id AS realm FROM ${table(name, stream)}`,
  );
  return new Map(r.rows.map((row) => [row.id, { id: row.id, payload: row.payload, deleted: row.deleted?.getTime() ?? null, realm: row.realm }]));
}

/** Each text as jsonb prints it: how the table's payload is compared with QBO's text (values and digits). */
async function asJsonb(texts: readonly string[]): Promise<string[]> {
  const r = await db.query<{ t: string }>('SELECT t::jsonb::text AS t FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n', [texts]);
  return r.rows.map((row) => row.t);
}

/**
 * One company against the truth. Up to each stream's bookmark in the state file (after a run
 * that finished: everything), every QBO record is in the table as QBO has it and every deletion
 * is marked; at no time is there a row QBO never had for this company, or another realm's row.
 */
async function checkCompany(spec: Spec, where: string): Promise<void> {
  const company = firm.company(spec.name);
  const model = models.get(spec.name)!;
  const bookmarks = await stateOf(spec.name);
  for (const stream of spec.streams) {
    const at = `${where}: ${spec.name}.${stream}`;
    const bookmark = bookmarks[stream];
    const rows = await rowsOf(spec.name, stream);
    const truth = company.truth(stream);
    const deletions = model.deletions.get(stream) ?? new Map<string, Deletion>();
    const known = new Set([...truth.map((t) => t.id), ...deletions.keys()]);
    expect(
      [...rows.keys()].filter((id) => !known.has(id)),
      `${at}: rows QBO never had`,
    ).toEqual([]);
    expect(
      [...new Set([...rows.values()].map((r) => r.realm))].filter((r) => r !== spec.realmId),
      `${at}: rows of another realm`,
    ).toEqual([]);
    if (bookmark === undefined) continue;
    const due = truth.filter((t) => Date.parse(t.lastUpdated) < bookmark);
    const expected = await asJsonb(due.map((t) => t.text));
    const wrong = due.flatMap((t, k) => {
      const row = rows.get(t.id);
      if (!row) return [`${t.id} missing`];
      if (row.deleted !== null) return [`${t.id} marked deleted`];
      return row.payload === expected[k] ? [] : [`${t.id} differs: ${row.payload} <> ${expected[k]}`];
    });
    expect(wrong, `${at}: records before the bookmark ${new Date(bookmark).toISOString()}`).toEqual([]);
    const marked = [...deletions].filter(([, d]) => d.sec * 1000 < bookmark);
    const payloads = await asJsonb(marked.map(([, d]) => d.payload));
    const badDeletions = marked.flatMap(([id, d], k) => {
      const row = rows.get(id);
      if (!row) return [`${id} missing`];
      if (row.deleted !== d.sec * 1000) return [`${id} deleted_at ${row.deleted} <> ${d.sec * 1000}`];
      return row.payload === payloads[k] ? [] : [`${id} payload ${row.payload} <> ${payloads[k]}`];
    });
    expect(badDeletions, `${at}: deletions`).toEqual([]);
    // Amounts with many digits, as text: jsonb keeps a numeric's digits and scale.
    for (const [id, amount] of model.exact.get(stream) ?? []) {
      const t = due.find((d) => d.id === id);
      const key = t && MONEY_KEYS.find((k) => t.text.includes(`"${k}":${amount}`));
      if (!key) continue;
      const r = await db.query<{ v: string }>(`SELECT payload->>$2 AS v FROM ${table(spec.name, stream)} WHERE id = $1`, [id, key]);
      expect(r.rows[0]?.v, `${at}: ${id}.${key}`).toBe(amount);
    }
  }
}

interface Before {
  readonly bookmarks: Record<string, number>;
  readonly rows: Map<string, Map<string, Row>>;
}
async function snapshot(spec: Spec): Promise<Before> {
  const rows = new Map<string, Map<string, Row>>();
  for (const stream of spec.streams) rows.set(stream, await rowsOf(spec.name, stream));
  return { bookmarks: await stateOf(spec.name), rows };
}

/**
 * The company's newest run finished, and its evidence adds up to the truth: per stream, QBO's
 * count = extracted = loaded = the records QBO changed in the run's range; inserted, updated and
 * unchanged as the table changed; deletions each counted once. Not `exact`: rows moved on while
 * read, so only extracted = loaded.
 */
async function checkEvidence(spec: Spec, before: Before, where: string, exact: boolean): Promise<void> {
  const s = pg.escapeIdentifier(schemaOf(spec.name));
  const run = (
    await db.query<{ status: string; tap_run_ids: string[]; reason: string | null }>(
      `SELECT status, tap_run_ids, reason FROM ${s}._pipeline_runs ORDER BY started_at_utc DESC LIMIT 1`,
    )
  ).rows[0];
  expect(run?.status, `${where}: ${spec.name}'s run (${run?.reason})`).toBe('succeeded');
  const evidence = await db.query<Record<string, string | boolean | null>>(
    `SELECT stream, sum(qbo_count)::text AS qbo_count, sum(extracted)::text AS extracted, sum(loaded)::text AS loaded,
            sum(inserted)::text AS inserted, sum(updated)::text AS updated, sum(unchanged)::text AS unchanged,
            sum(deleted)::text AS deleted, bool_and(coalesce(extracted_equals_loaded, true)) AS agree
     FROM ${s}.evidence WHERE run_id = ANY($1) GROUP BY stream`,
    [run!.tap_run_ids],
  );
  const after = await stateOf(spec.name);
  const company = firm.company(spec.name);
  for (const stream of spec.streams) {
    const from = before.bookmarks[stream] ?? Date.parse(`${START}T00:00:00Z`);
    const to = after[stream]!;
    const changed = company.truth(stream).filter((t) => Date.parse(t.lastUpdated) >= from && Date.parse(t.lastUpdated) < to);
    const old = before.rows.get(stream)!;
    const texts = await asJsonb(changed.map((t) => t.text));
    const inserted = changed.filter((t) => !old.has(t.id)).length;
    const unchanged = changed.filter((t, k) => old.get(t.id)?.payload === texts[k]).length;
    const deleted = [...(models.get(spec.name)!.deletions.get(stream) ?? [])].filter(([, d]) => d.sec * 1000 >= from && d.sec * 1000 < to).length;
    const row = evidence.rows.find((r) => r.stream === stream);
    if (!exact) {
      // Rows that moved on while read were loaded as they were then, and again next run.
      expect(row?.agree ?? true, `${where}: ${spec.name}.${stream} extracted = loaded`).toBe(true);
      if (stream === 'invoices') expect(Number(row?.extracted), `${where}: the two invoices saved while read were read before`).toBe(changed.length + 2);
      continue;
    }
    const n = String(changed.length);
    expect(
      {
        qbo_count: row?.qbo_count ?? '0',
        extracted: row?.extracted ?? '0',
        loaded: row?.loaded ?? '0',
        inserted: row?.inserted ?? '0',
        updated: row?.updated ?? '0',
        unchanged: row?.unchanged ?? '0',
        agree: row?.agree ?? true,
        deleted: row?.deleted ?? '0',
      },
      `${where}: ${spec.name}.${stream} evidence for [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`,
    ).toEqual({
      qbo_count: n,
      extracted: n,
      loaded: n,
      inserted: String(inserted),
      updated: String(changed.length - inserted - unchanged),
      unchanged: String(unchanged),
      agree: true,
      deleted: String(deleted),
    });
  }
}

/** The company that left the file was not touched while it was out, though QBO's data moved on. */
async function expectUntouched(left: Map<string, Map<string, Row>>): Promise<void> {
  const globex = COMPANIES[1]!;
  for (const stream of globex.streams) expect(await rowsOf(globex.name, stream), `globex.${stream} while out of the file`).toEqual(left.get(stream));
}

/** Sets the emulator's clock to `ms` (a whole second) and runs `act` at once, in the same second. */
function at(ms: number, act: () => void): void {
  firm.emulator.setNow(new Date(ms));
  act();
}

/** One user's day in one company's QBO, spread over the day from just after the last sync. */
async function mutate(spec: Spec, day: number, lastSync: number): Promise<void> {
  const company = firm.company(spec.name);
  const model = models.get(spec.name)!;
  const rng = new Rng(day * 100 + COMPANIES.indexOf(spec));
  const midnight = T0 + day * DAY;
  const pickAny = (stream: string, filter: (text: string) => boolean = () => true) => {
    const rows = company.truth(stream).filter((t) => filter(t.text));
    return rows.length === 0 ? undefined : rows[rng.int(0, rows.length - 1)];
  };
  const pick = (stream: string, filter?: (text: string) => boolean) => pickAny(stream, filter)!;
  const edit = (stream: string, id: string, digits: boolean) => {
    const text = company.truth(stream).find((t) => t.id === id)!.text;
    const key = MONEY_KEYS.find((k) => text.includes(`"${k}":`));
    if (!key || !digits) return company.update(ENTITY[stream]!, id, { PrivateNote: JSON.stringify(`edited on day ${day}`) });
    const amount = `${rng.int(1, 9_999_999)}${rng.int(1_000_000, 9_999_999)}.${String(rng.int(0, 99_999_999)).padStart(8, '0')}${rng.int(1, 9)}0`;
    company.update(ENTITY[stream]!, id, { [key]: amount });
    if (!model.exact.has(stream)) model.exact.set(stream, new Map());
    model.exact.get(stream)!.set(id, amount);
  };
  /** Deletes a transaction (at `atMs` when given, else now), remembering what its row must keep. */
  const remove = async (stream: string, id: string, atMs?: number) => {
    const stored = await db.query<{ p: string }>(`SELECT payload::text AS p FROM ${table(spec.name, stream)} WHERE id = $1`, [id]).catch(() => ({ rows: [] }));
    if (atMs !== undefined) firm.emulator.setNow(new Date(atMs));
    const sec = Math.floor(firm.emulator.now().getTime() / 1000);
    company.deleteTransaction(ENTITY[stream]!, id);
    const stub = `{"domain":"QBO","status":"Deleted","Id":"${id}","MetaData":{"LastUpdatedTime":"${formatPacific(sec)}"}}`;
    if (!model.deletions.has(stream)) model.deletions.set(stream, new Map());
    model.deletions.get(stream)!.set(id, { sec, payload: stored.rows[0]?.p ?? stub });
  };
  const first = spec.streams[0]!;
  // The instant the last sync ended: the first second of this sync's range (an edit and a deletion).
  await remove('invoices', pick('invoices').id, lastSync);
  at(lastSync, () => edit(first, pick(first).id, true));
  // One second before UTC midnight, and midnight itself: the last second of a day and the first of the next.
  at(midnight - 1000, () => edit(first, pick(first).id, false));
  at(midnight, () => {
    edit(first, pick(first).id, true);
    company.create(ENTITY[first]!);
  });
  await remove('invoices', pick('invoices').id, midnight);
  firm.emulator.setNow(new Date(midnight + 3_600_000 + day * 1000));
  for (const stream of spec.streams) {
    const entity = ENTITY[stream]!;
    // More entered than deleted, so a long soak never runs out of records.
    for (let k = rng.int(2, 3); k > 0; k--) company.create(entity);
    edit(stream, pick(stream).id, true);
    edit(stream, pick(stream).id, rng.chance(0.5));
    // A record last changed long before the bookmark.
    edit(stream, company.truth(stream)[0]!.id, false);
    if (NAME_LISTS.has(stream)) {
      // Deleting a name deactivates it (QBO keeps names); one inactive name comes back.
      company.deleteTransaction(entity, pick(stream, (t) => t.includes('"Active":true')).id);
      const inactive = company.truth(stream).filter((t) => t.text.includes('"Active":false'));
      if (inactive.length > 0) company.update(entity, inactive[rng.int(0, inactive.length - 1)]!.id, { Active: 'true' });
      continue;
    }
    await remove(stream, pick(stream).id);
    if (stream === 'invoices' || stream === 'bills') company.voidTransaction(entity, pick(stream, (t) => !t.includes('"Voided"')).id);
    if (day % 2 === 0) {
      // Entered and deleted between two syncs: the table gets QBO's deletion stub only.
      const id = company.create(entity);
      await remove(stream, id);
    } else {
      // Deleted and entered again: a new Id with the old document number and amount.
      const old = pickAny(stream, (t) => t.includes('"DocNumber":') && t.includes('"TotalAmt":'));
      if (!old) continue;
      const doc = /"DocNumber":("[^"]*")/.exec(old.text)![1]!;
      const total = /"TotalAmt":([-0-9.eE+]+)/.exec(old.text)![1]!;
      await remove(stream, old.id);
      company.update(entity, company.create(entity), { DocNumber: doc, TotalAmt: total });
    }
  }
}

/** A runner command on the emulator's clock; one that has not ended after 90 s is stopped (code null) and its output shown. */
function runner(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER_CLI, ...args], { cwd: firm.dir, env: { ...cleanEnv(), ...clockEnv() }, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe(`soak: ${DAYS} daily syncs over five companies, checked against the truth after every run`, () => {
  it(
    'nothing lost, nothing doubled, money to the digit, deletions reach the tables, companies apart, state never ahead',
    // About 10 s a day on a quiet machine; a loaded CI host was seen 2.6 times slower, which 20 s a day did not cover.
    { timeout: 60_000 + DAYS * 40_000 },
    async () => {
      let active = COMPANIES.filter((c) => c.name !== 'hooli');
      await firm.writeCompanies(companiesYaml(active));
      firm.emulator.setNow(new Date(T0 + 3_600_000));
      const backfill = await runner(['backfill', '--companies', 'companies.yaml', '--start', START, '--end', new Date(T0).toISOString()]);
      expect(backfill.code, backfill.stdout + backfill.stderr).toBe(0);
      for (const spec of active) await checkCompany(spec, 'backfill');
      const lastSync = new Map(COMPANIES.map((c) => [c.name, T0]));
      let left: Map<string, Map<string, Row>> | undefined;

      for (let day = 1; day <= DAYS; day++) {
        for (const spec of COMPANIES) await mutate(spec, day, lastSync.get(spec.name)!);
        if (day === JOIN_DAY) active = COMPANIES.filter((c) => c.name !== 'globex' || day <= LEAVE_AFTER);
        if (day === LEAVE_AFTER + 1) {
          active = active.filter((c) => c.name !== 'globex');
          left = (await snapshot(COMPANIES[1]!)).rows;
        }
        if (day === REJOIN_DAY) {
          await expectUntouched(left!);
          active = [...COMPANIES];
        }
        await firm.writeCompanies(companiesYaml(active));
        const acmeState = path.join(firm.dir, 'state/companies/acme/qb_company.json');
        if (day === FOREIGN_DAY) await writeFile(acmeState, (await readFile(acmeState, 'utf8')).trim().replace(/\}$/, `,${FOREIGN}}\n`));
        const befores = new Map<string, Before>();
        for (const spec of active) befores.set(spec.name, await snapshot(spec));
        const syncAt = T0 + day * DAY + 3 * 3_600_000 + 15 * 60_000 + day * 7_000;
        firm.emulator.setNow(new Date(syncAt));
        const where = `day ${day}`;

        if (day === KILL_DAY) {
          // acme's tap gets no answer from its second query on; once acme has committed something, SIGKILL for all.
          const acme = COMPANIES[0]!;
          firm.emulator.setFaults({ rules: [{ fault: 'stall', kinds: ['query'], realms: [acme.realmId], from: 2 }] });
          const child = spawn(process.execPath, [RUNNER_CLI, 'sync', '--companies', 'companies.yaml'], {
            cwd: firm.dir,
            env: { ...cleanEnv(), ...clockEnv() },
            detached: true,
            stdio: 'ignore',
          });
          const closed = new Promise<number | null>((resolve) => child.on('close', (_code, signal) => resolve(signal === 'SIGKILL' ? -9 : _code)));
          const startBookmarks = befores.get(acme.name)!.bookmarks;
          const advanced = async () => {
            const now = await stateOf(acme.name);
            return acme.streams.some((s) => now[s] !== startBookmarks[s]);
          };
          for (let k = 0; k < 600 && !((firm.emulator.stats().faults.stall ?? 0) > 0 && (await advanced())); k++) await sleep(50);
          expect(await advanced(), 'acme committed part of the run before the kill').toBe(true);
          process.kill(-child.pid!, 'SIGKILL');
          expect(await closed).toBe(-9);
          firm.emulator.setFaults({ rules: [] });
          const after = await stateOf(acme.name);
          expect(
            acme.streams.some((s) => after[s] !== undefined && after[s] < Math.floor(syncAt / 1000) * 1000),
            'acme was stopped mid-run',
          ).toBe(true);
          for (const spec of active) await checkCompany(spec, `${where}, right after the kill`);
          expect(await readFile(acmeState, 'utf8'), `${where}: acme's state file after the kill`).toContain(FOREIGN);
          // The next run, a minute later, goes on from the state files. The killed runner's locks
          // expire 30 s after its last heartbeat on the runner's clock; mkdir stamps them with the
          // machine's clock, which this test's runners do not read: stamp them as a minute old.
          firm.emulator.setNow(new Date(syncAt + 60_000));
          const heartbeat = new Date(syncAt);
          for (const spec of active) {
            const folder = path.join(firm.dir, 'state/companies', spec.name);
            for (const lock of (await readdir(folder)).filter((f) => f.endsWith('.lock'))) await utimes(path.join(folder, lock), heartbeat, heartbeat);
          }
        }
        if (day === MIDREAD_DAY) firm.company('umbrella').touchAfterPage({ entity: 'Invoice', afterPage: 1, count: 2 });
        if (day === FAULT_DAY) {
          // One company per fault: a rule counts the requests it matches, and the first rule that
          // fires wins, so rules sharing requests could (with companies syncing side by side) take
          // each other's turns, and a fault the check below expects would not happen.
          const realm = (name: string) => [COMPANIES.find((c) => c.name === name)!.realmId];
          firm.emulator.setFaults({
            rules: [
              { fault: '503', kinds: ['query'], realms: realm('acme'), nth: [1, 3] },
              { fault: '500', kinds: ['count'], realms: realm('globex'), nth: [1, 3] },
              { fault: 'reset', kinds: ['count', 'query'], realms: realm('initech'), nth: [1, 3] },
              { fault: '502', kinds: ['cdc'], nth: [1] },
            ],
          });
        }
        if (process.env.SOAK_DEBUG) console.error(`${where}: sync at ${firm.emulator.now().toISOString()} (${Math.round(performance.now())} ms)`);
        const sync = await runner(['sync', '--companies', 'companies.yaml']);
        if (process.env.SOAK_DEBUG) console.error(`${where}: exit ${sync.code} (${Math.round(performance.now())} ms)\n${sync.stderr}`);
        expect(sync.code, `${where}: ${sync.stdout}\n${sync.stderr}`).toBe(0);
        if (day === FAULT_DAY) {
          const faults = firm.emulator.stats().faults;
          expect(
            [faults['503'], faults['500'], faults.reset, faults['502']].map((n) => (n ?? 0) > 0),
            JSON.stringify(faults),
          ).toEqual([true, true, true, true]);
          firm.emulator.setFaults({ rules: [] });
        }
        if (day >= FOREIGN_DAY) expect(await readFile(acmeState, 'utf8'), `${where}: acme's state file`).toContain(FOREIGN);
        for (const spec of active) {
          await checkCompany(spec, where);
          // After the kill the evidence of the run that finished covers what the killed one had not committed.
          const midRead = day === MIDREAD_DAY && spec.name === 'umbrella';
          if (day !== KILL_DAY) await checkEvidence(spec, befores.get(spec.name)!, where, !midRead);
          const bookmarks = await stateOf(spec.name);
          lastSync.set(spec.name, Math.min(...spec.streams.map((s) => bookmarks[s]!)));
        }
      }
      if (DAYS < REJOIN_DAY) await expectUntouched(left!);
    },
  );
});

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(TAP_QUICKBOOKS_|TARGET_POSTGRES_RAW_|QBO_PIPELINE_)/.test(k) && k !== 'DATABASE_URL'),
  );
}
