import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import formatsModule from 'ajv-formats';
import { CATALOG_DIR, ENTITIES, streamSchema } from 'qbo-catalog';
import { startEmulator, type Emulator, type EmulatorOptions } from 'qbo-emulator';
import { FIXTURES_DIR, HAVE_FIXTURES, NO_FIXTURES_REASON, REPO_ROOT } from './support/db.js';
import { runProcess } from './support/runProcess.js';
import { undeclaredFields } from './support/undeclaredFields.js';

// ajv-formats is CommonJS: its function is the module itself, or `.default`, depending on the loader.
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as unknown as (ajv: Ajv) => Ajv;

/** The company's now: 2025-03-20 noon UTC, so a 30-day company spans the 2025-03-09 DST switch. */
const NOW = new Date('2025-03-20T12:00:00Z');
const SHAPES = path.join(FIXTURES_DIR, 'qbo/shapes');
const shape = (file: string) => readFileSync(path.join(SHAPES, file), 'utf8');

const started: Emulator[] = [];
async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ now: NOW, days: 30, ...options });
  started.push(emu);
  return emu;
}
afterAll(async () => {
  await Promise.all(started.map((e) => e.close()));
});

const basic = (emu: Emulator, secret = emu.clientSecret) => `Basic ${Buffer.from(`${emu.clientId}:${secret}`).toString('base64')}`;

async function refresh(emu: Emulator, refreshToken = emu.currentRefreshToken(), authorization = basic(emu)) {
  const res = await fetch(emu.tokenUrl, {
    method: 'POST',
    headers: { authorization, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const text = await res.text();
  // Injected gateway faults answer HTML, as the real gateway does.
  const body = (res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : { text }) as Record<string, string | number>;
  return { status: res.status, body, tid: res.headers.get('intuit_tid') };
}

async function accessToken(emu: Emulator): Promise<string> {
  return String((await refresh(emu)).body.access_token);
}

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}
async function query(emu: Emulator, access: string, text: string, realm = emu.realmId): Promise<Answer> {
  const url = `${emu.baseUrl}/v3/company/${realm}/query?query=${encodeURIComponent(text)}&minorversion=75`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${access}`, accept: 'application/json' } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

type Page = { QueryResponse: Record<string, unknown> & { startPosition?: number; maxResults?: number; totalCount?: number }; time: string };
const page = (a: Answer) => JSON.parse(a.text) as Page;
const rows = (a: Answer, entity: string) =>
  (page(a).QueryResponse[entity] ?? []) as Array<{ Id: string; MetaData: { LastUpdatedTime: string }; Active?: boolean }>;

/** The structure of a JSON value: key sets of objects and the kinds of leaves, not values. */
function skeleton(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [skeleton(value[0])] : [];
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, skeleton((value as Record<string, unknown>)[k])]),
    );
  return typeof value;
}

const windowQuery = (entity: string, start: string, end: string, at: number, size: number) =>
  `SELECT * FROM ${entity} WHERE MetaData.LastUpdatedTime >= '${start}' AND MetaData.LastUpdatedTime < '${end}' ORDERBY MetaData.LastUpdatedTime STARTPOSITION ${at} MAXRESULTS ${size}`;

describe('query endpoint', () => {
  let emu: Emulator;
  let access: string;
  beforeAll(async () => {
    emu = await emulator({ counts: { invoices: 1001, customers: 100, items: 1000 } });
    access = await accessToken(emu);
  });

  it.skipIf(!HAVE_FIXTURES)('answers pages, empty pages, counts and faults in the shapes QBO uses', async () => {
    const full = await query(emu, access, 'SELECT * FROM Invoice MAXRESULTS 2');
    const fullShape = JSON.parse(shape('query-response.page.CONSTRUCTED.json')) as Page;
    expect(Object.keys(page(full).QueryResponse)).toEqual(Object.keys(fullShape.QueryResponse));
    expect(page(full).QueryResponse).toMatchObject({ startPosition: 1, maxResults: 2 });
    expect(page(full).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[78]:00$/);
    expect(full.headers.get('content-type')).toBe('application/json;charset=UTF-8');

    const empty = await query(emu, access, windowQuery('Invoice', '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', 1, 100));
    expect(skeleton(JSON.parse(empty.text))).toEqual(skeleton(JSON.parse(shape('query-response.empty.CONSTRUCTED.json'))));
    expect(empty.text).toMatch(/^\{"QueryResponse":\{\},"time":"[^"]+"\}$/);

    const count = await query(emu, access, 'SELECT COUNT(*) FROM Invoice');
    expect(skeleton(JSON.parse(count.text))).toEqual(skeleton(JSON.parse(shape('query-response.count.CONSTRUCTED.json'))));
    expect(page(count).QueryResponse.totalCount).toBe(1001);

    const parse = await query(emu, access, 'SELECT * FROM Invoice TxnDate');
    expect(parse.status).toBe(400);
    const parseShape = JSON.parse(shape('fault-400-query-parse.observed.json'));
    expect(skeleton(JSON.parse(parse.text).Fault)).toEqual(skeleton(parseShape.Fault));
    expect(JSON.parse(parse.text).Fault.Error[0]).toMatchObject({
      code: '4000',
      Message: 'Error parsing query',
      Detail: expect.stringMatching(/^QueryParserError: Encountered " <IDENTIFIER> "TxnDate ""/),
    });

    const invalid = await query(emu, access, "SELECT * FROM Purchase WHERE NoSuchField = 'x'");
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).Fault).toEqual(JSON.parse(shape('fault-400-query-validation.observed.json')).Fault);
    const unknownEntity = await query(emu, access, 'SELECT * FROM Gadget');
    expect([unknownEntity.status, JSON.parse(unknownEntity.text).Fault.Error[0].code]).toEqual([400, '4001']);
  });

  it('pages exactly 100 and exactly 1000 rows, caps MAXRESULTS at 1000 and reads STARTPOSITION 0 as 1', async () => {
    const items = await query(emu, access, 'SELECT * FROM Item WHERE Active IN (true, false) MAXRESULTS 1000');
    expect(page(items).QueryResponse).toMatchObject({ startPosition: 1, maxResults: 1000 });
    expect(new Set(rows(items, 'Item').map((r) => r.Id)).size).toBe(1000);
    expect(page(await query(emu, access, 'SELECT * FROM Item WHERE Active IN (true, false) STARTPOSITION 1001 MAXRESULTS 1000')).QueryResponse).toEqual({});

    const invoices = rows(await query(emu, access, 'SELECT * FROM Invoice STARTPOSITION 0 MAXRESULTS 5000'), 'Invoice');
    expect(invoices).toHaveLength(1000);
    const last = rows(await query(emu, access, 'SELECT * FROM Invoice STARTPOSITION 1001 MAXRESULTS 1000'), 'Invoice');
    expect(last).toHaveLength(1);
    expect(new Set([...invoices, ...last].map((r) => r.Id)).size).toBe(1001);
    expect(page(await query(emu, access, 'SELECT * FROM Invoice STARTPOSITION 1002 MAXRESULTS 1000')).QueryResponse).toEqual({});

    const customers = await query(emu, access, 'SELECT * FROM Customer WHERE Active IN (true, false) STARTPOSITION 1 MAXRESULTS 100');
    expect(page(customers).QueryResponse).toMatchObject({ startPosition: 1, maxResults: 100 });
    expect(page(await query(emu, access, 'SELECT * FROM Customer WHERE Active IN (true, false) STARTPOSITION 101 MAXRESULTS 100')).QueryResponse).toEqual({});
    const defaultPage = rows(await query(emu, access, 'SELECT * FROM Invoice'), 'Invoice');
    expect(defaultPage).toHaveLength(100);
  });

  it('reads a window spanning the DST switch completely, comparing instants, with offsets on both sides', async () => {
    const start = '2025-03-09T00:00:00Z';
    const end = '2025-03-10T00:00:00Z';
    const total = Number(
      page(await query(emu, access, `SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime >= '${start}' AND MetaData.LastUpdatedTime < '${end}'`))
        .QueryResponse.totalCount,
    );
    const seen: Array<{ Id: string; MetaData: { LastUpdatedTime: string } }> = [];
    for (let at = 1; ; at += 7) {
      const got = rows(await query(emu, access, windowQuery('Invoice', start, end, at, 7)), 'Invoice');
      seen.push(...got);
      if (got.length < 7) break;
    }
    const instants = seen.map((r) => Date.parse(r.MetaData.LastUpdatedTime));
    expect(seen.length).toBe(total);
    expect(new Set(seen.map((r) => r.Id)).size).toBe(total);
    expect(instants.every((t) => t >= Date.parse(start) && t < Date.parse(end))).toBe(true);
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    const stamps = seen.map((r) => r.MetaData.LastUpdatedTime);
    expect(stamps.some((s) => s.endsWith('-08:00'))).toBe(true);
    expect(stamps.some((s) => s.endsWith('-07:00'))).toBe(true);
    // Rows sharing the seconds around the switch: 01:59:59-08:00 and 03:00:00-07:00 local.
    expect(stamps.filter((s) => s === '2025-03-09T01:59:59-08:00').length).toBeGreaterThan(1);
    expect(stamps.filter((s) => s === '2025-03-09T03:00:00-07:00').length).toBeGreaterThan(1);

    const truth = emu.truth('invoices').filter((r) => Date.parse(r.lastUpdated) >= Date.parse(start) && Date.parse(r.lastUpdated) < Date.parse(end));
    expect(seen.map((r) => r.Id)).toEqual(truth.map((r) => r.id));
    // The same window written with offsets (±HH:MM and ±HHMM) selects the same rows.
    const offsets = await query(
      emu,
      access,
      `SELECT COUNT(*) FROM invoice WHERE metadata.lastupdatedtime >= '2025-03-08T16:00:00-08:00' AND Metadata.LastUpdatedTime < '2025-03-09T17:00:00-0700'`,
    );
    expect(page(offsets).QueryResponse.totalCount).toBe(total);
  });

  it('serves name-list entities active only unless the query asks for inactive ones', async () => {
    const count = async (where: string) => Number(page(await query(emu, access, `SELECT COUNT(*) FROM Customer ${where}`)).QueryResponse.totalCount);
    const [active, all, inactive] = [await count(''), await count('WHERE Active IN (true,false)'), await count('WHERE Active = false')];
    expect(active + inactive).toBe(all);
    expect(inactive).toBeGreaterThan(0);
    expect(rows(await query(emu, access, 'SELECT * FROM Customer MAXRESULTS 1000'), 'Customer').every((c) => c.Active === true)).toBe(true);
  });

  it('accepts POST with an application/text body, filters by Id, LIKE and ORDER BY … DESC', async () => {
    const res = await fetch(`${emu.baseUrl}/v3/company/${emu.realmId}/query?minorversion=75`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/text', accept: 'application/json' },
      body: "SELECT * FROM Invoice WHERE Id IN ('3', '5', '7') ORDER BY Id DESC",
    });
    expect(rows({ status: res.status, text: await res.text(), headers: res.headers }, 'Invoice').map((r) => r.Id)).toEqual(['7', '5', '3']);
    const like = rows(
      await query(emu, access, "SELECT * FROM Customer WHERE DisplayName LIKE 'a%' AND Active IN (true,false) MAXRESULTS 1000"),
      'Customer',
    ) as unknown as Array<{ DisplayName: string }>;
    expect(like.length).toBeGreaterThan(0);
    expect(like.every((c) => /^a/i.test(c.DisplayName))).toBe(true);
    // A documented property no record carries is a valid filter that matches nothing.
    expect(page(await query(emu, access, "SELECT * FROM Invoice WHERE DepartmentRef = '1'")).QueryResponse).toEqual({});
  });

  it('answers an unknown realm with 404 and every response with a unique intuit_tid', async () => {
    const other = await query(emu, access, 'SELECT * FROM Invoice', '123');
    expect(other.status).toBe(404);
    expect(JSON.parse(other.text).Fault.Error[0].code).toBe('610');
    const tids = emu.requestLog().map((e) => e.intuitTid);
    expect(new Set(tids).size).toBe(tids.length);
    expect(other.headers.get('intuit_tid')).toBe(tids.at(-1));
  });
});

describe('batch endpoint', () => {
  it.skipIf(!HAVE_FIXTURES)('answers independent query items, a Fault per bad item, 1000 objects at most, and at most 30 items', async () => {
    const emu = await emulator({ counts: { invoices: 1500, accounts: 40 } });
    const access = await accessToken(emu);
    const post = async (payload: unknown) => {
      const res = await fetch(`${emu.baseUrl}/v3/company/${emu.realmId}/batch?minorversion=75`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(payload),
      });
      return {
        status: res.status,
        body: (await res.json()) as { BatchItemResponse: Array<Record<string, { [k: string]: unknown }>>; Fault?: { Error: Array<{ code: string }> } },
      };
    };
    const request = JSON.parse(shape('batch-request.singer-io-style.json')) as { BatchItemRequest: Array<{ bId: string; Query: string }> };
    const { status, body } = await post(request);
    expect(status).toBe(200);
    expect(body.BatchItemResponse.map((i) => i.bId)).toEqual(['Account', 'Invoice']);
    const [accounts, invoices] = body.BatchItemResponse.map((i) => i.QueryResponse as Record<string, unknown[] | number>);
    const served = (accounts?.Account as unknown[]).length + (invoices?.Invoice as unknown[]).length;
    expect(served).toBe(1000);
    expect(invoices?.maxResults).toBe((invoices?.Invoice as unknown[]).length);
    const expected = JSON.parse(shape('batch-response.CONSTRUCTED.json')) as { BatchItemResponse: Array<Record<string, unknown>> };
    expect(Object.keys(body.BatchItemResponse[1] ?? {}).sort()).toEqual(Object.keys(expected.BatchItemResponse[1] ?? {}).sort());

    const mixed = await post({
      BatchItemRequest: [
        { bId: 'bad', Query: 'SELECT * FROM Invoice OR' },
        { bId: 'count', Query: 'SELECT COUNT(*) FROM Invoice' },
      ],
    });
    expect((mixed.body.BatchItemResponse[0]?.Fault as { Error: Array<{ code: string }> }).Error[0]?.code).toBe('4000');
    expect(mixed.body.BatchItemResponse[1]?.QueryResponse).toEqual({ totalCount: 1500 });

    const tooMany = await post({ BatchItemRequest: Array.from({ length: 31 }, (_, n) => ({ bId: String(n), Query: 'SELECT * FROM Term' })) });
    expect([tooMany.status, tooMany.body.Fault?.Error[0]?.code]).toEqual([400, '1040']);
    expect(emu.requestLog().filter((e) => e.kind === 'batch')).toHaveLength(3);
  });
});

describe('company data', () => {
  it('is byte-identical for the same seed and keeps amounts, quantities and text exactly as served', async () => {
    const a = await emulator({ seed: 7, counts: { invoices: 300 } });
    const b = await emulator({ seed: 7, counts: { invoices: 300 } });
    expect(a.truth('invoices')).toEqual(b.truth('invoices'));
    const access = await accessToken(a);
    const served = rows(await query(a, access, 'SELECT * FROM Invoice MAXRESULTS 1000'), 'Invoice');
    const text = (await query(a, access, 'SELECT * FROM Invoice MAXRESULTS 1000')).text;
    expect(served).toHaveLength(300);
    for (const row of a.truth('invoices')) expect(text).toContain(row.text);
    const all = a
      .truth('invoices')
      .map((r) => r.text)
      .join('\n');
    expect(all).toMatch(/"Amount":\d+,/); // 275
    expect(all).toMatch(/"Amount":\d+\.0,/); // 275.0
    expect(all).toMatch(/"Qty":\d*\.\d+/); // fractional quantities
    expect(all).toMatch(/"TotalAmt":\d+\.\d0,/); // a trailing zero kept, 1234567.10 style
    expect(all).not.toContain('null');
    const customers = a
      .truth('customers')
      .map((r) => r.text)
      .join('\n');
    expect(customers).toMatch(/[^\u0000-\u007f]/);
  });

  it('serves every entity of the catalog, each record valid against its JSON Schema in catalog/', async () => {
    const emu = await emulator({ seed: 11 });
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    for (const { stream } of ENTITIES) {
      const validate = ajv.compile(JSON.parse(readFileSync(path.join(CATALOG_DIR, `${stream}.json`), 'utf8')) as object);
      const truth = emu.truth(stream);
      expect(truth.length, stream).toBeGreaterThan(0);
      const invalid = truth.filter((r) => !validate(JSON.parse(r.text))).map((r) => `${stream} ${r.id}: ${ajv.errorsText(validate.errors)}`);
      expect(invalid).toEqual([]);
      // Declared too, not only allowed: a target that builds columns from the SCHEMA drops undeclared fields.
      expect([...new Set(truth.flatMap((r) => undeclaredFields(JSON.parse(r.text), streamSchema(stream))))], stream).toEqual([]);
    }
  });

  it.skipIf(!HAVE_FIXTURES)('serves loaded fixture records byte for byte next to generated ones', async () => {
    const emu = await emulator({ fixturesDir: path.join(FIXTURES_DIR, 'qbo/records'), counts: { invoices: 10 } });
    const access = await accessToken(emu);
    const got = await query(emu, access, "SELECT * FROM Invoice WHERE Id = '119'");
    expect(got.text).toContain('"Amount":275.0,');
    expect(got.text).toContain('"LastUpdatedTime":"2023-02-18T12:57:24-08:00"');
    expect(emu.truth('invoices').map((r) => r.id)).toContain('130');
    expect(
      Math.min(
        ...emu
          .truth('invoices')
          .map((r) => Number(r.id))
          .filter((id) => id > 130),
      ),
    ).toBe(131);
  });
});

describe('page shift, touch and delete', () => {
  it('touching a served row mid-read shifts later rows forward: a naive reader loses one, COUNT before paging shows it', async () => {
    const emu = await emulator({ counts: { invoices: 400 } });
    const access = await accessToken(emu);
    const start = '2025-03-01T00:00:00Z';
    const end = '2025-03-20T00:00:00Z';
    const before = Number(
      page(await query(emu, access, `SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime >= '${start}' AND MetaData.LastUpdatedTime < '${end}'`))
        .QueryResponse.totalCount,
    );
    emu.touchAfterPage({ entity: 'invoices', afterPage: 1, count: 1 });
    const ids = new Set<string>();
    let first: string | undefined;
    for (let at = 1; ; at += 10) {
      const got = rows(await query(emu, access, windowQuery('Invoice', start, end, at, 10)), 'Invoice');
      first ??= got[0]?.Id;
      got.forEach((r) => ids.add(r.Id));
      if (got.length < 10) break;
    }
    expect(ids.size).toBe(before - 1);
    const touched = emu.truth('invoices').at(-1);
    expect(touched?.id).toBe(first);
    expect(Date.parse(touched?.lastUpdated ?? '')).toBeGreaterThanOrEqual(NOW.getTime() - 1000);
    expect(touched?.text).toContain('"SyncToken":"');
  });

  it('touch moves a record out of its window; deleting a transaction hides it and leaves a CDC stub; a name list is deactivated', async () => {
    const emu = await emulator({ counts: { invoices: 50, customers: 20 } });
    const access = await accessToken(emu);
    const [oldest] = emu.truth('invoices');
    emu.touch('invoices', oldest?.id as string);
    expect(emu.truth('invoices').at(-1)?.id).toBe(oldest?.id);
    expect(JSON.parse(emu.truth('invoices').at(-1)?.text as string).SyncToken).not.toBe(JSON.parse(oldest?.text as string).SyncToken);

    emu.deleteTransaction('Invoice', '10');
    expect(rows(await query(emu, access, "SELECT * FROM Invoice WHERE Id = '10'"), 'Invoice')).toEqual([]);
    expect(emu.truth('invoices').some((r) => r.id === '10')).toBe(false);
    const customer = emu.truth('customers').find((r) => JSON.parse(r.text).Active === true);
    emu.deleteTransaction('customers', customer?.id as string);
    expect(JSON.parse(emu.truth('customers').find((r) => r.id === customer?.id)?.text as string).Active).toBe(false);

    const cdc = await fetch(`${emu.baseUrl}/v3/company/${emu.realmId}/cdc?entities=Invoice,Customer&changedSince=2025-03-19T00:00:00-07:00&minorversion=75`, {
      headers: { authorization: `Bearer ${access}`, accept: 'application/json' },
    });
    const body = (await cdc.json()) as { CDCResponse: Array<{ QueryResponse: Array<Record<string, unknown>> }> };
    const [invoices, customers] = body.CDCResponse[0]?.QueryResponse ?? [];
    const stubs = (invoices?.Invoice as Array<Record<string, unknown>>).filter((r) => r.status === 'Deleted');
    expect(stubs).toEqual([{ domain: 'QBO', status: 'Deleted', Id: '10', MetaData: { LastUpdatedTime: expect.stringMatching(/-07:00$/) } }]);
    expect((invoices?.Invoice as Array<{ Id: string }>).map((r) => r.Id)).toContain(oldest?.id);
    expect((customers?.Customer as Array<{ Id: string; Active: boolean }>).find((r) => r.Id === customer?.id)?.Active).toBe(false);
  });
});

describe('a user at work: the clock, create, edit, void (what the soak drives)', () => {
  it('sets the clock; creates with a new Id (never a deleted one), edits members by their exact text, voids; all served as edited', async () => {
    const emu = await emulator({ counts: { invoices: 5 } });
    const midnight = new Date('2025-03-21T00:00:00Z');
    emu.setNow(midnight);
    // A token issued before the jump would have expired: access tokens live an hour of the clock.
    const access = await accessToken(emu);
    // The user's work in the second set, however long the token's round trip took: the clock set again, the edits in the same tick.
    emu.setNow(midnight);
    expect(emu.now().toISOString()).toMatch(/^2025-03-21T00:00:00\./);
    emu.deleteTransaction('Invoice', '5');
    const created = emu.create('Invoice');
    expect(created).toBe('6');
    emu.update('Invoice', '2', { TotalAmt: '98765432109876.1234567890', PrivateNote: '"on the boundary"' });
    emu.voidTransaction('Invoice', '3');
    const answer = await query(emu, access, "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2025-03-21T00:00:00Z' ORDERBY MetaData.LastUpdatedTime");
    expect(answer.status, answer.text).toBe(200);
    const ids = rows(answer, 'Invoice').map((r) => r.Id);
    expect(ids.sort()).toEqual(['2', '3', '6']);
    // The text as served: the amount's digits, the note added, LastUpdatedTime on the second set, in Pacific time.
    expect(answer.text).toContain('"TotalAmt":98765432109876.1234567890');
    expect(answer.text).toContain('"PrivateNote":"on the boundary"');
    expect(answer.text).toContain('"PrivateNote":"Voided"');
    const voided = JSON.parse(emu.truth('invoices').find((r) => r.id === '3')!.text) as Record<string, unknown>;
    expect([voided.TotalAmt, voided.Balance]).toEqual([0, 0]);
    expect(emu.truth('invoices').find((r) => r.id === '2')!.lastUpdated).toBe('2025-03-20T17:00:00-07:00');
    // The same over the admin API, for an emulator started by the CLI.
    const admin = (route: string, body?: unknown) =>
      fetch(`${emu.baseUrl}/__admin/${route}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    expect(await admin('now', { now: '2025-03-22T00:00:00Z' })).toEqual({ status: 200, body: { now: expect.stringMatching(/^2025-03-22T00:00:0/) } });
    expect(await admin('create', { entity: 'Invoice' })).toEqual({ status: 200, body: { id: '7' } });
    expect((await admin('update', { entity: 'Invoice', id: '7', members: { TotalAmt: '0.10' } })).status).toBe(200);
    expect((await admin('update', { entity: 'Invoice', id: '7', members: { TotalAmt: 0.1 } })).status).toBe(400);
    expect((await admin('update', { entity: 'Invoice', id: '7', members: { TotalAmt: '0.1.0' } })).status).toBe(400);
    expect((await admin('void', { entity: 'Invoice', id: '7' })).status).toBe(200);
    expect(emu.truth('invoices').find((r) => r.id === '7')!.text).toContain('"PrivateNote":"Voided"');
  });
});

describe('CDC', () => {
  let emu: Emulator;
  let access: string;
  const cdc = async (query: string) => {
    const res = await fetch(`${emu.baseUrl}/v3/company/${emu.realmId}/cdc?${query}`, {
      headers: { authorization: `Bearer ${access}`, accept: 'application/json' },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  beforeAll(async () => {
    emu = await emulator({ counts: { invoices: 1200, customers: 30 } });
    access = await accessToken(emu);
  });

  it.skipIf(!HAVE_FIXTURES)('answers changes in the documented shape, and no changes as [{}]', async () => {
    const none = await cdc('entities=Invoice&changedSince=2025-03-20T05:00:00-07:00');
    expect(none.status).toBe(200);
    expect(skeleton(none.body)).toEqual(skeleton(JSON.parse(shape('cdc-response.no-changes.intuit-doc-example.json'))));
    const some = await cdc('entities=Customer&changedSince=2025-03-01T00:00:00Z');
    const entry = (some.body.CDCResponse as Array<{ QueryResponse: Array<Record<string, unknown>> }>)[0]?.QueryResponse[0];
    expect(Object.keys(entry ?? {})).toEqual(['Customer', 'startPosition', 'maxResults']);
  });

  it('caps a response at 1000 objects, rejects look-backs over 30 days and unsupported entities', async () => {
    const big = await cdc('entities=Invoice,Customer&changedSince=2025-02-25T00:00:00Z');
    const parts = (big.body.CDCResponse as Array<{ QueryResponse: Array<Record<string, unknown>> }>)[0]?.QueryResponse ?? [];
    const objects = parts.reduce(
      (n, p) =>
        n +
        Object.values(p)
          .filter(Array.isArray)
          .reduce((m, a) => m + (a as unknown[]).length, 0),
      0,
    );
    expect(objects).toBe(1000);
    expect(parts[0]).toMatchObject({ maxResults: 1000, totalCount: expect.any(Number) });

    const old = await cdc('entities=Invoice&changedSince=2025-02-15T00:00:00Z');
    expect(old.status).toBe(400);
    expect(JSON.stringify(old.body)).toMatch(/30 days/);
    const unsupported = await cdc('entities=Invoice,TaxCode&changedSince=2025-03-15T00:00:00Z');
    expect(unsupported.status).toBe(400);
    expect(JSON.stringify(unsupported.body)).toMatch(/TaxCode/);
  });
});

describe('OAuth', () => {
  it.skipIf(!HAVE_FIXTURES)('rotates the refresh token on every refresh and rejects the superseded one with invalid_grant', async () => {
    const emu = await emulator({ counts: { invoices: 5 } });
    const original = emu.currentRefreshToken();
    const first = await refresh(emu);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(
      Object.keys(JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'qbo/oauth/oauth-refresh-with-hard-expiry.intuit-oauth-jsclient.json'), 'utf8')))
        .filter((k) => k !== 'x_refresh_token_hard_expires_in')
        .sort(),
    );
    expect(first.body.refresh_token).not.toBe(original);
    expect(first.tid).toBeTruthy();
    const reuse = await refresh(emu, original);
    expect(reuse.status).toBe(400);
    expect(reuse.body).toEqual(JSON.parse(shape('oauth-invalid-grant.incorrect-refresh-token.observed.json')));
    expect((await refresh(emu, String(first.body.refresh_token))).status).toBe(200);
  });

  it('keeps one refresh token per rotation period, takes credentials in the body, and answers invalid_client', async () => {
    const emu = await emulator({ counts: { invoices: 5 }, rotation: { everyHours: 24 }, refreshTokenHardExpiresInSeconds: 3600 });
    const original = emu.currentRefreshToken();
    const res = await fetch(emu.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: original, client_id: emu.clientId, client_secret: emu.clientSecret }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(body.refresh_token).toBe(original);
    expect(body.x_refresh_token_hard_expires_in).toBeGreaterThan(3500);
    const wrong = await refresh(emu, original, basic(emu, 'not-the-secret'));
    expect([wrong.status, wrong.body.error]).toEqual([401, 'invalid_client']);
  });

  it.skipIf(!HAVE_FIXTURES)('answers an expired or unknown bearer with 401, the lower-case fault body and www-authenticate', async () => {
    const emu = await emulator({ counts: { invoices: 5 }, accessTokenTtlSeconds: 0 });
    const expired = await query(emu, await accessToken(emu), 'SELECT * FROM Invoice');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer realm="Intuit", error="invalid_token"');
    const observed = JSON.parse(shape('fault-401-authentication-failed.observed.json'));
    expect(skeleton(JSON.parse(expired.text))).toEqual(skeleton(observed));
    expect(JSON.parse(expired.text).fault.error[0]).toMatchObject({ code: '3200', detail: 'Token expired' });
    expect((await query(emu, 'made-up', 'SELECT * FROM Invoice')).status).toBe(401);
  });
});

describe('access tokens that die after N requests (401 storms)', () => {
  it('answers the (N+1)th request with a token, and the ones in flight after it, with 401; a new token lives its own N', async () => {
    const emu = await emulator({ counts: { invoices: 5 }, accessTokenMaxUses: 4, latencyMs: 50 });
    const access = await accessToken(emu);
    const burst = await Promise.all(Array.from({ length: 7 }, () => query(emu, access, 'SELECT COUNT(*) FROM Invoice')));
    expect(burst.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 401, 401, 401]);
    expect(JSON.parse(burst.find((a) => a.status === 401)!.text).fault.error[0]).toMatchObject({ code: '3200', detail: 'Token expired' });
    expect((await query(emu, access, 'SELECT COUNT(*) FROM Invoice')).status).toBe(401);
    const next = await accessToken(emu);
    expect((await query(emu, next, 'SELECT COUNT(*) FROM Invoice')).status).toBe(200);
    // Driven over the admin API as well: 0 kills every token on first use; null turns the fault off.
    const admin = (uses: unknown) => fetch(`${emu.baseUrl}/__admin/access-token-max-uses`, { method: 'POST', body: JSON.stringify({ uses }) });
    expect((await admin(0)).status).toBe(200);
    expect((await query(emu, await accessToken(emu), 'SELECT COUNT(*) FROM Invoice')).status).toBe(401);
    expect((await admin(null)).status).toBe(200);
    expect((await query(emu, await accessToken(emu), 'SELECT COUNT(*) FROM Invoice')).status).toBe(200);
    expect((await admin(-2)).status).toBe(400);
  });
});

describe('throttling and faults', () => {
  it.skipIf(!HAVE_FIXTURES)('answers requests over the per-minute limit with 429, the XML ThrottleExceeded body and Retry-After', async () => {
    const emu = await emulator({ counts: { invoices: 5 }, requestsPerMinute: 3, retryAfterSeconds: 7 });
    const access = await accessToken(emu);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await query(emu, access, 'SELECT COUNT(*) FROM Invoice'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    const xml = answers[3] as Answer;
    expect(xml.headers.get('content-type')).toBe('application/xml');
    expect(xml.headers.get('retry-after')).toBe('7');
    const norm = (s: string) => s.replace(/time="[^"]+"/, 'time=""').trim();
    expect(norm(xml.text)).toBe(norm(shape('throttle-429.observed.xml')));
    expect(emu.stats()).toMatchObject({ throttled: 2 });
    expect((await refresh(emu)).status).toBe(200); // the token endpoint is not the realm's API
  });

  it('throttles at will: a 429 fault is the same answer as a spent budget (XML, Retry-After), counted as a fault', async () => {
    const emu = await emulator({ counts: { invoices: 5 }, retryAfterSeconds: 3 });
    const access = await accessToken(emu);
    emu.setFaults({ rules: [{ fault: '429', kinds: ['query'], next: 2 }] });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await query(emu, access, 'SELECT * FROM Invoice'));
    expect(answers.map((a) => a.status)).toEqual([429, 429, 200]);
    expect(answers[0]!.headers.get('content-type')).toBe('application/xml');
    expect(answers[0]!.headers.get('retry-after')).toBe('3');
    expect(answers[0]!.text).toContain('ThrottleExceeded');
    expect(emu.stats()).toMatchObject({ throttled: 0, faults: { 429: 2 } });
  });

  it('refuses more concurrent requests than allowed', async () => {
    const emu = await emulator({ counts: { invoices: 5 }, maxInFlight: 2 });
    const access = await accessToken(emu);
    emu.setLatency(2000); // the first two hold their slots until all four have arrived, even on a busy machine
    const statuses = (await Promise.all(Array.from({ length: 4 }, () => query(emu, access, 'SELECT COUNT(*) FROM Invoice')))).map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429]);
  });

  it('injects 500, 502, 503 and 504 on the requests named, per request kind', async () => {
    const emu = await emulator({ counts: { invoices: 5 } });
    const access = await accessToken(emu);
    emu.setFaults({
      rules: [
        { fault: '500', kinds: ['query'], nth: [1] },
        { fault: '502', kinds: ['query'], nth: [2] },
        { fault: '503', kinds: ['count'], next: 1 },
        { fault: '504', kinds: ['query'], nth: [3] },
      ],
    });
    const statuses = [];
    for (const q of [
      'SELECT * FROM Invoice',
      'SELECT * FROM Invoice',
      'SELECT COUNT(*) FROM Invoice',
      'SELECT * FROM Invoice',
      'SELECT * FROM Invoice',
      'SELECT COUNT(*) FROM Invoice',
    ]) {
      statuses.push((await query(emu, access, q)).status);
    }
    expect(statuses).toEqual([500, 502, 503, 504, 200, 200]);
    expect(emu.stats().faults).toEqual({ 500: 1, 502: 1, 503: 1, 504: 1 });
    expect(
      emu
        .requestLog()
        .slice(-6)
        .map((e) => `${e.kind}:${e.status}`),
    ).toEqual(['query:500', 'query:502', 'count:503', 'query:504', 'query:200', 'count:200']);
  });

  it('resets connections, stalls until the client gives up, and fails token requests on demand', async () => {
    const emu = await emulator({ counts: { invoices: 5 } });
    const access = await accessToken(emu);
    emu.setFaults({
      rules: [
        { fault: 'reset', kinds: ['query'], nth: [1] },
        { fault: 'stall', kinds: ['query'], nth: [2] },
        { fault: '503', kinds: ['token'], next: 1 },
      ],
    });
    await expect(query(emu, access, 'SELECT * FROM Invoice')).rejects.toThrow();
    const url = `${emu.baseUrl}/v3/company/${emu.realmId}/query?query=${encodeURIComponent('SELECT * FROM Invoice')}`;
    await expect(fetch(url, { headers: { authorization: `Bearer ${access}` }, signal: AbortSignal.timeout(300) })).rejects.toThrow(/abort|timeout/i);
    expect((await refresh(emu)).status).toBe(503);
    expect((await query(emu, access, 'SELECT * FROM Invoice')).status).toBe(200);
    expect(emu.stats().faults).toEqual({ reset: 1, stall: 1, 503: 1 });
  });

  it('injects probabilistic faults deterministically for a seed', async () => {
    const statuses = async () => {
      const emu = await emulator({ counts: { invoices: 5 }, faults: { seed: 3, rules: [{ fault: '503', kinds: ['count'], probability: 0.5 }] } });
      const access = await accessToken(emu);
      const out = [];
      for (let i = 0; i < 12; i++) out.push((await query(emu, access, 'SELECT COUNT(*) FROM Invoice')).status);
      return out;
    };
    const first = await statuses();
    expect(await statuses()).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 503]));
  });
});

describe('request log and admin API', () => {
  it('logs method, path, query, status, duration and kind, never a token or secret', async () => {
    const emu = await emulator({ counts: { invoices: 5 } });
    const first = await refresh(emu);
    const access = String(first.body.access_token);
    await query(emu, access, 'SELECT COUNT(*) FROM Invoice');
    await fetch(`${emu.baseUrl}/v3/company/${emu.realmId}/query?query=x&access_token=${access}`, { headers: { authorization: `Bearer ${access}` } });
    const log = emu.requestLog();
    expect(log[1]).toMatchObject({
      method: 'GET',
      path: `/v3/company/${emu.realmId}/query`,
      status: 200,
      kind: 'count',
      query: expect.stringContaining('COUNT'),
    });
    expect(log[1]?.durationMs).toBeGreaterThanOrEqual(0);
    const text = JSON.stringify(log);
    for (const secret of [access, String(first.body.refresh_token), emu.clientSecret, emu.currentRefreshToken()]) expect(text).not.toContain(secret);
  });

  it('drives faults, touches, deletes and ground truth over HTTP', async () => {
    const emu = await emulator({ counts: { invoices: 20 } });
    const admin = async (route: string, body?: unknown) => {
      const res = await fetch(`${emu.baseUrl}/__admin/${route}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, text: await res.text() };
    };
    expect((await admin('faults', { rules: [{ fault: '502', next: 1 }] })).status).toBe(200);
    expect((await refresh(emu)).status).toBe(502);
    expect((await admin('faults', { rules: [{ fault: 'teapot', next: 1 }] })).text).toMatch(/fault rule 1/);
    const [oldest] = emu.truth('invoices');
    expect((await admin('touch', { entity: 'invoices', id: oldest?.id })).status).toBe(200);
    expect((await admin('delete', { entity: 'Invoice', id: '3' })).status).toBe(200);
    const truth = await admin('truth?stream=invoices');
    const truthRows = JSON.parse(truth.text) as Array<{ id: string; record: { Id: string } }>;
    expect(truthRows).toHaveLength(19);
    expect(truthRows.at(-1)?.id).toBe(oldest?.id);
    for (const row of emu.truth('invoices')) expect(truth.text).toContain(row.text);
    expect(JSON.parse((await admin('stats')).text)).toMatchObject({ faults: { 502: 1 } });
    const credentials = JSON.parse((await admin('credentials')).text);
    expect(credentials.refresh_token).toBe(emu.currentRefreshToken());
    expect((await admin('nope')).status).toBe(404);
  });
});

describe('CLI', () => {
  it('prints the tap settings as one JSON line (a range covering its records, a refresh token of its own), serves them, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'packages/qbo-emulator/dist/cli.js'),
        '--port',
        '0',
        '--seed',
        '5',
        '--days',
        '10',
        '--invoices',
        '30',
        '--now',
        '2025-02-01T00:00:00Z',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const [line] = (await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()).value.split('\n');
    const settings = JSON.parse(line) as Record<string, string>;
    expect(Object.keys(settings)).toEqual([
      'start_date',
      'end_date',
      'base_url',
      'token_url',
      'realm_id',
      'client_id',
      'client_secret',
      'refresh_token',
      'admin_url',
    ]);
    expect(settings).toMatchObject({ start_date: '2025-01-22T00:00:00Z', end_date: '2025-02-01T00:00:00Z' });
    // A restarted emulator must not be mistaken for the last one's token chain by a tap's token store.
    expect(settings.refresh_token).toMatch(/^AB11emulator-refresh-token-seed-5-[0-9a-f]{8}$/);
    const token = await fetch(settings.token_url as string, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${settings.client_id}:${settings.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: settings.refresh_token as string }),
    });
    const access = ((await token.json()) as { access_token: string }).access_token;
    const count = await fetch(`${settings.base_url}/v3/company/${settings.realm_id}/query?query=${encodeURIComponent('SELECT COUNT(*) FROM Invoice')}`, {
      headers: { authorization: `Bearer ${access}` },
    });
    expect(((await count.json()) as Page).QueryResponse.totalCount).toBe(30);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('exits 2 with one line for bad usage', async () => {
    // Read to the end of its output (not only to its exit, which can come before its last line reaches us).
    const { code, stderr } = await runProcess(process.execPath, [path.join(REPO_ROOT, 'packages/qbo-emulator/dist/cli.js'), '--count', 'widgets=3']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')[0]).toBe('FATAL qbo-emulator: unknown stream in counts: widgets');
  });
});

describe('several companies in one emulator', () => {
  const refreshFor = (emu: Emulator, refreshToken: string) => refresh(emu, refreshToken);

  it('serves each company its own data under the same Ids, with tokens that work for their own realm only', async () => {
    const emu = await emulator({
      counts: { invoices: 8, customers: 3 },
      companies: [{}, { realmId: '4620816365000000000' }, { seed: 99, counts: { invoices: 4 } }],
    });
    expect(emu.companies.map((c) => c.realmId)).toEqual(['9341453050000000', '4620816365000000000', '9341453050000002']);
    const [a, b, c] = emu.companies as [(typeof emu.companies)[0], (typeof emu.companies)[0], (typeof emu.companies)[0]];
    const ids = (rows: readonly { id: string }[]) => rows.map((r) => r.id).sort();
    expect(ids(a.truth('invoices'))).toEqual(ids(b.truth('invoices')));
    expect(a.truth('invoices').map((r) => r.text)).not.toEqual(b.truth('invoices').map((r) => r.text));
    expect(c.truth('invoices')).toHaveLength(4);
    expect(emu.truth('invoices')).toEqual(a.truth('invoices'));

    const accessA = String((await refreshFor(emu, a.currentRefreshToken())).body.access_token);
    const accessB = String((await refreshFor(emu, b.currentRefreshToken())).body.access_token);
    const inA = await query(emu, accessA, "SELECT * FROM Invoice WHERE Id = '1'", a.realmId);
    const inB = await query(emu, accessB, "SELECT * FROM Invoice WHERE Id = '1'", b.realmId);
    expect(JSON.stringify(rows(inA, 'Invoice'))).not.toBe(JSON.stringify(rows(inB, 'Invoice')));
    expect(rows(inA, 'Invoice')[0]?.Id).toBe('1');
    expect(rows(inB, 'Invoice')[0]?.Id).toBe('1');
    expect((await query(emu, accessA, 'SELECT COUNT(*) FROM Invoice', b.realmId)).status).toBe(401);
    expect((await query(emu, accessA, 'SELECT COUNT(*) FROM Invoice', '123')).status).toBe(404);
    expect(
      emu
        .requestLog()
        .filter((e) => e.kind === 'query')
        .map((e) => e.realmId),
    ).toEqual([a.realmId, b.realmId]);
  });

  it('keeps one refresh-token chain per company: revoking one leaves the others working until it reconnects', async () => {
    const emu = await emulator({ counts: { invoices: 3 }, companies: [{}, {}] });
    const [a, b] = emu.companies as [(typeof emu.companies)[0], (typeof emu.companies)[0]];
    const firstA = a.currentRefreshToken();
    expect((await refreshFor(emu, firstA)).status).toBe(200);
    expect(a.currentRefreshToken()).not.toBe(firstA);
    const accessB = String((await refreshFor(emu, b.currentRefreshToken())).body.access_token);
    emu.company(b.realmId).revokeTokens();
    expect((await refreshFor(emu, b.currentRefreshToken())).body.error).toBe('invalid_grant');
    expect((await query(emu, accessB, 'SELECT COUNT(*) FROM Invoice', b.realmId)).status).toBe(401);
    expect((await refreshFor(emu, a.currentRefreshToken())).status).toBe(200);
    const again = b.reconnect();
    expect((await refreshFor(emu, again)).status).toBe(200);
    expect(() => emu.company('nope')).toThrow(/no company with realm id nope/);
  });

  it('limits each realm on its own: one company throttled, another still answered', async () => {
    const emu = await emulator({ counts: { invoices: 3 }, companies: [{ requestsPerMinute: 2 }, {}] });
    const [a, b] = emu.companies as [(typeof emu.companies)[0], (typeof emu.companies)[0]];
    const accessA = String((await refreshFor(emu, a.currentRefreshToken())).body.access_token);
    const accessB = String((await refreshFor(emu, b.currentRefreshToken())).body.access_token);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await query(emu, accessA, 'SELECT COUNT(*) FROM Invoice', a.realmId)).status);
    for (let i = 0; i < 3; i++) statuses.push((await query(emu, accessB, 'SELECT COUNT(*) FROM Invoice', b.realmId)).status);
    expect(statuses).toEqual([200, 200, 429, 200, 200, 200]);
  });

  it('admin routes take realm_id', async () => {
    const emu = await emulator({ counts: { invoices: 3 }, companies: [{}, {}] });
    const b = emu.companies[1]!;
    const admin = async (route: string, body?: unknown) => {
      const res = await fetch(`${emu.baseUrl}/__admin/${route}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, json: JSON.parse(await res.text()) };
    };
    expect((await admin('companies')).json.map((c: { realm_id: string }) => c.realm_id)).toEqual(emu.companies.map((c) => c.realmId));
    expect((await admin(`credentials?realm_id=${b.realmId}`)).json.refresh_token).toBe(b.currentRefreshToken());
    expect((await admin(`truth?stream=invoices&realm_id=${b.realmId}`)).json.map((r: { id: string }) => r.id)).toEqual(b.truth('invoices').map((r) => r.id));
    expect((await admin('revoke', { realm_id: b.realmId })).status).toBe(200);
    expect((await refreshFor(emu, b.currentRefreshToken())).body.error).toBe('invalid_grant');
    expect((await refreshFor(emu, emu.currentRefreshToken())).status).toBe(200);
    const reconnected = await admin('reconnect', { realm_id: b.realmId });
    expect((await refreshFor(emu, reconnected.json.refresh_token)).status).toBe(200);
    expect((await admin('revoke', { realm_id: 'nope' })).status).toBe(400);
  });

  it('CLI: --companies names them, prints each realm and refresh token, and --secrets-dir writes them as 0600 files', async () => {
    const { mkdtempSync, statSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'emulator-secrets-'));
    const start = () =>
      spawn(
        process.execPath,
        [path.join(REPO_ROOT, 'packages/qbo-emulator/dist/cli.js'), '--companies', 'acme,globex', '--secrets-dir', dir, '--invoices', '5'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    const stop = async (emulatorProcess: ReturnType<typeof start>) => {
      const exit = new Promise<number | null>((resolve) => emulatorProcess.on('exit', resolve));
      emulatorProcess.kill('SIGTERM');
      expect(await exit).toBe(0);
    };
    // A restarted emulator (docs/companies.md walked twice) gives every company a new refresh
    // token, so a token store still holding the last one's chain starts a new chain.
    const earlier = start();
    const firstLine = (await createInterface({ input: earlier.stdout })[Symbol.asyncIterator]().next()).value as string;
    await stop(earlier);
    const earlierTokens = (JSON.parse(firstLine) as { companies: Array<{ refresh_token: string }> }).companies.map((c) => c.refresh_token);
    const child = start();
    try {
      const [line] = (await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()).value.split('\n');
      const settings = JSON.parse(line) as {
        realm_id: string;
        refresh_token: string;
        client_secret: string;
        companies: Array<{ name: string; realm_id: string; refresh_token: string }>;
      };
      expect(settings.companies.map((c) => [c.name, c.realm_id])).toEqual([
        ['acme', '9341453050000000'],
        ['globex', '9341453050000001'],
      ]);
      expect(settings.companies[0]?.refresh_token).toBe(settings.refresh_token);
      expect(readFileSync(path.join(dir, 'globex/refresh_token'), 'utf8')).toBe(`${settings.companies[1]?.refresh_token}\n`);
      expect(readFileSync(path.join(dir, 'client_secret'), 'utf8')).toBe(`${settings.client_secret}\n`);
      expect(statSync(path.join(dir, 'acme/refresh_token')).mode & 0o777).toBe(0o600);
      expect(settings.companies.map((c) => c.refresh_token)).toEqual([
        expect.stringMatching(/^AB11emulator-refresh-token-seed-42-[0-9a-f]{8}$/),
        expect.stringMatching(/^AB11emulator-refresh-token-seed-43-[0-9a-f]{8}$/),
      ]);
      for (const [i, token] of earlierTokens.entries()) expect(settings.companies[i]?.refresh_token).not.toBe(token);
    } finally {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

if (!HAVE_FIXTURES) describe.skip(NO_FIXTURES_REASON, () => {});
