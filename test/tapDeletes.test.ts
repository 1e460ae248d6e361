import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCatalog } from 'qbo-catalog';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { catalogSelecting, lastState, recordsOf, runTapCli, tapSettings, tempDir, writeJson } from './tapHarness.js';

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const DAY = 86_400_000;

describe("tap-quickbooks deletions: CDC stubs on the entity's own stream with _sdc_deleted_at", () => {
  let emulator: Emulator;
  let dir: string;
  let catalog: string;
  const config = (extra: Record<string, unknown> = {}) =>
    // end_date ahead of now: the tap clamps it to the run start (truncated to the second).
    writeJson(
      dir,
      `config-${Object.keys(extra).join('-') || 'default'}.json`,
      tapSettings(emulator, dir, { start_date: iso(Date.now() - 2 * DAY), end_date: iso(Date.now() + 3_600_000), ...extra }),
    );

  /** A run over the last 60 days that resumes from `state` (written as `name`). */
  const resumeFrom = (name: string, state: object) =>
    runTapCli(['--config', config({ start_date: iso(Date.now() - 60 * DAY) }), '--catalog', catalog, '--state', writeJson(dir, name, state)]);

  beforeAll(async () => {
    // CDC looks back 30 days from QBO's clock, so this company lives in the present.
    emulator = await startEmulator({ seed: 9, days: 3, counts: { invoices: 30, customers: 10 } });
    dir = tempDir();
    catalog = writeJson(dir, 'catalog.json', catalogSelecting(discoverCatalog() as never, ['invoices', 'customers']));
  });
  afterAll(() => emulator?.close());

  it("emits a deleted invoice on stream invoices, the stub byte for byte plus _sdc_deleted_at, before any of the stream's windows and STATEs (on by default)", async () => {
    const victim = emulator.truth('invoices').at(-1)!.id;
    const deleting = emulator.now().getTime();
    emulator.deleteTransaction('Invoice', victim);
    const deleted = emulator.now().getTime();
    // The range ends at the run start truncated to the second: let the deletion's second pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const run = await runTapCli(['--config', config(), '--catalog', catalog]);
    expect(run.stderr).not.toMatch(/FATAL/);
    expect(run.code).toBe(0);
    const schema = run.messages.find((m) => m.type === 'SCHEMA' && m.stream === 'invoices');
    expect(schema?.schema.properties._sdc_deleted_at).toEqual(expect.objectContaining({ type: ['null', 'string'], format: 'date-time' }));
    expect(run.messages.some((m) => m.stream === 'deleted_objects')).toBe(false);

    const deletions = recordsOf(run, 'invoices').filter((r) => r._sdc_deleted_at);
    expect(deletions).toHaveLength(1);
    const [deletion] = deletions;
    const deletedAt = Date.parse(deletion._sdc_deleted_at);
    expect(deletion._sdc_deleted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(deletion.MetaData.LastUpdatedTime)).toBe(deletedAt);
    // The instant QBO deleted it (to the second), not when the tap read it, however long after.
    expect(deletedAt).toBeGreaterThanOrEqual(Math.floor(deleting / 1000) * 1000);
    expect(deletedAt).toBeLessThanOrEqual(deleted);
    // The body is QBO's stub exactly: the line starts with it, byte for byte, then the _sdc_ fields.
    const stub = `{"domain":"QBO","status":"Deleted","Id":"${victim}","MetaData":{"LastUpdatedTime":"${deletion.MetaData.LastUpdatedTime}"}`;
    const line = run.lines.find((l) => l.startsWith('{"type":"RECORD"') && l.includes('"_sdc_deleted_at"'))!;
    expect(line.startsWith(`{"type":"RECORD","stream":"invoices","record":${stub},"_sdc_extract_window_start_utc":`)).toBe(true);
    const day = Math.floor(deletedAt / DAY) * DAY;
    // The run's window holding it: its UTC day, ending where the run's range ends (the run start).
    expect(Date.parse(deletion._sdc_extract_window_end_utc)).toBeGreaterThan(deletedAt);
    expect(Date.parse(deletion._sdc_extract_window_end_utc)).toBeLessThanOrEqual(day + DAY);
    expect(deletion).toMatchObject({
      _sdc_extract_window_start_utc: iso(day),
      _sdc_page_number: null,
      _sdc_page_size: null,
      _sdc_request_payload: {
        method: 'GET',
        path: `/v3/company/${emulator.realmId}/cdc`,
        query: expect.stringMatching(/^entities=Customer,Invoice&changedSince=/),
        minorversion: 75,
      },
      _sdc_realm_id: emulator.realmId,
    });
    // Before the stream's first record and STATE; the deleted invoice is read by no window.
    const index = run.lines.indexOf(line);
    const firstInvoiceWindow = run.lines.findIndex((l) => l.startsWith('{"type":"RECORD","stream":"invoices","record":{') && !l.includes('"_sdc_deleted_at"'));
    const firstState = run.lines.findIndex((l, i) => i > 0 && l.startsWith('{"type":"STATE"'));
    expect(index).toBeLessThan(firstInvoiceWindow);
    expect(index).toBeLessThan(firstState);
    expect(recordsOf(run, 'invoices').filter((r) => r.Id === victim)).toEqual([deletion]);
    const cdc = emulator.requestLog().filter((r) => r.kind === 'cdc');
    expect(cdc.map((r) => decodeURIComponent(r.query))).toEqual([expect.stringMatching(/entities=Customer,Invoice/)]);
    expect(run.stderr).toMatch(/INFO tap-quickbooks: deletions since \S+Z \(CDC, 1 request\): customers 0, invoices 1/);
  });

  it('reads no CDC with include_deleted false', async () => {
    const before = emulator.requestLog().filter((r) => r.kind === 'cdc').length;
    const run = await runTapCli(['--config', config({ include_deleted: false }), '--catalog', catalog]);
    expect(run.code).toBe(0);
    expect(recordsOf(run, 'invoices').filter((r) => r._sdc_deleted_at)).toEqual([]);
    expect(emulator.requestLog().filter((r) => r.kind === 'cdc').length).toBe(before);
  });

  it("warns when a stream resumes from a bookmark older than CDC's 30 days, naming the gap and reconcile, and still reads the rest", async () => {
    const old = { bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: iso(Date.now() - 45 * DAY) } } };
    const run = await resumeFrom('old.json', old);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /WARN tap-quickbooks: invoices: deletions between \S+Z and \S+Z are older than QBO's 30-day change data capture and cannot be read; to mark the rows QBO no longer has, run `qbo-pipeline reconcile --streams invoices`/,
    );
    // customers has no bookmark: its rows are read now, so there is no gap to warn about.
    expect(run.stderr).not.toMatch(/customers: deletions between/);
    expect(recordsOf(run, 'invoices').filter((r) => r._sdc_deleted_at)).toHaveLength(1);
  });

  it('warns once for every stream with a gap (after an outage, all of them), with one reconcile command for them all', async () => {
    const bookmark = (days: number) => ({ replication_key: 'MetaData.LastUpdatedTime', replication_key_value: iso(Date.now() - days * DAY) });
    const old = { bookmarks: { invoices: bookmark(45), customers: bookmark(40) } };
    const run = await resumeFrom('outage.json', old);
    expect(run.code).toBe(0);
    const warnings = run.stderr.split('\n').filter((l) => l.includes('deletions between'));
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^WARN tap-quickbooks: customers, invoices: deletions between ${old.bookmarks.invoices.replication_key_value} and \\S+Z are older than QBO's 30-day change data capture and cannot be read; to mark the rows QBO no longer has, run \`qbo-pipeline reconcile --streams customers,invoices\`$`,
        ),
      ),
    ]);
  });

  it('does not warn for a stream whose old bookmark is already at the end of the range: there is no gap left to read', async () => {
    // README's resume of a finished emulator pipe: bookmark = end_date, both older than CDC's 30 days.
    const end = iso(Date.now() - 45 * DAY);
    const done = { bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: end } } };
    const run = await runTapCli([
      '--config',
      config({ start_date: iso(Date.now() - 60 * DAY), end_date: end }),
      '--catalog',
      catalog,
      '--state',
      writeJson(dir, 'done.json', done),
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/deletions between/);
  });

  it("puts a deletion in the run's window that holds it, so its evidence joins that window's: a run resumed mid-day has its first window start at the bookmark", async () => {
    const withVolumetry = writeJson(dir, 'catalog-volumetry.json', catalogSelecting(discoverCatalog() as never, ['invoices', '_volumetry']));
    const first = await runTapCli(['--config', config(), '--catalog', withVolumetry]);
    expect(first.code).toBe(0);
    const victim = emulator.truth('invoices')[0]!.id;
    emulator.deleteTransaction('Invoice', victim);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const state = writeJson(dir, 'state-resume.json', lastState(first));
    const resumed = await runTapCli(['--config', config(), '--catalog', withVolumetry, '--state', state]);
    expect(resumed.code).toBe(0);
    const deletion = recordsOf(resumed, 'invoices').find((r) => r.Id === victim && r._sdc_deleted_at);
    const windows = recordsOf(resumed, '_volumetry')
      .filter((v) => v.stream === 'invoices')
      .map((v) => [v.window_start_utc, v.window_end_utc]);
    expect(windows).toContainEqual([deletion?._sdc_extract_window_start_utc, deletion?._sdc_extract_window_end_utc]);
    expect(deletion?._sdc_extract_window_start_utc).not.toMatch(/T00:00:00Z$/);
  });
});

describe("tap-quickbooks deletions beyond CDC's 1000-object cap", () => {
  it('asks entity by entity when a combined answer is full, and warns (naming reconcile) for an entity that alone fills it when its stream resumes from a bookmark', async () => {
    const emulator = await startEmulator({ seed: 10, days: 2, counts: { invoices: 1100, customers: 5 } });
    try {
      const dir = tempDir();
      const victim = emulator.truth('invoices').at(-1)!.id;
      emulator.deleteTransaction('Invoice', victim);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const catalog = writeJson(dir, 'catalog.json', catalogSelecting(discoverCatalog() as never, ['invoices', 'customers']));
      const start = iso(Date.now() - 3 * DAY);
      const config = writeJson(dir, 'config.json', tapSettings(emulator, dir, { start_date: start, page_size: 1000 }));
      const cdcAsked = (from: number) =>
        emulator
          .requestLog()
          .slice(from)
          .filter((r) => r.kind === 'cdc')
          .map((r) => decodeURIComponent(r.query).match(/entities=([^&]+)/)![1]);
      // A first backfill (no bookmark): the rows it reads are current, so a full answer is no gap to warn about.
      const first = await runTapCli(['--config', config, '--catalog', catalog]);
      expect(first.code).toBe(0);
      expect(cdcAsked(0)).toEqual(['Customer,Invoice', 'Customer', 'Invoice']);
      expect(first.stderr).not.toMatch(/CDC since/);
      // Resuming from a bookmark: the table may hold invoices deleted beyond the cap.
      const logged = emulator.requestLog().length;
      const bookmark = { bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: start } } };
      const run = await runTapCli(['--config', config, '--catalog', catalog, '--state', writeJson(dir, 'state.json', bookmark)]);
      expect(run.code).toBe(0);
      expect(cdcAsked(logged)).toEqual(['Customer,Invoice', 'Customer', 'Invoice']);
      expect(run.stderr).toMatch(
        /WARN tap-quickbooks: invoices: CDC since \S+Z answered QBO's cap of 1000 changed objects; deletions beyond it may be missing — run more often, or find them with `qbo-pipeline reconcile --streams invoices`/,
      );
      expect(run.stderr).not.toMatch(/customers: CDC since/);
    } finally {
      await emulator.close();
    }
  });
});
