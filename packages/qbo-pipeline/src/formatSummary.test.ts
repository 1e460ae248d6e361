import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { formatAge, formatDuration, formatTable } from './formatTable.js';
import { doneDetail, formatDoneLine, formatSummary } from './formatSummary.js';
import { KNOWN_STREAMS } from './companies/companiesSchema.js';
import type { BackfillResult } from './runBackfill.js';

const at = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });
const DAY = 86_400_000;

const base: BackfillResult = {
  kind: 'backfill',
  ok: true,
  exitCode: 0,
  runId: 'run-20250101T000000Z-abcdef',
  logFile: 'state/runs/run-20250101T000000Z-abcdef.log',
  stopped: false,
  job: 'qb_invoices',
  stateFile: 'state/qb_invoices.json',
  backupFile: undefined,
  start: '2025-01-01T00:00:00Z',
  end: '2025-01-03T00:00:00Z',
  durationMs: 2500,
  progress: [{ stream: 'invoices', doneUntil: at('2025-01-03T00:00:00Z'), doneMs: 2 * DAY, totalMs: 2 * DAY, complete: true }],
  wallMs: { invoices: 2100 },
  runIds: ['r1'],
  totals: [
    {
      stream: 'invoices',
      windows: 2,
      qboCount: 10,
      extracted: 10,
      loaded: 10,
      inserted: 7,
      updated: 1,
      unchanged: 2,
      pages: 2,
      durationMs: 800,
      emptyWindows: 0,
      volumetryRows: 2,
      extractedEqualsLoaded: true,
      deleted: 0,
    },
  ],
  evidence: { query: "SELECT * FROM raw.evidence WHERE run_id IN ('r1') ORDER BY stream, window_start_utc;" },
  failure: undefined,
  resumeCommand: undefined,
  fix: undefined,
  reconcileCommand: undefined,
};
// A sync a few minutes after the last one: its range is minutes, not days.
const minutes: BackfillResult = {
  ...base,
  kind: 'sync',
  start: '2025-01-03T00:00:00Z',
  end: '2025-01-03T00:04:10Z',
  progress: [{ stream: 'invoices', doneUntil: at('2025-01-03T00:04:10Z'), doneMs: 250_000, totalMs: 250_000, complete: true }],
  totals: [{ ...base.totals[0]!, windows: 1, qboCount: 3, extracted: 3, loaded: 3, inserted: 0, updated: 3, unchanged: 0, pages: 1 }],
};
const nothing = { ...minutes, totals: [{ ...minutes.totals[0]!, qboCount: 0, extracted: 0, loaded: 0, updated: 0, pages: 0, emptyWindows: 1 }] };

const resume = 'node packages/qbo-pipeline/dist/cli.js backfill --job qb_invoices --streams invoices --start 2025-01-01T00:00:00Z --end 2025-01-03T00:00:00Z';

describe('formatTable', () => {
  it('pads columns and right-aligns numbers', () => {
    expect(
      formatTable(
        ['stream', 'rows'],
        [
          ['invoices', 1200],
          ['items', 3],
        ],
      ),
    ).toBe(['stream   | rows', '---------+-----', 'invoices | 1200', 'items    |    3'].join('\n'));
  });
  it.each([
    [450, '450 ms'],
    [2500, '2.5 s'],
    [185_000, '3 min 5 s'],
    [3_599_400, '59 min 59 s'],
    // 3,599.6 s is 3,600 s once rounded: an hour, never `59 min 60 s`.
    [3_599_600, '1 h 0 min'],
    [3_604_000, '1 h 0 min'],
    [7_199_000, '1 h 59 min'],
    [9_000_000, '2 h 30 min'],
    [58_044_600_000, '671 d 19 h'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
  // An age sits beside others on a page (a freshness of `7 min 13 s`): whole seconds, and minutes from one minute on.
  it.each([
    [450, '0 s'],
    [16_700, '17 s'],
    [59_400, '59 s'],
    // 59.6 s is a minute once rounded, never `60 s`.
    [59_600, '1 min 0 s'],
    [114_300, '1 min 54 s'],
    [433_000, '7 min 13 s'],
    [3_604_000, '1 h 0 min'],
    [58_044_600_000, '671 d 19 h'],
  ])('says an age of %d ms as %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('formatSummary', () => {
  it('shows per stream days, counts, deletions, pages and wall time (never longer than the run), and where the evidence is', () => {
    const text = formatSummary({ ...base, totals: [{ ...base.totals[0]!, deleted: 3 }] });
    expect(text).toMatch(/^backfill qb_invoices: done in 2.5 s \(run run-20250101T000000Z-abcdef\)/);
    expect(text).toMatch(/\| unchanged \| deleted \| pages \| wall time\n/);
    expect(text).toMatch(/invoices \| 2\/2 days \|\s+2 \|\s+10 \|\s+10 \|\s+10 \|\s+7 \|\s+1 \|\s+2 \|\s+3 \|\s+2 \| 2.1 s/);
    expect(text).toContain("evidence: SELECT * FROM raw.evidence WHERE run_id IN ('r1')");
    expect(text).not.toContain('resume with');
  });

  it("says that the target's commit lines also count the tap's _volumetry rows, so its inserted differs from the streams' own", () => {
    // A sync that changed nothing: 0 inserted here, `inserted 2` in the target's commit line.
    const unchanged = formatSummary({ ...base, totals: [{ ...base.totals[0]!, inserted: 0, updated: 0, unchanged: 10 }] });
    expect(unchanged).toContain(
      "inserted counts each stream's own rows; the target's commit lines also count the tap's 2 _volumetry rows (the evidence: one per stream and day read, new at every run)",
    );
    expect(formatSummary({ ...base, totals: [{ ...base.totals[0]!, volumetryRows: 0 }] })).not.toContain('_volumetry');
  });

  it('says which loaded records were not written (older than the row there, or read twice), so that loaded = new + changed + unchanged + those', () => {
    const older = formatSummary({ ...base, totals: [{ ...base.totals[0]!, inserted: 0, updated: 2, unchanged: 0 }] });
    expect(older).toContain(
      'loaded but not written: invoices 8 (the table holds a newer version of each, skipped_older, or the run read it twice, deduplicated',
    );
    expect(formatSummary(base)).not.toContain('not written');
  });

  const failed: BackfillResult = {
    ...base,
    ok: false,
    exitCode: 1,
    progress: [{ stream: 'invoices', doneUntil: at('2025-01-02T00:00:00Z'), doneMs: DAY, totalMs: 2 * DAY, complete: false }],
    failure: {
      reason: 'target-postgres-raw: database connection lost',
      windows: [{ stream: 'invoices', start: '2025-01-02T00:00:00Z', end: '2025-01-03T00:00:00Z' }],
    },
    resumeCommand: resume,
  };

  it('on a run-time failure (exit 1) names the window, the reason, the one command that resumes, and the log', () => {
    const text = formatSummary(failed);
    expect(text).toMatch(/FAILED after 2.5 s/);
    expect(text).toContain('FAILED: target-postgres-raw: database connection lost');
    expect(text).toContain('invoices: window [2025-01-02T00:00:00Z, 2025-01-03T00:00:00Z) not committed');
    expect(text).toContain(`resume with:\n  ${resume}`);
    expect(text).toContain('log: state/runs/run-20250101T000000Z-abcdef.log');
    expect(text).not.toContain('fix this first');
  });

  it('on a configuration failure (exit 2) says what to fix once, on its FAILED line, and offers no resume command', () => {
    const fix = 'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant)';
    const text = formatSummary({ ...failed, exitCode: 2, failure: { ...failed.failure!, reason: fix }, resumeCommand: undefined, fix });
    expect(text.split('\n').slice(-4)).toEqual([
      `FAILED: ${fix}`,
      '  invoices: window [2025-01-02T00:00:00Z, 2025-01-03T00:00:00Z) not committed',
      'fix that first (exit 2; running again unchanged fails the same way), then run the same command again: it resumes from the state file',
      'log: state/runs/run-20250101T000000Z-abcdef.log',
    ]);
    expect(text.split(fix)).toHaveLength(2);
    expect(text).not.toContain('resume with');
    expect(text).not.toContain('--job');
  });

  it('on exit 2 from the program that did not fail first, says both: why the run failed and what to fix', () => {
    const fix = 'target-postgres-raw: PostgreSQL at localhost:5432/postgres as user loader refused the connection: password authentication failed';
    const text = formatSummary({ ...failed, exitCode: 2, resumeCommand: undefined, fix });
    expect(text).toContain('FAILED: target-postgres-raw: database connection lost');
    expect(text).toContain(
      `fix this first (exit 2; running again unchanged fails the same way): ${fix}\nthen run the same command again: it resumes from the state file`,
    );
  });

  it("after a trigger's run that needs a fix (exit 2) says what runs the job again: not the scheduler, since a trigger runs once; a schedule's next slot", () => {
    const fix = 'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant)';
    const needsFix = { ...failed, exitCode: 2, failure: { ...failed.failure!, reason: fix }, resumeCommand: undefined, fix };
    const once = formatSummary({ ...needsFix, startedBy: { triggerId: 'trg-20250201T020000Z-9f84a8' } });
    expect(once).toContain(
      'then run the job again, by hand or with a new trigger (trigger trg-20250201T020000Z-9f84a8 ran once and does not run again): it resumes from the state file',
    );
    expect(once).not.toContain('the same command');
    const slot = formatSummary({ ...needsFix, startedBy: { triggerId: 'sch-nightly-20250201T020000Z', scheduleId: 'nightly' } });
    expect(slot).toContain('then the next slot of schedule nightly runs it: it resumes from the state file');
    expect(slot).not.toContain('the same command');
  });

  it('a stopped run says stopped, not failed, and how to resume', () => {
    const text = formatSummary({ ...failed, stopped: true, failure: { ...failed.failure!, reason: 'tap-quickbooks was killed by SIGTERM' } });
    expect(text).toMatch(/^backfill qb_invoices: stopped after 2.5 s/);
    expect(text).toContain('STOPPED: tap-quickbooks was killed by SIGTERM');
    expect(text).toContain('resume with:');
  });

  it('a stopped run of many streams says each window not committed once, the streams stopped at it counted past three', () => {
    const window = (stream: string, start = '2025-01-02T00:00:00Z', end = '2025-01-03T00:00:00Z') => ({ stream, start, end });
    const windows = [
      ...KNOWN_STREAMS.filter((s) => s !== 'company_info').map((s) => window(s)),
      window('company_info', '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z'),
    ];
    const text = formatSummary({ ...failed, stopped: true, failure: { reason: 'tap-quickbooks stopped on SIGINT', windows } });
    expect(text.split('\n').filter((line) => line.includes('not committed'))).toEqual([
      '  27 streams: window [2025-01-02T00:00:00Z, 2025-01-03T00:00:00Z) not committed',
      '  company_info: window [2025-01-01T00:00:00Z, 2025-01-02T00:00:00Z) not committed',
    ]);
    const three = formatSummary({ ...failed, failure: { ...failed.failure!, windows: ['invoices', 'customers', 'items'].map((s) => window(s)) } });
    expect(three).toContain('\n  invoices, customers, items: window [2025-01-02T00:00:00Z, 2025-01-03T00:00:00Z) not committed\n');
    const all = formatSummary({ ...failed, failure: { ...failed.failure!, windows: KNOWN_STREAMS.map((s) => window(s)) } });
    expect(all).toContain('\n  all 28 streams: window [2025-01-02T00:00:00Z, 2025-01-03T00:00:00Z) not committed\n');
  });

  it('warns when extracted and loaded disagree', () => {
    const text = formatSummary({ ...base, totals: [{ ...base.totals[0]!, loaded: 9, extractedEqualsLoaded: false }] });
    expect(text).toContain('WARNING: extracted ≠ loaded for invoices');
  });

  it('a sync is named a sync, and one with nothing new says so without suggesting --fresh (sync has none)', () => {
    const text = formatSummary({ ...base, kind: 'sync', runIds: [] });
    expect(text).toMatch(/^sync qb_invoices: done in 2.5 s/);
    expect(text).toContain('nothing to do: the bookmarks are already at the start of this run');
    expect(text).not.toContain('--fresh');
    expect(formatSummary({ ...base, runIds: [] })).toContain('add --fresh to extract it again');
  });

  it('a sync of a few minutes says how many minutes it read, never 0/0 days', () => {
    const text = formatSummary(minutes);
    expect(text).toMatch(/\| done +\| windows \|/);
    expect(text).toMatch(/invoices \| 4\.17\/4\.17 min \|/);
    expect(text).not.toMatch(/0\/0/);
    expect(text).not.toContain('up to date');
  });

  it('a sync that found no changed and no deleted record says it is up to date since its start', () => {
    expect(formatSummary(nothing)).toContain('up to date: nothing changed in QBO since 2025-01-03T00:00:00Z (4.17 min read)');
    expect(formatSummary({ ...nothing, totals: [{ ...nothing.totals[0]!, deleted: 2 }] })).not.toContain('up to date');
    // Without evidence nothing is claimed.
    expect(formatSummary({ ...nothing, totals: [], evidence: { unavailable: 'database gone' } })).not.toContain('up to date');
  });
});

describe("formatDoneLine (a trigger's result in trigger list and the console)", () => {
  it('names per stream the span read and the records found', () => {
    expect(formatDoneLine(base)).toBe('done: invoices 2 days, 10 records');
    expect(formatDoneLine(minutes)).toBe('done: invoices 4.17 min, 3 records');
    expect(
      formatDoneLine({
        ...minutes,
        totals: [
          { ...minutes.totals[0]!, extracted: 1 },
          { ...minutes.totals[0]!, stream: 'customers', extracted: 0, deleted: 2 },
        ],
        progress: [...minutes.progress, { ...minutes.progress[0]!, stream: 'customers' }],
      }),
    ).toBe('done: invoices 4.17 min, 1 record; customers 4.17 min, 0 records and 2 deleted');
  });

  it('over more than three streams counts them in one short line, all 28 too; doneDetail names each, as the line over three does', () => {
    const over = (streams: readonly string[], totalMs: (i: number) => number = () => 2 * DAY): BackfillResult => ({
      ...base,
      progress: streams.map((stream, i) => ({ ...base.progress[0]!, stream, totalMs: totalMs(i), doneMs: totalMs(i) })),
      totals: streams.map((stream, i) => ({ ...base.totals[0]!, stream, extracted: i, deleted: i === 1 ? 2 : 0 })),
    });
    const all = over(KNOWN_STREAMS);
    expect(KNOWN_STREAMS).toHaveLength(28);
    expect(formatDoneLine(all)).toBe(`done: all 28 streams over 2 days, ${(27 * 28) / 2} records and 2 deleted`);
    expect(doneDetail(all)).toMatch(/^accounts 2 days, 0 records; bill_payments 2 days, 1 record and 2 deleted; .*; vendors 2 days, 27 records$/);
    // A sync reads each stream from its own bookmark: the spans differ.
    const four = over(['invoices', 'customers', 'items', 'payments'], (i) => (i + 1) * 250_000);
    expect(formatDoneLine(four)).toBe('done: 4 streams over 4.17 min to 16.67 min, 6 records and 2 deleted');
    expect(doneDetail(four)).toBe(
      'invoices 4.17 min, 0 records; customers 8.33 min, 1 record and 2 deleted; items 12.5 min, 2 records; payments 16.67 min, 3 records',
    );
    // Three streams are named in the line itself: nothing is left for a detail.
    expect(formatDoneLine(over(['invoices', 'customers', 'items']))).toBe(
      'done: invoices 2 days, 0 records; customers 2 days, 1 record and 2 deleted; items 2 days, 2 records',
    );
    expect(doneDetail(over(['invoices', 'customers', 'items']))).toBeUndefined();
    expect(doneDetail(nothing)).toBeUndefined();
  });

  it('says a sync that found nothing is up to date since its start (the bookmark)', () => {
    expect(formatDoneLine(nothing)).toBe('up to date: nothing changed in QBO since 2025-01-03T00:00:00Z (4.17 min read)');
  });

  it('claims no count without evidence', () => {
    expect(formatDoneLine({ ...nothing, totals: [], evidence: { unavailable: 'database gone' } })).toBe('done: invoices 4.17 min');
  });
});
