import { describe, expect, it } from 'vitest';
import { createPipelineRunsSql, Warehouse } from '../packages/qbo-pipeline/src/index.js';
import { makeWindow, volumetryRecord } from '../packages/tap-quickbooks/src/index.js';
import { runTargetCli, singer } from './targetHarness.js';
import { runCliProcess } from './pipelineHarness.js';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';

const DAY = 86_400_000;
const day = (iso: string) => makeWindow(Date.parse(`${iso}T00:00:00Z`), Date.parse(`${iso}T00:00:00Z`) + DAY);

/** One tap run as the target receives it: a `_volumetry` record per stream and day it read, and an invoice per invoices day. */
function tapRun(runId: string, at: string, reads: ReadonlyArray<readonly [string, string]>): string {
  const messages: object[] = [
    { type: 'SCHEMA', stream: '_volumetry', key_properties: ['id'], schema: { type: 'object', properties: { id: { type: 'string' } } } },
    { type: 'SCHEMA', stream: 'invoices', key_properties: ['Id'], schema: { type: 'object', properties: { Id: { type: 'string' } } } },
  ];
  for (const [stream, iso] of reads) {
    const window = day(iso);
    const evidence = { day: window, qboCount: 1, extracted: stream === 'invoices' ? 1 : 0, extractedAt: at, span: window, spanQboCount: 1, spans: 1 };
    messages.push({
      type: 'RECORD',
      stream: '_volumetry',
      record: volumetryRecord(runId, stream, { ...evidence, pages: 1, requests: 1, retries: 0, rereads: 0, durationMs: 5 }),
    });
    if (stream === 'invoices')
      messages.push({
        type: 'RECORD',
        stream: 'invoices',
        record: { Id: iso, MetaData: { LastUpdatedTime: at }, _sdc_run_id: runId, _sdc_extract_window_start_utc: window.start },
      });
  }
  return singer(...messages, { type: 'STATE', value: { at } });
}

/**
 * Four tap runs (one target run each) and their runner runs: r1 and r2 read invoices of 03-01
 * before the cut-off, r4 again after it; r1 alone read customers of 03-01, r3 alone invoices of 03-02.
 */
async function yearOfRuns(schema: string): Promise<void> {
  const runs: Array<[string, string, Array<[string, string]>]> = [
    [
      'r1',
      '2025-03-01T06:00:00.000Z',
      [
        ['invoices', '2025-03-01'],
        ['customers', '2025-03-01'],
      ],
    ],
    ['r2', '2025-03-01T18:00:00.000Z', [['invoices', '2025-03-01']]],
    ['r3', '2025-03-02T06:00:00.000Z', [['invoices', '2025-03-02']]],
    [
      'r4',
      '2025-03-20T06:00:00.000Z',
      [
        ['invoices', '2025-03-01'],
        ['invoices', '2025-03-20'],
      ],
    ],
  ];
  const loadRunOf = new Map<string, string[]>();
  for (const [runId, at, reads] of runs) {
    expect((await runTargetCli({ database_url: databaseUrl(), schema }, tapRun(runId, at, reads))).code).toBe(0);
    // The target run as if it had run then, with its tap run.
    await withClient(async (client) => {
      const [runs, stats] = [`"${schema}"._load_runs`, `"${schema}"._load_stats`];
      const { rows } = await client.query<{ id: string }>(
        `UPDATE ${runs} SET started_at_utc = $1, finished_at_utc = $1 WHERE started_at_utc > $1 RETURNING load_run_id AS id`,
        [at],
      );
      await client.query(`UPDATE ${stats} SET committed_at_utc = $1 WHERE load_run_id = ANY ($2)`, [at, rows.map((r) => r.id)]);
      loadRunOf.set(
        runId,
        rows.map((r) => r.id),
      );
    });
  }
  await withClient(async (client) => {
    await client.query(createPipelineRunsSql(schema).table);
    const runner = (id: string, started: string, status: string, tapRunIds: string[]) =>
      client.query(
        `INSERT INTO "${schema}"._pipeline_runs (run_id, kind, job, streams, range_start_utc, range_end_utc, attempt, host, pid, started_at_utc, status, tap_run_ids, load_run_ids)
         VALUES ($1, 'sync', 'qb_all', '{invoices}', $2, $2, 1, 'h', 1, $2, $3, $4, $5)`,
        [id, started, status, tapRunIds, tapRunIds.flatMap((r) => loadRunOf.get(r) ?? [])],
      );
    await runner('p1', '2025-03-01T06:00:00Z', 'succeeded', ['r1']);
    await runner('p2', '2025-03-01T18:00:00Z', 'failed', ['r2']);
    await runner('p-early', '2025-03-01T03:00:00Z', 'running', []);
    await runner('p4', '2025-03-20T06:00:00Z', 'succeeded', ['r4']);
  });
}

interface Left {
  volumetry: string[];
  loadStats: string[];
  loadRuns: number;
  pipelineRuns: string[];
  invoices: number;
}

async function left(schema: string): Promise<Left> {
  return withClient(async (client) => {
    const rows = async (sql: string) => (await client.query<{ v: string }>(sql)).rows.map((r) => r.v);
    return {
      volumetry: await rows(
        `SELECT concat_ws(' ', payload->>'run_id', payload->>'stream', left(payload->>'window_start_utc', 10)) AS v FROM "${schema}"._volumetry ORDER BY 1`,
      ),
      loadStats: await rows(
        `SELECT concat_ws(' ', tap_run_id, stream, to_char(extract_window_start_utc AT TIME ZONE 'UTC', 'YYYY-MM-DD')) AS v FROM "${schema}"._load_stats WHERE tap_run_id IS NOT NULL ORDER BY 1`,
      ),
      loadRuns: Number((await rows(`SELECT count(*)::text AS v FROM "${schema}"._load_runs`))[0]),
      pipelineRuns: await rows(`SELECT run_id AS v FROM "${schema}"._pipeline_runs ORDER BY 1`),
      invoices: Number((await rows(`SELECT count(*)::text AS v FROM "${schema}".invoices`))[0]),
    };
  });
}

describe('evidence without a companies file', () => {
  it("lists the target settings' schema by name (no company), and makes its evidence view, which a pipe or Meltano leaves none of; --sql prints its query", async () => {
    const schema = scratchSchema('evidence_cli');
    await yearOfRuns(schema);
    const view = () => withClient(async (c) => (await c.query<{ v: string | null }>(`SELECT to_regclass('"${schema}".evidence')::text AS v`)).rows[0]?.v);
    expect(await view()).toBeNull();
    const env = { ...process.env, DATABASE_URL: databaseUrl(), TARGET_POSTGRES_RAW_SCHEMA: schema };
    const listed = await runCliProcess(['evidence', '--since', '2025-03-01', '--until', '2025-03-21'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^evidence of schema ${schema}, UTC days \\[2025-03-01, 2025-03-21\\): newest run per stream and day$`, 'm'));
    const days = listed.stdout
      .split('\n')
      .filter((line) => /^(customers|invoices) /.test(line))
      .map((line) =>
        line
          .split('|')
          .slice(0, 2)
          .map((cell) => cell.trim())
          .join(' '),
      );
    expect(days.sort()).toEqual(['customers 2025-03-01', 'invoices 2025-03-01', 'invoices 2025-03-02', 'invoices 2025-03-20']);
    expect(listed.stdout).toContain('4 stream-days, 0 where extracted ≠ loaded');
    expect(listed.stdout).not.toMatch(/compan|default/);
    expect(await view()).not.toBeNull();
    const sql = await runCliProcess(['evidence', '--sql'], { env });
    expect(sql.code, sql.stderr).toBe(0);
    const rows = await withClient(async (c) => (await c.query<{ stream: string; day_utc: string }>(sql.stdout)).rows);
    expect(rows.map((r) => `${r.stream} ${r.day_utc}`)).toEqual(['customers 2025-03-01', 'invoices 2025-03-01', 'invoices 2025-03-02', 'invoices 2025-03-20']);
  });
});

describe('evidence prune', () => {
  it("deletes what is older than the cut-off and no day needs: every stream's day keeps its newest run, the stream tables keep every row", async () => {
    const schema = scratchSchema('prune');
    await yearOfRuns(schema);
    const before = await left(schema);
    expect(before.volumetry).toHaveLength(6);
    const warehouse = await Warehouse.open({ connectionString: databaseUrl() }, schema);
    try {
      const cutOff = new Date('2025-03-10T00:00:00Z');
      // A dry run says what it would delete and changes nothing.
      const dry = await warehouse.pruneEvidence(cutOff, true);
      expect(await left(schema)).toEqual(before);
      const days = await warehouse.newestEvidence('2025-03-01', '2025-03-21', null);
      const pruned = await warehouse.pruneEvidence(cutOff, false);
      expect(pruned).toEqual(dry);
      const after = await left(schema);
      // r1's and r2's invoices of 03-01 (r4 read it since); r1's customers of 03-01 and r3's 03-02 are those days' only evidence.
      expect(after.volumetry).toEqual(['r1 customers 2025-03-01', 'r3 invoices 2025-03-02', 'r4 invoices 2025-03-01', 'r4 invoices 2025-03-20']);
      expect(after.loadStats).toEqual(['r3 invoices 2025-03-02', 'r4 invoices 2025-03-01', 'r4 invoices 2025-03-20']);
      // r2's target run and runner run named nothing left; p1 still names r1's customers (and r1's target run), a running row stays.
      expect(after.loadRuns).toBe(before.loadRuns - 1);
      expect(after.pipelineRuns).toEqual(['p-early', 'p1', 'p4']);
      expect(after.invoices).toBe(before.invoices);
      // r1's and r2's invoices of 03-01, and r1's to r3's commits of _volumetry (no tap run's: no day's evidence; r4's is younger).
      expect(pruned).toEqual({ volumetry: 2, loadStats: 5, loadRuns: 1, pipelineRuns: 1 });
      // What the evidence shows per stream and day is what it showed before (but for how many runs read it).
      const strip = (rows: typeof days) => rows.map(({ runs: _runs, ...rest }) => rest);
      expect(strip(await warehouse.newestEvidence('2025-03-01', '2025-03-21', null))).toEqual(strip(days));
      // Again: nothing more to delete.
      expect(await warehouse.pruneEvidence(cutOff, false)).toEqual({ volumetry: 0, loadStats: 0, loadRuns: 0, pipelineRuns: 0 });
    } finally {
      await warehouse.close();
    }
  });

  it('runs from the command line: --dry-run changes nothing, a bad --older-than is refused in one line with exit 2', async () => {
    const schema = scratchSchema('prune_cli');
    await yearOfRuns(schema);
    const before = await left(schema);
    const env = { ...process.env, DATABASE_URL: databaseUrl(), TARGET_POSTGRES_RAW_SCHEMA: schema };
    const dry = await runCliProcess(['evidence', 'prune', '--older-than', '1d', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      new RegExp(
        `^schema ${schema}: would delete 2 _volumetry, 6 _load_stats, 1 _load_runs and 1 _pipeline_runs rows older than .*; dry run, nothing changed\\n$`,
      ),
    );
    expect(await left(schema)).toEqual(before);
    for (const bad of ['400', '0d', '-3d', '4OOd', '2w']) {
      const refused = await runCliProcess(['evidence', 'prune', `--older-than=${bad}`], { env });
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr.trim().split('\n'), bad).toEqual([
        `FATAL qbo-pipeline: --older-than ${JSON.stringify(bad)}: give a whole number of days followed by d, e.g. 400d (at least 1d)`,
      ]);
    }
    // It deletes by age over every stream: the listing's own options are refused, never ignored (--streams invoices pruned every stream).
    for (const listing of [['--streams', 'invoices'], ['--since', '2025-03-01'], ['--until', '2025-03-02'], ['--problems'], ['--sql']]) {
      const refused = await runCliProcess(['evidence', 'prune', '--older-than', '1d', ...listing], { env });
      expect(refused.code, listing[0]).toBe(2);
      expect(refused.stderr.trim().split('\n')).toEqual([`FATAL qbo-pipeline: unknown argument ${listing[0]} (--help lists the commands and options)`]);
    }
    expect(await left(schema)).toEqual(before);
    const done = await runCliProcess(['evidence', 'prune', '--older-than', '1d'], { env });
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /: deleted 2 _volumetry, 6 _load_stats, 1 _load_runs and 1 _pipeline_runs rows older than .*\(the newest run of every stream and UTC day stays\)\n$/,
    );
    expect((await left(schema)).volumetry).toHaveLength(4);
  });
});
