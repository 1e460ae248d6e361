import { CliError, EXIT, plural } from 'singer-kit';
import type { TargetSettings } from 'target-postgres-raw';
import { formatTable } from '../formatTable.js';
import { Warehouse, type NewestEvidence } from '../Warehouse.js';

/**
 * A schema whose evidence is read: a company of the companies file (its schema known from the
 * file), or without one the target settings' schema, named `default` as the console names it.
 */
export interface EvidenceSource {
  readonly company: { readonly name: string };
  readonly schema: string | undefined;
  /** Its target's settings, as its runs' target would connect (throws when they are wrong). */
  readonly target: () => TargetSettings;
}

/**
 * One company's evidence per stream and UTC day; or that it has none yet (never loaded: not a
 * problem); or why it could not be read (its settings, its warehouse), an error with its exit code.
 */
export type CompanyEvidence =
  | { readonly company: { readonly name: string }; readonly rows: readonly NewestEvidence[] }
  | { readonly company: { readonly name: string }; readonly noneYet: string }
  | { readonly company: { readonly name: string }; readonly unreadable: string; readonly exitCode: number };

export const isUnreadable = (e: CompanyEvidence): e is Extract<CompanyEvidence, { unreadable: string }> => 'unreadable' in e;

/**
 * Each source's evidence from its own schema (in its own warehouse, as its target would connect),
 * per stream and UTC day in `[from, to)`: the newest run's counts and how many runs read the day.
 * A company never loaded says so; one that cannot be read (its settings, its warehouse) says why,
 * and the others are read.
 */
export async function readCompaniesEvidence(options: {
  readonly sources: readonly EvidenceSource[];
  readonly from: string;
  readonly to: string;
  readonly streams: readonly string[] | null;
}): Promise<CompanyEvidence[]> {
  const out: CompanyEvidence[] = [];
  for (const { company, ...source } of options.sources) {
    let warehouse: Warehouse | undefined;
    let schema = source.schema;
    try {
      const target = source.target();
      schema = target.schema;
      warehouse = await Warehouse.connect(target.connection, schema);
      if (!(await warehouse.ensureEvidenceView())) {
        out.push({ company, noneYet: `no evidence yet: schema ${schema} has no _volumetry and _load_stats (nothing has been loaded into it)` });
        continue;
      }
      out.push({ company, rows: await warehouse.newestEvidence(options.from, options.to, options.streams) });
    } catch (error) {
      out.push({
        company,
        unreadable: `cannot read ${schema === undefined ? 'the evidence' : `schema ${schema}`}: ${(error as Error).message}`,
        exitCode: error instanceof CliError ? error.exitCode : EXIT.runFailed,
      });
    } finally {
      await warehouse?.close().catch(() => undefined);
    }
  }
  return out;
}

/**
 * `qbo-pipeline evidence` on stdout: one table over the companies read, then the days that do not
 * add up and the companies without evidence yet. Those that could not be read are only counted
 * here: their errors are for stderr, so a "no day where extracted ≠ loaded" never hides them.
 * Without a companies file, `oneSchema` names the target settings' schema read: the same, without
 * a company the user never named (no company column, the schema said instead).
 */
export function formatCompaniesEvidence(
  evidence: readonly CompanyEvidence[],
  range: { readonly from: string; readonly to: string },
  onlyProblems: boolean,
  oneSchema?: string,
): string {
  const byCompany = oneSchema === undefined;
  const rows = evidence.flatMap((e) => ('rows' in e ? e.rows.map((r) => ({ company: e.company, ...r })) : []));
  const problems = rows.filter((r) => !r.extractedEqualsLoaded);
  const shown = onlyProblems ? problems : rows;
  const unreadable = evidence.filter(isUnreadable).length;
  const noneRead = byCompany ? 'no company could be read' : `schema ${oneSchema} could not be read (the error says why)`;
  const lines = [
    byCompany
      ? `evidence of ${plural(evidence.length, 'company')}, UTC days [${range.from}, ${range.to}): newest run per company, stream and day`
      : `evidence of schema ${oneSchema}, UTC days [${range.from}, ${range.to}): newest run per stream and day`,
    '',
  ];
  lines.push(
    shown.length === 0
      ? unreadable === evidence.length
        ? noneRead
        : onlyProblems
          ? 'no day where extracted ≠ loaded'
          : 'no evidence in this range'
      : formatTable(
          [
            ...(byCompany ? ['company'] : []),
            'stream',
            'day (UTC)',
            'qbo count',
            'extracted',
            'loaded',
            'inserted',
            'updated',
            'unchanged',
            'deleted',
            'runs',
            'extracted = loaded',
          ],
          shown.map((r) => [
            ...(byCompany ? [r.company.name] : []),
            r.stream,
            r.day,
            r.qboCount,
            r.extracted,
            r.loaded,
            r.inserted,
            r.updated,
            r.unchanged,
            r.deleted,
            r.runs,
            r.extractedEqualsLoaded,
          ]),
        ),
  );
  const problemCompanies = byCompany && problems.length > 0 ? ` (${[...new Set(problems.map((p) => p.company.name))].join(', ')})` : '';
  lines.push(
    '',
    `${plural(rows.length, byCompany ? 'company-stream-day' : 'stream-day')}, ${problems.length} where extracted ≠ loaded${problemCompanies}` +
      (byCompany && unreadable > 0 ? `; ${unreadable} of ${evidence.length} companies could not be read (the errors say why)` : ''),
  );
  for (const e of evidence) if ('noneYet' in e) lines.push(byCompany ? `${e.company.name}: ${e.noneYet}` : e.noneYet);
  return lines.join('\n');
}
