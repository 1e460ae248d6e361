import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCatalog, ENTITIES } from 'qbo-catalog';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { catalogSelecting, lastState, recordsOf, runTapCli, statesOf, tapSettings, tempDir, writeJson, type TapRun } from './tapHarness.js';

// Four days of data around the US spring-forward switch (2025-03-09 10:00 UTC).
const NOW = '2025-03-10T12:00:00Z';
const START = '2025-03-05T00:00:00Z';
const instant = (text: string) => Date.parse(text);

describe('tap-quickbooks extracts every record of the range exactly once, where it belongs', () => {
  let emulator: Emulator;
  let dir: string;
  let config: string;
  let run: TapRun;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 7, now: new Date(NOW), days: 4, counts: { invoices: 260, customers: 45 } });
    dir = tempDir();
    // Spans of at most 130 rows: the 260 invoices are read as three spans of two days each, the
    // first with an empty day (crowded days read in pieces: tapWindows.test.ts).
    config = writeJson(dir, 'config.json', tapSettings(emulator, dir, { start_date: START, end_date: NOW, page_size: 25, max_span_rows: 130 }));
    run = await runTapCli(['--config', config]);
  });
  afterAll(() => emulator?.close());

  it('exits 0 and writes only whole Singer message lines to stdout (A2, A3, A7)', () => {
    expect(run.stderr).not.toMatch(/FATAL/);
    expect(run.code).toBe(0);
    expect(run.lines.length).toBeGreaterThan(100);
    for (const line of run.lines) {
      const message = JSON.parse(line);
      expect(['SCHEMA', 'RECORD', 'STATE']).toContain(message.type);
    }
  });

  it('emits every truth row of every entity stream, byte for byte, each Id once', () => {
    const byLine = new Map<string, string>();
    for (const line of run.lines)
      if (line.startsWith('{"type":"RECORD"')) byLine.set(`${JSON.parse(line).stream}/${JSON.parse(line).record.Id ?? JSON.parse(line).record.id}`, line);
    for (const { stream, replication } of ENTITIES) {
      const truth = emulator.truth(stream).filter((row) => replication === 'FULL_TABLE' || instant(row.lastUpdated) < instant(NOW));
      const records = recordsOf(run, stream);
      expect(records.map((r) => r.Id).sort(), stream).toEqual(truth.map((r) => r.id).sort());
      for (const row of truth) {
        // The entity's own text comes first, unchanged; the reserved fields are appended after it.
        expect(byLine.get(`${stream}/${row.id}`), `${stream} ${row.id}`).toContain(`"record":${row.text.slice(0, -1)},"_sdc_extract_window_start_utc"`);
      }
    }
  });

  it('puts each record in the UTC day holding its LastUpdatedTime, including midnight, DST and crowded seconds', () => {
    const invoices = recordsOf(run, 'invoices');
    // The request payload is the request sent: its path, query and minorversion as QBO received them.
    const sent = new Set(
      emulator.requestLog().map((r) => {
        const p = new URLSearchParams(r.query);
        return JSON.stringify([r.path, p.get('query'), Number(p.get('minorversion'))]);
      }),
    );
    for (const record of invoices) {
      const at = instant(record.MetaData.LastUpdatedTime);
      const dayStart = Math.floor(at / 86_400_000) * 86_400_000;
      expect([instant(record._sdc_extract_window_start_utc), instant(record._sdc_extract_window_end_utc)]).toEqual([
        Math.max(dayStart, instant(START)),
        Math.min(dayStart + 86_400_000, instant(NOW)),
      ]);
      // The request is the span's query, whatever days it covers: its bounds hold the record.
      expect(record._sdc_request_payload).toMatchObject({ method: 'GET', path: `/v3/company/${emulator.realmId}/query`, minorversion: 75 });
      const { path, query, minorversion } = record._sdc_request_payload;
      expect(sent.has(JSON.stringify([path, query, minorversion])), query).toBe(true);
      const [, from, to] = /LastUpdatedTime >= '([^']+)' AND MetaData\.LastUpdatedTime < '([^']+)'/.exec(record._sdc_request_payload.query)!;
      expect(at).toBeGreaterThanOrEqual(instant(from!));
      expect(at).toBeLessThan(instant(to!));
    }
    const times = invoices.map((r) => r.MetaData.LastUpdatedTime as string);
    // The data really has the hard cases: both Pacific offsets, a row at the second before UTC midnight, a crowded second.
    expect(times.some((t) => t.endsWith('-08:00'))).toBe(true);
    expect(times.some((t) => t.endsWith('-07:00'))).toBe(true);
    expect(times.some((t) => new Date(instant(t)).toISOString().endsWith('T23:59:59.000Z'))).toBe(true);
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(instant(t), (perSecond.get(instant(t)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeGreaterThan(3);
  });

  it('announces each stream with SCHEMA before its records, keys present and unique (C1, C6, C7)', () => {
    const schemaSeen = new Set<string>();
    const ids = new Map<string, Set<string>>();
    for (const m of run.messages) {
      if (m.type === 'SCHEMA') {
        schemaSeen.add(m.stream);
        expect(m.key_properties.every((k: string) => k in m.schema.properties)).toBe(true);
      }
      if (m.type !== 'RECORD') continue;
      expect(schemaSeen.has(m.stream), m.stream).toBe(true);
      const key = String(m.record.Id ?? m.record.id);
      expect(key).not.toBe('undefined');
      const seen = ids.get(m.stream) ?? new Set();
      expect(seen.has(key), `${m.stream} ${key} twice`).toBe(false);
      seen.add(key);
      ids.set(m.stream, seen);
    }
  });

  it('gives company_info, read whole on every run, the range of the run as its extract window (README: What lands in PostgreSQL)', () => {
    const [info, ...more] = recordsOf(run, 'company_info');
    expect(more).toEqual([]);
    expect(info).toMatchObject({ _sdc_extract_window_start_utc: START, _sdc_extract_window_end_utc: NOW });
  });

  it('states after each complete window, ending at end_date without progress markers (D1–D6)', () => {
    const states = statesOf(run);
    expect(states.length).toBeGreaterThan(ENTITIES.length);
    const final = lastState(run);
    for (const { stream, replication } of ENTITIES) {
      if (replication === 'FULL_TABLE') continue;
      expect(final.bookmarks[stream]).toEqual({ replication_key: 'MetaData.LastUpdatedTime', replication_key_value: NOW });
    }
    expect(JSON.stringify(final)).not.toMatch(/progress_markers|replication_key_signpost|starting_replication_value/);
    // No record of a stream follows a STATE whose bookmark already covers it (D5).
    const bookmark = new Map<string, number>();
    for (const m of run.messages) {
      if (m.type === 'STATE') for (const [s, b] of Object.entries<any>(m.value.bookmarks ?? {})) bookmark.set(s, instant(b.replication_key_value));
      if (m.type === 'RECORD' && m.record.MetaData && bookmark.has(m.stream) && m.stream !== 'company_info') {
        expect(instant(m.record.MetaData.LastUpdatedTime)).toBeGreaterThanOrEqual(bookmark.get(m.stream)!);
      }
    }
  });

  it('reports every stream × UTC day as _volumetry evidence agreeing with the records, and says which span read it', () => {
    const evidence = recordsOf(run, '_volumetry');
    const invoiceDays = evidence.filter((e) => e.stream === 'invoices');
    expect(invoiceDays.map((e) => e.window_start_utc)).toEqual([
      '2025-03-05T00:00:00Z',
      '2025-03-06T00:00:00Z',
      '2025-03-07T00:00:00Z',
      '2025-03-08T00:00:00Z',
      '2025-03-09T00:00:00Z',
      '2025-03-10T00:00:00Z',
    ]);
    const records = recordsOf(run, 'invoices');
    for (const e of invoiceDays) {
      const inDay = records.filter((r) => r._sdc_extract_window_start_utc === e.window_start_utc);
      expect(e.extracted).toBe(inDay.length);
      expect(e.qbo_count).toBe(inDay.length);
      expect(e.empty).toBe(inDay.length === 0);
      expect(instant(e.span_start_utc)).toBeLessThanOrEqual(instant(e.window_start_utc));
      expect(instant(e.span_end_utc)).toBeGreaterThanOrEqual(instant(e.window_end_utc));
      // Every record of the day came from a query inside the span the evidence names.
      for (const r of inDay) {
        const [, from, to] = /LastUpdatedTime >= '([^']+)' AND MetaData\.LastUpdatedTime < '([^']+)'/.exec(r._sdc_request_payload.query)!;
        expect(instant(from!)).toBeGreaterThanOrEqual(instant(e.span_start_utc));
        expect(instant(to!)).toBeLessThanOrEqual(instant(e.span_end_utc));
      }
    }
    // A span of several days (03-05 empty, 03-06 half a day of rows): each day its own count, the span's cost on its first day.
    const [empty, halfDay] = invoiceDays;
    expect(empty).toMatchObject({
      qbo_count: 0,
      extracted: 0,
      empty: true,
      span_start_utc: '2025-03-05T00:00:00Z',
      span_end_utc: '2025-03-07T00:00:00Z',
      span_qbo_count: halfDay!.extracted,
      spans: 1,
    });
    expect(empty!.requests).toBeGreaterThan(1);
    expect(empty!.pages).toBeGreaterThan(0);
    expect(halfDay).toMatchObject({ span_start_utc: '2025-03-05T00:00:00Z', span_end_utc: '2025-03-07T00:00:00Z', pages: 0, requests: 0, spans: 1 });
    expect(new Set(invoiceDays.map((e) => `${e.span_start_utc}..${e.span_end_utc}`)).size).toBe(3);
    // Sums over days are the run's: every request the tap made for invoices is in the evidence once.
    const invoiceRequests = emulator.requestLog().filter((r) => /FROM(%20|\+| )Invoice/.test(r.query)).length;
    expect(invoiceDays.reduce((sum, e) => sum + e.requests, 0)).toBe(invoiceRequests);
    expect(run.stderr).toMatch(/invoices \[2025-03-05, 2025-03-07\) 2 days: qbo_count=\d+ extracted=\d+ pages=\d+/);
    expect(run.stderr).toMatch(/summary invoices: 260 records in 6 days \(1 empty\) read as 3 spans/);
    expect(run.stderr).toMatch(/summary: \d+ records/);
  });

  it('resumed from its final state, re-emits nothing; a touched record comes back alone (D7, D8, D9)', async () => {
    const state = writeJson(dir, 'state.json', lastState(run));
    const again = await runTapCli(['--config', config, '--state', state]);
    expect(again.code).toBe(0);
    expect(again.messages[0]).toEqual({ type: 'STATE', value: lastState(run) });
    expect(again.messages.filter((m) => m.type === 'RECORD' && m.stream !== '_volumetry' && m.stream !== 'company_info')).toEqual([]);
    expect(lastState(again)).toEqual(lastState(run));

    const touchedId = emulator.truth('invoices')[0]!.id;
    emulator.touch('Invoice', touchedId);
    const later = writeJson(dir, 'config-later.json', tapSettings(emulator, dir, { start_date: START, end_date: '2025-03-11T00:00:00Z' }));
    const third = await runTapCli(['--config', later, '--state', state]);
    expect(third.code).toBe(0);
    expect(recordsOf(third, 'invoices').map((r) => r.Id)).toEqual([touchedId]);
    expect(recordsOf(third, 'customers')).toEqual([]);
  });

  it('resumes from a bookmark another tool wrote, with milliseconds or without an offset, at the UTC second it names (D13)', async () => {
    const catalog = writeJson(dir, 'catalog-invoices.json', catalogSelecting(discoverCatalog() as never, ['invoices']));
    const resumeFrom = async (bookmark: string, env: NodeJS.ProcessEnv = {}) => {
      const state = writeJson(dir, 'state-other-tool.json', {
        bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: bookmark } },
      });
      const resumed = await runTapCli(['--config', config, '--catalog', catalog, '--state', state], { env });
      expect(resumed.stderr).not.toMatch(/FATAL|stopping before this span/);
      expect(resumed.code).toBe(0);
      return recordsOf(resumed, 'invoices')
        .map((r) => r.Id as string)
        .sort();
    };
    const since = (from: number) =>
      emulator
        .truth('invoices')
        .filter((row) => instant(row.lastUpdated) >= from && instant(row.lastUpdated) < instant(NOW))
        .map((row) => row.id)
        .sort();
    // Half a second into the second of an invoice: QBO's answer holds that second, so the run reads it whole.
    const crowded = emulator.truth('invoices').find((row) => instant(row.lastUpdated) > instant('2025-03-08T00:00:00Z'))!;
    const second = instant(crowded.lastUpdated);
    expect(await resumeFrom(new Date(second + 500).toISOString())).toEqual(since(second));
    // No offset is UTC, as for start_date and the target, whatever the machine's time zone.
    const midnight = '2025-03-08T00:00:00';
    expect(since(instant(`${midnight}Z`)).length).toBeGreaterThan(since(instant(`${midnight}-08:00`)).length);
    expect(await resumeFrom(midnight, { TZ: 'America/Los_Angeles' })).toEqual(since(instant(`${midnight}Z`)));
  });

  it('refuses a bookmark that is no ISO 8601 instant, naming the stream, before printing or asking anything (exit 2)', async () => {
    const requests = emulator.requestLog().length;
    const state = writeJson(dir, 'state-unreadable.json', {
      bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2025-03-08 00:00:00Z' } },
    });
    const refused = await runTapCli(['--config', config, '--state', state]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toBe(
      'FATAL tap-quickbooks: --state: the bookmark of stream invoices, "2025-03-08 00:00:00Z", is not an ISO 8601 instant such as 2025-01-01T00:00:00Z; correct it, or remove that stream\'s bookmark to read the stream from start_date',
    );
    expect(refused.lines).toEqual([]);
    expect(emulator.requestLog().length).toBe(requests);
  });
});
