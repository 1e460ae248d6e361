import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITIES } from 'qbo-catalog';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { recordsOf, runTapCli, statesOf, tapSettings, tempDir, writeJson, type TapRun } from './tapHarness.js';

// A year of every stream for a company whose rows fill its last 20 days: what a first backfill
// costs is its data, not its calendar days (bench/backfill.mjs runs the 3-year, 70,000-row version).
const NOW = '2025-03-20T12:00:00Z';
const START = '2024-03-20T00:00:00Z';
const DAY_MS = 86_400_000;
const PAGE_SIZE = 50;
const instant = (text: string) => Date.parse(text);
const days = Math.ceil((instant(NOW) - instant(START)) / DAY_MS);

describe("tap-quickbooks plans its queries from QBO's counts (issue 12)", () => {
  let emulator: Emulator;
  let dir: string;
  let run: TapRun;
  let requests: number;

  const truth = (stream: string, from = START) => {
    const full = ENTITIES.find((e) => e.stream === stream)!.replication === 'FULL_TABLE';
    return emulator.truth(stream).filter((r) => full || (instant(r.lastUpdated) >= instant(from) && instant(r.lastUpdated) < instant(NOW)));
  };

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 12, now: new Date(NOW), days: 20, counts: { invoices: 1500, payments: 700, customers: 300 } });
    dir = tempDir();
    // Spans of at most 400 rows, so a company this small is cut too (the default is 10,000).
    const config = writeJson(dir, 'config.json', tapSettings(emulator, dir, { start_date: START, end_date: NOW, page_size: PAGE_SIZE, max_span_rows: 400 }));
    run = await runTapCli(['--config', config]);
    requests = emulator.requestLog().filter((r) => r.kind === 'query' || r.kind === 'count').length;
  });
  afterAll(() => emulator?.close());

  it('costs at most 1.5 × (Σ over streams of ⌈rows/page_size⌉ + number of streams) requests, not one a stream and day', () => {
    expect(run.stderr).not.toMatch(/FATAL/);
    expect(run.code).toBe(0);
    const ideal = ENTITIES.reduce((sum, { stream }) => sum + Math.ceil(truth(stream).length / PAGE_SIZE) + 1, 0);
    expect(requests).toBeLessThanOrEqual(1.5 * ideal);
    expect(requests).toBeLessThan((ENTITIES.length * days) / 10);
  });

  it('emits exactly the truth of every stream, each Id once, each record in its UTC day', () => {
    for (const { stream } of ENTITIES) {
      const records = recordsOf(run, stream);
      expect(records.map((r) => r.Id).sort(), stream).toEqual(
        truth(stream)
          .map((r) => r.id)
          .sort(),
      );
      if (stream === 'company_info') continue;
      for (const r of records) {
        const day = Math.floor(instant(r.MetaData.LastUpdatedTime) / DAY_MS) * DAY_MS;
        expect([instant(r._sdc_extract_window_start_utc), instant(r._sdc_extract_window_end_utc)]).toEqual([day, Math.min(day + DAY_MS, instant(NOW))]);
      }
    }
  });

  it("keeps one _volumetry record per stream and UTC day, whose sums are the run's requests and records", () => {
    const evidence = recordsOf(run, '_volumetry');
    for (const { stream, replication } of ENTITIES) {
      if (replication === 'FULL_TABLE') continue;
      const mine = evidence.filter((e) => e.stream === stream);
      expect(mine, stream).toHaveLength(days);
      expect(mine[0].window_start_utc).toBe(START);
      expect(mine.at(-1).window_end_utc).toBe(NOW);
      for (let i = 1; i < mine.length; i++) expect(mine[i].window_start_utc).toBe(mine[i - 1].window_end_utc);
      expect(mine.reduce((sum, e) => sum + e.extracted, 0)).toBe(truth(stream).length);
      const rows = truth(stream).length;
      if (rows <= 400) {
        // Few rows: the whole year is one span, one COUNT and its pages (up to the first short one).
        expect(
          mine.every((e) => e.span_start_utc === START && e.span_end_utc === NOW && e.span_qbo_count === rows),
          stream,
        ).toBe(true);
        expect(mine[0].requests, stream).toBe(1 + (rows === 0 ? 0 : Math.floor(rows / PAGE_SIZE) + 1));
        expect(run.stderr, stream).toMatch(new RegExp(`summary ${stream}: ${rows} records in ${days} days \\(\\d+ empty\\) read as 1 span, `));
      } else {
        // Cut where the rows are: the months before the company's first row are one empty span,
        // costing the COUNT that cut the year and its own.
        expect(mine[0], stream).toMatchObject({ empty: true, span_start_utc: START, span_qbo_count: 0, requests: 2, pages: 0 });
        expect(mine.filter((e) => e.span_start_utc === START).length).toBeGreaterThan(30);
      }
    }
    expect(evidence.reduce((sum, e) => sum + e.requests, 0)).toBe(requests);
  });

  it('moves each bookmark only to the end of complete days, in order', () => {
    const seen = new Map<string, number>();
    for (const state of statesOf(run)) {
      for (const [stream, b] of Object.entries<{ replication_key_value: string }>(state.bookmarks)) {
        const at = instant(b.replication_key_value);
        expect(at % DAY_MS === 0 || at === instant(NOW), `${stream} ${b.replication_key_value}`).toBe(true);
        expect(at).toBeGreaterThanOrEqual(seen.get(stream) ?? 0);
        seen.set(stream, at);
      }
    }
    expect(seen.get('invoices')).toBe(instant(NOW));
  });

  it('resumed from a STATE in the middle of the run, with 1000-row pages, repeats and skips no day', async () => {
    const states = statesOf(run);
    const middle = states.find((s) => {
      const at = instant(s.bookmarks.invoices?.replication_key_value ?? START);
      return at > instant(NOW) - 15 * DAY_MS && at < instant(NOW) - 5 * DAY_MS;
    })!;
    expect(middle).toBeDefined();
    const bookmark = middle.bookmarks.invoices.replication_key_value as string;
    const config = writeJson(dir, 'config-resume.json', tapSettings(emulator, dir, { start_date: START, end_date: NOW, page_size: 1000 }));
    const resumed = await runTapCli(['--config', config, '--state', writeJson(dir, 'middle.json', middle)]);
    expect(resumed.code).toBe(0);
    const again = recordsOf(resumed, 'invoices');
    expect(again.every((r) => instant(r.MetaData.LastUpdatedTime) >= instant(bookmark))).toBe(true);
    expect(again.every((r) => r._sdc_page_size === 1000)).toBe(true);
    expect(again.map((r) => r.Id).sort()).toEqual(
      truth('invoices', bookmark)
        .map((r) => r.id)
        .sort(),
    );
    const evidence = recordsOf(resumed, '_volumetry').filter((e) => e.stream === 'invoices');
    expect(evidence[0].window_start_utc).toBe(bookmark);
    expect(evidence.at(-1).window_end_utc).toBe(NOW);
  });
});
