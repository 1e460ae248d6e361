import { describe, expect, it } from 'vitest';
import { STREAM_TABLE_COLUMN_TYPES } from 'target-postgres-raw';
import { planViews, type SourceTable, type ViewsSchemaFacts } from './viewsSql.js';

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
  ...over,
});
const companies = [
  { name: 'globex', schema: 'raw_globex' },
  { name: "o'hare", schema: 'raw_ohare' },
];
const VIEW_COLUMNS =
  'company, company_schema, realm_id, id, payload, ingested_at_utc, extract_window_start_utc, extract_window_end_utc, page_number, page_size, request_payload, extracted_at_utc, last_updated_utc, deleted_at_utc';

describe('planViews', () => {
  it('names every column, whatever the order of the table, quotes every name and unions the companies in name order', () => {
    const plan = planViews('qbo_all', companies, [table('raw_ohare', 'invoices'), table('raw_globex', 'invoices', UPGRADED)], facts());
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
    const plan = planViews('qbo_all', companies, [table('raw_globex', 'invoices', early), table('raw_ohare', 'invoices', ['id', 'payload'])], facts());
    expect(plan.views[0]?.companies).toEqual(['globex']);
    expect(plan.views[0]?.statements[0]).toContain('"last_updated_utc", NULL::timestamptz AS "deleted_at_utc" FROM "raw_globex"."invoices"');
    expect(plan.notes).toContain('raw_ohare.invoices: left out, not a table of target-postgres-raw (no column ingested_at_utc)');
  });

  it('leaves a view as planned alone, drops one with other columns first, and keeps a view no company has any more, with no row', () => {
    const first = planViews('qbo_all', companies, [table('raw_globex', 'invoices')], facts());
    const comment = /IS '(.*)'$/.exec(first.views[0]?.statements[1] ?? '')?.[1]?.replace(/''/g, "'") ?? '';
    const ours = { kind: 'v', owner: 'loader', owned: true, columns: VIEW_COLUMNS.split(', ') };
    const again = planViews(
      'qbo_all',
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
    expect(planViews('qbo_all', companies, sources, facts({ exists: false, createIn: null })).problem).toBe(
      'schema qbo_all does not exist, and role loader may not create it: that needs CREATE on database warehouse (GRANT CREATE ON DATABASE "warehouse" TO "loader"), or have the database\'s owner create it for the role (CREATE SCHEMA "qbo_all" AUTHORIZATION "loader")',
    );
    expect(planViews('qbo_all', companies, sources, facts({ createIn: false })).problem).toMatch(
      /^role loader may not create views in schema qbo_all: that needs CREATE on it/,
    );
    expect(planViews('qbo_all', companies, sources, facts()).problem).toMatch(
      /^role loader may not read raw_globex\.invoices, .* needs USAGE on schema raw_globex and SELECT/,
    );
    const theirs = { name: 'invoices', kind: 'v', comment: null, owner: 'postgres', owned: false, columns: [] };
    expect(planViews('qbo_all', companies, [table('raw_globex', 'invoices')], facts({ relations: [theirs] })).problem).toMatch(
      /^view qbo_all\.invoices belongs to role postgres, and only its owner may replace it/,
    );
    expect(planViews('qbo_all', companies, [table('raw_globex', 'invoices')], facts({ relations: [{ ...theirs, kind: 'r', owned: true }] })).problem).toMatch(
      /^qbo_all\.invoices is not a view/,
    );
    expect(planViews('raw_globex', companies, [], facts({ holdsCompany: true })).problem).toMatch(/^schema raw_globex holds a company's tables/);
    // Nothing to write: no right needed.
    expect(planViews('qbo_all', companies, [], facts({ exists: false, createIn: null })).problem).toBeUndefined();
  });
});
