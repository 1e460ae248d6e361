import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ENTITIES } from 'qbo-catalog';
import { databaseUrl } from './support/db.js';
import { suiteFirm } from './companiesHarness.js';
import { diffWithTruth } from './pipelineHarness.js';

/**
 * One scheduler, ten companies, every stream: each table equals its company's truth, a company
 * whose refresh token was revoked fails alone with its invalid_grant line, the nine others
 * complete, and no more than the limit run at once. (`npm test` size; the full-size run is in the
 * issue note: 10 companies × all streams × 30 days.)
 */
const START = '2025-02-27T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const NAMES = Array.from({ length: 10 }, (_, i) => `client-${String(i + 1).padStart(2, '0')}`);
const REVOKED = 'client-07';
const STREAMS = ENTITIES.map((e) => e.stream);
const prefix = `sch_${Math.random().toString(16).slice(2, 8)}`;
// Every stream small (company_info is one record, as in QBO).
const counts = Object.fromEntries(STREAMS.filter((s) => s !== 'company_info').map((s) => [s, 6]));

const firm = suiteFirm({
  names: NAMES,
  seed: 100,
  now: new Date(END),
  days: 2,
  counts: { ...counts, invoices: 40, customers: 12 },
});
beforeAll(() => firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, extra: 'scheduler:\n  max_parallel: 3' })));

/** The largest number of runs (from the companies' runs journals) that were going on at one instant. */
function maxOverlap(intervals: ReadonlyArray<readonly [number, number]>): number {
  const edges = intervals.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (now += d));
  return max;
}

describe('one scheduler for ten companies', () => {
  it(
    "runs every company's due work, at most max_parallel at once; a revoked company fails alone and the nine others are exact",
    { timeout: 600_000 },
    async () => {
      const due = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const added = await firm.cli(['trigger', 'add', '--companies', 'companies.yaml', '--at', due, '--start', START, '--end', END]);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout.trim().split('\n')).toHaveLength(10);
      firm.company(REVOKED).revokeTokens();

      const run = await firm.cli(['scheduler', '--companies', 'companies.yaml', '--once']);
      expect(run.code, run.stderr.slice(-3000)).toBe(2);
      expect(run.stdout).toMatch(/10 companies: 9 ok, 1 failed/);
      expect(run.stdout).toMatch(
        new RegExp(`${REVOKED}: fix this first, then run again: tap-quickbooks: QuickBooks rejected the refresh token \\(invalid_grant`),
      );
      // Its summary says what runs it again once fixed: not the scheduler, which never runs a trigger twice (below).
      expect(run.stdout).toMatch(
        /then run the job again, by hand or with a new trigger \(trigger trg-\S+ ran once and does not run again\): it resumes from the state file/,
      );
      expect(run.stdout).not.toContain('then run the same command again');
      // Nothing of the revoked company was committed, so no line says so (company_info, read whole on every run, once did).
      expect(run.stderr).not.toMatch(new RegExp(`qbo-pipeline: ${REVOKED}: \\w+: all .* committed`));
      expect(run.stderr).toMatch(/qbo-pipeline: client-01: invoices: all 2 days committed/);
      expect(run.stderr).toMatch(/scheduler for 10 companies of companies.yaml: up to 3 runs at once/);

      for (const name of NAMES.filter((n) => n !== REVOKED)) {
        const schema = `${prefix}_${name.replace(/-/g, '_')}`;
        for (const stream of STREAMS) {
          const diff = await diffWithTruth(databaseUrl(), schema, firm.company(name), stream, START, END);
          expect({ name, stream, missing: diff.missing.length, extra: diff.extra.length, different: diff.different.length, rows: diff.rows }).toEqual({
            name,
            stream,
            missing: 0,
            extra: 0,
            different: 0,
            rows: diff.expected,
          });
        }
      }
      const intervals: Array<[number, number]> = [];
      for (const name of NAMES) {
        const folder = path.join(firm.dir, 'state/companies', name);
        const [trigger] = readdirSync(path.join(folder, 'triggers'))
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(path.join(folder, 'triggers', f), 'utf8')));
        expect(trigger).toMatchObject({ status: name === REVOKED ? 'failed' : 'completed', enabled: false });
        if (name === REVOKED) expect(trigger.result).toMatchObject({ exitCode: 2, fix: expect.stringContaining('invalid_grant') });
        const runs = readdirSync(path.join(folder, 'runs'))
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(path.join(folder, 'runs', f), 'utf8')));
        expect(runs).toHaveLength(1);
        expect(runs[0]).toMatchObject({ company: name, job: 'qb_company', triggerId: trigger.id });
        intervals.push([Date.parse(runs[0].startedAt), Date.parse(runs[0].finishedAt)]);
      }
      const overlap = maxOverlap(intervals);
      expect(overlap).toBeLessThanOrEqual(3);
      expect(overlap).toBeGreaterThan(1);

      // Nothing is left to do: every trigger ran once.
      const again = await firm.cli(['scheduler', '--companies', 'companies.yaml', '--once']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe('');
    },
  );
});
