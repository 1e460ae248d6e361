import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCatalog } from 'qbo-catalog';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { catalogSelecting, lastState, recordsOf, runTapCli, tapSettings, tempDir, writeJson } from './tapHarness.js';

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

describe('tap-quickbooks deleted_objects (include_deleted)', () => {
  let emulator: Emulator;
  let dir: string;
  let config: string;
  let catalog: string;

  beforeAll(async () => {
    // CDC looks back 30 days from QBO's clock, so this company lives in the present.
    emulator = await startEmulator({ seed: 9, days: 3, counts: { invoices: 30, customers: 10 } });
    dir = tempDir();
    // end_date ahead of now: the tap clamps it to the run start (truncated to the second).
    config = writeJson(dir, 'config.json', tapSettings(emulator, dir, { start_date: iso(Date.now() - 2 * 86_400_000), end_date: iso(Date.now() + 3_600_000), include_deleted: true }));
    catalog = writeJson(dir, 'catalog.json', catalogSelecting(discoverCatalog() as never, ['invoices', 'customers']));
  });
  afterAll(() => emulator?.close());

  it('emits a deleted transaction from CDC, keyed by entity and Id, with its own bookmark', async () => {
    const victim = emulator.truth('invoices').at(-1)!.id;
    emulator.deleteTransaction('Invoice', victim);
    // The range ends at the run start truncated to the second: let the deletion's second pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const run = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(run.stderr).not.toMatch(/FATAL/);
    expect(run.code).toBe(0);
    const schema = run.messages.find((m) => m.type === 'SCHEMA' && m.stream === 'deleted_objects');
    expect(schema?.key_properties).toEqual(['id']);
    const deleted = recordsOf(run, 'deleted_objects');
    expect(deleted).toEqual([expect.objectContaining({ id: `Invoice/${victim}`, entity: 'Invoice', entity_id: victim, stream: 'invoices', status: 'Deleted' })]);
    expect(recordsOf(run, 'invoices').some((r) => r.Id === victim)).toBe(false);
    expect(lastState(run).bookmarks.deleted_objects.replication_key_value).toBeDefined();
    const cdc = emulator.requestLog().filter((r) => r.kind === 'cdc').map((r) => decodeURIComponent(r.query));
    expect(cdc).toEqual([expect.stringMatching(/entities=Customer,Invoice/)]);
  });

  it('warns when the deleted_objects bookmark is older than CDC\'s 30 days, and still runs', async () => {
    const old = { bookmarks: { deleted_objects: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: iso(Date.now() - 45 * 86_400_000) } } };
    const early = writeJson(dir, 'early.json', tapSettings(emulator, dir, { start_date: iso(Date.now() - 60 * 86_400_000), include_deleted: true }));
    const run = await runTapCli(['--config', early, '--catalog', catalog, '--state', writeJson(dir, 'old.json', old)]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/WARN tap-quickbooks: deleted_objects: .* is older than CDC's 30-day look-back; deletions before .* cannot be seen/);
  });
});
