import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import {
  addSchedule,
  consoleOptions,
  ScheduleStore,
  slotTriggerId,
  startConsole,
  TriggerStore,
  type RunningConsole,
  type RunRecord,
} from '../packages/qbo-pipeline/src/index.js';
import { RUNS_PER_PAGE } from '../packages/qbo-pipeline/src/console/pages.js';
import { createLogger } from 'singer-kit';
import { CDC_LOOKBACK_MS, fingerprint } from 'tap-quickbooks';
import { lockJob } from '../packages/qbo-pipeline/src/jobLock.js';
import { runCliProcess } from './pipelineHarness.js';
import { CookieJar, csrfTokenIn, send } from './consoleHttp.js';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { startFirm, type Firm } from './companiesHarness.js';
import { HAVE_CHROMIUM, launchChromium, NO_CHROMIUM_REASON } from './support/chromium.js';
import { writeRunRecord } from './support/runRecords.js';
import type { Browser } from 'playwright-core';

// Values that must never reach a page: a token store's tokens and the console's password.
const REFRESH_TOKEN = 'AB11console-refresh-token-must-not-show';
const ACCESS_TOKEN = 'eyJconsole-access-token-must-not-show';
const PASSWORD = 'console-password-for-tests';
/** The refresh token the tap config names, which the token stores' chain started from. */
const TAP_CONFIG_REFRESH_TOKEN = 'AB11first-refresh';

const dir = await mkdtemp(path.join(tmpdir(), 'console-http-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const schema = scratchSchema('console_http');

async function stateFolder(name: string): Promise<string> {
  const state = path.join(dir, name);
  await mkdir(path.join(state, 'tokens'), { recursive: true });
  await writeFile(
    path.join(state, 'daily.json'),
    JSON.stringify({ bookmarks: { invoices: { replication_key_value: new Date(Date.now() - 3_600_000).toISOString() } } }),
  );
  const now = Date.now();
  await writeFile(
    path.join(state, 'tokens', '9130355.json'),
    JSON.stringify({
      refresh_token: REFRESH_TOKEN,
      access_token: ACCESS_TOKEN,
      access_token_expires_at: now + 3_600_000,
      refresh_token_expires_at: now + 100 * 86_400_000,
      refresh_token_hard_expires_at: now + 20 * 86_400_000,
      // The chain of the refresh token the tap config (`configs`) names: no reconnect is waiting.
      seeded_from: fingerprint(TAP_CONFIG_REFRESH_TOKEN),
      updated_at: new Date(now).toISOString(),
    }),
    { mode: 0o600 },
  );
  return state;
}

/** Settings a trigger's run would use (the console checks them as `trigger add` does). */
/** A console on `stateDir` alone (defaults otherwise) while `look` reads it. */
async function withConsole(stateDir: string, look: (web: RunningConsole) => Promise<void>): Promise<void> {
  const web = await startConsole(consoleOptions({ port: 0, stateDir }, {}));
  try {
    await look(web);
  } finally {
    await web.close();
  }
}

/** `count` finished hourly runs from 2025-01-01 00:00Z on into `stateDir`'s journal, `fields(i)` added to the i-th; their ids, oldest first. */
async function writeHourlyRuns(stateDir: string, count: number, fields: (i: number) => Partial<RunRecord> = () => ({})): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString();
    const id = `run-${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${i.toString(16).padStart(6, '0')}`;
    await writeRunRecord(stateDir, {
      id,
      range: { start: at, end: at },
      pid: 1,
      host: 'elsewhere',
      startedAt: at,
      finishedAt: at,
      status: 'succeeded',
      progress: [],
      ...fields(i),
    });
    ids.push(id);
  }
  return ids;
}

/** The runs table's row of run `id` in a page's HTML, or '' when it has none. */
const runRow = (html: string, id: string) => new RegExp(`<tr data-run="${id}"[^>]*>[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';

async function configs(state: string): Promise<{ tapConfig: string; targetConfig: string }> {
  const tapConfig = path.join(state, 'tap.json');
  const targetConfig = path.join(state, 'target.json');
  await writeFile(
    tapConfig,
    JSON.stringify({
      client_id: 'app-id',
      client_secret: 'app-secret-value',
      refresh_token: TAP_CONFIG_REFRESH_TOKEN,
      realm_id: '9130355',
      token_store: path.join(state, 'tokens', '9130355.json'),
    }),
  );
  await writeFile(targetConfig, JSON.stringify({ database_url: databaseUrl(), schema }));
  return { tapConfig, targetConfig };
}

async function triggerFiles(state: string): Promise<string[]> {
  return (await readdir(path.join(state, 'triggers')).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
}

/** A filled-in trigger form (valid unless overridden). */
const form = (token: string, extra: Record<string, string | readonly string[]> = {}) => ({
  _csrf: token,
  company: 'default',
  at: '2031-09-11T22:45:54',
  zone: 'America/Guayaquil',
  streams: ['invoices', 'customers'],
  start: '2031-09-01',
  end: '2031-09-11',
  job: '',
  action: 'add',
  ...extra,
});

describe('console over HTTP, on loopback without a password', () => {
  let web: RunningConsole;
  let state: string;
  beforeAll(async () => {
    state = await stateFolder('open');
    web = await startConsole(consoleOptions({ port: 0, stateDir: state, ...(await configs(state)), zone: 'America/Guayaquil' }, {}));
  });
  afterAll(() => web?.close());

  it('shows bookmarks and token health with security headers, and never a token value', async () => {
    const page = await send(web.url, '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('invoices');
    expect(page.text).toContain('9130355');
    expect(page.text).toMatch(/expires in 19 days \(QBO(&#39;|&#x27;|')s 5-year limit\): reconnect the app to company 9130355/);
    expect(page.text).not.toContain(REFRESH_TOKEN);
    expect(page.text).not.toContain(ACCESS_TOKEN);
    // The footer's time reads as every other time on the page does.
    expect(page.text).toMatch(/Page made \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\./);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self';script-src 'self'.*frame-ancestors 'none'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-store');
    const cookie = String(page.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
  });

  it('answers only to loopback Host names (no DNS rebinding)', async () => {
    expect((await send(web.url, '/', { headers: { host: 'evil.example:6789' } })).status).toBe(421);
    expect((await send(web.url, '/', { headers: { host: 'localhost:6789' } })).status).toBe(200);
  });

  it('refuses a change without the form’s CSRF token, or with another browser’s, and changes nothing', async () => {
    const jar = new CookieJar();
    const token = csrfTokenIn((await send(web.url, '/schedules', { jar })).text);
    const none = await send(web.url, '/triggers', { form: form(''), jar });
    expect(none.status).toBe(403);
    expect(none.text).toContain('nothing was changed');
    const stranger = new CookieJar();
    await send(web.url, '/schedules', { jar: stranger });
    expect((await send(web.url, '/triggers', { form: form(token), jar: stranger })).status).toBe(403);
    expect((await send(web.url, '/triggers', { form: form(token) })).status).toBe(403);
    expect(await triggerFiles(state)).toEqual([]);
  });

  it('says what is wrong with a bad form, field by field, and saves nothing', async () => {
    const jar = new CookieJar();
    const token = csrfTokenIn((await send(web.url, '/schedules', { jar })).text);
    const cases: Array<[Record<string, string | readonly string[]>, RegExp]> = [
      [{ streams: [] }, /Streams: tick at least one stream/],
      [{ streams: ['invoices', 'nonsense'] }, /Streams: unknown stream &quot;nonsense&quot;/],
      [{ at: '' }, /When: give a date and time/],
      [{ zone: 'Mars/Olympus' }, /When: &quot;Mars\/Olympus&quot; is not a time zone/],
      [{ at: '2031-03-09T02:30', zone: 'America/New_York' }, /does not exist in America\/New_York/],
      [{ start: '2031-09-11', end: '2031-09-01' }, /End \(2031-09-01T00:00:00Z\) must be after Start/],
      [{ job: 'bad job!' }, /Job: &quot;bad job!&quot; may hold only letters/],
      [{ company: 'elsewhere' }, /Company: no company &quot;elsewhere&quot;/],
    ];
    for (const [change, message] of cases) {
      const answer = await send(web.url, '/triggers', { form: form(token, change), jar });
      expect(answer.status, JSON.stringify(change)).toBe(400);
      expect(answer.text, JSON.stringify(change)).toMatch(message);
      expect(answer.text, JSON.stringify(change)).toMatch(/[^.]\. Nothing was saved\.<\/p>/);
    }
    expect(await triggerFiles(state)).toEqual([]);
  });

  it('previews the instant in UTC and the zone side by side without saving, then adds the trigger', async () => {
    const jar = new CookieJar();
    const token = csrfTokenIn((await send(web.url, '/schedules', { jar })).text);
    const preview = await send(web.url, '/triggers', { form: form(token, { action: 'preview' }), jar });
    expect(preview.status).toBe(200);
    expect(preview.text).toMatch(/<b>UTC<\/b> <span data-utc>2031-09-12 03:45:54Z<\/span>/);
    expect(preview.text).toMatch(/<b data-zone-name>America\/Guayaquil<\/b> <span data-zoned>2031-09-11 22:45:54 \(UTC−05:00\)<\/span>/);
    expect(await triggerFiles(state)).toEqual([]);
    const json = await send(web.url, `/triggers/preview?${new URLSearchParams({ at: '2031-09-11T22:45:54', zone: 'America/Guayaquil' })}`);
    expect(JSON.parse(json.text)).toMatchObject({ utc: '2031-09-12T03:45:54Z', given: '2031-09-11T22:45:54-05:00' });

    const added = await send(web.url, '/triggers', { form: form(token), jar });
    expect(added.status).toBe(303);
    const [file] = await triggerFiles(state);
    const trigger = JSON.parse(await readFile(path.join(state, 'triggers', file ?? ''), 'utf8'));
    expect(trigger).toMatchObject({
      at: '2031-09-12T03:45:54Z',
      atGiven: '2031-09-11T22:45:54-05:00',
      status: 'pending',
      backfill: {
        streams: ['invoices', 'customers'],
        start: '2031-09-01T00:00:00Z',
        end: '2031-09-11T00:00:00Z',
        stateDir: state,
        tapConfig: path.join(state, 'tap.json'),
      },
    });
    expect(added.headers.location).toBe(`/schedules?added=${trigger.id}&zone=America%2FGuayaquil`);
    const listed = await send(web.url, String(added.headers.location), { jar });
    expect(listed.text).toContain(
      `Trigger <code>${trigger.id}</code> added: it runs at 2031-09-12 03:45:54Z, which is 2031-09-11 22:45:54 (UTC−05:00) in America/Guayaquil`,
    );
  });

  it('pauses, resumes and removes a schedule, each only with the CSRF token; a bad name or action changes nothing', async () => {
    const store = new ScheduleStore(path.join(state, 'schedules'));
    await addSchedule(store, {
      name: 'nightly',
      cron: '15 3 * * *',
      tz: 'America/Guayaquil',
      sync: { streams: ['invoices'], start: '2031-01-01', stateDir: state, ...(await configs(state)) },
    });
    const jar = new CookieJar();
    const page = await send(web.url, '/schedules', { jar });
    expect(page.text).toMatch(/<th scope="row">nightly<\/th>\s*<td><code>15 3 \* \* \*<\/code> <small class="muted">America\/Guayaquil<\/small>/);
    const token = csrfTokenIn(page.text);
    expect((await send(web.url, '/schedules/nightly/pause', { form: { company: 'default' }, jar })).status).toBe(403);
    expect((await store.get('nightly')).paused).toBe(false);

    const paused = await send(web.url, '/schedules/nightly/pause', { form: { _csrf: token, company: 'default' }, jar });
    expect(paused.status).toBe(303);
    expect((await store.get('nightly')).paused).toBe(true);
    expect((await send(web.url, String(paused.headers.location), { jar })).text).toContain('Schedule nightly paused: no slot runs until it is resumed');
    await send(web.url, '/schedules/nightly/resume', { form: { _csrf: token, company: 'default' }, jar });
    expect((await store.get('nightly')).paused).toBe(false);

    for (const [url, message] of [
      ['/schedules/nightly/explode', /&quot;explode&quot; is not something a schedule can do/],
      ['/schedules/..%2Fdaily/remove', /&quot;..\/daily&quot; is not a schedule name/],
      ['/schedules/weekly/remove', /no schedule &quot;weekly&quot;/],
    ] as const) {
      const answer = await send(web.url, url, { form: { _csrf: token, company: 'default' }, jar });
      expect(answer.status, url).toBe(400);
      expect(answer.text, url).toMatch(message);
    }
    expect((await store.list()).map((s) => s.name)).toEqual(['nightly']);
    expect(await readFile(path.join(state, 'daily.json'), 'utf8')).toContain('bookmarks');
    expect((await send(web.url, '/schedules/nightly/remove', { form: { _csrf: token, company: 'default' }, jar })).status).toBe(303);
    expect(await store.list()).toEqual([]);
    // A made-up notice in the address is not shown.
    expect((await send(web.url, '/schedules?schedule=Your%20password%20expired&done=remove')).text).not.toContain('Your password expired');
  });

  it('says what is wrong with a bad evidence filter', async () => {
    const bad = await send(web.url, '/evidence?from=2025-13-01');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('From: &quot;2025-13-01&quot; is not a day like 2025-01-31');
    expect((await send(web.url, '/evidence?stream=nonsense')).text).toContain('Stream: no stream &quot;nonsense&quot;');
    expect((await send(web.url, '/evidence?from=2025-02-01&to=2025-01-01')).text).toContain('From (2025-02-01) is after To (2025-01-01)');
    const empty = await send(web.url, '/evidence');
    expect(empty.status).toBe(200);
    expect(empty.text).toContain(`No evidence yet in schema ${schema}`);
  });

  it('serves only its own assets and Chart.js, and says when a page or run does not exist', async () => {
    expect((await send(web.url, '/assets/chart.umd.min.js')).text).toMatch(/Chart/);
    expect((await send(web.url, '/assets/..%2f..%2fpackage.json')).status).toBe(404);
    expect((await send(web.url, '/assets/package.json')).status).toBe(404);
    const run = await send(web.url, '/runs/run-20250101T000000Z-abcdef');
    expect(run.status).toBe(404);
    expect(run.text).toContain('No run run-20250101T000000Z-abcdef');
    expect((await send(web.url, '/nowhere')).status).toBe(404);
  });

  it('says a run whose runner is gone ran for an unknown time, not the time since it started', async () => {
    const killed = path.join(dir, 'killed');
    // A runner that is gone: a process that has exited, on this host.
    const runner = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => runner.once('exit', resolve));
    const startedAt = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const id = 'run-20250101T000000Z-dead01';
    await writeRunRecord(killed, { id, kind: 'backfill', pid: runner.pid!, host: hostname(), startedAt });
    await withConsole(killed, async (gone) => {
      const list = await send(gone.url, '/runs');
      const row = runRow(list.text, id);
      expect(row).toContain('runner gone');
      expect(row).toMatch(/<td class="num"><span class="muted" title="[^"]*">unknown<\/span><\/td>/);
      expect(row).not.toMatch(/<td class="num">3 h/);
      const one = await send(gone.url, `/runs/${id}`);
      expect(one.text).toContain('how long it ran is unknown (its runner is gone)');
      expect(one.text).not.toMatch(/took 3 h/);
    });
  });

  it('says a run refused before its tap started did not start, did nothing and has no counts, not that it committed no window', async () => {
    const refused = path.join(dir, 'refused');
    const reason = `state file ${path.join(refused, 'nightly.json')} is not valid JSON (Unexpected end of JSON input); fix or move it, then run again`;
    const [id] = await writeHourlyRuns(refused, 1, () => ({ status: 'failed', exitCode: 2, notStarted: true, reason, fix: reason, tapRunIds: [] }));
    await withConsole(refused, async (shown) => {
      const row = runRow((await send(shown.url, '/runs')).text, id!);
      expect(row).toContain('did not start');
      const page = (await send(shown.url, `/runs/${id}`)).text;
      expect(page).toMatch(
        /<dt>what it did<\/dt><dd>did not start: refused before its tap started: nothing was read or loaded, and its state file is as it was<\/dd>/,
      );
      expect(page).toContain('Nothing: it did not start (its tap never ran).');
      expect(page).not.toContain('This run left no evidence');
    });
  });

  it('lists a reconcile advised more than 200 runs ago, as long as it is still to do', async () => {
    const busy = path.join(dir, 'busy');
    const command = 'node cli.js reconcile --job nightly --streams invoices';
    // The advising run, then 210 hourly runs of three jobs: more than the 200 newest runs the overview once read.
    await writeHourlyRuns(busy, 211, (i) => ({
      job: i === 0 ? 'nightly' : ['nightly', 'hourly', 'weekly'][i % 3]!,
      ...(i === 0 ? { reconcileCommand: command, reconcileStreams: ['invoices'] } : {}),
    }));
    await withConsole(busy, async (web2) => {
      const attention = /<ul class="attention">[\s\S]*?<\/ul>/.exec((await send(web2.url, '/')).text)?.[0] ?? '';
      expect(attention).toContain(`<a href="/runs/run-20250101T000000Z-000000#reconcile">invoices of job nightly (run run-20250101T000000Z-000000)`);
      expect(attention).toContain(`<pre class="command"><code>${command}</code></pre>`);
    });
  });

  it(`lists a long journal ${RUNS_PER_PAGE} runs at a time, newest first, saying how many there are, with a link to the older ones`, async () => {
    const year = path.join(dir, 'year');
    // A journal as thirty companies' hourly syncs leave it is thousands of runs; 250 show the pages.
    const ids = await writeHourlyRuns(year, 250, (i) => (i % 50 === 7 ? { status: 'failed', reason: 'QBO answered HTTP 503 5 times' } : {}));
    const newestFirst = [...ids].reverse();
    const listed = (page: string) => [...page.matchAll(/<tr data-run="(run-[^"]+)"/g)].map((m) => m[1]);
    const older = (page: string) => /<a href="([^"]+)" rel="next">older runs<\/a>/.exec(page)?.[1]?.replaceAll('&amp;', '&');
    await withConsole(year, async (web2) => {
      const first = (await send(web2.url, '/runs')).text;
      expect(listed(first)).toEqual(newestFirst.slice(0, RUNS_PER_PAGE));
      expect(first).toContain('Runs 1–100 of 250, newest first');
      const second = (await send(web2.url, older(first)!)).text;
      expect(listed(second)).toEqual(newestFirst.slice(RUNS_PER_PAGE, 2 * RUNS_PER_PAGE));
      expect(second).toContain('Runs 101–200 of 250, newest first');
      const last = (await send(web2.url, older(second)!)).text;
      expect(listed(last)).toEqual(newestFirst.slice(2 * RUNS_PER_PAGE));
      expect(older(last)).toBeUndefined();
      expect(last).toContain('<a href="/runs">newest runs</a>');
      // The failures of the whole journal on one page, the filter kept as it pages.
      const failed = (await send(web2.url, '/runs?status=failed')).text;
      expect(listed(failed)).toEqual(newestFirst.filter((_, k) => (249 - k) % 50 === 7));
      expect(failed).not.toContain('older runs');
      const bad = await send(web2.url, '/runs?before=yesterday');
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Older than: &quot;yesterday&quot; is not a run id like run-20250912T034554.123Z-1a2b3c');
      expect(listed(bad.text)).toEqual([]);
    });
  });

  it('lists a schedule of 150 kept hourly slots as one row that counts them and links to them, the one-time triggers not buried under them', async () => {
    const hourly = path.join(dir, 'hourly-slots');
    await mkdir(hourly, { recursive: true });
    await addSchedule(new ScheduleStore(path.join(hourly, 'schedules')), {
      name: 'hourly',
      cron: '5 * * * *',
      tz: 'UTC',
      sync: { streams: ['invoices'], start: '2031-01-01', stateDir: hourly, ...(await configs(hourly)) },
    });
    const store = new TriggerStore(path.join(hourly, 'triggers'));
    const first = Date.parse('2031-03-01T00:05:00Z');
    for (let i = 0; i < 150; i++) {
      const slot = new Date(first + i * 3_600_000);
      const at = slot.toISOString();
      await store.create({
        id: slotTriggerId('hourly', slot),
        at,
        atGiven: at,
        createdAt: at,
        sync: { streams: ['invoices'], stateDir: hourly },
        schedule: { name: 'hourly', slot: at, slots: 1 },
        status: i === 40 || i === 120 ? 'failed' : i === 149 ? 'skipped' : 'completed',
        enabled: false,
        finishedAt: at,
        // The last slot came while the slot before it still waited to start: it ran no run, and says why.
        ...(i === 149 ? { result: { exitCode: 0, message: 'skipped: job qb_invoices has an earlier run waiting to start (trigger x)', runIds: [] } } : {}),
      });
    }
    await store.create({
      id: 'trg-month-end',
      at: '2031-02-01T03:00:00Z',
      atGiven: '2031-02-01T03:00:00Z',
      createdAt: '2031-01-01T00:00:00Z',
      backfill: { streams: ['invoices'], start: '2031-01-01', end: '2031-02-01', stateDir: hourly },
      status: 'pending',
      enabled: true,
    });
    const rows = (page: string) => [...page.matchAll(/<tr data-trigger="([^"]+)"/g)].map((m) => m[1]);
    await withConsole(hourly, async (web2) => {
      const page = (await send(web2.url, '/schedules')).text;
      // The one-time trigger alone: the 150 slots are counted in their schedule's row, which links to them.
      expect(rows(page)).toEqual(['trg-month-end']);
      expect(page).toContain("150 other slot triggers are counted in their schedule's row above");
      // Its last slot ran no run: the row says why, not just skipped.
      expect(page).toContain('<span class="pill muted">skipped</span> <small>skipped: job qb_invoices has an earlier run waiting to start (trigger x)</small>');
      const link = /<a href="([^"]+)">150 slots kept<\/a>: 147 completed, 2 failed, 1 skipped/.exec(page)?.[1]?.replaceAll('&amp;', '&');
      expect(link).toBe('/schedules?company=default&slots=hourly&zone=UTC#triggers-h');
      // Its slots: the failed ones first, then the newest; 100 of them, saying how many more there are.
      const slots = (await send(web2.url, link!)).text;
      expect(slots).toContain('Slot triggers of schedule hourly');
      const listed = rows(slots);
      expect(listed).toHaveLength(100);
      expect(listed.slice(0, 3)).toEqual([
        slotTriggerId('hourly', new Date(first + 120 * 3_600_000)),
        slotTriggerId('hourly', new Date(first + 40 * 3_600_000)),
        slotTriggerId('hourly', new Date(first + 149 * 3_600_000)),
      ]);
      expect(slots).toContain('50 older triggers are not shown');
      expect(slots).toContain('<a href="/schedules?zone=UTC">Back to the one-time triggers</a>');
      // Pause and Remove still on the schedule's row.
      expect(page).toMatch(/action="\/schedules\/hourly\/pause"[\s\S]*action="\/schedules\/hourly\/remove"/);
    });
  });

  it('shows a run of 10 streams as one short line in the runs table, every name in its tooltip', async () => {
    const ten = path.join(dir, 'ten-streams');
    const streams = ['invoices', 'customers', 'payments', 'bills', 'vendors', 'items', 'accounts', 'estimates', 'credit_memos', 'journal_entries'];
    await writeRunRecord(ten, { id: 'run-20310301T000500Z-abc123', streams, status: 'succeeded', finishedAt: new Date().toISOString() });
    await withConsole(ten, async (web2) => {
      const row = /<tr data-run="run-20310301T000500Z-abc123"[\s\S]*?<\/tr>/.exec((await send(web2.url, '/runs')).text)?.[0];
      expect(row).toContain(`<td><span class="streams-brief" title="${streams.join(', ')}">10 streams</span></td>`);
      if (!HAVE_CHROMIUM) return;
      // In Chromium at a laptop's 1280 px: one line of streams, and the table needs no sideways scrolling.
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(new URL('/runs', web2.url).href);
        const cell = page.locator('tr[data-run="run-20310301T000500Z-abc123"] td').nth(2);
        // Its text's lines, however tall the row is made by the cells beside it.
        const lines = await cell.evaluate((td) => {
          const text = document.createRange();
          text.selectNodeContents(td);
          return new Set([...text.getClientRects()].map((r) => Math.round(r.top))).size;
        });
        expect(lines).toBe(1);
        const box = await page.locator('.table-scroll').evaluate((b) => ({ scroll: b.scrollWidth, client: b.clientWidth }));
        expect(box.scroll).toBeLessThanOrEqual(box.client);
      } finally {
        await browser.close();
      }
    });
  });

  it("a console alone (no scheduler sweeping) calls a running run whose job's lock nobody holds runner gone?, not running; held, it is running", async () => {
    const silent = path.join(dir, 'silent');
    // Its runner ran on another machine sharing the state folder: only the job's lock can tell it is gone.
    const startedAt = new Date(Date.now() - 5 * 3_600_000).toISOString();
    const updatedAt = new Date(Date.now() - 4 * 3_600_000).toISOString();
    const id = 'run-20250101T000000Z-5113e7';
    await writeRunRecord(silent, { id, startedAt, updatedAt, stateFile: '/elsewhere/state/nightly.json' });
    const shownAt = updatedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    await withConsole(silent, async (web3) => {
      const list = await send(web3.url, '/runs');
      const row = runRow(list.text, id);
      expect(row).toContain(`<span class="pill warn">running</span> <small>runner gone? no sign of life since ${shownAt}</small>`);
      expect(row).toMatch(/<td class="num"><span class="muted" title="[^"]*">unknown<\/span><\/td>/);
      expect(list.text).not.toMatch(/1 running/);
      const one = await send(web3.url, `/runs/${id}`);
      expect(one.text).toContain("no runner holds its job's lock");
      expect(one.text).toContain('how long it ran is unknown (its runner is gone)');
      expect(one.text).not.toContain(' · live');
      const overview = await send(web3.url, '/');
      expect(overview.text).toContain(`last run of job nightly failed: runner gone? no sign of life since ${shownAt}: run it again to resume`);
      // Nothing was written: the console only reads.
      expect((JSON.parse(await readFile(path.join(silent, 'runs', `${id}.json`), 'utf8')) as { status: string }).status).toBe('running');

      // A runner holding the job's lock (refreshing it every second) is alive, wherever it runs: plain running.
      const release = await lockJob(path.join(silent, 'nightly.json'), 'nightly', { logger: createLogger('test', { sink: () => undefined }) });
      try {
        const held = await send(web3.url, '/runs');
        const heldRow = runRow(held.text, id);
        expect(heldRow).toContain('<td><span class="pill info">running</span></td>');
        expect(heldRow).not.toContain('runner gone');
        expect((await send(web3.url, '/')).text).not.toContain('last run of job nightly failed');
      } finally {
        await release();
      }
    });
  });

  it('shows a run closed because its runner was gone as failed, runner gone, for an unknown time, with the run that closed it', async () => {
    const closedDir = path.join(dir, 'closed');
    const startedAt = new Date(Date.now() - 9 * 3_600_000).toISOString();
    const lastSignOfLife = new Date(Date.now() - 8 * 3_600_000).toISOString();
    const foundAt = new Date(Date.now() - 60_000).toISOString();
    const id = 'run-20250101T000000Z-c105ed';
    const byRun = 'run-20250101T080000Z-0a0b0c';
    await writeRunRecord(closedDir, {
      id,
      host: 'old-host',
      startedAt,
      updatedAt: foundAt,
      status: 'failed',
      reason: `its runner (pid 4242 on old-host) was gone (killed, or its machine restarted) before the run ended; when it stopped is unknown (last sign of life ${lastSignOfLife}); run ${byRun} went on from the job's state file`,
      runnerGone: { foundAt, byRun, lastSignOfLife },
    });
    await withConsole(closedDir, async (web2) => {
      const list = await send(web2.url, '/runs?status=failed');
      const row = runRow(list.text, id);
      expect(row).toContain('failed');
      expect(row).toContain('runner gone');
      expect(row).toMatch(/<td class="num"><span class="muted" title="[^"]*">unknown<\/span><\/td>/);
      expect(row).not.toMatch(/<td class="num">9 h/);
      const one = await send(web2.url, `/runs/${id}`);
      expect(one.text).toContain('how long it ran is unknown (its runner is gone)');
      expect(one.text).toContain('last sign of life');
      expect(one.text).toContain(`<a href="/runs/${byRun}">${byRun}</a>`);
    });
  });

  it('says once what failed and what to fix: a run page shows a reason that is its fix in one row, the overview names a failed trigger by its run', async () => {
    const failed = path.join(dir, 'failed');
    await mkdir(path.join(failed, 'runs'), { recursive: true });
    await mkdir(path.join(failed, 'triggers'), { recursive: true });
    const reason = `companies file c.yaml:9:7: company acme: refresh_token_file secrets/acme does not exist`;
    const startedAt = new Date(Date.now() - 3_600_000).toISOString();
    const id = 'run-20250101T000000Z-fa1101';
    const triggerId = 'trg-20250101T000000Z-fa1101';
    const range = { start: '2025-01-01T00:00:00Z', end: '2025-01-02T00:00:00Z' };
    await writeFile(
      path.join(failed, 'runs', `${id}.json`),
      JSON.stringify({
        id,
        kind: 'backfill',
        job: 'nightly',
        streams: ['invoices'],
        range,
        triggerId,
        attempt: 1,
        pid: 1,
        host: hostname(),
        startedAt,
        updatedAt: startedAt,
        finishedAt: startedAt,
        status: 'failed',
        exitCode: 2,
        reason,
        fix: reason,
        progress: [{ stream: 'invoices', doneUntil: range.start, daysDone: 0, totalDays: 1, complete: false }],
        tapRunIds: [],
        stateFile: path.join(failed, 'nightly.json'),
        logFile: path.join(failed, 'runs', `${id}.log`),
      }),
    );
    await writeFile(
      path.join(failed, 'triggers', `${triggerId}.json`),
      JSON.stringify({
        id: triggerId,
        at: startedAt.replace(/\.\d+Z$/, 'Z'),
        atGiven: startedAt,
        createdAt: startedAt,
        backfill: { streams: ['invoices'], ...range, job: 'nightly' },
        status: 'failed',
        enabled: false,
        result: { exitCode: 2, message: reason, runId: id, runIds: [id], fix: reason },
      }),
    );
    await withConsole(failed, async (web) => {
      const times = (text: string) => text.split('refresh_token_file secrets/acme does not exist').length - 1;
      const facts = /<dl class="facts" id="run-facts">[\s\S]*?<\/dl>/.exec((await send(web.url, `/runs/${id}`)).text)?.[0] ?? '';
      expect(facts).toMatch(
        /<dt>why · fix this first<\/dt><dd>companies file c\.yaml:9:7: company acme: refresh_token_file secrets\/acme does not exist<\/dd>/,
      );
      expect(times(facts)).toBe(1);
      const attention = /<ul class="attention">[\s\S]*?<\/ul>/.exec((await send(web.url, '/')).text)?.[0] ?? '';
      expect(attention).toMatch(
        new RegExp(`<a href="/runs/${id}">last run of job nightly failed \\(started by trigger ${triggerId}\\): companies file c\\.yaml:9:7`),
      );
      expect(times(attention)).toBe(1);
    });
  });

  it('lists trigger files the scheduler set aside as unreadable (or will), with the file name and why, never their contents', async () => {
    const triggers = path.join(state, 'triggers');
    await mkdir(triggers, { recursive: true });
    // Set aside earlier: what is wrong with it is read again. Its first characters look like a secret (V8 quotes them in its JSON error).
    const broken = path.join(triggers, 'trg-broken.json.unreadable');
    await writeFile(broken, 'AB11leaked-refresh-token-in-a-broken-file');
    // Not set aside yet (no scheduler ran since it was damaged): valid JSON, but not a trigger.
    const notATrigger = path.join(triggers, 'trg-notatrigger.json');
    await writeFile(notATrigger, JSON.stringify({ client_secret: 'secret-in-a-json-that-is-no-trigger' }));
    try {
      const page = await send(web.url, '/schedules');
      expect(page.status).toBe(200);
      const section = /<section aria-labelledby="unreadable-h">[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? '';
      expect(section).toMatch(/Unreadable trigger files/);
      expect(section).toMatch(/<code>trg-broken\.json\.unreadable<\/code>[^<]*: set aside: not valid JSON \(unexpected token/i);
      expect(section).toMatch(/<code>trg-notatrigger\.json<\/code>[^<]*: no id or no valid &quot;at&quot; \(the scheduler sets it aside at its next pass\)/);
      expect(page.text).not.toContain('AB11leaked');
      expect(page.text).not.toContain('secret-in-a-json');
      // The overview names them among what needs a person.
      const overview = await send(web.url, '/');
      expect(overview.text).toMatch(/<a href="\/schedules">trigger file trg-broken\.json\.unreadable was set aside as unreadable: not valid JSON/);
      expect(overview.text).toMatch(/<a href="\/schedules">trigger file trg-notatrigger\.json cannot be read: no id or no valid &quot;at&quot;/);
      expect(overview.text).not.toContain('AB11leaked');
    } finally {
      await rm(broken);
      await rm(notATrigger);
    }
    expect((await send(web.url, '/schedules')).text).not.toContain('unreadable-h');
  });
});

describe('console over HTTP, with a password', () => {
  let web: RunningConsole;
  let state: string;
  beforeAll(async () => {
    state = await stateFolder('locked');
    const passwordFile = path.join(dir, 'console_password');
    await writeFile(passwordFile, `${PASSWORD}\n`);
    web = await startConsole(consoleOptions({ port: 0, stateDir: state, ...(await configs(state)) }, { QBO_CONSOLE_PASSWORD_FILE: passwordFile }));
  });
  afterAll(() => web?.close());

  it('sends every page but the sign-in to the sign-in, and refuses changes without a session', async () => {
    const page = await send(web.url, '/evidence?stream=invoices');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Fevidence%3Fstream%3Dinvoices');
    expect((await send(web.url, '/assets/console.css')).status).toBe(200);
    expect((await send(web.url, '/healthz')).text).toBe('ok\n');
    expect((await send(web.url, '/triggers', { form: form('x') })).status).toBe(401);
    expect((await send(web.url, '/runs/run-20250101T000000Z-abcdef/events')).status).toBe(303);
  });

  it('signs in with the password only, with an HttpOnly SameSite=Strict session cookie, and signs out', async () => {
    const jar = new CookieJar();
    const login = await send(web.url, '/login?next=/runs', { jar });
    const token = csrfTokenIn(login.text);
    expect((await send(web.url, '/login', { form: { password: PASSWORD, next: '/runs' }, jar })).status).toBe(403);
    const wrong = await send(web.url, '/login', { form: { _csrf: token, password: 'not-the-password', next: '/runs' }, jar });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong password.');
    expect(jar.values.has('qbo_console_session')).toBe(false);

    const right = await send(web.url, '/login', { form: { _csrf: token, password: PASSWORD, next: 'https://evil.example/' }, jar });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe('/');
    expect(String(right.headers['set-cookie'])).toMatch(/qbo_console_session=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict/);
    const home = await send(web.url, '/', { jar });
    expect(home.status).toBe(200);
    expect(home.text).toContain('Sign out');
    expect(home.text).not.toContain(PASSWORD);
    expect(home.text).not.toContain(REFRESH_TOKEN);

    // A token minted before signing in (or for another session) does not carry over.
    expect((await send(web.url, '/triggers', { form: form(token), jar })).status).toBe(403);
    const schedulesToken = csrfTokenIn((await send(web.url, '/schedules', { jar })).text);
    expect((await send(web.url, '/triggers', { form: form(schedulesToken), jar })).status).toBe(303);
    expect(await triggerFiles(state)).toHaveLength(1);

    expect((await send(web.url, '/logout', { form: { _csrf: csrfTokenIn(home.text) }, jar })).status).toBe(303);
    expect((await send(web.url, '/', { jar })).status).toBe(303);
  });

  it('slows password guessing: after 10 attempts a minute, sign-in answers 429', async () => {
    const jar = new CookieJar();
    const token = csrfTokenIn((await send(web.url, '/login', { jar })).text);
    // The earlier tests' sign-ins count too: within a minute, at most 10 attempts get an answer.
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await send(web.url, '/login', { form: { _csrf: token, password: `guess-${i}` }, jar })).status);
    const first = statuses.indexOf(429);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(statuses.slice(0, first).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(first).every((s) => s === 429)).toBe(true);
    const blocked = await send(web.url, '/login', { form: { _csrf: token, password: PASSWORD }, jar });
    expect(blocked.status).toBe(429);
    expect(jar.values.has('qbo_console_session')).toBe(false);
  });
});

describe('console over HTTP, with a companies file', () => {
  let web: RunningConsole;
  const root = path.join(dir, 'firm-state');
  beforeAll(async () => {
    const firm = path.join(dir, 'firm');
    await mkdir(path.join(firm, 'secrets'), { recursive: true });
    for (const name of ['client_id', 'client_secret', 'acme_refresh', 'globex_refresh', 'umbrella_refresh'])
      await writeFile(path.join(firm, 'secrets', name), `${name}-dummy-value\n`);
    await writeFile(
      path.join(firm, 'companies.yaml'),
      [
        'defaults:',
        '  streams: [invoices, customers]',
        '  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret}',
        'companies:',
        '  - name: acme',
        '    realm_id: "9341453050000000"',
        '    schedule: {cron: "15 3 * * *", tz: America/Guayaquil}',
        '    secrets: {refresh_token_file: secrets/acme_refresh}',
        '  - name: globex',
        '    realm_id: "4620816365000000000"',
        '    secrets: {refresh_token_file: secrets/globex_refresh}',
        '  - name: hooli',
        '    realm_id: "4620816365000000001"',
        '    secrets: {refresh_token_file: secrets/hooli_refresh}',
        '  - name: umbrella',
        '    realm_id: "4620816365000000002"',
        '    streams: all',
        '    schedule: {cron: "0 4 * * *"}',
        '    secrets: {refresh_token_file: secrets/umbrella_refresh}',
        '',
      ].join('\n'),
    );
    const targetConfig = path.join(firm, 'target.json');
    await writeFile(targetConfig, JSON.stringify({ database_url: databaseUrl() }));
    web = await startConsole(consoleOptions({ port: 0, stateDir: root, companiesFile: path.join(firm, 'companies.yaml'), targetConfig }, {}));
  });
  afterAll(() => web?.close());

  it('shows every company in its own state folder and schema, with its file schedule', async () => {
    const page = await send(web.url, '/');
    expect(page.text).toMatch(
      /<h2 id="company-acme">acme <small>realm <code>9341453050000000<\/code> · schema <code>raw_acme<\/code> · state <code>[^<]*firm-state\/companies\/acme<\/code>/,
    );
    expect(page.text).toMatch(/<h2 id="company-globex">globex <small>realm <code>4620816365000000000<\/code> · schema <code>raw_globex<\/code>/);
    const schedules = await send(web.url, '/schedules');
    expect(schedules.text).toMatch(
      /<td>acme<\/td>\s*<th scope="row">company<\/th>\s*<td><code>15 3 \* \* \*<\/code> <small class="muted">America\/Guayaquil<\/small>/,
    );
    expect(schedules.text).toMatch(/set in the companies file \([^)]*companies\.yaml:7\); edit it there/);
    // The company's own streams, which its schedule runs (the schedule itself names none).
    expect(schedules.text).toMatch(/<td>qb_company<br><small class="muted">invoices, customers<\/small><\/td>/);
    // Every stream (streams: all) reads 'all 28', as company list and schedule list say, not 28 names.
    expect(schedules.text).toMatch(
      /<td>umbrella<\/td>[\s\S]*?<td>qb_company<br><small class="muted"><span class="streams-brief" title="[a-z_, ]+">all 28<\/span><\/small><\/td>/,
    );
    expect(schedules.text).toContain('Tick none to run the company');
    const evidence = await send(web.url, '/evidence?company=globex');
    expect(evidence.text).toMatch(/<option value="globex" selected>globex<\/option>/);
    expect(evidence.text).toContain('No evidence yet in schema raw_globex');
  });

  it('says a company taken out of the companies file is not in it, and what became of its runs, rather than that it has none', async () => {
    await writeRunRecord(path.join(root, 'companies', 'wayne'), { id: 'run-20250101T000000Z-00000a', status: 'failed' });
    const gone = await send(web.url, '/runs?company=wayne');
    expect(gone.status).toBe(400);
    expect(gone.text).toMatch(
      /<p class="notice error" role="alert">Company: company wayne is not in companies file [^ ]*companies\.yaml any more: nothing of it runs [^<]*; its state folder [^ ]*firm-state\/companies\/wayne \(bookmarks, token store, runs\) and its rows are kept\. [^<]*\. The console shows the companies in the file only: its runs are listed here again once it is back in it\.<\/p>/,
    );
    expect(gone.text).not.toContain('No run here yet');
    // An old notification's link to one of its runs says the same, not that there is no such run.
    const run = await send(web.url, '/runs/run-20250101T000000Z-00000a');
    expect(run.status).toBe(404);
    expect(run.text).toMatch(
      /<p class="notice error" role="alert">Run run-20250101T000000Z-00000a: company wayne is not in companies file [^ ]*companies\.yaml any more: nothing of it runs [^<]*; its state folder [^ ]*firm-state\/companies\/wayne \(bookmarks, token store, runs\) and its rows are kept\. [^<]*\. The console shows the companies in the file only: its runs are listed here again once it is back in it\.<\/p>/,
    );
    expect(run.text).not.toContain('in the runs journal (finished runs beyond');
    const unknown = await send(web.url, '/runs?company=wayn');
    expect(unknown.status).toBe(400);
    expect(unknown.text).toMatch(/Company: no company &quot;wayn&quot; in companies file [^ ]*companies\.yaml; its companies: acme, globex, hooli, umbrella\./);
    await rm(path.join(root, 'companies', 'wayne'), { recursive: true });
  });

  it('puts a company whose secret file is missing first among what needs you, naming the file and never its value', async () => {
    const page = await send(web.url, '/');
    // acme, all well, is folded to a line that opens to the same section.
    const section = (name: string) =>
      new RegExp(`<section class="company[^"]*" aria-labelledby="company-${name}">[\\s\\S]*?</section>`).exec(page.text)?.[0] ?? '';
    expect(section('hooli')).toMatch(
      /<ul class="attention"><li class="error"><span class="pill error">needs action<\/span> companies file [^<]*companies\.yaml:\d+:\d+: company hooli: refresh_token_file secrets\/hooli_refresh does not exist: its runs fail until this is fixed<\/li>/,
    );
    expect(section('acme')).toContain('Nothing needs you');
    expect(page.text).not.toContain('dummy-value');
  });

  it('tells a company whose refresh token QuickBooks rejected to put the new one in its refresh_token_file, not in a tap setting it does not use', async () => {
    const tokens = path.join(root, 'companies', 'globex', 'tokens');
    await mkdir(tokens, { recursive: true });
    const now = Date.now();
    await writeFile(
      path.join(tokens, '4620816365000000000.json'),
      JSON.stringify({
        refresh_token: REFRESH_TOKEN,
        access_token: ACCESS_TOKEN,
        access_token_expires_at: now + 3_600_000,
        refresh_token_expires_at: now + 100 * 86_400_000,
        refresh_token_rejected_at: new Date(now - 60_000).toISOString(),
        refresh_token_rejected_tid: 'tid-globex',
        // Started from the token in its refresh_token_file: no new one is there yet.
        seeded_from: fingerprint('globex_refresh-dummy-value'),
        updated_at: new Date(now - 86_400_000).toISOString(),
      }),
      { mode: 0o600 },
    );
    const page = await send(web.url, '/');
    expect(page.text).toMatch(
      /realm 4620816365000000000: QuickBooks rejected the refresh token at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(invalid_grant, intuit_tid tid-globex\): reconnect the app to company 4620816365000000000 and put the new refresh token in its refresh_token_file secrets\/globex_refresh \(companies file [^)]*companies\.yaml:\d+:\d+\)/,
    );
    expect(page.text).not.toContain('tap&#39;s refresh_token setting');
    expect(page.text).not.toContain(REFRESH_TOKEN);
    expect(page.text).not.toContain(ACCESS_TOKEN);
  });

  it("refuses a stream the company's streams: do not list, naming the field and the streams it has, and saves nothing", async () => {
    const jar = new CookieJar();
    const token = csrfTokenIn((await send(web.url, '/schedules', { jar })).text);
    const refused = await send(web.url, '/triggers', { form: form(token, { company: 'globex', streams: ['invoices', 'bills'] }), jar });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(
      /<p[^>]*role="alert"[^>]*>Streams: &quot;bills&quot; is not among company globex&#39;s streams \(its streams: in the companies file\): invoices, customers\. Nothing was saved\.<\/p>/,
    );
    expect(await triggerFiles(path.join(root, 'companies', 'globex'))).toEqual([]);
  });

  it('adds a trigger for one company in its own folder, running its own streams when none is ticked', async () => {
    const jar = new CookieJar();
    const token = csrfTokenIn((await send(web.url, '/schedules', { jar })).text);
    const added = await send(web.url, '/triggers', { form: form(token, { company: 'globex', streams: [] }), jar });
    expect(added.status, added.text.match(/role="alert"[^<]*<[^<]*/)?.[0]).toBe(303);
    const folder = path.join(root, 'companies', 'globex');
    const [file] = await triggerFiles(folder);
    expect(JSON.parse(await readFile(path.join(folder, 'triggers', file ?? ''), 'utf8'))).toMatchObject({
      at: '2031-09-12T03:45:54Z',
      backfill: { streams: [], company: { name: 'globex' } },
    });
    expect(await triggerFiles(path.join(root, 'companies', 'acme'))).toEqual([]);
    // Its row names the streams it runs, the company's (an empty cell said nothing).
    const row = new RegExp(`<tr data-trigger="${(file ?? '').replace(/\.json$/, '')}">[\\s\\S]*?</tr>`).exec((await send(web.url, '/schedules')).text)?.[0];
    expect(row).toMatch(/<td>qb_company<\/td>\s*<td>invoices, customers<\/td>/);
    expect((await send(web.url, '/triggers', { form: form(token, { company: 'initech' }), jar })).text).toContain('Company: no company &quot;initech&quot;');
  });
});

describe('console over HTTP, thirty companies of which three need you', () => {
  it('opens with the three, expanded and first; each of the others is one folded line that opens to its streams without JavaScript', async () => {
    const firm = path.join(dir, 'thirty');
    const names = Array.from({ length: 30 }, (_, i) => `client-${String(i + 1).padStart(2, '0')}`);
    await mkdir(path.join(firm, 'secrets'), { recursive: true });
    for (const secret of ['client_id', 'client_secret', ...names]) await writeFile(path.join(firm, 'secrets', secret), `${secret}-dummy-value\n`);
    await writeFile(
      path.join(firm, 'companies.yaml'),
      [
        'defaults:',
        '  secrets: {client_id_file: secrets/client_id, client_secret_file: secrets/client_secret}',
        'companies:',
        ...names.flatMap((name, i) => [`  - name: ${name}`, `    realm_id: "${9_130_000 + i}"`, `    secrets: {refresh_token_file: secrets/${name}}`]),
        '',
      ].join('\n'),
    );
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    // Last night client-07, client-19 and client-24 failed; the others' last run went through, client-02's after one that failed.
    const failing = new Set(['client-07', 'client-19', 'client-24']);
    for (const name of names) {
      const state = path.join(firm, 'state', 'companies', name);
      await mkdir(state, { recursive: true });
      await writeFile(path.join(state, 'qb_company.json'), JSON.stringify({ bookmarks: { invoices: { replication_key_value: hourAgo } } }));
      // company_info, read whole at every run, keeps no bookmark: the folded line counts it all the same, as `company list` does.
      await writeRunRecord(state, {
        id: `run-20250101T000000Z-${name.slice(-2)}0000`,
        job: 'qb_company',
        streams: ['company_info', 'invoices'],
        startedAt: hourAgo,
        finishedAt: hourAgo,
        pid: 1,
        progress: [],
        ...(failing.has(name) ? { status: 'failed', reason: 'QBO answered HTTP 503 5 times' } : { status: 'succeeded' }),
      });
    }
    const twoHoursAgo = new Date(Date.now() - 7_200_000).toISOString();
    await writeRunRecord(path.join(firm, 'state', 'companies', 'client-02'), {
      id: 'run-20241231T230000Z-020000',
      job: 'qb_company',
      startedAt: twoHoursAgo,
      finishedAt: twoHoursAgo,
      pid: 1,
      progress: [],
      status: 'failed',
      reason: 'QBO answered HTTP 503 5 times',
    });
    const web = await startConsole(consoleOptions({ port: 0, stateDir: path.join(firm, 'state'), companiesFile: path.join(firm, 'companies.yaml') }, {}));
    try {
      const page = (await send(web.url, '/')).text;
      const sections = [...page.matchAll(/<section class="company( folded)?" aria-labelledby="company-([^"]+)">/g)].map((m) => ({
        name: m[2],
        folded: !!m[1],
      }));
      expect(sections.slice(0, 3)).toEqual(['client-07', 'client-19', 'client-24'].map((name) => ({ name, folded: false })));
      expect(sections.slice(3)).toEqual(names.filter((n) => !failing.has(n)).map((name) => ({ name, folded: true })));
      // A folded company: one line saying it is well, its streams table (and all else) inside its <details>, closed.
      const folded = /<section class="company folded" aria-labelledby="company-client-01">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
      expect(folded).toMatch(
        /^<section[^>]*><details><summary><h2 id="company-client-01">[\s\S]*2 streams, oldest bookmark [^<]+ old; runs read up to 5 minutes before they start \(end_lag PT5M\)<\/small><\/h2><\/summary>/,
      );
      expect(folded).toContain('<tr data-stream="invoices">');
      // client-02 is in the summary table for its failed run, yet needs nothing of you: folded, its failed run linked on its line.
      expect([...page.matchAll(/<tr data-company="([^"]+)"/g)].map((m) => m[1])).toEqual(['client-07', 'client-19', 'client-24', 'client-02']);
      expect(page).toContain(
        '<small class="glance"><span class="pill ok">ok</span> 2 streams, oldest bookmark 1 h 0 min old; runs read up to 5 minutes before they start (end_lag PT5M) · <a href="/runs?company=client-02&amp;status=failed">1 run failed in the last 24 h</a></small></h2></summary>',
      );
      expect(page).toContain('<a href="#all-well">26 other companies</a>: nothing needs you');
      expect(page).toContain('<div id="all-well">');
    } finally {
      await web.close();
    }
  });
});

describe('console over HTTP, after a night whose run applied deletions and could not read all of them', () => {
  // The emulator's clock stands an hour before today's UTC midnight, so a deletion falls inside a run that ends today.
  const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const day = (n: number) => new Date(today.getTime() + n * 86_400_000).toISOString().slice(0, 10);
  const prefix = `cnn_${Math.random().toString(16).slice(2, 8)}`;
  let firm: Firm;
  let web: RunningConsole;
  let triggerList = '';
  let runId = '';
  let browser: Browser | undefined;
  /** Before the night's run: the overview's company section and company list, 25 and then 40 days after the bookmark. */
  const outage: Record<25 | 40, { bookmark: Date; section: string; list: string }> = {} as never;
  const command = 'node \\S+cli\\.js reconcile --companies companies\\.yaml --company acme --job qb_company --streams invoices';
  const pastedCommand = () => new RegExp(`run: (${command})$`, 'm').exec(triggerList)?.[1] ?? 'none';
  /** The warehouse's row of a run: what analysts query. */
  const pipelineRun = async (id: string) =>
    (await withClient((c) => c.query(`SELECT p.*, row_to_json(p)::text AS whole FROM ${prefix}_acme._pipeline_runs p WHERE run_id = $1`, [id]))).rows[0] as
      Record<string, unknown> | undefined;
  /** The overview's "what needs you" items that ask for a reconcile, as Chromium shows them. */
  const reconcileAdvice = async () => {
    const page = await browser!.newPage();
    try {
      await page.goto(web.url);
      const items = page.locator('ul.attention li', { hasText: 'may be missing' });
      const out = [];
      for (let i = 0; i < (await items.count()); i++) {
        const item = items.nth(i);
        out.push({
          text: await item.locator('a').textContent(),
          href: await item.locator('a').getAttribute('href'),
          command: await item.locator('pre.command code').textContent(),
        });
      }
      return out;
    } finally {
      await page.close();
    }
  };
  beforeAll(async () => {
    firm = await startFirm({
      names: ['acme'],
      databaseUrl: databaseUrl(),
      seed: 61,
      now: new Date(today.getTime() - 3_600_000),
      days: 5,
      counts: { invoices: 30 },
    });
    await firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, streams: ['invoices'] }));
    const first = await firm.cli(['backfill', '--companies', 'companies.yaml', '--start', day(-5), '--end', day(-3)]);
    expect(first.code, first.stderr).toBe(0);
    web = await startConsole(consoleOptions({ port: 0, stateDir: path.join(firm.dir, 'state'), companiesFile: path.join(firm.dir, 'companies.yaml') }, {}));
    // The scheduler was down for 25 days, then for 40: the job's bookmark nears, then passes QBO's 30-day change data capture.
    const stateFile = path.join(firm.dir, 'state', 'companies', 'acme', 'qb_company.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    for (const [days, bookmark] of [
      [25, new Date(Math.floor((Date.now() - 25 * 86_400_000) / 1000) * 1000)],
      [40, new Date(`${day(-40)}T00:00:00Z`)],
    ] as const) {
      state.bookmarks.invoices.replication_key_value = bookmark.toISOString().replace('.000Z', 'Z');
      await writeFile(stateFile, JSON.stringify(state));
      const section = /<section class="company"[\s\S]*?<\/section>/.exec((await send(web.url, '/')).text)?.[0] ?? '';
      outage[days] = { bookmark, section, list: (await firm.cli(['company', 'list', '--companies', 'companies.yaml'])).stdout };
    }
    firm.company('acme').deleteTransaction('Invoice', firm.company('acme').truth('invoices')[3]!.id);
    const added = await firm.cli(['trigger', 'add', '--companies', 'companies.yaml', '--at', new Date().toISOString(), '--start', day(-45), '--end', day(0)]);
    expect(added.code, added.stderr).toBe(0);
    const night = await firm.cli(['scheduler', '--companies', 'companies.yaml', '--once']);
    expect(night.code, night.stderr).toBe(0);
    triggerList = (await firm.cli(['trigger', 'list', '--companies', 'companies.yaml'])).stdout;
    const runs = await send(web.url, '/runs');
    runId = /<tr data-run="(run-[^"]+)"/.exec(runs.text)?.[1] ?? '';
    if (HAVE_CHROMIUM) browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await withClient((c) => c.query(`DROP SCHEMA IF EXISTS ${prefix}_acme CASCADE`));
    await firm?.close();
  });

  it("during the outage, the overview and company list say until when a sync can still read the deletions from QBO's change data capture, then that the next sync advises a reconcile", async () => {
    const utc = (d: Date) => d.toISOString().replace(/T(.{8}).*/, ' $1Z');
    const closing = `invoices: deletions since ${utc(outage[25].bookmark)} can be read from QBO&#39;s change data capture for 4 more days (until ${utc(new Date(outage[25].bookmark.getTime() + CDC_LOOKBACK_MS))}); after that a reconcile is needed: sync before then`;
    expect(outage[25].section).toContain(`<li class="warn"><span class="pill warn">check</span> ${closing}</li>`);
    expect(outage[25].section).toMatch(/<tr data-stream="invoices">[\s\S]*<small class="cdc">deletions via change data capture until <time /);
    expect(outage[25].list).toContain(`\nacme: ${closing.replace('&#39;', "'")}\n`);
    const closed = `invoices: deletions since ${day(-40)} 00:00:00Z are older than QBO&#39;s 30-day change data capture (it reached them until ${utc(new Date(outage[40].bookmark.getTime() + CDC_LOOKBACK_MS))}): the next sync will advise a reconcile to mark the rows QBO no longer has`;
    expect(outage[40].section).toContain(`<li class="error"><span class="pill error">needs action</span> ${closed}</li>`);
    expect(outage[40].list).toContain(`\nacme: ${closed.replace('&#39;', "'")}\n`);
    // The night's sync did advise it (below); its bookmark is today's now, and the window it read is no longer named.
    expect((await send(web.url, '/')).text).not.toContain('deletions since');
  });

  it('trigger list ends with the exact reconcile command of the run that could not read every deletion, and its result counts the deletion', () => {
    expect(triggerList).toMatch(
      new RegExp(`^trg-\\S+: WARNING: deletions QBO's change data capture could not give .*; to mark the rows QBO no longer has, run: ${command}$`, 'm'),
    );
    expect(triggerList).toMatch(/done: invoices 45 days, \d+ records and 1 deleted/);
  });

  it('the runs table says what each run did: the rows it read, which were new or unchanged, and what it deleted; and points to the reconcile', async () => {
    const rows = (await send(web.url, '/runs')).text.match(/<tr data-run="[^"]+"[^>]*>[\s\S]*?<\/tr>(<tr class="run-note"[\s\S]*?<\/tr>)?/g) ?? [];
    expect(rows).toHaveLength(2);
    const did = (row = '') =>
      /<td class="outcome">([\s\S]*?)<\/td>/
        .exec(row)?.[1]
        ?.replace(/<br>/g, ' / ')
        .replace(/<[^>]+>/g, '');
    // The first backfill read 2 of the 5 days; the night's run read every invoice again (its bookmark 40 days back): those rows
    // it already had are unchanged, not loaded again. Under it, the reconcile it advised.
    const invoices = firm.company('acme').truth('invoices').length;
    const first = Number(/^(\d+) new \/ read \1$/.exec(did(rows[1]) ?? '')?.[1]);
    expect(first).toBeGreaterThan(0);
    const night =
      /^(\d+) new · 1 deleted \/ read (\d+) · (\d+) unchanged$/
        .exec(did(rows[0]) ?? '')
        ?.slice(1)
        .map(Number) ?? [];
    expect(did(rows[0])).toMatch(/^\d+ new · 1 deleted \/ read \d+ · \d+ unchanged$/);
    // What the first backfill loaded, less the invoice deleted since (which it may have loaded), is unchanged; the rest new.
    const [added = 0, read = 0, unchanged = 0] = night;
    expect({ read, sum: added + unchanged }).toEqual({ read: invoices, sum: invoices });
    expect(first - unchanged).toBeGreaterThanOrEqual(0);
    expect(first - unchanged).toBeLessThanOrEqual(1);
    expect(rows[0]).toMatch(
      /<\/tr><tr class="run-note" data-run-note="run-[^"]+"><td colspan="8"><small>deletions may be missing: <a href="\/runs\/run-[^"]+#reconcile">reconcile<\/a><\/small><\/td><\/tr>$/,
    );
    expect(rows[0]).toMatch(/<td class="by"><span title="trigger (trg-[^"]+)">trigger<br><small class="muted">\1<\/small><\/span><\/td>/);
    expect(rows[1]).toContain('<td class="by">by hand</td>');
    const trigger = /<tr data-trigger="[^"]+">[\s\S]*?<\/tr>/.exec((await send(web.url, '/schedules')).text)?.[0] ?? '';
    expect(trigger).toContain(`<a href="/runs/${runId}#reconcile">reconcile</a>`);
  });

  it('a run page shows the deletions it applied, and the same reconcile command trigger list prints', async () => {
    const page = (await send(web.url, `/runs/${runId}`)).text;
    const totals = /<table class="data totals">[\s\S]*?<\/table>/.exec(page)?.[0] ?? '';
    expect(totals).toMatch(/<th scope="col" class="num"[^>]*>deleted<\/th>/);
    expect(totals).toMatch(/<th scope="row">invoices<\/th>(<td class="num">[^<]*<\/td>){7}<td class="num">1<\/td>/);
    const pasted = pastedCommand();
    expect(page).toContain(
      `<dt id="reconcile">reconcile</dt><dd>deletions QBO&#39;s change data capture could not give (older than 30 days, past its cap, or from before the table tracked deletions) may be missing; to mark the rows QBO no longer has, run:<pre class="command"><code>${pasted}</code></pre></dd>`,
    );
  });

  it("the warehouse's _pipeline_runs row of the run holds exactly what it loaded and deleted, and the same reconcile command, with no secret", async () => {
    const row = await pipelineRun(runId);
    // Every invoice QBO has (the bookmark 40 days back reads them all again) and the one deletion CDC gave.
    expect(row).toMatchObject({ status: 'succeeded', rows_loaded: String(firm.company('acme').truth('invoices').length), rows_deleted: '1' });
    expect(row?.reconcile_command).toBe(pastedCommand());
    const refreshToken = (await readFile(path.join(firm.dir, 'secrets', 'acme', 'refresh_token'), 'utf8')).trim();
    for (const secret of [firm.emulator.clientSecret, refreshToken, firm.company('acme').currentRefreshToken(), databaseUrl()])
      expect(row?.whole).not.toContain(secret);
  });

  it.skipIf(!HAVE_CHROMIUM)(
    `the overview lists the reconcile the run advised, with the exact command to paste, linked to the run; a dry run does not do it${HAVE_CHROMIUM ? '' : ` (${NO_CHROMIUM_REASON})`}`,
    async () => {
      const advice = [
        {
          text: `invoices of job qb_company (run ${runId}): deletions QBO's change data capture could not give (older than 30 days, past its cap, or from before the table tracked deletions) may be missing; to mark the rows QBO no longer has, run`,
          href: `/runs/${runId}#reconcile`,
          command: pastedCommand(),
        },
      ];
      expect(await reconcileAdvice()).toEqual(advice);
      // The long command scrolls in its own box: the page still fits a 390 px phone.
      const phone = await browser!.newPage({ viewport: { width: 390, height: 800 } });
      await phone.goto(web.url);
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await phone.close();
      const dry = await firm.cli([...pastedCommand().split(' ').slice(2), '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(await reconcileAdvice()).toEqual(advice);
    },
  );

  it('the pasted reconcile command runs, and its row in the runs table counts the rows it marked deleted', async () => {
    // Gone from QBO where CDC was not read: only the reconcile finds it.
    firm.company('acme').deleteTransaction('Invoice', firm.company('acme').truth('invoices')[5]!.id);
    const reconcile = await firm.cli(pastedCommand().split(' ').slice(2));
    expect(reconcile.code, reconcile.stderr).toBe(0);
    const row = /<tr data-run="([^"]+)"[^>]*>[\s\S]*?<\/tr>/.exec((await send(web.url, '/runs')).text);
    expect(row?.[0]).toMatch(/<td>reconcile<br>[\s\S]*<td class="outcome">1 marked deleted<\/td>/);
    expect(await pipelineRun(row?.[1] ?? '')).toMatchObject({ kind: 'reconcile', rows_loaded: '0', rows_deleted: '1', reconcile_command: null });
  });

  it.skipIf(!HAVE_CHROMIUM)(`once the pasted command has run, the overview no longer lists it${HAVE_CHROMIUM ? '' : ` (${NO_CHROMIUM_REASON})`}`, async () => {
    expect(await reconcileAdvice()).toEqual([]);
  });

  it(
    'while a --fresh backfill has not committed yet, lists its streams as running with no bookmark yet, not "nothing has been committed" and an advice to run a backfill',
    { timeout: 90_000 },
    async () => {
      // QBO answers nothing until the page has been looked at: the run cannot commit before that, however slow the machine.
      const release = firm.emulator.holdAnswers();
      const fresh = firm.cli(['backfill', '--companies', 'companies.yaml', '--company', 'acme', '--start', day(-5), '--end', day(0), '--fresh']);
      try {
        // The run is in the journal a moment before it sets the old state file aside: wait for both.
        let section = '';
        const invoices = () => /<tr data-stream="invoices">[\s\S]*?<\/tr>/.exec(section)?.[0] ?? '';
        for (let i = 0; i < 600 && !(invoices().includes('pill info') && !invoices().includes('<time')); i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          section = /<section class="company"[\s\S]*?<\/section>/.exec((await send(web.url, '/')).text)?.[0] ?? '';
        }
        expect(section).not.toContain('No bookmark yet');
        expect(section).not.toContain('nothing has been committed');
        const row = /<tr data-stream="invoices">[\s\S]*?<\/tr>/.exec(section)?.[0] ?? '';
        expect(row).toMatch(/<td><span class="muted">none yet: this run commits it<\/span><\/td>/);
        expect(row).toMatch(
          /<td>qb_company<\/td>\s*<td><a href="\/runs\/run-[^"]+">started [^<]+ ago<\/a><\/td>\s*<td><span class="pill info">running<\/span><\/td>/,
        );
      } finally {
        release();
        expect((await fresh).code).toBe(0);
      }
      const after = /<tr data-stream="invoices">[\s\S]*?<\/tr>/.exec((await send(web.url, '/')).text)?.[0] ?? '';
      expect(after).toMatch(new RegExp(`<td><time datetime="${day(0)}T00:00:00Z"`));
      expect(after).toContain('succeeded');
    },
  );

  it('after invalid_grant says once what failed and where the new refresh token goes, linked to the run; after the fix, nothing', async () => {
    firm.company('acme').revokeTokens();
    const failed = await firm.cli(['sync', '--companies', 'companies.yaml']);
    expect(failed.code).toBe(2);
    const attention = () => send(web.url, '/').then((page) => /<ul class="attention">[\s\S]*?<\/ul>/.exec(page.text)?.[0] ?? '');
    const items = (await attention()).match(/<li[\s\S]*?<\/li>/g) ?? [];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatch(
      /<a href="\/runs\/run-[^"]+">last run of job qb_company failed: QuickBooks rejected the refresh token at [^(]+\(invalid_grant, intuit_tid [\w-]+\): reconnect the app to company \d+ and put the new refresh token in its refresh_token_file secrets\/acme\/refresh_token \(companies file [^)]+\)<\/a>/,
    );
    expect(items[0]?.split('invalid_grant').length).toBe(2);
    // A new token QuickBooks refuses too: once a run tried it, it is rejected again, red, never "not used yet".
    await writeFile(path.join(firm.dir, 'secrets', 'acme', 'refresh_token'), 'AB11-a-token-quickbooks-never-issued\n');
    const refused = await firm.cli(['sync', '--companies', 'companies.yaml']);
    expect(refused.code).toBe(2);
    const tried = await attention();
    expect(tried.match(/<li[\s\S]*?<\/li>/g), tried).toHaveLength(1);
    expect(tried).toMatch(
      /last run of job qb_company failed: QuickBooks rejected the refresh token at [^(]+\(invalid_grant, intuit_tid [\w-]+\): reconnect the app/,
    );
    expect(tried).not.toContain('not used yet');
    const newToken = firm.company('acme').reconnect();
    await writeFile(path.join(firm.dir, 'secrets', 'acme', 'refresh_token'), `${newToken}\n`);
    // The reconnect is seen before a run uses it: amber and waiting, not red; the token is compared, never shown nor spent.
    const waiting = await attention();
    expect(waiting.match(/<li[\s\S]*?<\/li>/g)).toHaveLength(1);
    expect(waiting).toMatch(
      /last run of job qb_company failed: QuickBooks rejected the refresh token at [^;]+; a new refresh token was saved in its refresh_token_file secrets\/acme\/refresh_token \(companies file [^)]+\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, not used yet: the next run starts from it<\/a>/,
    );
    const overview = (await send(web.url, '/')).text;
    expect(/<h3[^>]*>Token health<\/h3>[\s\S]*?<\/table>/.exec(overview)?.[0]).toMatch(/<span class="pill warn">new token<\/span>/);
    expect(overview).not.toContain(newToken);
    const fixed = await firm.cli(['sync', '--companies', 'companies.yaml']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect((await send(web.url, '/')).text).toContain('Nothing needs you');
  });

  it('the evidence page counts the deletions a run marked, links each day to the run that read it, and says of a day a sync read only part of which part, not that QBO had nothing that day', async () => {
    const night = (await send(web.url, `/evidence?run=${runId}&stream=invoices`)).text;
    expect(night).toMatch(/<th scope="col" class="num" title="[^"]+">deleted<\/th>/);
    // Each day's run is named as the Runs page names it, the page its link leads to, the tap run id in its tooltip.
    const [runDay, runTime, suffix] = [
      runId.slice(0, runId.indexOf('T')),
      runId.slice(runId.indexOf('T'), runId.lastIndexOf('-') + 1),
      runId.slice(runId.lastIndexOf('-') + 1),
    ];
    expect(night).toMatch(
      new RegExp(
        `<td class="run"(?: rowspan="\\d+")?><a href="/runs/${runId}" title="tap run [0-9a-f-]{36}, read [^"]+"><span class="run-id">${runDay}</span><wbr><span class="run-id">${runTime.replace('.', '\\.')}</span><wbr><span class="run-id">${suffix}</span></a></td>`,
      ),
    );
    expect(night).toMatch(/<th scope="row"><a href="#day-invoices">invoices<\/a><\/th>(<td class="num">[^<]*<\/td>){4}<td class="num">1<\/td>/);
    // The sync after the fix read today from its bookmark, midnight, up to when it ran: the day's row says so.
    const page = (await send(web.url, '/evidence?stream=invoices')).text;
    const today = new RegExp(`<th scope="row">(${day(0)}[^]*?)</th>`).exec(page)?.[1];
    expect(today).toMatch(new RegExp(`^${day(0)}<small class="muted part-of-day" title="[^"]+">only until \\d\\d:\\d\\d:\\d\\dZ</small>$`));
  });
});

describe('qbo-pipeline console', () => {
  it('says the port is taken, and what to do, when another program holds it: exit 2', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const run = await runCliProcess(['console', '--port', String(port), '--state-dir', dir], { env: { PATH: process.env.PATH ?? '' } });
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(
        `FATAL qbo-pipeline: --port ${port}: 127.0.0.1:${port} is taken by another program (another console or scheduler --console, or npm run demo -- --keep-running); stop it, or give --port another port (0: any free one)`,
      );
    } finally {
      holder.close();
    }
  });

  it.each([
    [['console', '--port', '0', '--target-config'], 'target config'],
    [['scheduler', '--console', '--console-port', '0', '--target-config'], 'target config'],
    [['console', '--port', '0', '--tap-config'], 'tap config'],
  ])('refuses at start-up a settings file it cannot read (%j): exit 2, one line naming the file', { timeout: 20_000 }, async (args, what) => {
    const missing = path.join(dir, 'no-such-settings.json');
    const run = await runCliProcess([...args, missing, '--state-dir', dir], { env: { PATH: process.env.PATH ?? '' } });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n').find((l) => l.startsWith('FATAL'))).toBe(`FATAL qbo-pipeline: cannot read ${what} ${missing}: no such file`);
    expect(run.stderr).not.toMatch(/console at http/);
  });

  it('refuses to listen off this machine without a password: exit 2, one line naming the setting', async () => {
    const run = await runCliProcess(['console', '--host', '0.0.0.0', '--port', '0', '--state-dir', dir], { env: { PATH: process.env.PATH ?? '' } });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(
      'FATAL qbo-pipeline: --host 0.0.0.0: the console can start and stop pipelines, so off this machine it needs a password; put one in a file and name it with QBO_CONSOLE_PASSWORD_FILE (or --password-file), or listen on 127.0.0.1',
    );
  });
});
