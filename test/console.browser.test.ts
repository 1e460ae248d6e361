/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// page.evaluate callbacks run in the browser
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DateTime } from 'luxon';
import type { Browser, Page } from 'playwright-core';
import { RUNNER_CLI, startHarness, type Harness } from './pipelineHarness.js';
import { HAVE_CHROMIUM, launchChromium, NO_CHROMIUM_REASON } from './support/chromium.js';
import { writeRunRecord } from './support/runRecords.js';
import { databaseUrl, REPO_ROOT, scratchSchema } from './support/db.js';

/** Screenshots a person looks at (git-ignored). */
const SHOTS = path.join(REPO_ROOT, 'test-artifacts', 'console');

const DAYS = 5;
const today = DateTime.utc().startOf('day');
const schema = scratchSchema('console_browser');

/** The scheduler with its console, as `scheduler --console` runs in compose, on a free port. */
function startScheduler(args: readonly string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [RUNNER_CLI, 'scheduler', '--console', '--console-port', '0', '--interval', '1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the console did not start:\n${stderr}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /console at (http:\/\/\S+)/.exec(stderr)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, stderr: () => stderr });
      }
    });
    child.on('exit', (code) => reject(new Error(`the scheduler exited with ${code}:\n${stderr}`)));
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe.skipIf(!HAVE_CHROMIUM)(`the console in headless Chromium${HAVE_CHROMIUM ? '' : ` (${NO_CHROMIUM_REASON})`}`, () => {
  let h: Harness;
  let scheduler: Awaited<ReturnType<typeof startScheduler>>;
  let browser: Browser;
  let page: Page;
  let runUrl: string;
  /** Lets QBO answer the trigger's run once its page has been seen running: until then the run cannot end, however slow the machine. */
  let releaseAnswers: () => void = () => undefined;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    h = await startHarness({
      databaseUrl: databaseUrl(),
      seed: 7,
      now: today.toJSDate(),
      days: DAYS,
      counts: { invoices: 400, customers: 60, items: 20 },
      refreshTokenHardExpiresInSeconds: 25 * 86_400,
    });
    const state = path.join(h.dir, 'state');
    // The tap's token store where it keeps it by default, so the console shows its health.
    await writeFile(h.tapConfig, JSON.stringify(h.emulator.tapSettings({ token_store: path.join(state, 'tokens', `${h.emulator.realmId}.json`) })));
    scheduler = await startScheduler([
      '--state-dir',
      state,
      '--tap-config',
      h.tapConfig,
      '--target-config',
      await h.targetConfig(schema),
      '--zone',
      'America/Guayaquil',
    ]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => {
      throw error;
    });
  }, 120_000);

  afterAll(async () => {
    releaseAnswers();
    await browser?.close();
    scheduler?.child.kill('SIGTERM');
    if (scheduler && scheduler.child.exitCode === null) await new Promise((resolve) => scheduler.child.once('exit', resolve));
    await h?.close();
  });

  it('adds a one-time trigger through the form, showing the instant in UTC and America/Guayaquil side by side', async () => {
    await page.goto(`${scheduler.url}schedules`);
    const at = DateTime.utc().plus({ seconds: 3 }).startOf('second');
    const wall = at.setZone('America/Guayaquil');
    await page.fill('#at', wall.toFormat("yyyy-LL-dd'T'HH:mm:ss"));
    await page.selectOption('#zone', 'America/Guayaquil');
    const pair = page.locator('#at-preview');
    await expect.poll(() => pair.locator('[data-utc]').textContent(), { timeout: 15_000 }).toBe(at.toFormat("yyyy-LL-dd HH:mm:ss'Z'"));
    expect(await pair.locator('[data-zoned]').textContent()).toBe(`${wall.toFormat('yyyy-LL-dd HH:mm:ss')} (UTC−05:00)`);
    for (const stream of ['invoices', 'customers', 'items']) await page.check(`input[name="streams"][value="${stream}"]`);
    await page.fill('input[name="start"]', today.minus({ days: DAYS }).toISODate() ?? '');
    await page.fill('input[name="end"]', today.toISODate() ?? '');
    await page.fill('input[name="job"]', 'console_test');
    await shot(page, 'schedules-form');
    releaseAnswers = h.emulator.holdAnswers();
    await page.click('button[value="add"]');
    await expect.poll(() => page.locator('.notice.ok').textContent(), { timeout: 15_000 }).toMatch(/Trigger trg-\S+ added: it runs at/);
    expect(await page.locator('table.triggers tbody tr').count()).toBe(1);
  });

  it('sees the scheduler run it, and follows the run page live to success', async () => {
    // The trigger's row links its run once the scheduler has claimed it.
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('table.triggers a[href^="/runs/"]').count();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe(1);
    await shot(page, 'schedules');
    await page.click('table.triggers a[href^="/runs/"]');
    runUrl = page.url();
    const root = page.locator('[data-run-events]');
    expect(await root.getAttribute('data-status')).toBe('running');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    releaseAnswers();
    await expect.poll(() => root.getAttribute('data-status'), { timeout: 90_000, interval: 500 }).toBe('succeeded');
    // Followed live (server-sent events), not by reloading the page.
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator('#run-links a[href^="/evidence"]').count()).toBe(1);
    expect(await page.locator('#run-progress .progress-row[data-complete="yes"]').count()).toBe(3);
    expect(await page.locator('#run-facts').textContent()).toMatch(/trigger trg-/);
    await expect.poll(() => page.locator('#run-totals table tbody tr').count(), { timeout: 15_000 }).toBe(3);
    expect(await page.locator('#run-log').textContent()).toMatch(/target-postgres-raw: done/);
    await shot(page, 'run');
    await page.goto(`${scheduler.url}runs`);
    expect(await page.locator(`table.runs a[href="${new URL(runUrl).pathname}"]`).count()).toBe(1);
    await shot(page, 'runs');
  });

  it('draws one bar per UTC day in the evidence chart, for each measure, and the table agrees', async () => {
    const runId = new URL(runUrl).pathname.split('/').at(-1) ?? '';
    await page.goto(`${scheduler.url}evidence?run=${runId}`);
    // A chart is drawn as it nears the window: each is scrolled to, as a person reading the page would.
    for (const canvas of await page.locator('canvas[data-stream]').all()) await canvas.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelectorAll('canvas[data-days]').length === 3);
    const bars = await page.evaluate(() =>
      [...document.querySelectorAll('canvas[data-stream]')].map((canvas) => {
        const chart = (
          window as unknown as { Chart: { getChart(c: Element): { data: { labels: unknown[] }; getDatasetMeta(i: number): { data: unknown[] } } } }
        ).Chart.getChart(canvas);
        return {
          stream: (canvas as HTMLCanvasElement).dataset.stream,
          days: chart.data.labels.length,
          bars: [0, 1, 2].map((i) => chart.getDatasetMeta(i).data.length),
        };
      }),
    );
    expect(bars).toEqual(['customers', 'invoices', 'items'].map((stream) => ({ stream, days: DAYS, bars: [DAYS, DAYS, DAYS] })));
    const rows = await page.locator('table.evidence tbody tr').allTextContents();
    expect(rows).toHaveLength(3 * DAYS);
    for (let d = 0; d < DAYS; d++) expect(rows.some((r) => r.includes(today.minus({ days: DAYS - d }).toISODate() ?? ''))).toBe(true);
    expect(await page.locator('table.evidence tr.status-lost, table.evidence tr.status-missing').count()).toBe(0);
    // With no day that needs a look, each stream's days are one line; its link in the totals table opens them.
    expect(await page.locator('details.stream-days').count()).toBe(3);
    expect(await page.locator('details.stream-days[open]').count()).toBe(0);
    await page.locator('a[href="#day-invoices"]').click();
    await expect.poll(() => page.locator('#day-invoices').isVisible()).toBe(true);
    await shot(page, 'evidence');
  });

  it('shows at a glance that the run worked, how fresh each stream is, and that the token expires soon', async () => {
    await page.goto(scheduler.url);
    const streams = page.locator('section.company table.data').first();
    expect(await streams.locator('tbody tr').count()).toBe(3);
    expect(await streams.textContent()).toContain('succeeded');
    const tokens = await page.locator('section.company table.data').nth(1).textContent();
    expect(tokens).toContain(h.emulator.realmId);
    expect(tokens).toMatch(/2[45] days/);
    expect(await page.locator('ul.attention').textContent()).toMatch(/realm \S+: the refresh token expires in 2[45] days/);
    await shot(page, 'overview');
  });

  it('writes every status label at a contrast of at least 4.5:1 to its background (WCAG AA for its small bold text)', async () => {
    const runPath = new URL(runUrl).pathname;
    const low: string[] = [];
    for (const at of ['/', '/runs', runPath, `/evidence?run=${runPath.split('/').at(-1) ?? ''}`, '/schedules']) {
      await page.goto(new URL(at, scheduler.url).href);
      const pills = await page.evaluate(() => {
        const luminance = (css: string) => {
          const [r = 0, g = 0, b = 0] = (css.match(/[\d.]+/g) ?? []).map(Number).map((v) => {
            const c = v / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        return [...document.querySelectorAll('.pill')].map((pill) => {
          const style = getComputedStyle(pill);
          const [light, dark] = [luminance(style.color), luminance(style.backgroundColor)].sort((a, b) => b - a) as [number, number];
          return { text: pill.textContent ?? '', level: pill.className, ratio: (light + 0.05) / (dark + 0.05) };
        });
      });
      expect(pills.length, at).toBeGreaterThan(0);
      for (const p of pills) if (p.ratio < 4.5) low.push(`${at}: "${p.text}" (${p.level}) ${p.ratio.toFixed(2)}:1`);
    }
    expect(low).toEqual([]);
  });

  it('fits every page in the window, a 390 px phone included: wide tables scroll in their own box', async () => {
    const runPath = new URL(runUrl).pathname;
    // A sync that advised a reconcile of every stream: its command, one long line, made the run page 3,291 px wide on a 1400 px screen.
    const streams = [
      'accounts',
      'bill_payments',
      'bills',
      'classes',
      'credit_memos',
      'customers',
      'departments',
      'deposits',
      'employees',
      'estimates',
      'invoices',
      'items',
    ];
    const advised = await writeRunRecord(path.join(h.dir, 'state'), {
      id: 'run-20250102T031500Z-a11ce5',
      job: 'advised_sync',
      streams,
      status: 'succeeded',
      exitCode: 0,
      finishedAt: new Date().toISOString(),
      reconcileCommand: `node packages/qbo-pipeline/dist/cli.js reconcile --job advised_sync --streams ${streams.join(',')} --tap-config tap.json`,
      reconcileStreams: streams,
    });
    // A first hour's runs: a failed trigger's run of a three-stream job, ids to the millisecond as runners write them;
    // with 25 unbreakable characters of run id the runs table was 12 px wider than a 1280 px window.
    await writeRunRecord(path.join(h.dir, 'state'), {
      id: 'run-20251207T164058.452Z-75fb6f',
      kind: 'backfill',
      job: 'qb_customers_invoices_items',
      streams: ['invoices', 'customers', 'items'],
      triggerId: 'trg-20250201T030000Z-9a5e62',
      status: 'failed',
      exitCode: 2,
      finishedAt: new Date().toISOString(),
      reason:
        'target-postgres-raw: PostgreSQL at 127.0.0.1:40489/postgres as user postgres refused the connection: password authentication failed for user "postgres" [28P01]; check the password (setting password, database_url or TARGET_POSTGRES_RAW_PASSWORD_FILE)',
    });
    await writeRunRecord(path.join(h.dir, 'state'), {
      id: 'run-20251207T164024.406Z-b8ac3c',
      kind: 'backfill',
      job: 'qb_customers_invoices_items',
      streams: ['invoices', 'customers', 'items'],
      status: 'succeeded',
      exitCode: 0,
      finishedAt: new Date().toISOString(),
      moved: { read: 340, loaded: 340, inserted: 0, updated: 0, unchanged: 340, deleted: 0 },
    });
    const paths = ['/', '/runs', runPath, `/runs/${advised.id}`, `/evidence?run=${runPath.split('/').at(-1) ?? ''}`, '/schedules'];
    for (const width of [390, 1280]) {
      const narrow = await browser.newPage({ viewport: { width, height: 800 } });
      try {
        for (const at of paths) {
          await narrow.goto(new URL(at, scheduler.url).href);
          const wider = await narrow.evaluate(() => document.documentElement.scrollWidth);
          expect(wider, `${at} at ${width} px`).toBeLessThanOrEqual(width);
        }
        // On a laptop the runs table needs no scrolling of its own: a failure's reason, squeezed into a last column, was off to the right.
        if (width === 1280) {
          await narrow.goto(new URL('/runs', scheduler.url).href);
          const box = await narrow
            .locator('table.runs')
            .evaluate((table) => ({ scroll: table.parentElement?.scrollWidth, client: table.parentElement?.clientWidth }));
          expect(box.scroll, 'the runs table at 1280 px').toBeLessThanOrEqual(box.client ?? 0);
        }
        if (width === 390) await shot(narrow, 'overview-390');
      } finally {
        await narrow.close();
      }
    }
  });
  it('says in the runs table, on a laptop, what a scheduled sync that changed nothing did and which slot started it, each in at most two short lines', async () => {
    const state = path.join(h.dir, 'state');
    const slot = today.minus({ days: 1 }).set({ hour: 2 });
    await writeRunRecord(state, {
      id: 'run-20250102T020003Z-5c4ed0',
      job: 'nightly_sync',
      streams: ['invoices', 'customers', 'items'],
      triggerId: `sch-nightly-${slot.toFormat("yyyyLLdd'T'HHmmss'Z'")}`,
      scheduleId: 'nightly',
      startedAt: slot.plus({ seconds: 3 }).toISO() ?? '',
      finishedAt: slot.plus({ seconds: 40 }).toISO() ?? '',
      status: 'succeeded',
      exitCode: 0,
      moved: { loaded: 3420, deleted: 0, read: 3420, inserted: 0, updated: 0, unchanged: 3420 },
    });
    const laptop = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await laptop.goto(new URL('/runs?job=nightly_sync', scheduler.url).href);
      const row = laptop.locator('tr[data-run="run-20250102T020003Z-5c4ed0"]');
      // Lines of text a cell's content takes (the cell itself is as tall as its row).
      const lines = (cell: string) =>
        row.locator(cell).evaluate((td) => {
          const tops = new Set<number>();
          const texts = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
          for (let node = texts.nextNode(); node; node = texts.nextNode()) {
            const range = document.createRange();
            range.selectNodeContents(node);
            for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top / 8));
          }
          return tops.size;
        });
      expect(await row.locator('td.by').innerText()).toBe('schedule nightly\n02:00 UTC slot');
      expect(await row.locator('td.by span').getAttribute('title')).toBe(
        `schedule nightly, its ${slot.toFormat("yyyy-LL-dd HH:mm:ss'Z'")} slot (trigger sch-nightly-${slot.toFormat("yyyyLLdd'T'HHmmss'Z'")})`,
      );
      expect(await row.locator('td.outcome').innerText()).toBe('nothing changed\nread 3,420');
      expect(await lines('td.by')).toBeLessThanOrEqual(2);
      expect(await lines('td.outcome')).toBeLessThanOrEqual(2);
      await shot(laptop, 'runs-scheduled');
    } finally {
      await laptop.close();
    }
  });

  it("shows a run whose job's lock nobody holds as runner gone?, follows it, and sees the scheduler close it as failed, runner gone", async () => {
    // A run of a runner on another machine sharing the state folder, killed: its lock was last touched 35 s ago,
    // past the console's 30 s but within the scheduler's 60 s lease, so the console doubts it before the scheduler closes it.
    const state = path.join(h.dir, 'state');
    const id = 'run-20250101T000000Z-5113e7';
    const updatedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    await writeRunRecord(state, {
      id,
      job: 'remote_job',
      range: { start: today.minus({ days: 1 }).toISO(), end: today.toISO() },
      startedAt: new Date(Date.now() - 20 * 60_000).toISOString(),
      updatedAt,
    });
    const lockDir = path.join(state, 'remote_job.lock');
    await mkdir(lockDir);
    const touched = (ago: number) => utimes(lockDir, new Date(Date.now() - ago), new Date(Date.now() - ago));
    await touched(35_000);
    await page.goto(`${scheduler.url}runs/${id}`);
    const root = page.locator('[data-run-events]');
    expect(await root.getAttribute('data-status')).toBe('running');
    expect(await page.locator('#run-facts [data-status]').textContent()).toContain(
      `runner gone? no sign of life since ${updatedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`,
    );
    expect(await page.locator('#run-facts').textContent()).toContain("no runner holds its job's lock");
    expect(await page.locator('#run-log-heading').textContent()).not.toContain('live');
    await shot(page, 'run-runner-gone');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    // The lock's last touch passes the lease: the scheduler's next pass (every second) closes the run, and the page follows.
    await touched(120_000);
    await expect.poll(() => root.getAttribute('data-status'), { timeout: 30_000, interval: 250 }).toBe('failed');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const facts = await page.locator('#run-facts').textContent();
    expect(facts).toMatch(/failed\s+runner gone/);
    expect(facts).toMatch(new RegExp(`the scheduler \\(pid ${scheduler.child.pid} on \\S+\\) found it so`));
    expect(existsSync(lockDir)).toBe(false);
  });
});
