import path from 'node:path';
import type pg from 'pg';
import { CliError, RunError, UsageError } from 'singer-kit';
import { connectClient, type ConnectionSettings } from 'target-postgres-raw';
import { runTargetSettings } from '../checkBackfill.js';
import { formatTable } from '../formatTable.js';
import { companyStateDir } from './companyRun.js';
import { KNOWN_STREAMS } from './companiesSchema.js';
import type { Company } from './parseCompanies.js';
import {
  planViews,
  viewsLockSql,
  viewsSchemaSql,
  viewsSourcesSql,
  type PlannedView,
  type SourceTable,
  type ViewCompany,
  type ViewsSchemaFacts,
} from './viewsSql.js';

/** A lock (an analyst's long query on a view, a load adding a column) held longer than this fails the refresh instead of queueing every reader behind it. */
const LOCK_TIMEOUT_MS = 10_000;

/** The companies of one database: their views are made there, connected with the first one's settings. */
export interface WarehouseCompanies {
  /** `host:port/database`, for messages (never a password). */
  readonly where: string;
  readonly connection: ConnectionSettings;
  readonly companies: readonly Company[];
}

/** What a refresh did in one database. */
export interface ViewsOutcome {
  readonly where: string;
  readonly schema: string;
  readonly companies: readonly Company[];
  readonly views: readonly PlannedView[];
  readonly notes: readonly string[];
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
    const where = `${connection.host}:${connection.port}/${connection.database}`;
    const group = groups.get(where) ?? { connection, companies: [] };
    group.companies.push(company);
    groups.set(where, group);
  }
  return [...groups].map(([where, g]) => ({ where, connection: g.connection, companies: g.companies }));
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

/**
 * Makes `<schema>.<stream>` views over the companies' stream tables in one database (`planViews`),
 * in one transaction, one session at a time per schema: a view as planned is left alone, so a
 * refresh that finds nothing changed writes nothing. Privileges the role lacks are one line
 * naming the schema and the grant (UsageError), checked before anything is written.
 */
export async function refreshViews(warehouse: WarehouseCompanies, schema: string): Promise<ViewsOutcome> {
  let client: pg.Client | undefined;
  try {
    client = await connectClient(warehouse.connection, 'qbo-pipeline views');
    client.on('error', () => undefined); // a dropped connection surfaces on the next query
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`);
    await client.query(viewsLockSql, [schema]);
    const { sources, facts } = await readFacts(client, schema, warehouse.companies);
    const plan = planViews(schema, warehouse.companies, sources, facts);
    if (plan.problem !== undefined) throw new UsageError(`views in schema ${schema} at ${warehouse.where}: ${plan.problem}`);
    if (plan.createSchema !== undefined) await client.query(plan.createSchema);
    for (const view of plan.views) for (const statement of view.statements) await client.query(statement);
    await client.query('COMMIT');
    return { where: warehouse.where, schema, companies: warehouse.companies, views: plan.views, notes: plan.notes };
  } catch (error) {
    await client?.query('ROLLBACK').catch(() => undefined);
    throw refreshError(error, schema, warehouse.where);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** `qbo-pipeline views` on stdout: per database, what each view unions and what was done to it, then the notes. */
export function formatViews(outcome: ViewsOutcome): string {
  const count = (change: PlannedView['change']) => outcome.views.filter((v) => v.change === change).length;
  return [
    `views in schema ${outcome.schema} at ${outcome.where}, over ${outcome.companies.length} ${outcome.companies.length === 1 ? 'company' : 'companies'} (${outcome.companies.map((c) => c.name).join(', ')}): ${count('created')} created, ${count('replaced')} replaced, ${count('unchanged')} unchanged`,
    '',
    outcome.views.length === 0
      ? 'no view: no company has a stream table yet'
      : formatTable(
          ['view', 'companies', 'change'],
          outcome.views.map((v) => [`${outcome.schema}.${v.stream}`, v.companies.length === 0 ? '(none any more: no row)' : v.companies.join(', '), v.change]),
        ),
    ...(outcome.notes.length > 0 ? ['', ...outcome.notes] : []),
  ].join('\n');
}
