import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { discoverCatalog } from 'qbo-catalog';
import { createLogger } from 'singer-kit';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { parseTapSettings, runTap } from 'tap-quickbooks';
import { catalogSelecting, tapSettings, tempDir } from './tapHarness.js';

const NOW = '2025-03-10T12:00:00Z';
const DAY_MS = 86_400_000;

describe('tap-quickbooks keeps memory bounded by reading crowded days in pieces', () => {
  let emulator: Emulator;
  let messages: Array<Record<string, any>>;
  const logs: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 13, now: new Date(NOW), days: 2, counts: { invoices: 150 } });
    const dir = tempDir();
    // About 75 invoices a day, and spans of at most 20 rows.
    const settings = parseTapSettings(
      tapSettings(emulator, dir, { start_date: '2025-03-08', end_date: NOW, page_size: 10, max_span_rows: 20 }),
      DateTime.utc(),
    );
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (b: Buffer) => chunks.push(b));
    await runTap({
      settings,
      catalog: catalogSelecting(discoverCatalog() as never, ['invoices', '_volumetry']),
      state: undefined,
      out,
      logger: createLogger('tap', { sink: (l) => logs.push(l) }),
    });
    messages = Buffer.concat(chunks)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  });
  afterAll(() => emulator?.close());

  it('queries pieces of at most max_span_rows rows, yet keeps evidence, extract windows and STATE per UTC day', () => {
    const counted = emulator
      .requestLog()
      .filter((r) => r.kind === 'count')
      .map((r) => decodeURIComponent(r.query.replace(/\+/g, ' ')));
    const pieces = emulator
      .requestLog()
      .filter((r) => r.kind === 'query')
      .map((r) => decodeURIComponent(r.query.replace(/\+/g, ' ')));
    expect(pieces.every((q) => !/>= '2025-03-09T00:00:00Z' AND MetaData.LastUpdatedTime < '2025-03-10T00:00:00Z'/.test(q))).toBe(true);
    expect(counted.length).toBeGreaterThan(6);
    expect(logs.some((l) => /invoices 2025-03-09: \d+ rows in one window, more than max_span_rows \(20\); reading it in pieces/.test(l))).toBe(true);

    const evidence = messages.filter((m) => m.type === 'RECORD' && m.stream === '_volumetry').map((m) => m.record);
    expect(evidence.map((e) => [e.window_start_utc, e.window_end_utc])).toEqual([
      ['2025-03-08T00:00:00Z', '2025-03-09T00:00:00Z'],
      ['2025-03-09T00:00:00Z', '2025-03-10T00:00:00Z'],
      ['2025-03-10T00:00:00Z', NOW],
    ]);
    const invoices = messages.filter((m) => m.type === 'RECORD' && m.stream === 'invoices').map((m) => m.record);
    const crowded = evidence[1];
    expect(crowded.spans).toBeGreaterThan(2);
    expect(crowded).toMatchObject({
      span_start_utc: '2025-03-09T00:00:00Z',
      span_end_utc: '2025-03-10T00:00:00Z',
      qbo_count: crowded.extracted,
      span_qbo_count: crowded.extracted,
    });
    expect(crowded.extracted).toBe(invoices.filter((r) => r._sdc_extract_window_start_utc === '2025-03-09T00:00:00Z').length);
    for (const r of invoices) expect(Date.parse(r._sdc_extract_window_end_utc) - Date.parse(r._sdc_extract_window_start_utc)).toBeLessThanOrEqual(DAY_MS);

    // STATE only at the end of whole days (the range's end being the last), in order.
    const bookmarks = messages.filter((m) => m.type === 'STATE').map((m) => m.value.bookmarks.invoices.replication_key_value);
    expect([...new Set(bookmarks)]).toEqual(['2025-03-09T00:00:00Z', '2025-03-10T00:00:00Z', NOW]);
    // Each day's records come before the STATE that passes them.
    let passed = 0;
    for (const m of messages) {
      if (m.type === 'STATE') passed = Date.parse(m.value.bookmarks.invoices.replication_key_value);
      if (m.type === 'RECORD' && m.stream === 'invoices') expect(Date.parse(m.record._sdc_extract_window_start_utc)).toBeGreaterThanOrEqual(passed);
    }
  });

  it('still emits every invoice of the range once', () => {
    const ids = messages.filter((m) => m.type === 'RECORD' && m.stream === 'invoices').map((m) => m.record.Id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(
      emulator
        .truth('invoices')
        .filter((r) => Date.parse(r.lastUpdated) < Date.parse(NOW))
        .map((r) => r.id)
        .sort(),
    );
  });
});
