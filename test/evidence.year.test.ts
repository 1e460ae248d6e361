import { describe, expect, it } from 'vitest';
import {
  EVIDENCE_FILTER_WHERE,
  evidenceFilterParams,
  evidenceNewestDaySql,
  evidenceRunsSql,
  evidenceTotalsSql,
  extractedAtEndsSql,
  instantTextCeiling,
  instantTextFloor,
  newestEvidenceSql,
  newestRunsSinceSql,
  runsOfWindowsSql,
  runsSinceSql,
  Warehouse,
  windowStartEndsSql,
} from '../packages/qbo-pipeline/src/index.js';
import { makeWindow, volumetryRecord } from '../packages/tap-quickbooks/src/index.js';
import { runTargetCli, singer } from './targetHarness.js';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';

const schema = scratchSchema('evidence_year');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STREAMS = ['invoices', 'customers', 'payments'];

/** Tap runs `every` apart from 2025-03-01 (a day of hourly runs by default) as the tap hands them to the target: each stream's `_volumetry` record of the UTC day it ran, and one invoice. */
function hourlyRuns(hours: number, every = HOUR): { lines: string; runIds: string[] } {
  const first = Date.UTC(2025, 2, 1);
  const runIds: string[] = [];
  const messages: object[] = [
    { type: 'SCHEMA', stream: '_volumetry', key_properties: ['id'], schema: { type: 'object', properties: { id: { type: 'string' } } } },
    { type: 'SCHEMA', stream: 'invoices', key_properties: ['Id'], schema: { type: 'object', properties: { Id: { type: 'string' } } } },
  ];
  for (let h = 0; h < hours; h++) {
    const runId = `hour-${String(h).padStart(2, '0')}`;
    runIds.push(runId);
    const at = first + h * every;
    const day = makeWindow(at - (at % DAY), at - (at % DAY) + DAY);
    const evidence = { day, qboCount: 1, extracted: 1, extractedAt: new Date(at).toISOString(), span: makeWindow(at, at + HOUR), spanQboCount: 1, spans: 1 };
    const cost = { pages: 1, requests: 2, retries: 0, rereads: 0, durationMs: 90 };
    for (const stream of STREAMS) messages.push({ type: 'RECORD', stream: '_volumetry', record: volumetryRecord(runId, stream, { ...evidence, ...cost }) });
    messages.push({
      type: 'RECORD',
      stream: 'invoices',
      record: { Id: String(h), MetaData: { LastUpdatedTime: new Date(at).toISOString() }, _sdc_run_id: runId, _sdc_extract_window_start_utc: day.start },
    });
  }
  return { lines: singer(...messages, { type: 'STATE', value: { done: true } }), runIds };
}

/** Every node of a JSON plan, depth first. */
const nodes = (plan: Record<string, unknown>): Array<Record<string, unknown>> => [
  plan,
  ...((plan.Plans as Array<Record<string, unknown>> | undefined) ?? []).flatMap(nodes),
];

/**
 * How a query reads `_volumetry` and `_load_stats`, told without a clock: its plan's nodes on the table, sequential
 * scans made dear. A node that reads the whole table (a sequential scan, or an index walked end to
 * end with no condition on it) is `whole <type>`.
 */
async function evidenceReads(sql: string, params: unknown[]): Promise<string[]> {
  const plan = await withClient(async (client) => {
    await client.query('SET enable_seqscan = off');
    const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return explained.rows[0]!['QUERY PLAN'][0]!.Plan;
  });
  return nodes(plan)
    .filter((n) => n['Relation Name'] === '_volumetry' || n['Relation Name'] === '_load_stats')
    .map((n) => {
      const type = `${String(n['Node Type'])} on ${String(n['Relation Name'])}`;
      return n['Index Cond'] === undefined && n['Recheck Cond'] === undefined ? `whole ${type}` : type;
    });
}

describe('the evidence of a year of hourly runs', () => {
  it("reads one run's totals from that run's rows, never every run's volumetry (which a year of hourly syncs makes ~90,000 rows)", async () => {
    const { lines, runIds } = hourlyRuns(24);
    const loaded = await runTargetCli({ database_url: databaseUrl(), schema }, lines);
    expect(loaded.code).toBe(0);
    const warehouse = await Warehouse.open({ connectionString: databaseUrl() }, schema);
    try {
      expect(await warehouse.ensureEvidenceView()).toBe(true);
      const one = runIds[7]!;
      expect((await warehouse.totals([one])).map((t) => [t.stream, t.extracted, t.loaded])).toEqual([
        ['customers', 1, 0],
        ['invoices', 1, 1],
        ['payments', 1, 0],
      ]);
    } finally {
      await warehouse.close();
    }
    // Whether the plan can reach a run's rows without reading all of them.
    const reads = await evidenceReads(evidenceTotalsSql(schema), [[runIds[7]]]);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((r) => r.startsWith('whole'))).toEqual([]);
  });

  it("finds a run's tap runs and the console's newest runs from the newest extractions, never every run's volumetry", async () => {
    const spread = scratchSchema('evidence_year_runs');
    // 24 runs 20 hours apart: 20 days, so the newest ten are found by reading further back than the last two days.
    const { lines, runIds } = hourlyRuns(24, 20 * HOUR);
    expect((await runTargetCli({ database_url: databaseUrl(), schema: spread }, lines)).code).toBe(0);
    const warehouse = await Warehouse.open({ connectionString: databaseUrl() }, spread);
    try {
      expect(await warehouse.ensureEvidenceView()).toBe(true);
      const newestTen = runIds.slice(-10).reverse();
      expect((await warehouse.evidenceRuns(10)).map((r) => r.runId)).toEqual(newestTen);
      expect((await warehouse.evidenceRuns(100)).map((r) => r.runId)).toEqual([...runIds].reverse());
      const since = new Date(Date.UTC(2025, 2, 1) + 20 * 20 * HOUR);
      expect(await warehouse.runsSince(since, STREAMS)).toEqual(runIds.slice(20));
      // The console's evidence page: the newest day (run 23, 460 hours in), then a range of days, each day's newest run.
      expect(await warehouse.newestEvidenceDay({})).toBe('2025-03-20');
      expect(await warehouse.newestEvidenceDay({ streams: ['invoices'], to: '2025-03-10' })).toBe('2025-03-10');
      const days = await warehouse.filteredEvidence({ streams: ['invoices'], from: '2025-03-10', to: '2025-03-12' });
      // Runs 11 (220 h: 03-10 04:00), 12 (03-11 00:00), 13 (03-11 20:00), 14 (03-12 16:00).
      expect(days.map((d) => [d.day, d.runId, d.runs])).toEqual([
        ['2025-03-10', 'hour-11', 1],
        ['2025-03-11', 'hour-13', 2],
        ['2025-03-12', 'hour-14', 1],
      ]);
      expect(await warehouse.filteredEvidence({ from: '2025-04-01', to: '2025-04-30' })).toEqual([]);
    } finally {
      await warehouse.close();
    }
    const since = new Date(Date.UTC(2025, 2, 17));
    for (const [sql, params] of [
      [runsSinceSql(spread), [since.toISOString(), STREAMS, instantTextFloor(since)]],
      [extractedAtEndsSql(spread), []],
      [newestRunsSinceSql(spread), [instantTextFloor(since), 10]],
      [evidenceRunsSql(spread), [runIds.slice(-10)]],
      [windowStartEndsSql(spread), []],
      [runsOfWindowsSql(spread), [instantTextFloor(since), instantTextCeiling(since.getTime() + 3 * DAY), since, new Date(since.getTime() + 3 * DAY)]],
      [evidenceNewestDaySql(spread), evidenceFilterParams({ runIds: runIds.slice(-3) })],
      [newestEvidenceSql(spread, { where: EVIDENCE_FILTER_WHERE }), evidenceFilterParams({ runIds: runIds.slice(-3), from: '2025-03-17', to: '2025-03-19' })],
    ] as const) {
      const reads = await evidenceReads(sql, [...params]);
      expect(reads.length, sql).toBeGreaterThan(0);
      expect(
        reads.filter((r) => r.startsWith('whole')),
        sql,
      ).toEqual([]);
    }
  });
});
