import { describe, expect, it } from 'vitest';
import { STREAM_TABLE_COLUMN_TYPES } from 'target-postgres-raw';
import { companyNameSql, oneCompanyName, planViews, targetSchemaIdentity, type SourceTable, type ViewsRequest, type ViewsSchemaFacts } from './viewsSql.js';

const NEW_TABLE = STREAM_TABLE_COLUMN_TYPES.map(([name]) => name);
/** A table made before deletions were tracked, then upgraded in place: the added columns last, in the upgrade's order. */
const UPGRADED = [...NEW_TABLE.filter((c) => c !== 'payload_sha256' && c !== 'deleted_at_utc'), 'payload_sha256', 'deleted_at_utc'];
const table = (schema: string, stream: string, columns: readonly string[] = NEW_TABLE): SourceTable => ({ schema, stream, columns, usage: true, select: true });
const facts = (over: Partial<ViewsSchemaFacts> = {}): ViewsSchemaFacts => ({
  user: 'loader',
  database: 'warehouse',
  exists: true,
  createSchema: false,
  createIn: true,
  holdsCompany: false,
  relations: [],
  elsewhere: [],
  ...over,
});
/** The views in schema `schema` for the companies file /firm/companies.yaml. */
const request = (schema: string, over: Partial<ViewsRequest> = {}): ViewsRequest => ({ schema, file: '/firm/companies.yaml', ...over });
const companies = [
  { name: 'globex', schema: 'raw_globex' },
  { name: "o'hare", schema: 'raw_ohare' },
];
const VIEW_COLUMNS =
  'company, company_schema, realm_id, id, payload, ingested_at_utc, extract_window_start_utc, extract_window_end_utc, page_number, page_size, request_payload, extracted_at_utc, last_updated_utc, deleted_at_utc';

describe('planViews', () => {
  it('names every column, whatever the order of the table, quotes every name and unions the companies in name order', () => {
    const plan = planViews(request('qbo_all'), companies, [table('raw_ohare', 'invoices'), table('raw_globex', 'invoices', UPGRADED)], facts());
    expect(plan.problem).toBeUndefined();
    const [view] = plan.views;
    expect(view).toMatchObject({ stream: 'invoices', companies: ['globex', "o'hare"], change: 'created' });
    const create = view?.statements[0] ?? '';
    expect(create).toBe(
      [
        'CREATE OR REPLACE VIEW "qbo_all"."invoices" AS',
        `SELECT 'globex'::text AS company, 'raw_globex'::text AS company_schema, "realm_id", "id", "payload", "ingested_at_utc", "extract_window_start_utc", "extract_window_end_utc", "page_number", "page_size", "request_payload", "extracted_at_utc", "last_updated_utc", "deleted_at_utc" FROM "raw_globex"."invoices"`,
        'UNION ALL',
        `SELECT 'o''hare'::text AS company, 'raw_ohare'::text AS company_schema, "realm_id", "id", "payload", "ingested_at_utc", "extract_window_start_utc", "extract_window_end_utc", "page_number", "page_size", "request_payload", "extracted_at_utc", "last_updated_utc", "deleted_at_utc" FROM "raw_ohare"."invoices"`,
      ].join('\n'),
    );
    expect(view?.statements[1]).toMatch(
      /^COMMENT ON VIEW "qbo_all"\."invoices" IS 'qbo-pipeline views: invoices of globex, o''hare \(definition [0-9a-f]{16}\)/,
    );
  });

  it('a table not yet upgraded gives a typed NULL for the column it lacks; a relation that is not the target table is left out and named', () => {
    const early = NEW_TABLE.filter((c) => c !== 'payload_sha256' && c !== 'deleted_at_utc');
    const plan = planViews(request('qbo_all'), companies, [table('raw_globex', 'invoices', early), table('raw_ohare', 'invoices', ['id', 'payload'])], facts());
    expect(plan.views[0]?.companies).toEqual(['globex']);
    expect(plan.views[0]?.statements[0]).toContain('"last_updated_utc", NULL::timestamptz AS "deleted_at_utc" FROM "raw_globex"."invoices"');
    expect(plan.notes).toContain('raw_ohare.invoices: left out, not a table of target-postgres-raw (no column ingested_at_utc)');
  });

  it('leaves a view as planned alone, drops one with other columns first, and keeps a view no company has any more, with no row', () => {
    const first = planViews(request('qbo_all'), companies, [table('raw_globex', 'invoices')], facts());
    const comment = /IS '(.*)'$/.exec(first.views[0]?.statements[1] ?? '')?.[1]?.replace(/''/g, "'") ?? '';
    const ours = { kind: 'v', owner: 'loader', owned: true, columns: VIEW_COLUMNS.split(', ') };
    const again = planViews(
      request('qbo_all'),
      companies,
      [table('raw_globex', 'invoices')],
      facts({
        relations: [
          { name: 'invoices', comment, ...ours },
          { name: 'customers', comment: null, ...ours, columns: ['company_schema', 'realm_id', 'id', 'payload'] },
        ],
      }),
    );
    expect(again.views.map((v) => [v.stream, v.change, v.statements.length])).toEqual([
      ['customers', 'replaced', 3],
      ['invoices', 'unchanged', 0],
    ]);
    const customers = again.views[0]?.statements ?? [];
    expect(customers[0]).toBe('DROP VIEW "qbo_all"."customers"');
    expect(customers[1]).toMatch(
      /^CREATE OR REPLACE VIEW "qbo_all"\."customers" AS\nSELECT NULL::text AS company, .* NULL::timestamptz AS "deleted_at_utc" WHERE false$/,
    );
  });

  it('says what the role lacks, the schema first, only when something is to be written', () => {
    const sources = [{ ...table('raw_globex', 'invoices'), select: false }];
    expect(planViews(request('qbo_all'), companies, sources, facts({ exists: false, createIn: null })).problem).toBe(
      'schema qbo_all does not exist, and role loader may not create it: that needs CREATE on database warehouse (GRANT CREATE ON DATABASE "warehouse" TO "loader"), or have the database\'s owner create it for the role (CREATE SCHEMA "qbo_all" AUTHORIZATION "loader")',
    );
    expect(planViews(request('qbo_all'), companies, sources, facts({ createIn: false })).problem).toMatch(
      /^role loader may not create views in schema qbo_all: that needs CREATE on it/,
    );
    expect(planViews(request('qbo_all'), companies, sources, facts()).problem).toMatch(
      /^role loader may not read raw_globex\.invoices, .* needs USAGE on schema raw_globex and SELECT/,
    );
    const theirs = { name: 'invoices', kind: 'v', comment: null, owner: 'postgres', owned: false, columns: [] };
    expect(planViews(request('qbo_all'), companies, [table('raw_globex', 'invoices')], facts({ relations: [theirs] })).problem).toMatch(
      /^view qbo_all\.invoices belongs to role postgres, and only its owner may replace it/,
    );
    expect(
      planViews(request('qbo_all'), companies, [table('raw_globex', 'invoices')], facts({ relations: [{ ...theirs, kind: 'r', owned: true }] })).problem,
    ).toMatch(/^qbo_all\.invoices is not a view/);
    expect(planViews(request('raw_globex'), companies, [], facts({ holdsCompany: true })).problem).toMatch(/^schema raw_globex holds a company's tables/);
    // Nothing to write: no right needed.
    expect(planViews(request('qbo_all'), companies, [], facts({ exists: false, createIn: null })).problem).toBeUndefined();
  });

  it("refuses to replace another companies file's views unless taking over, and leaves the role's rights to whoever runs --sql", () => {
    const theirs = {
      name: 'invoices',
      kind: 'v',
      comment:
        'qbo-pipeline views: invoices of acme (definition 0123456789abcdef); made by qbo-pipeline views, replaced at each change, for companies file /other/companies.yaml',
      owner: 'loader',
      owned: true,
      columns: VIEW_COLUMNS.split(', '),
    };
    const sources = [table('raw_globex', 'invoices')];
    expect(planViews(request('qbo_all'), companies, sources, facts({ relations: [theirs] })).problem).toBe(
      "schema qbo_all holds the views of companies file /other/companies.yaml: this file (/firm/companies.yaml) would replace them and that file's scheduler put them back, run after run; give each file its own views.schema (views: {schema: …}, or --schema), or, if /other/companies.yaml is this same file moved or seen at another path (a container), run views with --take-over once",
    );
    const taken = planViews(request('qbo_all', { takeOver: true }), companies, sources, facts({ relations: [theirs] }));
    expect(taken.problem).toBeUndefined();
    expect(taken.statements.at(-1)).toMatch(/, for companies file \/firm\/companies\.yaml'$/);
    // Made before comments named a file: this file's from now on.
    expect(
      planViews(
        request('qbo_all'),
        companies,
        sources,
        facts({
          relations: [
            { ...theirs, comment: 'qbo-pipeline views: invoices of acme (definition 0123456789abcdef); made by qbo-pipeline views, replaced at each change' },
          ],
        }),
      ).problem,
    ).toBeUndefined();
    // --sql: the statements are another role's to run; what is wrong with the schema still is not.
    const noRights = facts({ exists: false, createSchema: false, createIn: null });
    const sql = planViews(request('qbo_all', { forSql: true }), companies, [{ ...sources[0]!, select: false }], noRights);
    expect(sql.problem).toBeUndefined();
    expect(sql.statements[0]).toBe('CREATE SCHEMA "qbo_all"');
    expect(planViews(request('qbo_all', { forSql: true }), companies, sources, facts({ relations: [theirs] })).problem).toMatch(
      /^schema qbo_all holds the views of companies file \/other/,
    );
  });

  it("finds this file's views in other schemas, and drops them only when asked and when nothing depends on them", () => {
    const marked = (schema: string, name: string, file: string | undefined, over = {}) => ({
      schema,
      name,
      comment: `qbo-pipeline views: ${name} of globex (definition 0123456789abcdef); made by qbo-pipeline views, replaced at each change${file ? `, for companies file ${file}` : ''}`,
      owner: 'loader',
      owned: true,
      reads: ['raw_globex'],
      dependents: [],
      ...over,
    });
    const elsewhere = [
      marked('old_all', 'customers', '/firm/companies.yaml'),
      marked('old_all', 'invoices', '/firm/companies.yaml', { dependents: ['view reports.revenue'] }),
      marked('old_all', 'items', '/firm/companies.yaml', { owned: false, owner: 'dba' }),
      marked('legacy', 'invoices', undefined),
      marked('legacy', 'payments', undefined, { reads: ['raw_globex', 'raw_initech'] }),
      marked('theirs', 'invoices', '/other/companies.yaml'),
    ];
    const sources = [table('raw_globex', 'invoices')];
    const left = planViews(request('qbo_all'), companies, sources, facts({ elsewhere }));
    expect(left.stale).toEqual([
      { view: 'old_all.customers', action: 'left' },
      { view: 'old_all.invoices', action: 'left' },
      { view: 'old_all.items', action: 'left' },
      { view: 'legacy.invoices', action: 'left' },
    ]);
    expect(left.statements.filter((s) => s.startsWith('DROP'))).toEqual([]);
    const dropped = planViews(request('qbo_all', { dropStale: true }), companies, sources, facts({ elsewhere }));
    expect(dropped.stale).toEqual([
      { view: 'old_all.customers', action: 'dropped' },
      {
        view: 'old_all.invoices',
        action: 'kept',
        reason: 'view reports.revenue depends on it: drop or re-point that first, then run views --drop-stale again',
      },
      { view: 'old_all.items', action: 'kept', reason: 'it belongs to role dba, and only its owner may drop it: run views --drop-stale as dba' },
      { view: 'legacy.invoices', action: 'dropped' },
    ]);
    expect(dropped.statements.filter((s) => s.startsWith('DROP'))).toEqual(['DROP VIEW "old_all"."customers"', 'DROP VIEW "legacy"."invoices"']);
    expect(
      planViews(request('qbo_all', { dropStale: true, forSql: true }), companies, sources, facts({ elsewhere })).statements.filter((s) => s.startsWith('DROP')),
    ).toEqual(['DROP VIEW "old_all"."customers"', 'DROP VIEW "old_all"."items"', 'DROP VIEW "legacy"."invoices"']);
  });

  it("makes the target schema's views without a companies file, says so in their comment, and tells them apart from a companies file's", () => {
    const one = [{ name: 'Acme Ltd', schema: 'raw' }];
    const sources = [table('raw', 'invoices')];
    const target = request('qbo_all', { file: targetSchemaIdentity('raw') });
    const made = planViews(target, one, sources, facts());
    expect(made.problem).toBeUndefined();
    expect(made.views.map((v) => [v.stream, v.companies, v.change])).toEqual([['invoices', ['Acme Ltd'], 'created']]);
    expect(made.statements.at(-1)).toMatch(
      /of Acme Ltd \(definition [0-9a-f]{16}\); made by qbo-pipeline views, replaced at each change, for target schema raw'$/,
    );
    const comment = /IS '(.*)'$/.exec(made.statements.at(-1) ?? '')?.[1] ?? '';
    const ours = { name: 'invoices', kind: 'v', comment, owner: 'loader', owned: true, columns: VIEW_COLUMNS.split(', ') };
    expect(planViews(target, one, sources, facts({ relations: [ours] })).views[0]?.change).toBe('unchanged');
    // A companies file's views and the target schema's refuse each other, naming both.
    const fileViews = planViews(request('qbo_all'), companies, [table('raw_globex', 'invoices')], facts({ relations: [ours] }));
    expect(fileViews.problem).toBe(
      'schema qbo_all holds the views of target schema raw: the views of companies file /firm/companies.yaml would replace them; give these views a schema of their own (--schema), or, to hand schema qbo_all over to companies file /firm/companies.yaml, run views with --take-over once',
    );
    // Its views left in another schema are its own, not a companies file's.
    const elsewhere = [{ schema: 'old_all', name: 'invoices', comment, owner: 'loader', owned: true, reads: ['raw'], dependents: [] }];
    expect(planViews(target, one, sources, facts({ elsewhere })).stale).toEqual([{ view: 'old_all.invoices', action: 'left' }]);
    expect(planViews(request('qbo_all'), companies, sources, facts({ elsewhere })).stale).toEqual([]);
  });
});

describe('the one company of target settings', () => {
  it("is named after company_info's CompanyName, else its realm, else its schema", () => {
    expect(oneCompanyName({ company_name: ' Acme Ltd ', realm_id: '9130' }, 'raw')).toBe('Acme Ltd');
    expect(oneCompanyName({ company_name: '', realm_id: '9130' }, 'raw')).toBe('9130');
    expect(oneCompanyName({ company_name: null, realm_id: null }, 'raw')).toBe('raw');
    expect(oneCompanyName(undefined, 'raw')).toBe('raw');
  });

  it('reads only the tables the role may read, quoted', () => {
    expect(companyNameSql('raw', ['company_info', '_company'])).toBe(
      `SELECT (SELECT payload->>'CompanyName' FROM "raw"."company_info" ORDER BY id LIMIT 1)::text AS company_name, (SELECT realm_id FROM "raw"."_company")::text AS realm_id`,
    );
    expect(companyNameSql('raw', ['_company'])).toBe(`SELECT NULL::text AS company_name, (SELECT realm_id FROM "raw"."_company")::text AS realm_id`);
  });
});
