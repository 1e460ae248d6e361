/**
 * What a person reads of a company's freshness right after a sync, with the tap's end_lag: each
 * run reads up to end_lag before its start, so a company synced a second ago is complete up to at
 * least that long ago. `company list` and the console (in headless Chromium) say so once, in words,
 * and call a bookmark exactly end_lag behind its last run on time: one company with `end_lag:
 * PT1H` in the companies file, one with the default. Real syncs through the CLI against the
 * emulator and real PostgreSQL.
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Duration } from 'luxon';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { databaseUrl, REPO_ROOT } from './support/db.js';
import { startFirm, type Firm } from './companiesHarness.js';
import { killRunningClis, startRunnerCli, tableCell } from './pipelineHarness.js';
import { HAVE_CHROMIUM, launchChromium, NO_CHROMIUM_REASON } from './support/chromium.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/**
 * `lagged` sets end_lag PT1H in the companies file, `prompt` keeps the tap's default; `nightly`
 * (end_lag PT24H, the longest the tap takes) synced 13 hours ago, so its bookmark is 37 hours old:
 * over the day and a half after which a stream is stale, but only 13 hours beyond its end_lag.
 */
const LAGS = {
  lagged: { iso: 'PT1H', words: '1 hour', syncedAgoMs: 0 },
  prompt: { iso: 'PT5M', words: '5 minutes', syncedAgoMs: 0 },
  nightly: { iso: 'PT24H', words: '1 day', syncedAgoMs: 13 * HOUR },
} as const;
const SHIFT_CLOCK = pathToFileURL(path.join(REPO_ROOT, 'test/support/shiftClock.mjs')).href;
const NAMES = Object.keys(LAGS) as Array<keyof typeof LAGS>;
const prefix = `lag_${Math.random().toString(16).slice(2, 8)}`;
/** An age as the console and `company list` write it: `5 min 3 s`, `37 h 0 min`. */
const AGE = '\\d+ (?:min \\d+ s|h \\d+ min)';
/** `2025-02-01 06:00:00Z`, as the console and `company list` write an instant. */
const utc = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z');

let firm: Firm;
/** Per company: its bookmark after the sync, and the run that committed it. */
const synced = new Map<string, { readonly bookmark: string; readonly runId: string }>();

beforeAll(async () => {
  firm = await startFirm({ names: NAMES, databaseUrl: databaseUrl(), seed: 79, now: new Date(), days: 2, counts: { invoices: 8 } });
  const start = new Date(Date.now() - 3 * DAY).toISOString().slice(0, 10);
  let yaml = firm.companiesYaml({ schemaPrefix: prefix, streams: ['company_info', 'invoices'], extra: `  start: ${start}` });
  for (const name of ['lagged', 'nightly'] as const)
    yaml = yaml.replace(`  - name: ${name}\n`, `  - name: ${name}\n    tap:\n      end_lag: ${LAGS[name].iso}\n`);
  await firm.writeCompanies(yaml);
  for (const name of NAMES) {
    // The runner and the emulator on a clock `syncedAgoMs` behind (test/support/shiftClock.mjs), then back.
    const offsetMs = -LAGS[name].syncedAgoMs;
    firm.emulator.setNow(new Date(Date.now() + offsetMs));
    const sync = await firm.cli(
      ['sync', '--companies', 'companies.yaml', '--company', name],
      offsetMs === 0 ? {} : { NODE_OPTIONS: `--import=${SHIFT_CLOCK}`, QBO_TEST_CLOCK_OFFSET_MS: String(offsetMs) },
    );
    expect(sync.code, sync.stderr).toBe(0);
  }
  firm.emulator.setNow(new Date());
  for (const name of NAMES) {
    const folder = path.join(firm.dir, 'state', 'companies', name);
    const state = JSON.parse(await readFile(path.join(folder, 'qb_company.json'), 'utf8')) as { bookmarks: { invoices: { replication_key_value: string } } };
    const runsDir = path.join(folder, 'runs');
    const [runFile] = readdirSync(runsDir).filter((f) => f.endsWith('.json'));
    const run = JSON.parse(await readFile(path.join(runsDir, runFile!), 'utf8')) as { id: string; status: string };
    expect(run.status).toBe('succeeded');
    synced.set(name, { bookmark: state.bookmarks.invoices.replication_key_value, runId: run.id });
    // Its age is the time since its sync plus its end_lag: nightly's is past the day and a half.
    expect(Date.now() - Date.parse(state.bookmarks.invoices.replication_key_value)).toBeGreaterThan(
      LAGS[name].syncedAgoMs + Duration.fromISO(LAGS[name].iso).toMillis(),
    );
  }
}, 180_000);
afterAll(async () => {
  killRunningClis();
  await firm?.close();
});

describe('after a sync of each company: end_lag PT1H, the default, and PT24H synced 13 hours ago', () => {
  it("company list shows each complete up to its bookmark with its end_lag in words, says once why that lag is on time, and calls none stale, though nightly's bookmark is 37 hours old", async () => {
    const list = await firm.cli(['company', 'list', '--companies', 'companies.yaml']);
    expect(list.code, list.stderr).toBe(0);
    for (const name of NAMES) {
      expect(tableCell(list.stdout, name, 'complete up to'), list.stdout).toMatch(new RegExp(`^${utc(synced.get(name)!.bookmark)}, ${AGE} ago$`));
      expect(tableCell(list.stdout, name, 'end_lag'), list.stdout).toBe(LAGS[name].words);
      expect(tableCell(list.stdout, name, 'streams'), list.stdout).toBe('company_info, invoices');
    }
    expect(list.stdout.split('Runs read up to end_lag before they start').length - 1, list.stdout).toBe(1);
    expect(list.stdout).toContain('right after a sync a company is end_lag behind, which is on time');
    expect(list.stdout).not.toContain('(stale:');
  });
});

describe.skipIf(!HAVE_CHROMIUM)(`the console in headless Chromium, right after that sync${HAVE_CHROMIUM ? '' : ` (${NO_CHROMIUM_REASON})`}`, () => {
  let url: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const web = startRunnerCli(['console', '--companies', 'companies.yaml', '--state-dir', 'state', '--port', '0'], { cwd: firm.dir });
    url = await new Promise<string>((resolve, reject) => {
      web.child.stderr?.on('data', () => {
        const found = /console at (http:\/\/\S+)/.exec(web.output())?.[1];
        if (found) resolve(found);
      });
      void web.exited.then((code) => reject(new Error(`the console exited with ${code}:\n${web.output()}`)));
    });
    browser = await launchChromium();
    page = await browser.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it("says on each company's line how far before its start a run reads, and that nothing needs you: the lag is not late", async () => {
    await page.goto(url);
    await expect.poll(() => page.locator('.allgood').first().innerText()).toMatch(/3 companies: nothing needs you/);
    for (const name of NAMES) {
      // 2 streams, as company list's streams column has them: company_info, read whole at every run, keeps no bookmark but counts.
      const line = await page.locator(`#company-${name} .glance`).innerText();
      expect(line).toMatch(
        new RegExp(`^ok 2 streams, oldest bookmark ${AGE} old; runs read up to ${LAGS[name].words} before they start \\(end_lag ${LAGS[name].iso}\\)$`),
      );
    }
  });

  it('opens a company to its streams: the bookmark shown is the one committed, with the end_lag said once above them, and nothing to check', async () => {
    for (const name of NAMES) {
      const section = page.locator(`section[aria-labelledby="company-${name}"]`);
      await section.locator('summary').click();
      await expect.poll(() => section.locator('p.end-lag').isVisible()).toBe(true);
      expect(await section.locator('p.end-lag').innerText()).toBe(
        `Each bookmark is what the warehouse is complete up to. Runs read up to ${LAGS[name].words} before they start (end_lag ${LAGS[name].iso}), since QBO shows a change a little after it is made: right after a sync a bookmark is that far behind, which is on time.`,
      );
      expect(await section.locator('tr[data-stream="invoices"] time').first().innerText()).toBe(utc(synced.get(name)!.bookmark));
      expect(await section.locator('.pill.warn').count()).toBe(0);
      expect(await section.locator('ul.attention').count()).toBe(0);
    }
  });

  it("says on a sync's run page that its range, which ends at the bookmark, ends end_lag before the run started", async () => {
    for (const name of NAMES) {
      await page.goto(new URL(`/runs/${synced.get(name)!.runId}`, url).href);
      const range = await page.locator('dt:text-is("range") + dd').innerText();
      expect(range).toMatch(
        new RegExp(`, ${utc(synced.get(name)!.bookmark)}\\) · runs read up to ${LAGS[name].words} before they start \\(end_lag ${LAGS[name].iso}\\)$`),
      );
    }
  });
});
