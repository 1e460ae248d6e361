import { describe, expect, it } from 'vitest';
import type { Trigger } from '../../triggers/Trigger.js';
import { cdcWindows } from '../freshness.js';
import { attentionOf, overviewView, streamRows, streamsGlance, type CompanyOverview } from './overviewView.js';

const base: CompanyOverview = {
  name: 'acme',
  schema: 'raw',
  stateDir: '/s',
  streams: [],
  endLag: { iso: 'PT5M', ms: 300_000 },
  cdc: [],
  stateProblems: [],
  tokens: [],
  triggers: [],
  unreadableTriggers: [],
  runs: [],
};
/** When the overview is read, for the checks that depend on it (a trigger long due). */
const NOW = new Date('2025-03-01T07:00:00Z');
const run = (id: string, job: string, status: string, reason?: string) => ({
  id,
  job,
  streams: ['invoices'],
  status,
  startedAt: '2025-01-01T00:00:00Z',
  range: { start: '2024-12-31T00:00:00Z', end: '2025-01-01T00:00:00Z' },
  ...(reason ? { reason } : {}),
});

describe('attentionOf', () => {
  it('is empty when all is well', () => {
    expect(attentionOf({ ...base, runs: [run('r2', 'daily', 'succeeded'), run('r1', 'daily', 'failed', 'old')] }, NOW)).toEqual([]);
  });

  it('names what needs a person, errors first: the last failed run of each job, tokens, unreadable files, stale streams', () => {
    const items = attentionOf(
      {
        ...base,
        runs: [run('r3', 'daily', 'failed', 'tap-quickbooks: network down'), run('r2', 'daily', 'succeeded'), run('r1', 'backfill', 'succeeded')],
        tokens: [
          {
            realmId: '1',
            file: 'f',
            lastRefreshAt: undefined,
            accessTokenExpiresAt: undefined,
            refreshTokenExpiresAt: undefined,
            hardExpiresAt: undefined,
            daysToHardExpiry: 20,
            daysToRefreshExpiry: 90,
            level: 'warn',
            advice: 'the refresh token expires in 20 days',
          },
          { realmId: '2', file: 'g', problem: 'token store g is damaged' },
        ],
        stateProblems: [{ file: 'x.json', problem: 'state file x.json is not valid JSON' }],
        unreadableTriggers: [{ file: '/s/triggers/trg-x.json.unreadable', problem: 'not valid JSON (unexpected end of JSON input)', when: 'earlier' }],
        streams: [{ stream: 'items', bookmark: '2025-01-01T00:00:00Z', job: 'daily', ageMs: 3 * 86_400_000, stale: true }],
      },
      NOW,
    );
    expect(items).toEqual([
      {
        level: 'error',
        text: 'last run of job daily failed: tap-quickbooks: network down',
        href: '/runs/r3',
        about: { kind: 'run-failed', key: 'run-failed daily', job: 'daily', runId: 'r3' },
      },
      { level: 'error', text: 'token store of realm 2: token store g is damaged' },
      { level: 'error', text: 'state file x.json is not valid JSON' },
      {
        level: 'error',
        text: 'trigger file trg-x.json.unreadable was set aside as unreadable: not valid JSON (unexpected end of JSON input)',
        href: '/schedules',
      },
      { level: 'warn', text: 'realm 1: the refresh token expires in 20 days', about: { kind: 'token', key: 'token 1 warn' } },
      { level: 'warn', text: '1 stream not refreshed for over a day and a half beyond end_lag PT5M: items' },
    ]);
  });
});

describe('streamRows', () => {
  const items = { stream: 'items', bookmark: '2025-01-01T00:00:00Z', job: 'daily', ageMs: 1, stale: false };
  it('lists the bookmarked streams and, without a bookmark, the streams of the newest run of each job (a first or --fresh run)', () => {
    const rows = streamRows({
      ...base,
      streams: [items],
      runs: [
        { ...run('r3', 'qb_company', 'running'), streams: ['invoices', 'items'] },
        { ...run('r2', 'qb_company', 'succeeded'), streams: ['bills'] },
        { ...run('r1', 'other', 'failed'), streams: ['customers'] },
      ],
    });
    expect(rows).toEqual([
      { stream: 'customers', job: 'other' },
      { stream: 'invoices', job: 'qb_company' },
      { stream: 'items', freshness: items, job: 'daily' },
    ]);
  });

  it('is empty only when no job has a bookmark and no run is in the journal', () => {
    expect(streamRows(base)).toEqual([]);
  });

  it("counts on a folded line the streams its section lists, company_info too (company list's all 28), and those still waiting for a first bookmark", () => {
    const invoices = { ...items, stream: 'invoices', ageMs: 2 * 3_600_000 };
    const synced = { ...base, streams: [items, invoices], runs: [{ ...run('r1', 'qb_company', 'succeeded'), streams: ['company_info', 'invoices', 'items'] }] };
    expect(streamsGlance(synced)).toBe('3 streams, oldest bookmark 2 h 0 min old; runs read up to 5 minutes before they start (end_lag PT5M)');
    const first = { ...synced, streams: [items], runs: [{ ...run('r2', 'qb_company', 'running'), streams: ['company_info', 'invoices', 'items'] }] };
    expect(streamsGlance(first)).toMatch(/^3 streams \(1 with no bookmark yet\), oldest bookmark /);
    expect(streamsGlance({ ...first, streams: [] })).toBe('3 streams, no bookmark yet');
    expect(streamsGlance(base)).toBe('no stream yet');
  });

  it('says company_info, read whole at every run, has no bookmark to wait for, and a stream a run has not committed yet that it has none yet', () => {
    const page = overviewView(
      [{ ...base, streams: [items], runs: [{ ...run('r1', 'qb_company', 'succeeded'), streams: ['company_info', 'invoices', 'items'] }] }],
      NOW,
    ).toString();
    const bookmarkCell = (stream: string) => new RegExp(`<tr data-stream="${stream}">\\s*<th scope="row">${stream}</th>\\s*<td>(.*?)</td>`).exec(page)?.[1];
    expect(bookmarkCell('company_info')).toBe('<span class="muted">none: read whole at every run</span>');
    expect(bookmarkCell('invoices')).toBe('<span class="muted">none yet</span>');
  });
});

describe('attentionOf a run that did not start', () => {
  it('is a failure of its job, said as one that did not start, and notified as one', () => {
    const refused = { ...run('r1', 'daily', 'failed', 'state file daily.json is not valid JSON'), notStarted: true as const };
    expect(attentionOf({ ...base, runs: [refused] }, NOW)).toEqual([
      {
        level: 'error',
        text: 'last run of job daily did not start: state file daily.json is not valid JSON',
        href: '/runs/r1',
        about: { kind: 'run-failed', key: 'run-failed daily', job: 'daily', runId: 'r1' },
      },
    ]);
  });
});

describe('attentionOf after invalid_grant', () => {
  const token = (tid: string) => ({
    realmId: '9',
    file: 'f',
    lastRefreshAt: undefined,
    accessTokenExpiresAt: undefined,
    refreshTokenExpiresAt: undefined,
    hardExpiresAt: undefined,
    daysToHardExpiry: undefined,
    daysToRefreshExpiry: undefined,
    level: 'error' as const,
    advice: `QuickBooks rejected the refresh token at 2025-01-01 00:00:01Z (invalid_grant, intuit_tid ${tid}): reconnect the app to company 9 and put the new refresh token in its refresh_token_file s/acme`,
    rejected: { at: '2025-01-01T00:00:01Z', tid },
  });
  const failed = run(
    'r1',
    'daily',
    'failed',
    'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant, intuit_tid t-1): reconnect the app to company 9 and set the new refresh_token',
  );

  it('says the run and the token store that tell of the same rejection once: what failed, and where the new token goes', () => {
    expect(attentionOf({ ...base, runs: [failed], tokens: [token('t-1')] }, NOW)).toEqual([
      {
        level: 'error',
        text: `last run of job daily failed: ${token('t-1').advice}`,
        href: '/runs/r1',
        // Told with the failure, the rejection is not news when the token's own item shows (while the next run goes on).
        about: { kind: 'run-failed', key: 'run-failed daily', job: 'daily', runId: 'r1', covers: 'token 9 rejected' },
      },
    ]);
  });

  it('shows a rejection recorded while a run goes on, and leaves its telling to that run (no identity to notify yet)', () => {
    const going = { ...run('r2', 'daily', 'running'), startedAt: '2025-01-01T00:00:00Z' };
    expect(attentionOf({ ...base, runs: [going], tokens: [token('t-1')] }, NOW)).toEqual([{ level: 'error', text: `realm 9: ${token('t-1').advice}` }]);
    // Recorded before the run going on started (an old rejection, nobody reconnected): an item of its own.
    const later = { ...going, startedAt: '2025-01-01T00:00:02Z' };
    expect(attentionOf({ ...base, runs: [later], tokens: [token('t-1')] }, NOW)[0]!.about).toEqual({ kind: 'token', key: 'token 9 rejected' });
  });

  it('keeps both when they tell of different answers', () => {
    expect(attentionOf({ ...base, runs: [failed], tokens: [token('t-2')] }, NOW)).toHaveLength(2);
  });

  it('says a new token waiting for the next run as a check that is no news to notify', () => {
    const waiting = {
      ...token('t-2'),
      level: 'warn' as const,
      advice: 'a new refresh token was saved in s/acme, not used yet',
      newToken: { savedAt: undefined },
    };
    expect(attentionOf({ ...base, tokens: [waiting] }, NOW)).toEqual([
      { level: 'warn', text: 'realm 9: a new refresh token was saved in s/acme, not used yet' },
    ]);
  });
});

describe('attentionOf with a reconcile a run advised', () => {
  const command = "node cli.js reconcile --job daily --streams invoices --tap-config 'my tap.json'";
  const advised = { ...run('r1', 'daily', 'succeeded'), kind: 'sync' as const, reconcileCommand: command, reconcileStreams: ['invoices'] };
  const reconciled = { ...run('r2', 'daily', 'succeeded'), kind: 'reconcile' as const, startedAt: '2025-01-01T01:00:00Z' };

  it('asks for it with its exact command, linked to the run that advised it, until a reconcile does it', () => {
    const c = { ...base, runs: [advised] };
    expect(attentionOf(c, NOW)).toEqual([
      {
        level: 'error',
        text: "invoices of job daily (run r1): deletions QBO's change data capture could not give (older than 30 days, past its cap, or from before the table tracked deletions) may be missing; to mark the rows QBO no longer has, run",
        href: '/runs/r1#reconcile',
        command,
        about: { kind: 'reconcile', key: 'reconcile r1', job: 'daily', runId: 'r1' },
      },
    ]);
    const page = overviewView([c], new Date('2025-01-02T00:00:00Z')).toString();
    expect(page).toContain(`<a href="/runs/r1#reconcile">invoices of job daily (run r1): deletions QBO&#39;s`);
    expect(page).toContain(
      `<pre class="command"><code>node cli.js reconcile --job daily --streams invoices --tap-config &#39;my tap.json&#39;</code></pre></li>`,
    );
    expect(attentionOf({ ...base, runs: [reconciled, advised] }, NOW)).toEqual([]);
  });
});

describe("QBO's change data capture closing on old bookmarks", () => {
  const now = new Date('2025-02-01T06:00:00Z');
  const day = 86_400_000;
  const stream = (name: string, bookmark: string) => ({ stream: name, bookmark, job: 'daily', ageMs: now.getTime() - Date.parse(bookmark), stale: true });
  const withCdc = (streams: CompanyOverview['streams']) => ({ ...base, streams, cdc: cdcWindows(streams, () => true) });
  const c = withCdc([stream('invoices', '2025-01-08T00:00:00Z'), stream('items', '2024-12-20T00:00:00Z'), stream('tax_codes', '2024-12-20T00:00:00Z')]);

  it('says how many days are left before a sync must run, and once past, that the next sync advises a reconcile', () => {
    expect(attentionOf(c, NOW).filter((a) => a.text.includes('change data capture'))).toEqual([
      {
        level: 'error',
        text: "items: deletions since 2024-12-20 00:00:00Z are older than QBO's 30-day change data capture (it reached them until 2025-01-18 23:50:00Z): the next sync will advise a reconcile to mark the rows QBO no longer has",
      },
      {
        level: 'warn',
        text: "invoices: deletions since 2025-01-08 00:00:00Z can be read from QBO's change data capture for 5 more days (until 2025-02-06 23:50:00Z); after that a reconcile is needed: sync before then",
      },
    ]);
    expect(attentionOf(withCdc([stream('invoices', new Date(now.getTime() - 20 * day).toISOString())]), NOW)).toEqual([
      { level: 'warn', text: '1 stream not refreshed for over a day and a half beyond end_lag PT5M: invoices' },
    ]);
  });

  it('marks each such stream in the streams table, and no stream CDC does not cover', () => {
    const page = overviewView([c], now).toString();
    const row = (name: string) => new RegExp(`<tr data-stream="${name}">[\\s\\S]*?</tr>`).exec(page)?.[0] ?? '';
    expect(row('invoices')).toContain(
      '<br><small class="cdc">deletions via change data capture until <time datetime="2025-02-06T23:50:00.000Z" title="in 5 days">2025-02-06 23:50:00Z</time></small></td>',
    );
    expect(row('items')).toContain('<br><small class="cdc">deletions past change data capture: the next sync advises a reconcile</small></td>');
    expect(row('tax_codes')).not.toContain('change data capture');
  });
});

describe('the streams table', () => {
  it("shows each row's last run and outcome from its own job, not from another job's later run of the stream", () => {
    const page = overviewView(
      [
        {
          ...base,
          streams: [{ stream: 'invoices', bookmark: '2025-03-01T06:55:00Z', job: 'qb_customers_invoices', ageMs: 300_000, stale: false }],
          runs: [
            { ...run('r2', 'qb_invoices', 'failed', 'cannot read tap config nothere.json: no such file'), startedAt: '2025-03-01T06:59:00Z' },
            { ...run('r1', 'qb_customers_invoices', 'succeeded'), startedAt: '2025-03-01T06:55:00Z', finishedAt: '2025-03-01T06:56:00Z' },
          ],
        },
      ],
      NOW,
    ).toString();
    const row = new RegExp('<tr data-stream="invoices">[\\s\\S]*?</tr>').exec(page)?.[0] ?? '';
    expect(row).toContain('<td>qb_customers_invoices</td>');
    expect(row).toContain('<a href="/runs/r1">');
    expect(row).toContain('succeeded');
    expect(row).not.toContain('failed');
  });
});

describe('the overview of thirty companies', () => {
  const now = new Date('2025-03-02T09:00:00Z');
  const at = (iso: string, r: ReturnType<typeof run>) => ({ ...r, startedAt: iso });
  const companies: CompanyOverview[] = Array.from({ length: 30 }, (_, i) => ({
    ...base,
    name: `client-${String(i + 1).padStart(2, '0')}`,
    runs: [at('2025-03-02T08:05:00Z', run(`r${i}-2`, 'qb_company', 'succeeded')), at('2025-03-02T03:05:00Z', run(`r${i}-1`, 'qb_company', 'succeeded'))],
  }));
  // Last night client-07's 03:05 run failed and the 04:05 one went through; client-19's last run failed; client-24's failed two days ago.
  companies[6] = { ...companies[6]!, runs: [companies[6]!.runs[0]!, at('2025-03-02T03:05:00Z', run('r6-1', 'qb_company', 'failed', 'HTTP 503'))] };
  companies[18] = { ...companies[18]!, runs: [at('2025-03-02T08:05:00Z', run('r18-2', 'qb_company', 'failed', 'HTTP 503')), companies[18]!.runs[1]!] };
  companies[23] = { ...companies[23]!, runs: [companies[23]!.runs[0]!, at('2025-02-28T03:05:00Z', run('r23-1', 'qb_company', 'failed', 'HTTP 503'))] };

  it("puts the companies to look at in one table before the thirty sections, last night's failures among them, and counts the others", () => {
    const page = overviewView(companies, now).toString();
    const summary = /<section class="panel" aria-labelledby="at-a-glance">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
    expect(page.indexOf(summary)).toBeLessThan(page.indexOf('<section class="company"'));
    expect(summary).toContain('2 of 30 companies to look at');
    expect([...summary.matchAll(/<tr data-company="([^"]+)"/g)].map((m) => m[1])).toEqual(['client-19', 'client-07']);
    expect(summary).toContain('<a href="/runs?company=client-07&amp;status=failed">1</a>');
    expect(summary).toContain('<a href="#all-well">28 other companies</a>: nothing needs you, no run failed in the last 24 h');
  });

  it('says in one line when all is well, and nothing of the kind for one company', () => {
    const well = companies.filter((_, i) => ![6, 18].includes(i));
    expect(overviewView(well, now).toString()).toContain('<a href="#all-well">28 companies</a>: nothing needs you, no run failed in the last 24 h.');
    expect(overviewView([companies[6]!], now).toString()).not.toContain('companies to look at');
  });
});

describe('the overview and end_lag', () => {
  const now = new Date('2025-03-02T09:00:00Z');
  const lagged: CompanyOverview = {
    ...base,
    name: 'lagged',
    endLag: { iso: 'PT1H', ms: 3_600_000 },
    streams: [{ stream: 'invoices', bookmark: '2025-03-02T07:55:00Z', job: 'qb_company', ageMs: 65 * 60_000, stale: false }],
  };

  it('says once, above the streams, how far before its start a run reads, so a bookmark that far behind reads as on time', () => {
    const page = overviewView([lagged], now).toString();
    expect(page).toContain(
      '<p class="end-lag">Each bookmark is what the warehouse is complete up to. Runs read up to 1 hour before they start (end_lag PT1H), since QBO shows a change a little after it is made: right after a sync a bookmark is that far behind, which is on time.</p>',
    );
    expect(page.split('end_lag PT1H').length - 1).toBe(1);
    expect(attentionOf(lagged, now)).toEqual([]);
  });

  it('says it on the folded line of a company among several that needs nothing', () => {
    const page = overviewView([lagged, { ...base, name: 'other' }], now).toString();
    expect(page).toContain('1 stream, oldest bookmark 1 h 5 min old; runs read up to 1 hour before they start (end_lag PT1H)');
  });
});

/** A slot trigger of the hourly schedule `company`, at hh:05 on 2025-03-01; a failed one says why (`failure`). */
function hourlySlot(hour: number, status: Trigger['status'], failure?: NonNullable<Trigger['result']>): Trigger {
  const at = new Date(Date.UTC(2025, 2, 1, hour, 5)).toISOString();
  return {
    id: `sch-company-${hour}`,
    at,
    atGiven: at,
    createdAt: at,
    sync: { streams: [], job: 'qb_company', stateDir: '/s' },
    schedule: { name: 'company', slot: at, slots: 1 },
    status,
    enabled: false,
    ...(status === 'failed' && failure ? { result: failure } : {}),
  };
}

describe('attentionOf with a failed one-time trigger', () => {
  const trigger: Trigger = {
    id: 'trg-1',
    at: '2025-01-01T02:00:00Z',
    atGiven: '2025-01-01T02:00:00Z',
    createdAt: '2025-01-01T01:00:00Z',
    backfill: { streams: ['invoices'], job: 'daily', stateDir: '/s', start: '2024-12-31T00:00:00Z', end: '2025-01-01T00:00:00Z' },
    status: 'failed',
    enabled: false,
    finishedAt: '2025-01-01T02:00:05Z',
    result: { exitCode: 2, message: 'invalid_grant', runId: 'r1', runIds: ['r1'] },
  };
  const failed = { ...run('r1', 'daily', 'failed', 'invalid_grant'), startedAt: '2025-01-01T02:00:01Z' };
  const texts = (...runs: Array<ReturnType<typeof run>>) => attentionOf({ ...base, triggers: [trigger], runs }, NOW).map((a) => a.text);

  it('keeps it (with its failure) until a later run of its job covered its streams and range, then drops it', () => {
    expect(texts({ ...run('r2', 'daily', 'failed', 'invalid_grant'), startedAt: '2025-01-01T09:00:00Z' }, failed)).toEqual([
      'last run of job daily failed: invalid_grant',
      'trigger trg-1 failed: invalid_grant',
    ]);
    expect(texts({ ...run('r2', 'daily', 'succeeded'), startedAt: '2025-01-01T09:00:00Z' }, failed)).toEqual([]);
  });

  it('of a --fresh trigger, says what ends it while a plain run that covered its range does not', () => {
    const fresh = { ...trigger, backfill: { ...trigger.backfill!, fresh: true } };
    const plain = { ...run('r2', 'daily', 'succeeded'), startedAt: '2025-01-01T09:00:00Z' };
    const texts = (...runs: CompanyOverview['runs']) => attentionOf({ ...base, triggers: [fresh], runs }, NOW).map((a) => a.text);
    expect(texts(plain, failed)).toEqual([
      'trigger trg-1 failed: invalid_grant; it asked to read its range anew: a backfill --fresh over [2024-12-31T00:00:00Z, 2025-01-01T00:00:00Z) does its work',
    ]);
    expect(texts({ ...plain, fresh: true }, failed)).toEqual([]);
  });
});

describe('attentionOf with an hourly schedule', () => {
  const slot = (hour: number, status: Trigger['status']): Trigger =>
    hourlySlot(hour, status, { exitCode: 1, message: 'QBO answered HTTP 503 5 times', runIds: [] });

  it('forgets a failed slot once a later slot of its schedule went through, and names one still the newest', () => {
    const texts = (triggers: Trigger[]) => attentionOf({ ...base, triggers }, NOW).map((a) => a.text);
    expect(texts([slot(3, 'failed'), slot(4, 'completed'), slot(5, 'completed')])).toEqual([]);
    expect(texts([slot(3, 'completed'), slot(4, 'failed')])).toEqual(['trigger sch-company-4 failed: QBO answered HTTP 503 5 times']);
  });

  it("links a failed slot to its schedule's slots (the schedules page lists no finished slot itself)", () => {
    const [failed] = attentionOf({ ...base, name: 'client-07', triggers: [slot(3, 'completed'), slot(4, 'failed')] }, NOW);
    expect(failed?.href).toBe('/schedules?company=client-07&slots=company#triggers-h');
  });
});

describe('attentionOf with an hourly schedule failing all night', () => {
  const slot = (hour: number, status: Trigger['status'], runId = `run-${hour}`): Trigger =>
    hourlySlot(hour, status, { exitCode: 2, message: 'QuickBooks rejected the refresh token', runIds: [runId], runId });
  const night = [slot(1, 'completed'), ...[2, 3, 4, 5, 6].map((h) => slot(h, 'failed'))];

  it('says its failed slots in one line, not one line each repeating the reason', () => {
    expect(attentionOf({ ...base, triggers: night }, NOW).map((a) => a.text)).toEqual([
      'schedule company: 5 slots failed since 2025-03-01 02:05:00Z, the newest at 2025-03-01 06:05:00Z: QuickBooks rejected the refresh token',
    ]);
  });

  it('leaves the reason to the failed last run it names above, once', () => {
    const lastRun = {
      ...run('run-6', 'qb_company', 'failed', 'QuickBooks rejected the refresh token'),
      startedAt: '2025-03-01T06:05:01Z',
      triggerId: 'sch-company-6',
    };
    const items = attentionOf({ ...base, triggers: night, runs: [lastRun] }, NOW).map((a) => a.text);
    expect(items).toHaveLength(2);
    expect(items[1]).toBe('schedule company: 5 slots failed since 2025-03-01 02:05:00Z, the newest at 2025-03-01 06:05:00Z (its run, above, says why)');
    expect(items.join('\n').split('rejected the refresh token')).toHaveLength(2);
  });
});

describe('attentionOf with a trigger long due', () => {
  const pending = (at: string, extra: Partial<Trigger> = {}): Trigger => ({
    id: 'sch-company-20250301T060000Z',
    at,
    atGiven: at,
    createdAt: at,
    sync: { streams: [], job: 'qb_company', stateDir: '/s' },
    schedule: { name: 'company', slot: at, slots: 1 },
    status: 'pending',
    enabled: true,
    ...extra,
  });

  it("asks whether a scheduler runs a slot due for over 15 minutes that has not started: last night's run did not happen, though nothing failed", () => {
    const [item, ...rest] = attentionOf({ ...base, name: 'hooli', triggers: [pending('2025-03-01T06:00:00Z')] }, NOW);
    expect(rest).toEqual([]);
    expect(item).toEqual({
      level: 'warn',
      text: "schedule company's 2025-03-01 06:00:00Z slot was due 1 h 0 min ago and has not started: is a scheduler running for this state folder? (A due trigger also waits while another run holds its job or company, or while max_parallel runs are busy.)",
      href: '/schedules?company=hooli&slots=company#triggers-h',
      about: { kind: 'overdue', key: 'overdue sch-company-20250301T060000Z' },
    });
  });

  describe('a slot queued behind a busy job (notified as overdue only when something is wrong)', () => {
    const queued = { behind: 'run run-x (backfill, pid 7 on h)', at: '2025-03-01T06:00:01Z', until: '2025-03-02T06:00:00Z' };
    const slot = (extra: Partial<Trigger> = {}) => pending('2025-03-01T06:00:00Z', { queued, ...extra });
    const backfill = (status: string, extra: Record<string, string> = {}) => ({ ...run('run-x', 'qb_company', status), ...extra });
    const overdue = (c: Partial<CompanyOverview>, at = NOW) => attentionOf({ ...base, name: 'hooli', ...c }, at).filter((a) => a.about?.kind === 'overdue');

    it('is nothing to tell while the run it waits for is alive, however long it takes: it runs when that ends', () => {
      expect(overdue({ triggers: [slot()], runs: [backfill('running')] })).toEqual([]);
      expect(overdue({ triggers: [slot()], runs: [backfill('running')] }, new Date('2025-03-02T05:59:00Z'))).toEqual([]);
    });

    it("is overdue once its schedule's next slot came and it still waits (or was replaced by it): a night without its sync", () => {
      const text =
        "schedule company's 2025-03-01 06:00:00Z slot was due 24 h 0 min ago and is queued behind run run-x (backfill, pid 7 on h): its schedule's next slot came and it has not run; the run it waits for outlasts the schedule's interval";
      expect(overdue({ triggers: [slot()], runs: [backfill('running')] }, new Date('2025-03-02T06:00:00Z'))).toEqual([
        {
          level: 'warn',
          text,
          href: '/schedules?company=hooli&slots=company#triggers-h',
          about: { kind: 'overdue', key: 'overdue sch-company-20250301T060000Z' },
        },
      ]);
      const replaced = slot({ schedule: { name: 'company', slot: '2025-03-01T06:00:00Z', slots: 2, firstSlot: '2025-02-28T06:00:00Z' } });
      expect(overdue({ triggers: [replaced], runs: [backfill('running')] })[0]?.text).toMatch(
        /its schedule's next slot came and it has not run \(2 slots wait as one\)/,
      );
    });

    it('is overdue at once when the run it waits for died (its runner gone: failed, no end)', () => {
      expect(overdue({ triggers: [slot()], runs: [backfill('failed', { reason: 'runner pid 7 on h is gone' })] }).map((a) => a.text)).toEqual([
        "schedule company's 2025-03-01 06:00:00Z slot was due 1 h 0 min ago and is queued behind run run-x (backfill, pid 7 on h), but the job's run run-x lost its runner (killed, or its machine restarted): a scheduler pass runs the slot once the job's lock is stale; is a scheduler running for this state folder?",
      ]);
    });

    it('once the run it waits for ended, is overdue 15 minutes after that end if it has not started', () => {
      const ended = (at: string) => [backfill('succeeded', { finishedAt: at })];
      expect(overdue({ triggers: [slot()], runs: ended('2025-03-01T06:50:00Z') })).toEqual([]);
      expect(overdue({ triggers: [slot()], runs: ended('2025-03-01T06:40:00Z') }).map((a) => a.text)).toEqual([
        "schedule company's 2025-03-01 06:00:00Z slot was due 1 h 0 min ago and is queued behind run run-x (backfill, pid 7 on h); the job's run run-x ended 20 min 0 s ago, and the slot has not started: is a scheduler running for this state folder? (A due trigger also waits while another run holds its job or company, or while max_parallel runs are busy.)",
      ]);
      // Nothing of its job in the journal (queued behind a trigger waiting to start): 15 minutes after it was due, as any trigger.
      expect(overdue({ triggers: [slot()] }).map((a) => a.text)).toEqual([
        "schedule company's 2025-03-01 06:00:00Z slot was due 1 h 0 min ago and is queued behind run run-x (backfill, pid 7 on h) and has not started: is a scheduler running for this state folder? (A due trigger also waits while another run holds its job or company, or while max_parallel runs are busy.)",
      ]);
    });
  });

  it("says of the first pending trigger in its company's section that it is late, not that it comes next", () => {
    const page = overviewView([{ ...base, triggers: [pending('2025-03-01T06:00:00Z'), pending('2025-03-01T08:00:00Z')] }], NOW).toString();
    expect(page).toContain(
      '<p>2 pending triggers, the first due <time datetime="2025-03-01T06:00:00Z" title="1 h 0 min ago">2025-03-01 06:00:00Z</time> (1 h 0 min ago, not started yet); 0 running.',
    );
    const later = overviewView([{ ...base, triggers: [pending('2025-03-01T08:00:00Z')] }], NOW).toString();
    expect(later).toContain(
      '<p>1 pending trigger, next <time datetime="2025-03-01T08:00:00Z" title="in 1 h 0 min">2025-03-01 08:00:00Z</time> (in 1 h 0 min); 0 running.',
    );
  });

  it('says nothing of a trigger due minutes ago, one not due yet, or one disabled', () => {
    const triggers = [pending('2025-03-01T06:50:00Z'), pending('2025-03-01T08:00:00Z'), pending('2025-03-01T05:00:00Z', { enabled: false })];
    expect(attentionOf({ ...base, triggers }, NOW)).toEqual([]);
  });
});
