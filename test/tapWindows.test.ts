import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { discoverCatalog } from 'qbo-catalog';
import { createLogger } from 'singer-kit';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { parseTapSettings, runTap } from 'tap-quickbooks';
import { catalogSelecting, tapSettings, tempDir } from './tapHarness.js';

const NOW = '2025-03-10T12:00:00Z';

describe('tap-quickbooks keeps memory bounded by splitting crowded windows', () => {
  let emulator: Emulator;
  let messages: Array<Record<string, any>>;
  const logs: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 13, now: new Date(NOW), days: 2, counts: { invoices: 150 } });
    const dir = tempDir();
    const settings = parseTapSettings(tapSettings(emulator, dir, { start_date: '2025-03-08', end_date: NOW, page_size: 10, window: 'P1D' }), DateTime.utc());
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (b: Buffer) => chunks.push(b));
    await runTap({ settings, catalog: catalogSelecting(discoverCatalog() as never, ['invoices', '_volumetry']), state: undefined, out, logger: createLogger('tap', { sink: (l) => logs.push(l) }), maxWindowRows: 20 });
    messages = Buffer.concat(chunks).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  });
  afterAll(() => emulator?.close());

  it('splits a window above the row limit into halves, each complete and stated in order', () => {
    const evidence = messages.filter((m) => m.type === 'RECORD' && m.stream === '_volumetry').map((m) => m.record);
    expect(evidence.length).toBeGreaterThan(3);
    for (const e of evidence) expect(e.qbo_count).toBeLessThanOrEqual(20);
    const starts = evidence.map((e) => Date.parse(e.window_start_utc));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(evidence.slice(1).every((e, i) => e.window_start_utc === evidence[i]!.window_end_utc)).toBe(true);
    expect(logs.some((l) => /splitting the window in halves/.test(l))).toBe(true);
    const bookmarks = messages.filter((m) => m.type === 'STATE').map((m) => Date.parse(m.value.bookmarks.invoices.replication_key_value));
    expect(bookmarks).toEqual([...bookmarks].sort((a, b) => a - b));
    expect(bookmarks.at(-1)).toBe(Date.parse(NOW));
  });

  it('still emits every invoice of the range once', () => {
    const ids = messages.filter((m) => m.type === 'RECORD' && m.stream === 'invoices').map((m) => m.record.Id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(emulator.truth('invoices').filter((r) => Date.parse(r.lastUpdated) < Date.parse(NOW)).map((r) => r.id).sort());
  });
});
