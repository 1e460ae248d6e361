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

/** A view made by qbo-pipeline views in another schema of the database (`markedViewsSql`). */
export interface MarkedView {
  readonly schema: string;
  readonly name: string;
  readonly comment: string;
  readonly owner: string;
  readonly owned: boolean;
  /** The schemas of the tables it reads. */
  readonly reads: readonly string[];
  /** What depends on it (`view a.b`, …): while anything does, it is not dropped. */
  readonly dependents: readonly string[];
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
  /** Views made here in the database's other schemas, the file's own among them once `views.schema` changed. */
  readonly elsewhere: readonly MarkedView[];
}

/** One view as it is to be: the companies it unions and whether it must be written. */
export interface PlannedView {
  readonly stream: string;
  readonly companies: readonly string[];
  readonly change: 'created' | 'replaced' | 'unchanged';
  /** Its statements (none when unchanged). */
  readonly statements: readonly string[];
}

/** A view this companies file made in another schema (before its `views.schema` changed): dropped with `dropStale`, else named. */
export interface StaleView {
  /** `<schema>.<stream>`. */
  readonly view: string;
  readonly action: 'dropped' | 'left' | 'kept';
  /** Why it is kept (something depends on it, another role owns it). */
  readonly reason?: string;
}

/** What the plan is for: whose views, and what the caller asked beyond making them. */
export interface ViewsRequest {
  readonly schema: string;
  /** Whom the views are for, recorded in each view's comment: the companies file (`companiesFileIdentity`), or `targetSchemaIdentity` without one. */
  readonly file: string;
  /** Drop this file's views left in other schemas. */
  readonly dropStale?: boolean;
  /** Replace views another companies file made in the schema (this file moved, or seen at another path). */
  readonly takeOver?: boolean;
  /** The statements are for another role to run (`views --sql`): the connected role's rights do not matter. */
  readonly forSql?: boolean;
}

export interface ViewsPlan {
  /** Every statement to run inside the transaction, in order (none when nothing is to change). */
  readonly statements: readonly string[];
  readonly views: readonly PlannedView[];
  readonly stale: readonly StaleView[];
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

/**
 * The mark a view made here carries as its comment: what it unions, a hash of its definition (so
 * an unchanged one is left alone) and, at the end, the companies file it is made for (so another
 * file's views are not replaced back and forth, and this file's views left in another schema are
 * found).
 */
const MARK = 'qbo-pipeline views';
const FILE_MARK = ', for companies file ';
/** What views made without a companies file are for: the one schema the target settings load (`views --target-config`). */
const TARGET_SCHEMA = 'target schema ';
const TARGET_MARK = `, for ${TARGET_SCHEMA}`;

/** The identity (`ViewsRequest.file`) of views made without a companies file, over the target settings' schema. */
export const targetSchemaIdentity = (schema: string): string => `${TARGET_SCHEMA}${schema}`;
/** Whether views are for the target schema (`targetSchemaIdentity`), not for a companies file. */
export const isTargetSchema = (identity: string): boolean => identity.startsWith(TARGET_SCHEMA);
/** Whom views are for, as their comment and the messages say it: a companies file by its path, or the target schema. */
const madeFor = (identity: string) => (isTargetSchema(identity) ? identity : `companies file ${identity}`);

/** What a view's comment says it was made for (`ViewsRequest.file`); undefined for a view made before comments said. */
const fileOf = (comment: string | null): string | undefined => {
  const file = comment?.lastIndexOf(FILE_MARK) ?? -1;
  if (comment && file >= 0) return comment.slice(file + FILE_MARK.length);
  const target = comment?.lastIndexOf(TARGET_MARK) ?? -1;
  return comment && target >= 0 ? comment.slice(target + TARGET_MARK.length - TARGET_SCHEMA.length) : undefined;
};

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

/**
 * The views made here in every schema but $1, as `MarkedView`: the schemas they read (their rule's
 * dependencies) and what depends on them (another view's rule, named as that view; anything else
 * as PostgreSQL describes it), as `DROP VIEW` without CASCADE would find it.
 */
export const markedViewsSql = `SELECT n.nspname AS schema, c.relname AS name, ds.description AS comment,
       pg_get_userbyid(c.relowner) AS owner, pg_has_role(c.relowner, 'USAGE') AS owned,
       ARRAY(SELECT DISTINCT sn.nspname::text FROM pg_rewrite r
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
             JOIN pg_class s ON s.oid = d.refobjid AND s.oid <> c.oid
             JOIN pg_namespace sn ON sn.oid = s.relnamespace
             WHERE r.ev_class = c.oid ORDER BY 1) AS reads,
       ARRAY(SELECT DISTINCT t.what FROM (
               SELECT CASE WHEN d.classid <> 'pg_rewrite'::regclass THEN pg_describe_object(d.classid, d.objid, d.objsubid) ELSE
                        (SELECT CASE k.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || format('%I.%I', kn.nspname, k.relname)
                         FROM pg_rewrite r JOIN pg_class k ON k.oid = r.ev_class JOIN pg_namespace kn ON kn.oid = k.relnamespace
                         WHERE r.oid = d.objid AND k.oid <> c.oid) END AS what
               FROM pg_depend d
               WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid AND d.deptype = 'n') t
             WHERE t.what IS NOT NULL ORDER BY 1) AS dependents
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
WHERE c.relkind = 'v' AND n.nspname <> $1 AND ds.description LIKE '${MARK}: %'
ORDER BY 1, 2`;

const qualified = (schema: string, name: string) => `${escapeIdentifier(schema)}.${escapeIdentifier(name)}`;

/** One session at a time writes a schema's views (the scheduler after each run, a `views` by hand). */
export const viewsLockSql = (schema: string) => `SELECT pg_advisory_xact_lock(hashtext('${MARK}'), hashtext(${escapeLiteral(schema)}))`;

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
 * is dropped and made again; one another companies file made is not replaced (the two files would
 * replace each other's views run after run) unless `takeOver`. This file's views in other schemas
 * (left there when `views.schema` changed) are named, or dropped with `dropStale` when nothing
 * depends on them. Pure: the catalog's facts in, the statements out.
 */
export function planViews(request: ViewsRequest, companies: readonly ViewCompany[], sources: readonly SourceTable[], facts: ViewsSchemaFacts): ViewsPlan {
  const { schema, file } = request;
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
  /** In the order found; a missing right is left out for `forSql`, whose statements another role runs. */
  const problems: Array<{ readonly line: string; readonly right: boolean }> = [];
  const refuse = (line: string) => problems.push({ line, right: false });
  const lacks = (line: string) => problems.push({ line, right: true });
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
    const comment = `${MARK}: ${stream} of ${names.length === 0 ? 'no company' : names.join(', ')} (definition ${hash}); made by qbo-pipeline views, replaced at each change, for ${madeFor(file)}`;
    const change = !existing ? 'created' : existing.comment === comment ? 'unchanged' : 'replaced';
    const sameColumns = existing !== undefined && existing.columns.join(',') === VIEW_COLUMNS.join(',');
    const otherFile = fileOf(existing?.comment ?? null);
    if (change !== 'unchanged' && otherFile !== undefined && otherFile !== file && !request.takeOver)
      refuse(
        isTargetSchema(file) || isTargetSchema(otherFile)
          ? `schema ${schema} holds the views of ${madeFor(otherFile)}: the views of ${madeFor(file)} would replace them; give these views a schema of their own (--schema), or, to hand schema ${schema} over to ${madeFor(file)}, run views with --take-over once`
          : `schema ${schema} holds the views of companies file ${otherFile}: this file (${file}) would replace them and that file's scheduler put them back, run after run; give each file its own views.schema (views: {schema: …}, or --schema), or, if ${otherFile} is this same file moved or seen at another path (a container), run views with --take-over once`,
      );
    if (change !== 'unchanged' && existing && !existing.owned)
      lacks(
        `view ${schema}.${stream} belongs to role ${existing.owner}, and only its owner may replace it: run views as ${existing.owner} (or have it run what views --sql prints), or have it give the view to role ${facts.user} (ALTER VIEW ${name} OWNER TO ${escapeIdentifier(facts.user)})`,
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
          lacks(
            `role ${facts.user} may not read ${table.schema}.${table.stream}, and a view reads its tables with its owner's rights: that needs USAGE on schema ${table.schema} and SELECT on its tables (GRANT USAGE ON SCHEMA ${escapeIdentifier(table.schema)} TO ${escapeIdentifier(facts.user)}; GRANT SELECT ON ALL TABLES IN SCHEMA ${escapeIdentifier(table.schema)} TO ${escapeIdentifier(facts.user)}, and ALTER DEFAULT PRIVILEGES for the tables of streams loaded later)`,
          );
      }
    }
  }
  // Where the views go comes first: without it, no other grant helps.
  const writes = views.some((v) => v.change !== 'unchanged');
  if (writes && !facts.exists && !facts.createSchema)
    problems.unshift({
      line: `schema ${schema} does not exist, and role ${facts.user} may not create it: that needs CREATE on database ${facts.database} (GRANT CREATE ON DATABASE ${escapeIdentifier(facts.database)} TO ${escapeIdentifier(facts.user)}), or have the database's owner create it for the role (CREATE SCHEMA ${escapeIdentifier(schema)} AUTHORIZATION ${escapeIdentifier(facts.user)})`,
      right: true,
    });
  if (writes && facts.exists && facts.createIn === false)
    problems.unshift({
      line: `role ${facts.user} may not create views in schema ${schema}: that needs CREATE on it (GRANT USAGE, CREATE ON SCHEMA ${escapeIdentifier(schema)} TO ${escapeIdentifier(facts.user)})`,
      right: true,
    });
  const stale = staleViews(request, companies, facts);
  return {
    statements: [
      ...(writes && !facts.exists ? [`CREATE SCHEMA ${escapeIdentifier(schema)}`] : []),
      ...views.flatMap((v) => v.statements),
      ...stale.filter((v) => v.action === 'dropped').map((v) => `DROP VIEW ${v.qualified}`),
    ],
    views,
    stale: stale.map(({ view, action, reason }) => (reason === undefined ? { view, action } : { view, action, reason })),
    notes: [...new Set(notes)],
    problem: problems.find((p) => !(request.forSql && p.right))?.line,
  };
}

/**
 * This file's views in the database's other schemas: those whose comment names this file, and
 * those made before comments named a file that read only this file's companies' schemas. With
 * `dropStale`, each is dropped unless something depends on it or (run as this role) another
 * role owns it; without it, each is left and named.
 */
function staleViews(request: ViewsRequest, companies: readonly ViewCompany[], facts: ViewsSchemaFacts): Array<StaleView & { readonly qualified: string }> {
  const schemas = new Set(companies.map((c) => c.schema));
  return facts.elsewhere
    .filter((v) => {
      const made = fileOf(v.comment);
      return made === undefined ? v.reads.length > 0 && v.reads.every((s) => schemas.has(s)) : made === request.file;
    })
    .map((v) => {
      const view = `${v.schema}.${v.name}`;
      const reason =
        v.dependents.length > 0
          ? `${v.dependents.join(', ')} ${v.dependents.length === 1 ? 'depends' : 'depend'} on it: drop or re-point ${v.dependents.length === 1 ? 'that' : 'those'} first, then run views --drop-stale again`
          : !v.owned && !request.forSql
            ? `it belongs to role ${v.owner}, and only its owner may drop it: run views --drop-stale as ${v.owner}`
            : undefined;
      const action = !request.dropStale ? 'left' : reason === undefined ? 'dropped' : 'kept';
      return { view, qualified: qualified(v.schema, v.name), action, ...(action === 'kept' ? { reason } : {}) };
    });
}

/** The tables of a schema ($1) that name its company, among those the role may read (`companyNameSql`). */
export const companyNameTablesSql = `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname IN ('company_info', '_company') AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')`;

/** The company's name in company_info and its realm in _company, each NULL when its table is not among `readable` (`companyNameTablesSql`). */
export function companyNameSql(schema: string, readable: readonly string[]): string {
  const name = readable.includes('company_info') ? `(SELECT payload->>'CompanyName' FROM ${qualified(schema, 'company_info')} ORDER BY id LIMIT 1)` : 'NULL';
  const realm = readable.includes('_company') ? `(SELECT realm_id FROM ${qualified(schema, '_company')})` : 'NULL';
  return `SELECT ${name}::text AS company_name, ${realm}::text AS realm_id`;
}

/**
 * The `company` column of views over one schema loaded without a companies file: the company's
 * name as QBO has it, else its realm, else (nothing loaded yet, or nothing the role may read) the schema.
 */
export function oneCompanyName(row: { readonly company_name: string | null; readonly realm_id: string | null } | undefined, schema: string): string {
  return row?.company_name?.trim() || row?.realm_id || schema;
}
