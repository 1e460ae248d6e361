/**
 * Issue 13, the daily operation with deletions: a backfill, then 5 invoices change and 2 are
 * deleted in QBO, then `sync`. Only the changed rows are rewritten, the deleted ones keep their
 * full payload and carry deleted_at_utc (from QBO's CDC stub), the rest is untouched (xmin), and
 * the evidence counts the deletions per stream and UTC day.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { dayStart, diffWithTruth, runCliProcess, runnerArgs, suiteHarness, tableCell } from './pipelineHarness.js';
import { startFirm } from './companiesHarness.js';

const DAY = 86_400_000;

// CDC looks back 30 days from QBO's clock, so this company lives in the present.
const h = suiteHarness({
  seed: 41,
  days: 4,
  counts: { invoices: 200, customers: 20 },
  // QBO's change is synced right after it is made: no end_lag (a record shown late is test/endLag's).
  tap: { max_requests_per_minute: 100_000, end_lag: 'PT0S' },
});

describe('sync after a backfill: changes rewrite only their rows, deletions reach the table', () => {
  const schema = scratchSchema('del');
  const args = async (command: string, extra: readonly string[] = []) => [
    ...runnerArgs(command, {
      streams: 'invoices,customers',
      tapConfig: h.tapConfig,
      targetConfig: await h.targetConfig(schema),
      stateDir: path.join(h.dir, 'state'),
    }),
    ...extra,
  ];
  const rows = async () =>
    new Map(
      (
        await withClient((c) =>
          c.query<{ id: string; xmin: string; deleted_at_utc: Date | null; payload: string }>(
            `SELECT id, xmin::text AS xmin, deleted_at_utc, payload::text AS payload FROM "${schema}".invoices`,
          ),
        )
      ).rows.map((r) => [r.id, r]),
    );

  it('backfill, change 5 and delete 2 invoices in QBO, sync: 7 rows written, the 2 deleted keep their payload with deleted_at_utc, evidence shows 2 deletions', async () => {
    const start = dayStart(Date.now() - 5 * DAY);
    const backfill = await runCliProcess(await args('backfill', ['--start', start, '--end', dayStart(Date.now())]));
    expect(backfill.code, backfill.stderr).toBe(0);
    const first = await runCliProcess(await args('sync'));
    expect(first.code, first.stderr).toBe(0);

    const before = await rows();
    expect(before.size).toBe(200);
    const truth = h.emulator.truth('invoices');
    const changed = [truth[3]!.id, truth[50]!.id, truth[90]!.id, truth[120]!.id, truth[160]!.id];
    const deleted = [truth[20]!.id, truth[140]!.id];
    for (const id of changed) h.emulator.touch('Invoice', id);
    const deleting = h.emulator.now().getTime();
    for (const id of deleted) h.emulator.deleteTransaction('Invoice', id);
    const deletedBy = h.emulator.now().getTime();
    await sleep(1100); // their LastUpdatedTime is this second; the sync runs up to the next one

    const sync = await runCliProcess(await args('sync'));
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stderr).toMatch(/deletions since \S+ \(CDC, 1 request\): customers 0, invoices 2/);
    // The summary counts them: deletions are not part of extracted and loaded.
    expect(tableCell(sync.stdout, 'invoices', 'deleted'), sync.stdout).toBe('2');
    expect(tableCell(sync.stdout, 'invoices', 'loaded')).toBe('5');
    expect(tableCell(sync.stdout, 'customers', 'deleted')).toBe('0');
    const after = await rows();
    const rewritten = [...after.values()]
      .filter((r) => before.get(r.id)?.xmin !== r.xmin)
      .map((r) => r.id)
      .sort();
    expect(rewritten).toEqual([...changed, ...deleted].sort());
    for (const id of deleted) {
      // The last full payload stays; the deletion instant is the stub's LastUpdatedTime (the second it was deleted).
      expect(after.get(id)!.payload).toBe(before.get(id)!.payload);
      expect(after.get(id)!.deleted_at_utc!.getTime()).toBeGreaterThanOrEqual(Math.floor(deleting / 1000) * 1000);
      expect(after.get(id)!.deleted_at_utc!.getTime()).toBeLessThanOrEqual(deletedBy);
    }
    expect(
      [...after.values()]
        .filter((r) => r.deleted_at_utc !== null)
        .map((r) => r.id)
        .sort(),
    ).toEqual([...deleted].sort());
    // The live rows equal QBO's records; the deleted rows are the only ones QBO no longer serves.
    const diff = await diffWithTruth(databaseUrl(), schema, h.emulator, 'invoices', start, new Date().toISOString());
    expect({ missing: diff.missing, different: diff.different, extra: [...diff.extra].sort() }).toEqual({
      missing: [],
      different: [],
      extra: [...deleted].sort(),
    });

    const runIds = /run_id IN \(([^)]*)\)/
      .exec(sync.stdout)![1]!
      .split(',')
      .map((s) => s.trim().replace(/'/g, ''));
    const evidence = await withClient((c) =>
      c.query<{ stream: string; day: string; deleted: number }>(
        `SELECT stream, to_char(day_utc, 'YYYY-MM-DD') AS day, sum(deleted)::int AS deleted FROM "${schema}".evidence WHERE run_id = ANY($1) AND deleted > 0 GROUP BY 1, 2`,
        [runIds],
      ),
    );
    expect(evidence.rows).toEqual([{ stream: 'invoices', day: after.get(deleted[0]!)!.deleted_at_utc!.toISOString().slice(0, 10), deleted: 2 }]);
    // The sync resumed mid-day (the first sync's bookmark): the deletions join the window it read
    // from there, so every evidence row of the run has its check, none a row of its own.
    const checks = await withClient((c) =>
      c.query<{ stream: string; check: boolean | null; deleted: number }>(
        `SELECT stream, extracted_equals_loaded AS check, deleted::int FROM "${schema}".evidence WHERE run_id = ANY($1) AND (deleted > 0 OR extracted_equals_loaded IS NOT TRUE)`,
        [runIds],
      ),
    );
    expect(checks.rows).toEqual([{ stream: 'invoices', check: true, deleted: 2 }]);
  });
});

describe('with a companies file: a sync that only applied deletions says so', () => {
  it('the per-company summary, the last table and evidence --companies show the deletion, not only "loaded 0"', async () => {
    const prefix = `cd_${Math.random().toString(16).slice(2, 8)}`;
    const firm = await startFirm({ names: ['acme'], databaseUrl: databaseUrl(), seed: 43, days: 3, counts: { invoices: 30 } });
    try {
      // The deletion is synced right after it is made: no end_lag, set where a company sets it.
      await firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, streams: ['invoices'], endLag: 'PT0S' }));
      const start = dayStart(Date.now() - 4 * DAY);
      const backfill = await firm.cli(['backfill', '--companies', 'companies.yaml', '--start', start, '--end', dayStart(Date.now())]);
      expect(backfill.code, backfill.stderr).toBe(0);
      const first = await firm.cli(['sync', '--companies', 'companies.yaml']);
      expect(first.code, first.stderr).toBe(0);
      const gone = firm.company('acme').truth('invoices')[7]!.id;
      // The UTC day of the deletion, or the day before: the day may turn while the sync runs.
      const deletedOn = new Date().toISOString().slice(0, 10);
      firm.company('acme').deleteTransaction('Invoice', gone);
      await sleep(1100);

      const sync = await firm.cli(['sync', '--companies', 'companies.yaml']);
      expect(sync.code, sync.stderr).toBe(0);
      // The company's own summary, then the table over companies.
      expect(tableCell(sync.stdout, 'invoices', 'loaded'), sync.stdout).toBe('0');
      expect(tableCell(sync.stdout, 'invoices', 'deleted')).toBe('1');
      expect(sync.stdout).toMatch(/^1 company: 1 ok, 0 failed$/m);
      expect(tableCell(sync.stdout, 'acme', 'loaded')).toBe('0');
      expect(tableCell(sync.stdout, 'acme', 'new')).toBe('0');
      expect(tableCell(sync.stdout, 'acme', 'changed')).toBe('0');
      expect(tableCell(sync.stdout, 'acme', 'deleted')).toBe('1');

      const evidence = await firm.cli(['evidence', '--companies', 'companies.yaml', '--since', deletedOn]);
      expect(evidence.code, evidence.stderr).toBe(0);
      expect(tableCell(evidence.stdout, 'acme', 'deleted'), evidence.stdout).toBe('1');
    } finally {
      await firm.close();
    }
  });
});
