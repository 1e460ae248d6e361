import { describe, expect, it } from 'vitest';
import type { BackfillResult } from '../runBackfill.js';
import type { RunRecord } from '../runs/RunRecord.js';
import { COMPLETE_UP_TO_NOTE, formatCompanyList, formatCompanyOutcomes, type CompanyListing } from './formatCompanies.js';
import type { CompanyOutcome } from './runForCompanies.js';
import type { Company } from './parseCompanies.js';

const company = { name: 'acme', realmId: '9130355', schema: 'raw_acme', streams: ['invoices'] } as unknown as Company;
const run = {
  id: 'run-20250912T034554Z-1a2b3c',
  kind: 'sync',
  job: 'qb_company',
  pid: 4242,
  host: 'box',
  startedAt: '2025-09-12T03:45:54Z',
  updatedAt: '2025-09-12T03:50:00Z',
  status: 'running',
} as unknown as RunRecord;
const DEFAULT_LAG = { iso: 'PT5M', ms: 300_000 };
const NOW = new Date('2025-09-12T04:00:00Z');
const lastRun = (listing: Partial<CompanyListing>) =>
  formatCompanyList(
    'companies.yaml',
    [
      {
        company,
        stateDir: '/state/companies/acme',
        problems: [],
        lastRun: run,
        lastRunMissing: undefined,
        streams: [],
        endLag: DEFAULT_LAG,
        cdc: [],
        ...listing,
      },
    ],
    NOW,
  );

describe('company list: the last run', () => {
  it('says running only while a runner holds the job, and what is known of a runner that is missing', () => {
    expect(lastRun({})).toContain('| running sync qb_company 2025-09-12 03:45:54Z, 14 min 6 s ago |');
    expect(lastRun({ lastRunMissing: 'gone' })).toContain('| running (runner pid 4242 on box is gone: run it again to resume) sync qb_company');
    expect(lastRun({ lastRunMissing: 'silent' })).toContain(
      '| running (runner gone? no sign of life since 2025-09-12 03:50:00Z: run it again to resume) sync qb_company',
    );
  });

  it('names what closed a run whose runner was gone: the run of its job, or a scheduler', () => {
    const closed = { ...run, status: 'failed' as const, runnerGone: { foundAt: '2025-09-12T04:00:00Z', lastSignOfLife: run.updatedAt } };
    expect(lastRun({ lastRun: { ...closed, runnerGone: { ...closed.runnerGone, byRun: 'run-20250913T031500Z-0a0b0c' } } })).toContain(
      '| failed (runner pid 4242 on box was gone; closed by run run-20250913T031500Z-0a0b0c) sync',
    );
    expect(lastRun({ lastRun: { ...closed, runnerGone: { ...closed.runnerGone, bySweeper: 'the scheduler (pid 7 on box)' } } })).toContain(
      '| failed (runner pid 4242 on box was gone; closed by the scheduler (pid 7 on box)) sync',
    );
  });

  it('says why a failed last run failed, in full, under the table', () => {
    const reason =
      'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant, intuit_tid 1415b9bb): reconnect the app to company 9130355 and put the new refresh token in its refresh_token_file secrets/acme/refresh_token';
    const failed = { ...run, status: 'failed' as const, exitCode: 2, finishedAt: '2025-09-12T03:54:38Z', reason };
    const text = lastRun({ lastRun: failed });
    expect(text).toContain('| failed (exit 2) sync qb_company 2025-09-12 03:54:38Z, 5 min 22 s ago |');
    expect(text.split('\n')).toContain(`acme: its last run failed: ${reason}`);
    expect(lastRun({ lastRun: { ...failed, status: 'succeeded', exitCode: 0 } })).not.toContain('its last run failed');
  });

  it('says a last run refused before its tap started did not start', () => {
    const reason = 'state file state/companies/acme/qb_company.json is not valid JSON (…); repair it, or run again with --fresh';
    const refused = { ...run, status: 'failed' as const, exitCode: 2, finishedAt: '2025-09-12T03:54:38Z', reason, notStarted: true as const };
    const text = lastRun({ lastRun: refused });
    expect(text).toContain('| failed (did not start) (exit 2) sync qb_company 2025-09-12 03:54:38Z, 5 min 22 s ago |');
    expect(text.split('\n')).toContain(`acme: its last run did not start: ${reason}`);
  });

  it('reads the instant it ended as the complete up to column does: to the second, and how long ago', () => {
    const finished = { ...run, status: 'succeeded' as const, exitCode: 0, finishedAt: '2025-09-12T03:54:38.342Z' };
    expect(lastRun({ lastRun: finished })).toContain('| succeeded sync qb_company 2025-09-12 03:54:38Z, 5 min 22 s ago |');
  });
});

describe("company list: QBO's change data capture closing", () => {
  it('says under the table, per company, how long a sync can still read the deletions since old bookmarks, and once past, what the next sync does', () => {
    const cdc = [
      { closed: false, streams: ['invoices'], since: '2025-01-08T00:00:00Z', until: '2025-02-06T23:50:00.000Z', leftMs: 5.7 * 86_400_000 },
      { closed: true, streams: ['items'], since: '2024-12-20T00:00:00Z', until: '2025-01-18T23:50:00.000Z', leftMs: -13 * 86_400_000 },
    ];
    expect(lastRun({ cdc }).split('\n').slice(-2)).toEqual([
      "acme: invoices: deletions since 2025-01-08 00:00:00Z can be read from QBO's change data capture for 5 more days (until 2025-02-06 23:50:00Z); after that a reconcile is needed: sync before then",
      "acme: items: deletions since 2024-12-20 00:00:00Z are older than QBO's 30-day change data capture (it reached them until 2025-01-18 23:50:00Z): the next sync will advise a reconcile to mark the rows QBO no longer has",
    ]);
    expect(lastRun({ cdc: [] })).not.toContain('change data capture');
  });
});

describe('company list: complete up to, and end_lag', () => {
  const bookmark = (stream: string, ageMs: number, stale = false) => ({
    stream,
    bookmark: new Date(NOW.getTime() - ageMs).toISOString(),
    job: 'qb_company',
    ageMs,
    stale,
  });

  it("shows the oldest bookmark, its age and the company's end_lag in words, and says once under the table why that lag is on time", () => {
    const text = lastRun({ streams: [bookmark('invoices', 65 * 60_000), bookmark('items', 62 * 60_000)], endLag: { iso: 'PT1H', ms: 3_600_000 } });
    expect(text).toMatch(/\| 2025-09-12 02:55:00Z, 1 h 5 min ago \| 1 hour$/m);
    expect(text).toContain(`\n${COMPLETE_UP_TO_NOTE}`);
    expect(text.split('end_lag before they start').length - 1).toBe(1);
    expect(lastRun({})).toMatch(/\| nothing yet +\| 5 minutes$/m);
  });

  it('names the stale streams', () => {
    expect(lastRun({ streams: [bookmark('invoices', 40 * 3_600_000, true)] })).toContain('2025-09-10 12:00:00Z, 40 h 0 min ago (stale: invoices)');
  });

  it('counts the stale streams past 3 instead of naming them all, so the table keeps its width', () => {
    const names = ['accounts', 'bills', 'customers', 'invoices', 'items'];
    const stale = (n: number) => lastRun({ streams: names.map((s, i) => bookmark(s, 40 * 3_600_000, i < n)) });
    expect(stale(5)).toContain('40 h 0 min ago (stale: every stream) |');
    expect(stale(4)).toContain('40 h 0 min ago (stale: 4 streams: accounts, bills, customers, …) |');
    expect(stale(3)).toContain('40 h 0 min ago (stale: accounts, bills, customers) |');
  });
});

describe('the last table of a command over companies', () => {
  const INVALID_GRANT =
    'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant, intuit_tid 1415b9bb-ec8a-4c4b-bf5d-4500f32e273e): reconnect the app to company 9130355 and put the new refresh token in its refresh_token_file secrets/acme/refresh_token (companies file companies.yaml:23:27); if another process refreshed with this token first, it has been superseded';
  const LOST = `target-postgres-raw: database connection lost while committing 50 records (stream "invoices": 50): ${'x'.repeat(200)}`;
  const failedWith = (reason: string, exitCode: number, extra: Partial<BackfillResult>): CompanyOutcome => ({
    company: { ...company, name: exitCode === 2 ? 'acme' : 'globex' },
    exitCode,
    result: { ok: false, stopped: false, totals: [], failure: { reason, windows: [] }, ...extra } as unknown as BackfillResult,
  });

  it('cuts a long reason in its cell, and says it in full once, under the table', () => {
    const text = formatCompanyOutcomes([
      failedWith(INVALID_GRANT, 2, { fix: INVALID_GRANT }),
      failedWith(LOST, 1, { resumeCommand: 'node packages/qbo-pipeline/dist/cli.js backfill …' }),
    ]);
    const [header, , acme, globex, ...below] = text.split('\n').slice(2);
    expect(header).toMatch(/^company /);
    expect(acme).toMatch(/\| tap-quickbooks: QuickBooks rejected the refresh token \(invalid_grant, intuit_tid … \(see below\)$/);
    expect(globex).toMatch(/\| target-postgres-raw: database connection lost while committing 50 records … \(see below\)$/);
    expect(below).toEqual([
      `acme: fix this first, then run again: ${INVALID_GRANT}`,
      `globex: ${LOST}`,
      'globex: resume with: node packages/qbo-pipeline/dist/cli.js backfill …',
    ]);
    expect(text.split(INVALID_GRANT)).toHaveLength(2);
    expect(
      Math.max(
        ...text
          .split('\n')
          .slice(0, 6)
          .map((l) => l.length),
      ),
    ).toBeLessThan(200);
  });

  it('keeps a short reason whole, said once', () => {
    const text = formatCompanyOutcomes([failedWith('tap-quickbooks stopped on SIGINT', 1, { stopped: true, resumeCommand: 'resume' })]);
    expect(text).toMatch(/\| stopped \| +1 \|.*\| tap-quickbooks stopped on SIGINT$/m);
    expect(text.split('tap-quickbooks stopped on SIGINT')).toHaveLength(2);
  });
});
