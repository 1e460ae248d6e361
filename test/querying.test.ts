import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { arrayElements, memberText } from 'singer-kit';
import { startFirm, type Firm } from './companiesHarness.js';
import { codeBlocks } from './docsHarness.js';
import { databaseUrl, withClient } from './support/db.js';

/**
 * docs/querying.md, as an analyst runs it: two companies whose Ids overlap, loaded by
 * `qbo-pipeline` from the emulator into `raw_acme` and `raw_globex` of a database of their own
 * (then the page's `views` command over the companies file), with what the page warns about
 * in their data: a foreign-currency invoice, an amount a float cannot hold, payments applied to
 * one invoice in each company, bills due around next week, then a void and deletions loaded by
 * the nightly sync. Every SQL block of the page runs as written, in page order, and each answer
 * is compared with the same question answered from the emulator's records in TypeScript, with
 * exact decimals: a query that counts a deleted row, joins across companies, rounds through a
 * float or takes the server's date for the company's is wrong here.
 */
const PAGE = 'docs/querying.md';
const COMPANIES = ['acme', 'globex'] as const;
const STREAMS = ['invoices', 'credit_memos', 'payments', 'bills', 'customers', 'vendors', 'items', 'accounts', 'company_info'];
/**
 * The companies' time zones (CompanyInfo.DefaultTimeZone): at any hour, one of them is on another
 * date than UTC, so a query that takes the server's date for the company's gives another answer.
 */
const TIME_ZONE = { acme: 'Pacific/Kiritimati', globex: 'Pacific/Pago_Pago' } as const;
const DB = `querying_${randomBytes(4).toString('hex')}`;
const schemaOf = (company: string) => `raw_${company}`;

// ---- exact decimals, as PostgreSQL's numeric computes them ----
interface Dec {
  readonly units: bigint;
  readonly scale: number;
}
const ZERO: Dec = { units: 0n, scale: 0 };
function dec(text: string): Dec {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const frac = m[3] ?? '';
  return { units: BigInt(`${m[1]}${m[2]}${frac}`), scale: frac.length };
}
const rescale = (a: Dec, scale: number): bigint => a.units * 10n ** BigInt(scale - a.scale);
function add(a: Dec, b: Dec): Dec {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
}
const neg = (a: Dec): Dec => ({ units: -a.units, scale: a.scale });
const mul = (a: Dec, b: Dec): Dec => ({ units: a.units * b.units, scale: a.scale + b.scale });
/** round(x, 2): half away from zero. */
function round2(a: Dec): Dec {
  if (a.scale <= 2) return { units: rescale(a, 2), scale: 2 };
  const div = 10n ** BigInt(a.scale - 2);
  const abs = a.units < 0n ? -a.units : a.units;
  const q = (abs + div / 2n) / div;
  return { units: a.units < 0n ? -q : q, scale: 2 };
}
/** The value without trailing zeros: `1194.60` and `1194.6` are the same amount. */
function canon(a: Dec | string): string {
  const d = typeof a === 'string' ? dec(a) : a;
  const sign = d.units < 0n ? '-' : '';
  let digits = (d.units < 0n ? -d.units : d.units).toString().padStart(d.scale + 1, '0');
  let scale = d.scale;
  while (scale > 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    scale--;
  }
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return text === '0' ? '0' : `${sign}${text}`;
}

// ---- the emulator's records, read from their exact text ----
interface Rec {
  readonly text: string;
  readonly json: Record<string, unknown>;
}
/** The exact number at a path of members (`TxnTaxDetail`, `TotalTax`); undefined when absent. */
function num(text: string, ...keys: string[]): Dec | undefined {
  let at: string | undefined = text;
  for (const key of keys) at = at === undefined ? undefined : memberText(at, key);
  return at === undefined ? undefined : dec(at);
}
const str = (r: Rec, ...keys: string[]): string | undefined => {
  let at: unknown = r.json;
  for (const key of keys) at = (at as Record<string, unknown> | undefined)?.[key];
  return at as string | undefined;
};
const rate = (r: Rec): Dec => num(r.text, 'ExchangeRate') ?? dec('1');
const home = (r: Rec, amount: Dec | undefined): Dec => round2(mul(amount ?? ZERO, rate(r)));
const voided = (r: Rec): boolean => (str(r, 'PrivateNote') ?? '').startsWith('Voided') && num(r.text, 'TotalAmt')?.units === 0n;

let firm: Firm;
const records = (company: string, stream: string): Rec[] =>
  firm
    .company(company)
    .truth(stream)
    .map((t) => ({ text: t.text, json: JSON.parse(t.text) as Record<string, unknown> }));
const byId = (company: string, stream: string): Map<string, Rec> => new Map(records(company, stream).map((r) => [r.json.Id as string, r]));

/** A calendar date `days` after a `YYYY-MM-DD` one. */
const plusDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const localDate = (company: (typeof COMPANIES)[number], at: Date): string => new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE[company] }).format(at);

/** Result rows as arrays of text, sorted: the page's ORDER BY is for the reader. */
const sorted = (rows: unknown[][]): string[] => rows.map((r) => JSON.stringify(r)).sort();

/** What each block of the page must answer, by the title in its first line; `now` is its transaction's now(). */
type Check = (rows: Array<Record<string, string | null>>, now: Date) => void;
const moneyCols = (row: Record<string, string | null>, cols: readonly string[]): Record<string, string | null> =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, cols.includes(k) && v !== null ? canon(v) : v]));

const CHECKS: Record<string, Check> = {
  "The companies: schema, realm, name, time zone and today's date there": (rows, now) => {
    const expected = COMPANIES.map((c) => {
      const info = records(c, 'company_info')[0] as Rec;
      return [schemaOf(c), firm.company(c).realmId, str(info, 'CompanyName'), str(info, 'DefaultTimeZone'), localDate(c, now)];
    });
    expect(sorted(rows.map((r) => [r.company_schema, r.realm_id, r.company_name, r.time_zone, r.today]))).toEqual(sorted(expected));
  },

  'Revenue per customer and month: invoices minus credit memos, before tax, in home currency': (rows) => {
    const sums = new Map<string, Dec>();
    for (const c of COMPANIES) {
      const customers = byId(c, 'customers');
      for (const [stream, sign] of [
        ['invoices', 1],
        ['credit_memos', -1],
      ] as const)
        for (const r of records(c, stream)) {
          const net = home(r, add(num(r.text, 'TotalAmt') ?? ZERO, neg(num(r.text, 'TxnTaxDetail', 'TotalTax') ?? ZERO)));
          const customer = str(r, 'CustomerRef', 'value') as string;
          const key = JSON.stringify([
            schemaOf(c),
            customer,
            str(customers.get(customer) as Rec, 'DisplayName'),
            `${(str(r, 'TxnDate') as string).slice(0, 7)}-01`,
          ]);
          sums.set(key, add(sums.get(key) ?? ZERO, sign === 1 ? net : neg(net)));
        }
    }
    const expected = [...sums].map(([key, sum]) => [...(JSON.parse(key) as string[]), canon(sum)]);
    expect(sorted(rows.map((r) => [r.company_schema, r.customer_id, r.customer, r.month, canon(r.revenue as string)]))).toEqual(sorted(expected));
  },

  'Open accounts receivable per customer as of today, and the part past due': (rows, now) => {
    const open = new Map<string, { open: Dec; pastDue: Dec }>();
    for (const c of COMPANIES) {
      const today = localDate(c, now);
      const customers = byId(c, 'customers');
      const put = (r: Rec, amount: Dec, due: string | undefined) => {
        const customer = str(r, 'CustomerRef', 'value') as string;
        const key = JSON.stringify([schemaOf(c), customer, str(customers.get(customer) as Rec, 'DisplayName')]);
        const sum = open.get(key) ?? { open: ZERO, pastDue: ZERO };
        open.set(key, { open: add(sum.open, amount), pastDue: due !== undefined && due < today ? add(sum.pastDue, amount) : sum.pastDue });
      };
      for (const r of records(c, 'invoices')) put(r, home(r, num(r.text, 'Balance')), str(r, 'DueDate'));
      for (const r of records(c, 'credit_memos')) put(r, neg(home(r, num(r.text, 'RemainingCredit'))), undefined);
      for (const r of records(c, 'payments')) put(r, neg(home(r, num(r.text, 'UnappliedAmt'))), undefined);
    }
    const expected = [...open].filter(([, s]) => s.open.units !== 0n).map(([key, s]) => [...(JSON.parse(key) as string[]), canon(s.open), canon(s.pastDue)]);
    expect(expected.length).toBeGreaterThan(10);
    expect(sorted(rows.map((r) => [r.company_schema, r.customer_id, r.customer, canon(r.open_balance as string), canon(r.past_due as string)]))).toEqual(
      sorted(expected),
    );
  },

  "Bills due in the next seven days (after today, in the company's time zone), not yet paid": (rows, now) => {
    const expected = COMPANIES.flatMap((c) => {
      const today = localDate(c, now);
      const vendors = byId(c, 'vendors');
      return records(c, 'bills')
        .filter((r) => (num(r.text, 'Balance')?.units ?? 0n) > 0n)
        .filter((r) => (str(r, 'DueDate') as string) >= plusDays(today, 1) && (str(r, 'DueDate') as string) <= plusDays(today, 7))
        .map((r) => [
          schemaOf(c),
          str(r, 'Id'),
          str(r, 'DocNumber'),
          str(vendors.get(str(r, 'VendorRef', 'value') as string) as Rec, 'DisplayName'),
          str(r, 'DueDate'),
          canon(num(r.text, 'Balance') as Dec),
          str(r, 'CurrencyRef', 'value'),
        ]);
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(sorted(rows.map((r) => Object.values(moneyCols(r, ['balance']))))).toEqual(sorted(expected));
  },

  "Payments applied to one invoice (here acme's invoice number 1007)": (rows) => {
    const invoice = records('acme', 'invoices').find((r) => str(r, 'DocNumber') === '1007') as Rec;
    const expected = records('acme', 'payments').flatMap((p) =>
      arrayElements(memberText(p.text, 'Line') as string).flatMap((line) =>
        arrayElements(memberText(line, 'LinkedTxn') ?? '[]')
          .map((t) => JSON.parse(t) as { TxnId: string; TxnType: string })
          .filter((t) => t.TxnType === 'Invoice' && t.TxnId === invoice.json.Id)
          .map(() => ['raw_acme', invoice.json.Id, '1007', str(p, 'Id'), str(p, 'TxnDate'), canon(num(line, 'Amount') as Dec)]),
      ),
    );
    // The payments set up below, two of acme's with three lines, are among them; globex's payment of its own invoice 7 is not.
    expect(expected.filter((r) => r[3] === '1' || r[3] === '2')).toHaveLength(3);
    expect(sorted(rows.map((r) => Object.values(moneyCols(r, ['applied']))))).toEqual(sorted(expected));
  },

  'Invoice lines by item and month: quantity and amount (home currency), voided and deleted invoices left out': (rows) => {
    const sums = new Map<string, { qty: Dec; amount: Dec }>();
    for (const c of COMPANIES) {
      const items = byId(c, 'items');
      for (const r of records(c, 'invoices').filter((i) => !voided(i)))
        for (const line of arrayElements(memberText(r.text, 'Line') as string)) {
          if (JSON.parse(memberText(line, 'DetailType') as string) !== 'SalesItemLineDetail') continue;
          const item = JSON.parse(memberText(memberText(memberText(line, 'SalesItemLineDetail') as string, 'ItemRef') as string, 'value') as string) as string;
          const key = JSON.stringify([schemaOf(c), item, str(items.get(item) as Rec, 'Name'), `${(str(r, 'TxnDate') as string).slice(0, 7)}-01`]);
          const sum = sums.get(key) ?? { qty: ZERO, amount: ZERO };
          sums.set(key, { qty: add(sum.qty, num(line, 'SalesItemLineDetail', 'Qty') as Dec), amount: add(sum.amount, home(r, num(line, 'Amount'))) });
        }
    }
    const expected = [...sums].map(([key, s]) => [...(JSON.parse(key) as string[]), canon(s.qty), canon(s.amount)]);
    expect(sorted(rows.map((r) => Object.values(moneyCols(r, ['quantity', 'amount']))))).toEqual(sorted(expected));
  },

  'Chart of accounts with their current balances': (rows) => {
    const expected = COMPANIES.flatMap((c) =>
      records(c, 'accounts').map((r) => [
        schemaOf(c),
        str(r, 'Id'),
        str(r, 'FullyQualifiedName'),
        str(r, 'Classification'),
        str(r, 'AccountType'),
        canon(num(r.text, 'CurrentBalance') as Dec),
        r.json.Active === true ? 't' : 'f',
      ]),
    );
    expect(expected.some((r) => r[6] === 'f')).toBe(true);
    expect(sorted(rows.map((r) => Object.values(moneyCols(r, ['current_balance']))))).toEqual(sorted(expected));
  },

  'Deleted and voided invoices per company': (rows) => {
    const expected = COMPANIES.map((c) => {
      const live = records(c, 'invoices');
      return [schemaOf(c), String(DELETED[c].invoices.length), String(live.filter(voided).length), String(live.length)];
    });
    expect(expected.map((r) => r.slice(1, 3))).toEqual([
      ['1', '1'],
      ['0', '0'],
    ]);
    expect(sorted(rows.map((r) => [r.company_schema, r.deleted, r.voided, r.in_qbo]))).toEqual(sorted(expected));
  },

  'Per stream of one company: complete up to, and how its latest run went': (rows) => {
    // The runs journal in the company's state folder, not the warehouse: the newest run that succeeded.
    const runsDir = path.join(firm.dir, 'state', 'companies', 'acme', 'runs');
    const runs = readdirSync(runsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(path.join(runsDir, f), 'utf8')) as { status: string; kind: string; range: { end: string } });
    expect(runs.map((r) => [r.kind, r.status]).sort()).toEqual([
      ['backfill', 'succeeded'],
      ['sync', 'succeeded'],
    ]);
    const end = Math.max(...runs.map((r) => Date.parse(r.range.end)));
    expect(
      sorted(
        rows.map((r) => [r.stream, Date.parse((r.complete_up_to as string).replace(' ', 'T').replace(/\+00$/, 'Z')), r.latest_run_status, r.latest_run_reason]),
      ),
    ).toEqual(sorted(STREAMS.map((s) => [s, end, 'succeeded', null])));
  },
};

/** What the test deletes in QBO once the companies are loaded (the sync brings the deletions). */
const DELETED: Record<(typeof COMPANIES)[number], Record<'invoices' | 'credit_memos' | 'payments' | 'bills', string[]>> = {
  acme: { invoices: ['11'], credit_memos: ['2'], payments: ['3'], bills: ['7'] },
  globex: { invoices: [], credit_memos: [], payments: [], bills: [] },
};
const ENTITY = { invoices: 'Invoice', credit_memos: 'CreditMemo', payments: 'Payment', bills: 'Bill' } as const;

const dbUrl = (): string => {
  const url = new URL(databaseUrl());
  url.pathname = `/${DB}`;
  return url.toString();
};

beforeAll(async () => {
  await withClient((c) => c.query(`CREATE DATABASE ${DB}`));
  const now = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  firm = await startFirm({
    names: COMPANIES,
    databaseUrl: dbUrl(),
    now,
    days: 40,
    counts: { invoices: 80, credit_memos: 25, payments: 40, bills: 60, customers: 25, vendors: 10, items: 12, accounts: 16 },
  });
  const acme = firm.company('acme');
  const globex = firm.company('globex');
  // Payments applied to invoice 7 (number 1007) in both companies; a line paying credit memo 7 is not a payment of it.
  const applied = (amount: string, id: string, type = 'Invoice') => `{"Amount":${amount},"LinkedTxn":[{"TxnId":"${id}","TxnType":"${type}"}]}`;
  acme.update('Payment', '1', { Line: `[${applied('100.10', '7')},${applied('5', '12')},${applied('3.00', '7', 'CreditMemo')}]` });
  acme.update('Payment', '2', { Line: `[${applied('0.25', '7')},${applied('12.5', '7')}]` });
  globex.update('Payment', '1', { Line: `[${applied('999.99', '7')}]` });
  // A euro invoice, and an amount a float8 cannot hold.
  acme.update('Invoice', '3', { CurrencyRef: '{"value":"EUR","name":"Euro"}', ExchangeRate: '1.0825' });
  acme.update('Invoice', '5', { TotalAmt: '9876543210987654.31', Balance: '9876543210987654.31' });
  // Each company in its time zone, with bills due around next week in its calendar: on both edges, paid and not.
  for (const c of COMPANIES) {
    const company = firm.company(c);
    company.update('CompanyInfo', '1', { DefaultTimeZone: `"${TIME_ZONE[c]}"` });
    const today = localDate(c, new Date());
    // Bill 7 is then deleted in acme.
    const bills: Array<[days: number, balance: string]> = [
      [0, '7'],
      [1, '20'],
      [1, '0'],
      [3, '1234.50'],
      [7, '0.01'],
      [8, '10'],
      [2, '55'],
    ];
    for (const [i, [days, balance]] of bills.entries()) company.update('Bill', String(i + 1), { DueDate: `"${plusDays(today, days)}"`, Balance: balance });
  }
  // The emulator shows a change at once, and its clock runs up to an hour behind the real one (it
  // starts at the hour): without end_lag, a sync within 5 minutes after an hour would leave the
  // deletions below to the next one.
  await firm.writeCompanies(firm.companiesYaml({ schemaPrefix: 'raw', streams: STREAMS, endLag: 'PT0S' }));
  const end = new Date(Math.ceil((firm.emulator.now().getTime() + 1) / 1000) * 1000);
  const backfill = await firm.cli([
    'backfill',
    '--companies',
    'companies.yaml',
    '--start',
    plusDays(now.toISOString().slice(0, 10), -41),
    '--end',
    end.toISOString(),
  ]);
  expect(backfill.code, backfill.stderr).toBe(0);
  // The nightly sync brings a void and deletions made after the load.
  while (firm.emulator.now() <= end) await new Promise((r) => setTimeout(r, 100));
  acme.voidTransaction('Invoice', '9');
  for (const [stream, ids] of Object.entries(DELETED.acme)) for (const id of ids) acme.deleteTransaction(ENTITY[stream as keyof typeof ENTITY], id);
  await new Promise((r) => setTimeout(r, 1100));
  const sync = await firm.cli(['sync', '--companies', 'companies.yaml']);
  expect(sync.code, sync.stderr + sync.stdout).toBe(0);
  // The page's views over every company, made as it says.
  const command = codeBlocks(PAGE).find((b) => b.lang === 'sh' && / views --companies /.test(b.text));
  const args = (command?.text.trim() ?? '').replace(/^node packages\/qbo-pipeline\/dist\/cli\.js /, '').split(/\s+/);
  expect(args[0], `${PAGE}: the views command`).toBe('views');
  const views = await firm.cli(args);
  expect(views.code, views.stderr + views.stdout).toBe(0);
}, 300_000);

afterAll(async () => {
  await firm?.close();
  await withClient((c) => c.query(`DROP DATABASE IF EXISTS ${DB}`));
});

describe(`${PAGE}: every SQL block, against two companies loaded from the emulator`, () => {
  const blocks = codeBlocks(PAGE).filter((b) => b.lang === 'sql');
  const titleOf = (text: string) => /^-- (.*)$/m.exec(text)?.[1] ?? '';

  it('names every SQL block, and each block is checked', () => {
    expect(blocks.map((b) => titleOf(b.text))).toEqual(Object.keys(CHECKS));
  });

  it('each block answers what the emulator says, in page order', { timeout: 120_000 }, async () => {
    const client = new pg.Client({ connectionString: dbUrl(), options: '-c TimeZone=UTC', types: { getTypeParser: () => (value: string) => value } });
    await client.connect();
    try {
      // The deletions reached the warehouse: the rows are there, marked.
      const deleted = await client.query(`SELECT id FROM raw_acme.invoices WHERE deleted_at_utc IS NOT NULL`);
      expect(deleted.rows).toEqual([{ id: '11' }]);
      for (const block of blocks) {
        const check = CHECKS[titleOf(block.text)] as Check;
        await client.query('BEGIN');
        const now = new Date(
          (await client.query<{ now: string }>(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`)).rows[0]!.now,
        );
        const result = await client.query<Record<string, string | null>>(block.text);
        await client.query('COMMIT');
        expect(result.rows.length, `${PAGE}:${block.line}`).toBeGreaterThan(0);
        check(result.rows, now);
      }
    } finally {
      await client.end();
    }
  });
});
