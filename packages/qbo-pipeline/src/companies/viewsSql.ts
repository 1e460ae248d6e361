import { createHash } from 'node:crypto';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { STREAM_TABLE_COLUMN_TYPES, STREAM_TABLE_COLUMNS } from 'target-postgres-raw';
import { KNOWN_STREAMS } from './companiesSchema.js';

/** A company whose tables the views take: its name in the companies file and its schema. */
export interface ViewCompany {
  readonly name: string;
  readonly schema: string;
}

/** A stream table found in a company's schema (`viewsSourcesSql`), and whether the role may read it. */
export interface SourceTable {
  readonly schema: string;
  readonly stream: string;
  readonly columns: readonly string[];
  /** USAGE on its schema and SELECT on it: a view's owner needs both for the view to be read. */
  readonly usage: boolean;
  readonly select: boolean;
}

/** A relation already in the views' schema under a stream's name (`viewsSchemaSql`). */
interface ViewsRelation {
  readonly name: string;
  /** pg_class.relkind: `v` for a view. */
  readonly kind: string;
  readonly comment: string | null;
  readonly owner: string;
  /** The role may replace it: it owns it (or is a member of its owner). */
  readonly owned: boolean;
  readonly columns: readonly string[];
}

/** The views' schema as the catalog shows it to the role (`viewsSchemaSql`). */
export interface ViewsSchemaFacts {
  readonly user: string;
  readonly database: string;
  readonly exists: boolean;
  /** CREATE on the database: the role may create the schema. */
  readonly createSchema: boolean;
  /** CREATE on the schema (null when it does not exist): the role may create views in it. */
  readonly createIn: boolean | null;
  /** It holds a `_company` table: a company's schema, not one for views. */
  readonly holdsCompany: boolean;
  readonly relations: readonly ViewsRelation[];
}

/** One view as it is to be: the companies it unions and whether it must be written. */
export interface PlannedView {
  readonly stream: string;
  readonly companies: readonly string[];
  readonly change: 'created' | 'replaced' | 'unchanged';
  /** Its statements (none when unchanged). */
  readonly statements: readonly string[];
}

export interface ViewsPlan {
  readonly createSchema: string | undefined;
  readonly views: readonly PlannedView[];
  /** Companies with no stream table yet (not loaded), and tables left out (not the target's). */
  readonly notes: readonly string[];
  /** Why the role cannot write the plan (a privilege, a relation in the way): one line; undefined when it can. */
  readonly problem: string | undefined;
}

/** What the views add in front of every stream table column. */
const COMPANY_COLUMNS = ['company', 'company_schema'] as const;
/**
 * The stream table's columns a view carries, named one by one: the company's `realm_id` first,
 * then the others in the table's order, all but `payload_sha256`, the target's own bookkeeping
 * (emptied when another writer changes a payload).
 */
const TABLE_COLUMNS = [
  ...STREAM_TABLE_COLUMN_TYPES.filter(([name]) => name === 'realm_id'),
  ...STREAM_TABLE_COLUMN_TYPES.filter(([name]) => name !== 'realm_id' && name !== 'payload_sha256'),
];
/** Every column of a view, in its order. */
const VIEW_COLUMNS: readonly string[] = [...COMPANY_COLUMNS, ...TABLE_COLUMNS.map(([name]) => name)];

/** The mark a view made here carries as its comment: what it unions and a hash of its definition, so an unchanged one is left alone. */
const MARK = 'qbo-pipeline views';

/**
 * The stream tables of some schemas, with their columns and whether the role may read them. From
 * pg_catalog, which shows every relation whatever the role's rights (information_schema only
 * those it has a right on).
 */
export const viewsSourcesSql = `SELECT n.nspname AS schema, c.relname AS stream,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns,
       has_schema_privilege(n.oid, 'USAGE') AS usage, has_table_privilege(c.oid, 'SELECT') AS select
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = ANY($1::text[]) AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')
GROUP BY n.nspname, n.oid, c.relname, c.oid`;

/** The views' schema ($1) and its relations named after a stream ($2), as `ViewsSchemaFacts`. */
export const viewsSchemaSql = `SELECT current_user AS user, current_database() AS database, n.oid IS NOT NULL AS exists,
       has_database_privilege(current_database(), 'CREATE') AS create_schema,
       CASE WHEN n.oid IS NOT NULL THEN has_schema_privilege(n.oid, 'CREATE') END AS create_in,
       EXISTS (SELECT 1 FROM pg_class k WHERE k.relnamespace = n.oid AND k.relname = '_company') AS holds_company,
       coalesce((SELECT json_agg(json_build_object(
                  'name', c.relname, 'kind', c.relkind, 'comment', obj_description(c.oid, 'pg_class'),
                  'owner', pg_get_userbyid(c.relowner), 'owned', pg_has_role(c.relowner, 'USAGE'),
                  'columns', (SELECT coalesce(json_agg(a.attname ORDER BY a.attnum), '[]') FROM pg_attribute a
                              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)))
                 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = ANY($2::text[])), '[]') AS relations
FROM (SELECT $1::text AS name) s
LEFT JOIN pg_namespace n ON n.nspname = s.name`;

/** One session at a time writes a schema's views (the scheduler after each run, a `views` by hand). */
export const viewsLockSql = `SELECT pg_advisory_xact_lock(hashtext('qbo-pipeline views'), hashtext($1))`;

const qualified = (schema: string, name: string) => `${escapeIdentifier(schema)}.${escapeIdentifier(name)}`;

/** A SELECT of one company's table, every column named (a missing one as a typed NULL), or of no row when no company has the stream. */
function selectOf(source: { readonly company: ViewCompany; readonly table: SourceTable } | undefined): string {
  const columns = TABLE_COLUMNS.map(([name, type]) =>
    source && source.table.columns.includes(name) ? escapeIdentifier(name) : `NULL::${type} AS ${escapeIdentifier(name)}`,
  );
  if (!source) return `SELECT NULL::text AS company, NULL::text AS company_schema, ${columns.join(', ')} WHERE false`;
  const { company, table } = source;
  return `SELECT ${escapeLiteral(company.name)}::text AS company, ${escapeLiteral(company.schema)}::text AS company_schema, ${columns.join(', ')} FROM ${qualified(table.schema, table.stream)}`;
}

/**
 * What to do to make `<schema>.<stream>` views over the companies' stream tables: one view per
 * stream any of them has (and per stream whose view is already there, kept with no row when no
 * company has it any more, so what is built on it keeps working), each a UNION ALL of the
 * companies' tables in company order, every column named. A view whose comment says it is as
 * planned is left alone; one with other columns (made by hand, or by an earlier page of the docs)
 * is dropped and made again. Pure: the catalog's facts in, the statements out.
 */
export function planViews(schema: string, companies: readonly ViewCompany[], sources: readonly SourceTable[], facts: ViewsSchemaFacts): ViewsPlan {
  const notes: string[] = [];
  const ordered = [...companies].sort((a, b) => a.name.localeCompare(b.name));
  for (const company of ordered) {
    if (!sources.some((s) => s.schema === company.schema))
      notes.push(`${company.name}: schema ${company.schema} has no stream table yet (not loaded): it joins the views after its first load`);
  }
  const usable = (table: SourceTable) => {
    const missing = STREAM_TABLE_COLUMNS.find((c) => !table.columns.includes(c));
    if (missing !== undefined) notes.push(`${table.schema}.${table.stream}: left out, not a table of target-postgres-raw (no column ${missing})`);
    return missing === undefined;
  };
  const views: PlannedView[] = [];
  const problems: string[] = [];
  const refuse = (line: string) => problems.push(line);
  if (facts.holdsCompany) refuse(`schema ${schema} holds a company's tables (it has _company): the views need a schema of their own, e.g. qbo_all`);
  for (const stream of KNOWN_STREAMS) {
    const existing = facts.relations.find((r) => r.name === stream);
    const parts = ordered.flatMap((company) => {
      const table = sources.find((s) => s.schema === company.schema && s.stream === stream);
      return table && usable(table) ? [{ company, table }] : [];
    });
    if (parts.length === 0 && !existing) continue;
    const name = qualified(schema, stream);
    if (existing && existing.kind !== 'v')
      refuse(
        `${schema}.${stream} is not a view (relkind ${existing.kind}): the views need a schema where nothing else is named after a stream; give another --schema`,
      );
    const body = parts.length === 0 ? selectOf(undefined) : parts.map((p) => selectOf(p)).join('\nUNION ALL\n');
    const names = parts.map((p) => p.company.name);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    const comment = `${MARK}: ${stream} of ${names.length === 0 ? 'no company' : names.join(', ')} (definition ${hash}); made by qbo-pipeline views, replaced at each change`;
    const change = !existing ? 'created' : existing.comment === comment ? 'unchanged' : 'replaced';
    const sameColumns = existing !== undefined && existing.columns.join(',') === VIEW_COLUMNS.join(',');
    if (change !== 'unchanged' && existing && !existing.owned)
      refuse(
        `view ${schema}.${stream} belongs to role ${existing.owner}, and only its owner may replace it: run views as ${existing.owner}, or have it give the view to role ${facts.user} (ALTER VIEW ${name} OWNER TO ${escapeIdentifier(facts.user)})`,
      );
    views.push({
      stream,
      companies: names,
      change,
      statements:
        change === 'unchanged'
          ? []
          : [
              ...(existing && !sameColumns ? [`DROP VIEW ${name}`] : []),
              `CREATE OR REPLACE VIEW ${name} AS\n${body}`,
              `COMMENT ON VIEW ${name} IS ${escapeLiteral(comment)}`,
            ],
    });
    if (change !== 'unchanged') {
      for (const { table } of parts) {
        if (!table.usage || !table.select)
          refuse(
            `role ${facts.user} may not read ${table.schema}.${table.stream}, and a view reads its tables with its owner's rights: that needs USAGE on schema ${table.schema} and SELECT on its tables (GRANT USAGE ON SCHEMA ${escapeIdentifier(table.schema)} TO ${escapeIdentifier(facts.user)}; GRANT SELECT ON ALL TABLES IN SCHEMA ${escapeIdentifier(table.schema)} TO ${escapeIdentifier(facts.user)}, and ALTER DEFAULT PRIVILEGES for the tables of streams loaded later)`,
          );
      }
    }
  }
  // Where the views go comes first: without it, no other grant helps.
  const writes = views.some((v) => v.change !== 'unchanged');
  if (writes && !facts.exists && !facts.createSchema)
    problems.unshift(
      `schema ${schema} does not exist, and role ${facts.user} may not create it: that needs CREATE on database ${facts.database} (GRANT CREATE ON DATABASE ${escapeIdentifier(facts.database)} TO ${escapeIdentifier(facts.user)}), or have the database's owner create it for the role (CREATE SCHEMA ${escapeIdentifier(schema)} AUTHORIZATION ${escapeIdentifier(facts.user)})`,
    );
  if (writes && facts.exists && facts.createIn === false)
    problems.unshift(
      `role ${facts.user} may not create views in schema ${schema}: that needs CREATE on it (GRANT USAGE, CREATE ON SCHEMA ${escapeIdentifier(schema)} TO ${escapeIdentifier(facts.user)})`,
    );
  return {
    createSchema: writes && !facts.exists ? `CREATE SCHEMA ${escapeIdentifier(schema)}` : undefined,
    views,
    notes: [...new Set(notes)],
    problem: problems[0],
  };
}
