import { realpathSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { CliError, plural, RunError, UsageError } from 'singer-kit';
import { connectClient, type ConnectionSettings } from 'target-postgres-raw';
import { runTargetSettings } from '../checkBackfill.js';
import { formatTable } from '../formatTable.js';
import { companyStateDir } from './companyRun.js';
import { KNOWN_STREAMS } from './companiesSchema.js';
import type { Company } from './parseCompanies.js';
import {
  companyNameSql,
  companyNameTablesSql,
  isTargetSchema,
  markedViewsSql,
  oneCompanyName,
  planViews,
  viewsLockSql,
  viewsSchemaSql,
  viewsSourcesSql,
  type MarkedView,
  type PlannedView,
  type SourceTable,
  type StaleView,
  type ViewCompany,
  type ViewsPlan,
  type ViewsRequest,
  type ViewsSchemaFacts,
} from './viewsSql.js';

/** A lock (an analyst's long query on a view, a load adding a column) held longer than this fails the refresh instead of queueing every reader behind it. */
const LOCK_TIMEOUT_MS = 10_000;

/** The companies of one database: their views are made there, connected with the first one's settings. */
export interface WarehouseCompanies {
  /** `host:port/database`, for messages (never a password). */
  readonly where: string;
  readonly connection: ConnectionSettings;
  readonly companies: readonly ViewCompany[];
}

/** What a refresh did in one database. */
export interface ViewsOutcome {
  readonly where: string;
  readonly schema: string;
  /** Whom the views are for (`ViewsRequest.file`). */
  readonly file: string;
  readonly companies: readonly ViewCompany[];
  readonly views: readonly PlannedView[];
  readonly stale: readonly StaleView[];
  readonly notes: readonly string[];
}

/**
 * The companies file as the views' comments record it: its real path (links resolved), so that the
 * file's own views are told from another file's, in this schema and in others.
 */
export function companiesFileIdentity(file: string): string {
  return realpathSync(path.resolve(file));
}

/**
 * The companies grouped by the database their target loads into (a view spans one database), in
 * file order. A company whose target settings cannot be read stops it (UsageError naming it): its
 * tables would silently drop out of the views.
 */
export function companiesByWarehouse(
  companies: readonly Company[],
  options: { readonly stateRoot: string; readonly targetConfig?: string | undefined; readonly env?: NodeJS.ProcessEnv },
): WarehouseCompanies[] {
  const groups = new Map<string, { connection: ConnectionSettings; companies: Company[] }>();
  for (const company of companies) {
    let connection: ConnectionSettings;
    try {
      connection = runTargetSettings(
        {
          tapConfig: undefined,
          targetConfig: options.targetConfig,
          company: { settings: company },
          stateDir: companyStateDir(path.resolve(options.stateRoot), company.name),
        },
        options.env ? { env: options.env } : {},
      ).connection;
    } catch (error) {
      throw new UsageError(`company ${company.name}: ${(error as Error).message}; no view was changed (its tables would drop out of them)`, { cause: error });
    }
    const where = whereOf(connection);
    const group = groups.get(where) ?? { connection, companies: [] };
    group.companies.push(company);
    groups.set(where, group);
  }
  return [...groups].map(([where, g]) => ({ where, connection: g.connection, companies: g.companies }));
}

const whereOf = (connection: ConnectionSettings) => `${connection.host}:${connection.port}/${connection.database}`;

/**
 * Without a companies file, the one company the target settings load, as the views take it: its
 * schema, named after company_info's CompanyName, else its realm, else the schema
 * (`oneCompanyName`). A database that cannot be reached is one line, as for a refresh.
 */
export async function targetSchemaWarehouse(
  target: { readonly connection: ConnectionSettings; readonly schema: string },
  viewsSchema: string,
): Promise<WarehouseCompanies> {
  const where = whereOf(target.connection);
  let client: pg.Client | undefined;
  try {
    client = await connectClient(target.connection, 'qbo-pipeline views');
    client.on('error', () => undefined); // a dropped connection surfaces on the next query
    const readable = (await client.query<{ name: string }>(companyNameTablesSql, [target.schema])).rows.map((r) => r.name);
    const named = await client.query<{ company_name: string | null; realm_id: string | null }>(companyNameSql(target.schema, readable));
    return { where, connection: target.connection, companies: [{ name: oneCompanyName(named.rows[0], target.schema), schema: target.schema }] };
  } catch (error) {
    throw refreshError(error, viewsSchema, where);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** Reads what the plan needs from the catalog, inside the refresh's transaction. */
async function readFacts(client: pg.Client, schema: string, companies: readonly ViewCompany[]): Promise<{ sources: SourceTable[]; facts: ViewsSchemaFacts }> {
  const sources = await client.query<SourceTable>(viewsSourcesSql, [companies.map((c) => c.schema), KNOWN_STREAMS]);
  const row = (
    await client.query<{
      user: string;
      database: string;
      exists: boolean;
      create_schema: boolean;
      create_in: boolean | null;
      holds_company: boolean;
      relations: ViewsSchemaFacts['relations'];
    }>(viewsSchemaSql, [schema, KNOWN_STREAMS])
  ).rows[0];
  if (!row) throw new Error('the catalog query returned no row');
  const elsewhere = await client.query<MarkedView>(markedViewsSql, [schema]);
  return {
    sources: sources.rows,
    facts: {
      user: row.user,
      database: row.database,
      exists: row.exists,
      createSchema: row.create_schema,
      createIn: row.create_in,
      holdsCompany: row.holds_company,
      relations: row.relations,
      elsewhere: elsewhere.rows,
    },
  };
}

/** A database failure of a refresh as one line: privileges and objects in the way are for a person (exit 2), the rest run-time (exit 1). */
function refreshError(error: unknown, schema: string, where: string): CliError {
  if (error instanceof CliError) return error;
  const e = error as { message?: string; code?: string; detail?: string };
  const reason = `${(e.message ?? String(error)).split('\n')[0]}${e.code ? ` [${e.code}]` : ''}`;
  const lead = `views in schema ${schema} at ${where}`;
  if (e.code === '42501' || e.code?.startsWith('28') || e.code === '3D000') return new UsageError(`${lead}: ${reason}`, { cause: error });
  if (e.code === '2BP01')
    return new UsageError(
      `${lead}: a view there has other columns than these views (made by hand, or by the DO block of an earlier docs/querying.md) and objects depend on it (${e.detail?.replace(/\n/g, '; ') ?? 'see the database log'}): drop them, run views again, then make them again over the new view`,
      { cause: error },
    );
  if (e.code === '55P03')
    return new RunError(
      `${lead}: ${reason}; a session held a lock on a view or a company's table for ${LOCK_TIMEOUT_MS / 1000} s (a long query on a view, a load changing a table): run views again when it is done`,
      { cause: error },
    );
  return new RunError(`${lead}: ${reason}`, { cause: error });
}

/** What a refresh runs before it reads the catalog: its transaction, how long it waits for a lock, and the schema's lock. */
const viewsPrelude = (schema: string) => ['BEGIN', `SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`, viewsLockSql(schema)];

/**
 * Plans the views of one database inside a transaction (`planViews`) and hands the plan to `act`;
 * commits when the request writes, rolls back for `forSql`, which reads in a READ ONLY
 * transaction and takes no lock. A plan that cannot be carried out is one line (UsageError),
 * before anything is written.
 */
async function withPlan<T>(warehouse: WarehouseCompanies, request: ViewsRequest, act: (client: pg.Client, plan: ViewsPlan) => T | Promise<T>): Promise<T> {
  const { schema } = request;
  let client: pg.Client | undefined;
  try {
    client = await connectClient(warehouse.connection, 'qbo-pipeline views');
    client.on('error', () => undefined); // a dropped connection surfaces on the next query
    for (const statement of request.forSql ? ['BEGIN READ ONLY'] : viewsPrelude(schema)) await client.query(statement);
    const { sources, facts } = await readFacts(client, schema, warehouse.companies);
    const plan = planViews(request, warehouse.companies, sources, facts);
    if (plan.problem !== undefined) throw new UsageError(`views in schema ${schema} at ${warehouse.where}: ${plan.problem}`);
    const result = await act(client, plan);
    await client.query(request.forSql ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => undefined);
    throw refreshError(error, schema, warehouse.where);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

const outcomeOf = (warehouse: WarehouseCompanies, request: Omit<ViewsRequest, 'forSql'>, plan: ViewsPlan): ViewsOutcome => ({
  where: warehouse.where,
  schema: request.schema,
  file: request.file,
  companies: warehouse.companies,
  views: plan.views,
  stale: plan.stale,
  notes: plan.notes,
});

/**
 * Makes `<schema>.<stream>` views over the companies' stream tables in one database (`planViews`),
 * in one transaction, one session at a time per schema: a view as planned is left alone, so a
 * refresh that finds nothing changed writes nothing. Privileges the role lacks are one line
 * naming the schema and the grant (UsageError), checked before anything is written.
 */
export async function refreshViews(warehouse: WarehouseCompanies, request: Omit<ViewsRequest, 'forSql'>): Promise<ViewsOutcome> {
  return withPlan(warehouse, { ...request, forSql: false }, async (client, plan) => {
    for (const statement of plan.statements) await client.query(statement);
    return outcomeOf(warehouse, request, plan);
  });
}

/**
 * `views --sql`: the transaction `refreshViews` would run in this database, as a script for psql
 * (its statements, in its order, between its BEGIN and COMMIT), read with nothing but the catalog
 * and written nowhere. Whoever runs it owns the views: the connected role's rights are not checked.
 */
export async function viewsScript(warehouse: WarehouseCompanies, request: Omit<ViewsRequest, 'forSql'>): Promise<string> {
  return withPlan(warehouse, { ...request, forSql: true }, (_client, plan) => {
    const outcome = outcomeOf(warehouse, request, plan);
    return [
      `-- ${summaryOf(outcome)}`,
      `-- run in database ${warehouse.connection.database} (psql -v ON_ERROR_STOP=1 -f FILE) as the role that is to own the views: it needs CREATE on the schema (on the database while the schema does not exist), USAGE and SELECT on the companies' schemas and tables, and to own the views it replaces or drops`,
      ...[...outcome.notes, ...staleLines(outcome.stale, outcome.file)].map((line) => `-- ${line}`),
      ...[...viewsPrelude(request.schema), ...plan.statements, 'COMMIT'].map((statement) => `${statement};`),
    ].join('\n');
  });
}

/** The names of the companies a refresh was over, in file order. */
export const namesOf = (outcome: Pick<ViewsOutcome, 'companies'>): string[] => outcome.companies.map((c) => c.name);

/** The first line of a refresh's report: where, over which companies, and what changed. */
function summaryOf(outcome: ViewsOutcome): string {
  const count = (change: PlannedView['change']) => outcome.views.filter((v) => v.change === change).length;
  return `views in schema ${outcome.schema} at ${outcome.where}, over ${plural(outcome.companies.length, 'company')} (${namesOf(outcome).join(', ')}): ${count('created')} created, ${count('replaced')} replaced, ${count('unchanged')} unchanged`;
}

/** What became of this file's views (or the target schema's, `file`) in other schemas: one line for those left or dropped, one per view kept and why. */
export function staleLines(stale: readonly StaleView[], file?: string): string[] {
  const whose = file !== undefined && isTargetSchema(file) ? `the views for ${file}` : "this companies file's views";
  const names = (action: StaleView['action']) =>
    stale
      .filter((v) => v.action === action)
      .map((v) => v.view)
      .join(', ');
  return [
    ...(names('left')
      ? [
          `${whose} in another schema, no longer kept current and left as they were (something may still read them): ${names('left')}; views --drop-stale drops them`,
        ]
      : []),
    ...(names('dropped') ? [`dropped ${whose} in another schema, no longer kept current: ${names('dropped')}`] : []),
    ...stale.filter((v) => v.action === 'kept').map((v) => `kept ${v.view}: ${v.reason ?? ''}`),
  ];
}

/** Past this many, a view's companies are counted, not listed: 40 names on each of 28 views' lines bury what changed. */
const LISTED_COMPANIES = 5;

/**
 * A view's companies (`names`, not empty) in a line: their names when few; when many, counted as
 * all of the refresh's companies (`all`), or all but the few it lacks, named; else their names.
 */
export function viewCompaniesText(names: readonly string[], all: readonly string[]): string {
  if (names.length <= LISTED_COMPANIES) return names.join(', ');
  const taken = new Set(names);
  const lacking = all.filter((name) => !taken.has(name));
  if (lacking.length === 0) return `all ${names.length} companies`;
  return lacking.length <= LISTED_COMPANIES ? `${names.length} companies: all but ${lacking.join(', ')}` : names.join(', ');
}

/** `qbo-pipeline views` on stdout: per database, what each view unions and what was done to it, then the notes. */
export function formatViews(outcome: ViewsOutcome): string {
  const more = [...outcome.notes, ...staleLines(outcome.stale, outcome.file)];
  return [
    summaryOf(outcome),
    '',
    outcome.views.length === 0
      ? 'no view: no company has a stream table yet'
      : formatTable(
          ['view', 'companies', 'change'],
          outcome.views.map((v) => [
            `${outcome.schema}.${v.stream}`,
            v.companies.length === 0 ? '(none any more: no row)' : viewCompaniesText(v.companies, namesOf(outcome)),
            v.change,
          ]),
        ),
    ...(more.length > 0 ? ['', ...more] : []),
  ].join('\n');
}
