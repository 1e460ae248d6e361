import { describe, expect, it } from 'vitest';
import { evidenceDay } from '../../evidenceDay.fixture.js';
import { streamEvidence } from '../evidenceModel.js';
import { evidenceView } from './evidenceView.js';

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
    const row = /<td><a href="\/runs\/[^"]+"[^>]*>.*?<\/a><\/td>/.exec(page(new Map([[TAP_RUN, RUNNER_RUN]])))?.[0];
    expect(row).toBe(
      `<td><a href="/runs/${RUNNER_RUN}" title="tap run ${TAP_RUN}, read 2026-12-07 06:33:01Z"><span class="run-id">run-20261207</span><wbr><span class="run-id">T063251Z-</span><wbr><span class="run-id">d1681c</span></a></td>`,
    );
  });

  it('once the runs journal no longer has that run, names the tap run as the run filter does, unlinked', () => {
    const html = page(new Map());
    expect(html).not.toContain('href="/runs/');
    expect(html).toContain(`<td><span title="tap run ${TAP_RUN}, read 2026-12-07 06:33:01Z">tap run <code>437b5642</code></span></td>`);
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
