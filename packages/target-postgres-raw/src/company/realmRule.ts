import { plural, UsageError } from 'singer-kit';

/**
 * One company (QBO realm) per schema (PLAN contract 2). QBO Ids are per company, so two companies
 * in one table would overwrite or hide each other's rows. A schema's company is recorded in
 * `<schema>._company` when it is first loaded (or, for a schema loaded before the rule, taken from
 * its rows); a record of another realm is refused before anything of its batch is committed.
 * Records without `_sdc_realm_id` (other taps) are not checked.
 */

/** Where a realm was first seen in a batch, for the error message. */
export interface RealmSighting {
  readonly realm: string;
  readonly stream: string;
  readonly id: string;
  readonly line: number;
}

const HOW_TO =
  "load each company into its own schema: set the target setting schema (TARGET_POSTGRES_RAW_SCHEMA), or the company's schema: in the companies file";

const seen = (s: RealmSighting) => `line ${s.line}: stream ${JSON.stringify(s.stream)} record id ${JSON.stringify(s.id)} is of company (realm) ${s.realm}`;

/**
 * The realm the batch's records belong to, or undefined when none carries one. Several realms in
 * one batch, or a realm other than `owner` (the schema's), is a UsageError (exit 2).
 */
export function checkBatchRealms(realms: ReadonlyMap<string, RealmSighting>, owner: string | null, schema: string): string | undefined {
  const sightings = [...realms.values()];
  const foreign = owner === null ? sightings[1] : sightings.find((s) => s.realm !== owner);
  if (foreign) {
    const ownerText = owner ?? (sightings[0] as RealmSighting).realm;
    const whose =
      owner === null
        ? `the same input also has company (realm) ${ownerText} (${seen(sightings[0] as RealmSighting)})`
        : `schema ${JSON.stringify(schema)} holds company (realm) ${owner} (recorded in ${schema}._company)`;
    return refuse(`${seen(foreign)}, but ${whose}; one schema holds one company, so nothing of this batch was written; ${HOW_TO}`);
  }
  return sightings[0]?.realm;
}

/** A schema loaded before the rule that already holds several companies' rows. */
export function severalRealmsError(
  schema: string,
  realms: ReadonlyArray<{ readonly realm: string; readonly rows: number; readonly tables: readonly string[] }>,
): UsageError {
  const list = realms.map((r) => `${r.realm} (${plural(r.rows, 'row')} in ${r.tables.join(', ')})`).join(', ');
  return new UsageError(
    `schema ${JSON.stringify(schema)} already holds rows of ${realms.length} companies (realms ${list}); one schema holds one company: move each company's rows to a schema of its own, or load into a new schema; ${HOW_TO}`,
  );
}

function refuse(message: string): never {
  throw new UsageError(message);
}
