import { describe, expect, it } from 'vitest';
import { evidenceViewSql } from 'qbo-pipeline';
import { databaseUrl, scratchSchema } from './support/db.js';
import { query, R, runTargetCli, S, singer, ST, stateLines } from './targetHarness.js';

const url = () => databaseUrl();
/** A full invoice as the API returns it, and the CDC stub QBO gives once it is deleted. */
const full = (id: string, updated: string, amount = '100.10') =>
  `{"Id":"${id}","TotalAmt":${amount},"SyncToken":"0","MetaData":{"LastUpdatedTime":"${updated}"}}`;
const stub = (id: string, deleted: string) => `{"domain":"QBO","status":"Deleted","Id":"${id}","MetaData":{"LastUpdatedTime":"${deleted}"}}`;
const day = (at: string) => `${at.slice(0, 10)}T00:00:00Z`;
/** RECORD lines built as text, so payload digits stay as written. */
const record = (entity: string, extra: Record<string, unknown> = {}) =>
  `{"type":"RECORD","stream":"invoices","record":${entity.slice(0, -1)},${JSON.stringify({ _sdc_realm_id: '9', _sdc_run_id: 'run-1', ...extra }).slice(1)}}\n`;
const alive = (id: string, updated: string, amount?: string) => record(full(id, updated, amount), { _sdc_extract_window_start_utc: day(updated) });
const deletion = (id: string, at: string) => record(stub(id, at), { _sdc_deleted_at: at, _sdc_extract_window_start_utc: day(at) });
const head = singer(S('invoices', ['Id'], { _sdc_deleted_at: { type: ['null', 'string'], format: 'date-time' } }));

async function rows(schema: string) {
  return query<Record<string, unknown>>(
    url(),
    `SELECT id, payload::text AS payload, deleted_at_utc::text AS deleted, last_updated_utc::text AS updated, xmin::text AS xmin, ingested_at_utc::text AS ingested
     FROM "${schema}".invoices ORDER BY id`,
  );
}

describe('target-postgres-raw applies deletions (issue 13, PLAN contract 1)', () => {
  it('a deletion sets deleted_at_utc and keeps the stored full payload; a repeated deletion changes nothing (xmin unchanged); counts say deleted', async () => {
    const schema = scratchSchema();
    const settings = { database_url: url(), schema };
    expect((await runTargetCli(settings, head + alive('1', '2024-03-01T10:00:00-08:00', '1234567.10') + alive('2', '2024-03-01T11:00:00-08:00'))).code).toBe(0);
    const [alive1] = await rows(schema);

    const first = await runTargetCli(settings, head + deletion('1', '2024-03-05T12:00:00Z') + singer(ST({ n: 1 })));
    expect(first.code).toBe(0);
    expect(stateLines(first.stdout)).toEqual([{ n: 1 }]);
    expect(first.stderr).toMatch(/commit 1 .*: received 0, inserted 0, updated 0, unchanged 0, skipped_older 0, deduplicated 0, rejected 0, deleted 1/);
    const [deleted1, untouched2] = await rows(schema);
    expect(deleted1).toMatchObject({ id: '1', payload: alive1?.payload, deleted: '2024-03-05 12:00:00+00', updated: '2024-03-01 18:00:00+00' });
    expect(deleted1?.payload).toContain('"TotalAmt": 1234567.10');
    expect(untouched2).toMatchObject({ id: '2', deleted: null });

    const again = await runTargetCli(settings, head + deletion('1', '2024-03-05T12:00:00Z') + deletion('1', '2024-03-06T00:00:00Z'));
    expect(again.code).toBe(0);
    expect(await rows(schema)).toEqual([deleted1, untouched2]);

    const stats = await query(
      url(),
      `SELECT stream, received, inserted, unchanged, deleted, extract_window_start_utc::text AS day FROM "${schema}"._load_stats WHERE deleted > 0 ORDER BY committed_at_utc`,
    );
    expect(stats).toEqual([
      { stream: 'invoices', received: 0, inserted: 0, unchanged: 0, deleted: 1, day: '2024-03-05 00:00:00+00' },
      { stream: 'invoices', received: 0, inserted: 0, unchanged: 0, deleted: 1, day: '2024-03-05 00:00:00+00' },
      { stream: 'invoices', received: 0, inserted: 0, unchanged: 0, deleted: 1, day: '2024-03-06 00:00:00+00' },
    ]);
    expect(await query(url(), `SELECT received::int, deleted::int FROM "${schema}"._load_runs ORDER BY started_at_utc`)).toEqual([
      { received: 2, deleted: 0 },
      { received: 0, deleted: 1 },
      { received: 0, deleted: 2 },
    ]);
  });

  it('with no stored row the stub is stored, deleted; a full record and its deletion in one batch keep the full payload', async () => {
    const schema = scratchSchema();
    const input = head + deletion('7', '2024-03-05T12:00:00Z') + alive('8', '2024-03-01T10:00:00-08:00', '55.50') + deletion('8', '2024-03-04T00:00:00Z');
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    const [seven, eight] = await rows(schema);
    expect(seven).toMatchObject({ id: '7', deleted: '2024-03-05 12:00:00+00', updated: '2024-03-05 12:00:00+00' });
    expect(JSON.parse(seven?.payload as string)).toEqual(JSON.parse(stub('7', '2024-03-05T12:00:00Z')));
    expect(eight).toMatchObject({ id: '8', deleted: '2024-03-04 00:00:00+00' });
    expect(eight?.payload).toContain('"TotalAmt": 55.50');
  });

  it('a stub never replaces a full payload, but a full version replaces a stored stub and the row stays deleted; an older version never revives or changes a deleted row', async () => {
    const schema = scratchSchema();
    const settings = { database_url: url(), schema };
    expect((await runTargetCli(settings, head + deletion('5', '2024-03-05T12:00:00Z'))).code).toBe(0);
    // The full version (older than the deletion) arrives later, e.g. from a backfill of an earlier window.
    expect((await runTargetCli(settings, head + alive('5', '2024-03-02T10:00:00Z', '9.90'))).code).toBe(0);
    const [five] = await rows(schema);
    expect(five).toMatchObject({ deleted: '2024-03-05 12:00:00+00', updated: '2024-03-02 10:00:00+00' });
    expect(five?.payload).toContain('"TotalAmt": 9.90');
    // An even older version: skipped, the deleted row untouched.
    const older = await runTargetCli(settings, head + alive('5', '2024-03-01T10:00:00Z', '1.00'));
    expect(older.stderr).toMatch(/skipped_older 1/);
    expect(await rows(schema)).toEqual([five]);
    // A version newer than the deletion (the entity lives again): stored, alive.
    expect((await runTargetCli(settings, head + alive('5', '2024-03-07T10:00:00Z', '2.00'))).code).toBe(0);
    expect((await rows(schema))[0]).toMatchObject({ deleted: null, updated: '2024-03-07 10:00:00+00' });
  });

  it('deletions and records without a time or newer give the same table whatever the batch size: the later in the input wins, an equal payload changes nothing', async () => {
    const timeless = (id: string, v: string) => record(`{"Id":"${id}","v":"${v}"}`);
    const removal = (id: string, at: string) => record(`{"Id":"${id}","status":"Deleted"}`, { _sdc_deleted_at: at });
    const input =
      head +
      // a: alive, deleted, then another version (the entity came back).
      timeless('a', '1') +
      removal('a', '2024-03-05T12:00:00Z') +
      timeless('a', '2') +
      // b: a deletion, then a version: alive.
      removal('b', '2024-03-05T12:00:00Z') +
      timeless('b', '1') +
      // c: the same payload again after its deletion changes nothing: deleted.
      timeless('c', '1') +
      removal('c', '2024-03-05T12:00:00Z') +
      timeless('c', '1') +
      // d: deleted, back, deleted again: deleted at the second.
      removal('d', '2024-03-05T12:00:00Z') +
      timeless('d', '1') +
      removal('d', '2024-03-06T12:00:00Z') +
      // e: a version, then its deletion: deleted, the full payload kept.
      timeless('e', '1') +
      removal('e', '2024-03-05T12:00:00Z') +
      // f: with times, deleted, back with a newer version, deleted again: deleted at the second.
      deletion('f', '2024-03-02T00:00:00Z') +
      alive('f', '2024-03-03T00:00:00Z') +
      deletion('f', '2024-03-04T00:00:00Z');
    const load = async (batchSizeRows: number) => {
      const schema = scratchSchema();
      expect((await runTargetCli({ database_url: url(), schema, batch_size_rows: batchSizeRows }, input)).code).toBe(0);
      return query(
        url(),
        `SELECT id, payload->>'v' AS v, payload->>'TotalAmt' AS amount, deleted_at_utc::text AS deleted FROM "${schema}".invoices ORDER BY id`,
      );
    };
    const oneByOne = await load(1);
    expect(oneByOne).toEqual([
      { id: 'a', v: '2', amount: null, deleted: null },
      { id: 'b', v: '1', amount: null, deleted: null },
      { id: 'c', v: '1', amount: null, deleted: '2024-03-05 12:00:00+00' },
      { id: 'd', v: '1', amount: null, deleted: '2024-03-06 12:00:00+00' },
      { id: 'e', v: '1', amount: null, deleted: '2024-03-05 12:00:00+00' },
      { id: 'f', v: null, amount: '100.10', deleted: '2024-03-04 00:00:00+00' },
    ]);
    expect(await load(10_000)).toEqual(oneByOne);
  });

  it('tables made before deletions existed gain deleted_at_utc (and the load tables their deleted count) on the next run', async () => {
    const schema = scratchSchema();
    expect((await runTargetCli({ database_url: url(), schema }, head + alive('1', '2024-03-01T10:00:00Z'))).code).toBe(0);
    await query(
      url(),
      `ALTER TABLE "${schema}".invoices DROP COLUMN deleted_at_utc; ALTER TABLE "${schema}"._load_stats DROP COLUMN deleted; ALTER TABLE "${schema}"._load_runs DROP COLUMN deleted`,
    );
    const result = await runTargetCli({ database_url: url(), schema }, head + deletion('1', '2024-03-05T12:00:00Z'));
    expect(result.code).toBe(0);
    expect((await rows(schema))[0]).toMatchObject({ id: '1', deleted: '2024-03-05 12:00:00+00' });
    expect(await query(url(), `SELECT deleted FROM "${schema}"._load_stats ORDER BY committed_at_utc`)).toEqual([{ deleted: 0 }, { deleted: 1 }]);
  });

  it('the evidence view counts deletions per stream and UTC day, apart from what the window queries extracted', async () => {
    const schema = scratchSchema();
    const volumetry = (windowStart: string, extracted: number) =>
      R('_volumetry', {
        id: `run-1/invoices/${windowStart}`,
        run_id: 'run-1',
        stream: 'invoices',
        window_start_utc: windowStart,
        window_end_utc: windowStart.replace('T00', 'T23'),
        qbo_count: extracted,
        extracted,
        pages: 1,
        requests: 2,
        retries: 0,
        rereads: 0,
        duration_ms: 5,
        empty: extracted === 0,
        extracted_at: '2024-03-08T00:00:00Z',
      });
    const input =
      head +
      singer(S('_volumetry', ['id'])) +
      deletion('3', '2024-03-05T12:00:00Z') +
      deletion('4', '2024-03-05T13:00:00Z') +
      deletion('6', '2024-03-02T13:00:00Z') + // a day this run read no window of
      alive('1', '2024-03-05T01:00:00Z') +
      singer(volumetry('2024-03-05T00:00:00Z', 1), volumetry('2024-03-06T00:00:00Z', 0));
    expect((await runTargetCli({ database_url: url(), schema }, input)).code).toBe(0);
    await query(url(), evidenceViewSql(schema));
    const evidence = await query(
      url(),
      `SELECT day_utc::text AS day, extracted::int, loaded::int, deleted::int, extracted_equals_loaded AS ok FROM "${schema}".evidence ORDER BY day_utc`,
    );
    expect(evidence).toEqual([
      { day: '2024-03-02', extracted: null, loaded: 0, deleted: 1, ok: null },
      { day: '2024-03-05', extracted: 1, loaded: 1, deleted: 2, ok: true },
      { day: '2024-03-06', extracted: 0, loaded: 0, deleted: 0, ok: true },
    ]);
  });
});
