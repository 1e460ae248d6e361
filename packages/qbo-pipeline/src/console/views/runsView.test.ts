import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../runs/RunRecord.js';
import type { SafeHtml } from '../html.js';
import { runFacts, runOutcome, runProgress, runsView, runTotals } from './runsView.js';

const record = (start: string, end: string, doneUntil: string, complete: boolean): RunRecord => ({
  id: 'run-1',
  kind: 'sync',
  job: 'daily',
  streams: ['invoices'],
  range: { start, end },
  attempt: 1,
  pid: 1,
  host: 'h',
  startedAt: end,
  updatedAt: end,
  status: complete ? 'succeeded' : 'running',
  // What the journal keeps for a range of minutes: its days round to 0.
  progress: [{ stream: 'invoices', doneUntil, daysDone: 0, totalDays: 0, complete }],
  tapRunIds: [],
  stateFile: 's.json',
  logFile: 'r.log',
});

const shown = (r: RunRecord) => runProgress({ company: 'default', record: r, orphaned: undefined }).toString();

describe('runProgress', () => {
  it('shows a sync of a few minutes in minutes, its bar full when done, never 0/0 days', () => {
    const page = shown(record('2025-01-03T00:00:00Z', '2025-01-03T00:04:10Z', '2025-01-03T00:04:10Z', true));
    expect(page).toContain('<progress max="250000" value="250000" aria-label="invoices: 4.17/4.17 min committed">');
    expect(page).toMatch(/done<\/span> 4\.17 min/);
    expect(page).not.toMatch(/0\/0/);
  });

  it('shows a stream half way through a backfill in days', () => {
    const page = shown(record('2025-01-01T00:00:00Z', '2025-01-31T00:00:00Z', '2025-01-13T00:00:00Z', false));
    expect(page).toContain('aria-label="invoices: 12/30 days committed"');
    expect(page).toMatch(/<span>12\/30 days <small class="muted">committed up to <time datetime="2025-01-13T00:00:00Z">2025-01-13 00:00:00Z<\/time><\/small>/);
  });

  it('says a stream that committed nothing so, not "to" the start of its range', () => {
    const page = shown(record('2025-01-25T00:00:00Z', '2025-02-01T00:00:00Z', '2025-01-25T00:00:00Z', false));
    expect(page).toMatch(/<span>0\/7 days <small class="muted">nothing committed<\/small>/);
  });
});

const finished = (fields: Partial<RunRecord>): RunRecord => ({
  ...record('2025-01-03T00:00:00Z', '2025-01-04T00:00:00Z', '2025-01-04T00:00:00Z', true),
  startedAt: '2025-01-04T02:00:03.120Z',
  ...fields,
});
const listed = (r: RunRecord) =>
  runsView({
    runs: [{ company: 'default', record: r, orphaned: undefined }],
    companies: ['default'],
    jobs: [r.job],
    filter: { company: '', job: '', status: '' },
    page: { total: 1, skipped: 0 },
    problems: [],
    now: new Date('2025-01-04T03:00:00Z'),
  }).toString();
/** A runs-table cell as a person reads it: its text, tags dropped. */
const text = (cell: SafeHtml) =>
  cell
    .toString()
    .replace(/<br>/g, ' / ')
    .replace(/<[^>]+>/g, '');

describe('runOutcome', () => {
  it('says a run refused before its tap started did not start, with why, not that it loaded nothing', () => {
    const reason = 'tap-quickbooks settings (--tap-config t.json): setting client_id is required';
    const r = finished({ status: 'failed', exitCode: 2, reason, fix: reason, notStarted: true });
    expect(text(runOutcome(r))).toBe('did not start');
    expect(listed(r)).toContain(`<small>why it did not start: ${reason}</small>`);
    const facts = runFacts({ company: 'default', record: r, orphaned: undefined }, new Date('2025-01-04T03:00:00Z')).toString();
    expect(facts).toContain(
      '<dt>what it did</dt><dd>did not start: refused before its tap started: nothing was read or loaded, and its state file is as it was</dd>',
    );
  });

  it('says a sync that read 3,420 records it already had changed nothing, never that it loaded 3,420', () => {
    const r = finished({ moved: { loaded: 3420, deleted: 0, read: 3420, inserted: 0, updated: 0, unchanged: 3420 } });
    expect(text(runOutcome(r))).toBe('nothing changed / read 3,420');
    expect(listed(r)).toContain('<th scope="col">what it did</th>');
    expect(listed(r)).not.toMatch(/>loaded<|>3,420<\/td>/);
  });

  it('names what a run wrote: new, changed and deleted rows, over what it read', () => {
    expect(text(runOutcome(finished({ moved: { loaded: 40, deleted: 2, read: 40, inserted: 3, updated: 1, unchanged: 36 } })))).toBe(
      '3 new · 1 changed · 2 deleted / read 40 · 36 unchanged',
    );
    // A sync that only applied deletions (from QBO's change data capture, not part of what it read).
    expect(text(runOutcome(finished({ moved: { loaded: 0, deleted: 2, read: 0, inserted: 0, updated: 0, unchanged: 0 } })))).toBe('2 deleted');
    expect(text(runOutcome(finished({ moved: { loaded: 0, deleted: 0, read: 0, inserted: 0, updated: 0, unchanged: 0 } })))).toBe('nothing new');
    const failed = finished({ status: 'failed', moved: { loaded: 0, deleted: 0, read: 0, inserted: 0, updated: 0, unchanged: 0 } });
    expect(text(runOutcome(failed))).toBe('nothing loaded');
  });

  it('says in red when records read were not loaded', () => {
    const cell = runOutcome(finished({ moved: { loaded: 38, deleted: 0, read: 40, inserted: 38, updated: 0, unchanged: 0 } })).toString();
    expect(cell).toContain('<span class="pill error">2 read, not loaded</span>');
  });

  it('counts what a reconcile marked, and a dry run as marking nothing', () => {
    const reconcile = finished({ kind: 'reconcile', moved: { loaded: 0, deleted: 3 } });
    expect(text(runOutcome(reconcile))).toBe('3 marked deleted');
    expect(text(runOutcome({ ...reconcile, dryRun: true }))).toBe('dry run: nothing marked');
  });

  it("says of an older runner's record only what it kept: rows taken in, not split into new and unchanged", () => {
    const old = runOutcome(finished({ moved: { loaded: 3420, deleted: 1 } }));
    expect(text(old)).toBe('3,420 taken in · 1 deleted');
    const cell = old.toString();
    expect(cell).toContain(`title="rows taken in, new, changed or unchanged: this run's runner did not record which"`);
    expect(text(runOutcome(finished({ status: 'running' })))).toBe('–');
  });
});

describe('the runs table says what started a run, short', () => {
  it("shows a schedule slot's run as its schedule and slot, the slot trigger's whole id in the tooltip and on the run page", () => {
    const r = finished({ triggerId: 'sch-nightly-20250104T020000Z', scheduleId: 'nightly' });
    expect(listed(r)).toContain(
      '<td class="by"><span title="schedule nightly, its 2025-01-04 02:00:00Z slot (trigger sch-nightly-20250104T020000Z)">schedule nightly<br><small class="muted">02:00 UTC slot</small></span></td>',
    );
    // A slot run late, on the next UTC day, names the slot's day too.
    expect(listed({ ...r, triggerId: 'sch-nightly-20250103T230000Z' })).toContain('<small class="muted">2025-01-03 23:00 UTC slot</small>');
    expect(runFacts({ company: 'default', record: r, orphaned: undefined }, new Date()).toString()).toContain(
      '<dt>started by</dt><dd>schedule nightly, its 2025-01-04 02:00:00Z slot · trigger <code>sch-nightly-20250104T020000Z</code>',
    );
  });

  it('says of a slot run that started late how late and why, in the tooltip and on the run page', () => {
    const late = 'late by 2 h 5 min, queued behind run run-20250104T010000.000Z-1a2b3c (backfill, pid 7 on h, last sign of life x)';
    const r = finished({ triggerId: 'sch-nightly-20250104T020000Z', scheduleId: 'nightly', late });
    expect(listed(r)).toContain(`<span title="schedule nightly, its 2025-01-04 02:00:00Z slot, ${late} (trigger sch-nightly-20250104T020000Z)">`);
    expect(runFacts({ company: 'default', record: r, orphaned: undefined }, new Date()).toString()).toContain(
      `<dt>started by</dt><dd>schedule nightly, its 2025-01-04 02:00:00Z slot, ${late} · trigger`,
    );
  });

  it('shows a one-time trigger by its id under the word, and a run by hand as such', () => {
    expect(listed(finished({ triggerId: 'trg-20250104T020000Z-1a2b3c' }))).toContain(
      '<td class="by"><span title="trigger trg-20250104T020000Z-1a2b3c">trigger<br><small class="muted">trg-20250104T020000Z-1a2b3c</small></span></td>',
    );
    expect(listed(finished({}))).toContain('<td class="by">by hand</td>');
  });
});

describe('runFacts of a run that started over', () => {
  it('says a --fresh run set its state file aside and read its whole range anew (what a --fresh trigger waits for); a plain run says nothing of it', () => {
    const backfill = { ...record('2025-01-01T00:00:00Z', '2025-01-31T00:00:00Z', '2025-01-31T00:00:00Z', true), kind: 'backfill' as const };
    const facts = (r: RunRecord) => runFacts({ company: 'default', record: r, orphaned: undefined }, new Date('2025-02-01T00:00:00Z')).toString();
    expect(facts({ ...backfill, fresh: true })).toContain('· started over (--fresh): its state file set aside, the whole range read anew');
    expect(facts(backfill)).not.toContain('started over');
  });
});

describe('runFacts: the exit codes', () => {
  it('names the signal a child exit code past 128 stands for (the tap the runner stopped as the target failed), and leaves others as they are', () => {
    const facts = (r: RunRecord) => runFacts({ company: 'default', record: r, orphaned: undefined }, new Date('2025-02-01T00:00:00Z')).toString();
    expect(facts(finished({ status: 'failed', exitCode: 2, tapExit: 143, targetExit: 2 }))).toContain(
      '<small class="muted">(tap 143 (SIGTERM), target 2)</small>',
    );
    expect(facts(finished({ status: 'failed', exitCode: 1, tapExit: 1 }))).toContain('<small class="muted">(tap 1, target –)</small>');
  });
});

describe('runTotals', () => {
  const totals = {
    stream: 'invoices',
    windows: 7,
    qboCount: 250,
    extracted: 250,
    loaded: 250,
    inserted: 0,
    updated: 0,
    unchanged: 250,
    skipped_older: 0,
    deduplicated: 0,
    rejected: 0,
    received: 250,
    pages: 3,
    durationMs: 900,
    emptyWindows: 0,
    volumetryRows: 7,
    extractedEqualsLoaded: true,
    deleted: 0,
  };

  it("says under the table that the target's commit lines in the log also count the tap's _volumetry rows", () => {
    expect(String(runTotals([totals]))).toContain(
      '<p class="muted">inserted counts each stream&#39;s own rows; the target&#39;s commit lines also count the tap&#39;s 7 _volumetry rows (the evidence: one per stream and day read, new at every run)</p>',
    );
    expect(String(runTotals([{ ...totals, volumetryRows: 0 }]))).not.toContain('_volumetry');
  });
});
