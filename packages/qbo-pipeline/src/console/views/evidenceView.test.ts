import { describe, expect, it } from 'vitest';
import { evidenceDay } from '../../evidenceDay.fixture.js';
import { streamEvidence } from '../evidenceModel.js';
import { byTapRun, evidenceView } from './evidenceView.js';

const TAP_RUN = '437b5642-0c1d-4e2f-9a8b-7c6d5e4f3a2b';
const RUNNER_RUN = 'run-20261207T063251Z-d1681c';
const day = (d: string) => evidenceDay({ runId: TAP_RUN, day: d, extractedAt: '2026-12-07T06:33:01Z' });
const page = (runnerRuns: ReadonlyMap<string, string>) =>
  evidenceView({
    companies: ['default'],
    streams: ['invoices'],
    runs: [],
    runnerRuns,
    filter: { company: 'default', stream: '', run: '', from: '', to: '', problems: false },
    series: streamEvidence([day('2026-12-06')]),
  }).toString();

describe('evidence table: the run that read a day', () => {
  it('names the run as the Runs page does, the one its link leads to, with the tap run id in its tooltip', () => {
    const row = /<td class="run"><a href="\/runs\/[^"]+"[^>]*>.*?<\/a><\/td>/.exec(page(new Map([[TAP_RUN, RUNNER_RUN]])))?.[0];
    expect(row).toBe(
      `<td class="run"><a href="/runs/${RUNNER_RUN}" title="tap run ${TAP_RUN}, read 2026-12-07 06:33:01Z"><span class="run-id">run-20261207</span><wbr><span class="run-id">T063251Z-</span><wbr><span class="run-id">d1681c</span></a></td>`,
    );
  });

  it('once the runs journal no longer has that run, names the tap run as the run filter does, unlinked', () => {
    const html = page(new Map());
    expect(html).not.toContain('href="/runs/');
    expect(html).toContain(`<td class="run"><span title="tap run ${TAP_RUN}, read 2026-12-07 06:33:01Z">tap run <code>437b5642</code></span></td>`);
  });
});

describe('evidence table: a day its newest run read only part of', () => {
  const partOf = (readFrom: string, readUntil: string, runs = 1) =>
    /<small class="muted part-of-day"[^>]*>([^<]*)<\/small>/.exec(
      evidenceView({
        companies: ['default'],
        streams: ['invoices'],
        runs: [],
        filter: { company: 'default', stream: '', run: '', from: '', to: '', problems: false },
        series: streamEvidence([{ ...day('2026-12-06'), readFrom, readUntil, runs }]),
      }).toString(),
    )?.[1];

  it('says the part in UTC as every instant reads, naming only the bound inside the day: from 06:00:00Z, until 10:03:04Z', () => {
    // A backfill from 06:00 reads the rest of its first day: never "06:00:00–24:00:00Z".
    expect(partOf('2026-12-06T06:00:00Z', '2026-12-07T00:00:00Z')).toBe('only from 06:00:00Z');
    expect(partOf('2026-12-06T00:00:00Z', '2026-12-06T10:03:04Z')).toBe('only until 10:03:04Z');
    expect(partOf('2026-12-06T09:59:03Z', '2026-12-06T10:03:04Z', 3)).toBe('only 09:59:03Z–10:03:04Z · newest of 3 runs');
    expect(partOf('2026-12-06T00:00:00Z', '2026-12-07T00:00:00Z')).toBeUndefined();
  });
});

describe('evidence table: a month of many streams', () => {
  const OTHER_RUN = '9f8e7d6c-0c1d-4e2f-9a8b-7c6d5e4f3a2b';
  const view = (rows: Parameters<typeof streamEvidence>[0], problems = false) =>
    evidenceView({
      companies: ['default'],
      streams: ['invoices', 'items'],
      runs: [],
      runnerRuns: new Map(),
      filter: { company: 'default', stream: '', run: '', from: '', to: '', problems },
      series: streamEvidence(rows),
    }).toString();
  const folds = (html: string) => [...html.matchAll(/<details class="stream-days"( open)?><summary><strong>([^<]+)<\/strong>/g)].map((m) => [m[2], !!m[1]]);

  it('names the run that read consecutive days once, in one cell over them, and again where another run read the next', () => {
    const days = ['2026-12-04', '2026-12-05', '2026-12-06'].map((d, i) => ({ ...day(d), ...(i === 2 ? { runId: OTHER_RUN } : {}) }));
    expect(byTapRun(streamEvidence(days)[0]!.days).map((g) => g.map((r) => r.day))).toEqual([['2026-12-04', '2026-12-05'], ['2026-12-06']]);
    const html = view(days);
    expect(html.match(/<td class="run"[^>]*>/g)).toEqual(['<td class="run" rowspan="2">', '<td class="run">']);
    expect(html.match(/<tr class="status-ok"/g)).toHaveLength(3);
  });

  it('folds each stream to its days by status, but opens one with a day that needs a look; every day stays in the page', () => {
    const html = view([day('2026-12-05'), day('2026-12-06'), { ...day('2026-12-06'), stream: 'items', loaded: 1, extractedEqualsLoaded: false }]);
    expect(folds(html)).toEqual([
      ['invoices', false],
      ['items', true],
    ]);
    expect(html).toContain('<summary><strong>invoices</strong> · 2 UTC days <span class="pill ok">2 ok</span> </summary>');
    expect(html.match(/<tr class="status-/g)).toHaveLength(3);
    // The totals table's link to a stream's days lands on its first row, inside its folded section (console.js opens it).
    expect(html).toMatch(/<a href="#day-invoices">[\s\S]*<details class="stream-days"><summary>[\s\S]*<tr class="status-ok" id="day-invoices">/);
  });

  it('opens every stream it shows when only the days that need a look are asked for, and leaves out the streams with none', () => {
    const html = view([day('2026-12-05'), { ...day('2026-12-06'), stream: 'items', loaded: 1, extractedEqualsLoaded: false }], true);
    expect(folds(html)).toEqual([['items', true]]);
  });
});
