import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverCatalog } from 'qbo-catalog';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { runBackfill } from '../packages/qbo-pipeline/src/index.js';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { expectExactly, loggedHooks, suiteHarness } from './pipelineHarness.js';
import { catalogSelecting, lastState, recordsOf, runTapCli, tapSettings, tempDir, writeJson, type TapRun } from './tapHarness.js';

/**
 * QBO (or a proxy in front of it) answering HTTP 200 with a body that is not the JSON asked for:
 * cut short, an HTML page, empty, JSON of another shape. Retried like a 5xx within the tap's one
 * retry loop; when it never stops, exit 1 with one line, the bookmark never ahead, and a rerun
 * resumes exactly.
 */
const instant = (text: string) => Date.parse(text);
const DAY = 86_400_000;
// CDC looks back 30 days from now (QBO's clock and the tap's), so these companies live in the present.
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

describe('a garbled 200 from QBO, now and then: retried, and the loaded tables equal the truth', () => {
  const STREAMS = ['invoices', 'customers'] as const;
  const START = iso(TODAY - 4 * DAY);
  const END = iso(TODAY);
  const { logs, hooks } = loggedHooks();
  const h = suiteHarness({
    seed: 23,
    now: new Date(END),
    days: 4,
    counts: { invoices: 90, customers: 30 },
    tap: { page_size: 20, max_span_rows: 40, max_concurrency: 2 },
  });

  it('every kind of garble, on COUNTs, pages and CDC, is asked for again and costs nothing', async () => {
    h.emulator.setFaults({
      rules: [
        // Rules watching the same requests never fire on the same one, so each fault is injected.
        { fault: '200-truncated', kinds: ['query'], nth: [1, 4] },
        { fault: '200-empty', kinds: ['query'], nth: [6] },
        { fault: '200-html', kinds: ['count'], nth: [2] },
        { fault: '200-json', kinds: ['count'], nth: [3] },
        { fault: '200-truncated', kinds: ['cdc'], nth: [1] },
        { fault: '200-json', kinds: ['cdc'], nth: [2] },
      ],
    });
    const schema = scratchSchema('garbled');
    try {
      const result = await runBackfill(
        {
          job: 'garbled',
          streams: STREAMS,
          start: START,
          end: END,
          fresh: true,
          tapConfig: h.tapConfig,
          targetConfig: await h.targetConfig(schema),
          stateDir: path.join(h.dir, 'state'),
        },
        hooks,
      );
      expect(result.ok, `${result.failure?.reason}\n${logs.join('\n')}`).toBe(true);
    } finally {
      h.emulator.setFaults({ rules: [] });
    }
    const faults = h.emulator.stats().faults;
    expect(faults).toMatchObject({ '200-truncated': 3, '200-html': 1, '200-empty': 1, '200-json': 2 });
    // Each garble was one retry, counted as such in the summary.
    const summary = logs.find((l) => l.includes('summary:'))!;
    expect(summary).toMatch(/ server=0 unauthorized=0 garbled=7$/);
    const warnings = logs.filter((l) => l.includes('with a garbled body'));
    expect(warnings).toHaveLength(7);
    for (const w of warnings) {
      expect(w).toMatch(/WARN tap-quickbooks: (query "SELECT .* FROM (Invoice|Customer)\b.*"|CDC since \S+ for [A-Za-z,]+): HTTP 200 with a garbled body: /);
      expect(w).toMatch(/\(content-type \S+, \d+ bytes, intuit_tid [0-9a-f-]{36}\); retry [12]\/5 in \d/);
    }
    expect(warnings.some((w) => w.includes('not JSON (an HTML or XML page) (content-type text/html'))).toBe(true);
    expect(warnings.some((w) => w.includes('empty body (content-type application/json;charset=UTF-8, 0 bytes'))).toBe(true);
    expect(warnings.some((w) => w.includes('JSON without CDCResponse'))).toBe(true);
    // Never the body: no record text, no page markup.
    expect(warnings.join('\n')).not.toMatch(/"Id"|DisplayName|Maintenance|<html/i);
    await expectExactly(databaseUrl(), schema, h.emulator, STREAMS, START, END);
    const evidence = await withClient((c) => c.query(`SELECT bool_and(extracted_equals_loaded) AS equal FROM "${schema}".evidence`));
    expect(evidence.rows[0]).toMatchObject({ equal: true });
  });
});

describe('a garbled 200 from QBO that never stops', () => {
  const NOW = iso(TODAY);
  const START = iso(TODAY - 4 * DAY);
  let emulator: Emulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  async function setup(settings: Record<string, unknown> = {}) {
    emulator = await startEmulator({ seed: 11, now: new Date(NOW), days: 4, counts: { invoices: 120 } });
    const dir = tempDir();
    const config = writeJson(
      dir,
      'config.json',
      tapSettings(emulator, dir, { start_date: START, end_date: NOW, page_size: 10, max_concurrency: 1, max_span_rows: 30, ...settings }),
    );
    const catalog = writeJson(dir, 'catalog.json', catalogSelecting(discoverCatalog() as never, ['invoices', '_volumetry']));
    return { emu: emulator, dir, config, catalog };
  }
  const truthIds = (emu: Emulator) =>
    emu
      .truth('invoices')
      .filter((r) => instant(r.lastUpdated) < instant(NOW))
      .map((r) => r.id)
      .sort();
  /** Runs the tap, which must exit 1 with exactly one FATAL line, matching `fatal`; returns the run and that line. */
  async function runFailing(config: string, catalog: string, fatal: RegExp): Promise<{ failed: TapRun; line: string }> {
    const failed = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(failed.code, failed.stderr).toBe(1);
    const lines = failed.stderr.split('\n').filter((l) => l.startsWith('FATAL'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(fatal);
    return { failed, line: lines[0]! };
  }

  it('exits 1 with one line naming the query, what is wrong with the body and its intuit_tid, the bookmark never ahead, and a rerun resumes exactly', async () => {
    const { emu, dir, config, catalog } = await setup();
    // From the 9th query on (pages and COUNTs) a proxy answers with its HTML page.
    emu.setFaults({ rules: [{ fault: '200-html', kinds: ['query', 'count'], from: 9 }] });
    const { failed, line } = await runFailing(
      config,
      catalog,
      /^FATAL tap-quickbooks: query "SELECT .* FROM Invoice WHERE MetaData\.LastUpdatedTime >= '\S+Z' AND MetaData\.LastUpdatedTime < '\S+Z'[^"]*" failed after 6 attempts: HTTP 200 with a garbled body: not JSON \(an HTML or XML page\) \(content-type text\/html, \d+ bytes, intuit_tid ([0-9a-f-]{36})\); .*running again resumes$/,
    );
    // The tid is the last garbled answer's, as QBO support would need it.
    const tid = /intuit_tid ([0-9a-f-]{36})/.exec(line)![1];
    expect(emu.requestLog().at(-1)).toMatchObject({ intuitTid: tid, status: 200, kind: expect.stringMatching(/^(query|count)$/) });
    expect(failed.stderr).not.toMatch(/Maintenance|<html/i);
    expect(emu.stats().faults['200-html']).toBe(6);
    // State never ahead: the bookmark is a day's end, nothing before it is missing, nothing after it was claimed.
    const bookmark = lastState(failed).bookmarks.invoices.replication_key_value as string;
    expect(bookmark).toMatch(/T00:00:00(\.000)?Z$/);
    const first = recordsOf(failed, 'invoices');
    const before = truthIds(emu).filter((id) => {
      const row = emu.truth('invoices').find((r) => r.id === id)!;
      return instant(row.lastUpdated) < instant(bookmark);
    });
    expect([...new Set(first.filter((r) => instant(r.MetaData.LastUpdatedTime) < instant(bookmark)).map((r) => r.Id))].sort()).toEqual(before);

    emu.setFaults({ rules: [] });
    const state = writeJson(dir, 'state.json', lastState(failed));
    const resumed = await runTapCli(['--config', config, '--catalog', catalog, '--state', state]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const second = recordsOf(resumed, 'invoices');
    expect(second.every((r) => instant(r.MetaData.LastUpdatedTime) >= instant(bookmark))).toBe(true);
    expect([...new Set([...before, ...second.map((r) => r.Id)])].sort()).toEqual(truthIds(emu));
  });

  it('a CDC answer that stays garbled exits 1 naming the CDC request and what is wrong, before any STATE moves', async () => {
    const { emu, config, catalog } = await setup();
    emu.setFaults({ rules: [{ fault: '200-json', kinds: ['cdc'], from: 1 }] });
    const { failed } = await runFailing(
      config,
      catalog,
      /^FATAL tap-quickbooks: CDC since \S+ for Invoice failed after 6 attempts: HTTP 200 with a garbled body: JSON without CDCResponse \(content-type application\/json;charset=UTF-8, \d+ bytes, intuit_tid [0-9a-f-]{36}\); .*running again resumes$/,
    );
    expect(recordsOf(failed, 'invoices')).toEqual([]);
  });

  it('a garbled answer of the token endpoint is not sent again (it may have held a rotated refresh token), and says why', async () => {
    const { emu, dir, config, catalog } = await setup();
    emu.setFaults({ rules: [{ fault: '200-html', kinds: ['token'], next: 1 }] });
    await runFailing(
      config,
      catalog,
      /^FATAL tap-quickbooks: token refresh at \S+ failed: HTTP 200 with a garbled body: not JSON \(an HTML or XML page\) \(content-type text\/html, \d+ bytes, intuit_tid [0-9a-f-]{36}\); not retried, as the lost answer may have held a rotated refresh token; running again .* resumes/,
    );
    expect(emu.requestLog().filter((r) => r.kind === 'token')).toHaveLength(1);
    // The proxy never reached QBO: the refresh token still works, and running again succeeds.
    const resumed = await runTapCli(['--config', config, '--catalog', catalog]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(
      recordsOf(resumed, 'invoices')
        .map((r) => r.Id)
        .sort(),
    ).toEqual(truthIds(emu));
    expect(JSON.parse(readFileSync(path.join(dir, 'tokens.json'), 'utf8')).refresh_token).toBe(emu.currentRefreshToken());
  });
});
