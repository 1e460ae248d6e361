import { describe, expect, it } from 'vitest';
import type { Trigger } from '../../triggers/Trigger.js';
import { schedulesView, type SchedulesPage } from './schedulesView.js';

const trigger: Trigger = {
  id: 'trg-20250201T020000Z-d2ba27',
  at: '2025-02-01T02:00:00Z',
  atGiven: '2025-02-01T02:00:00Z',
  createdAt: '2025-01-31T12:00:00Z',
  backfill: { streams: ['invoices'], start: '2025-01-29T00:00:00Z', end: '2025-02-01T00:00:00Z', job: 'qb_invoices', fresh: false },
  status: 'pending',
  enabled: true,
};

const page = (zone: string): SchedulesPage => ({
  companies: ['default'],
  companiesFile: false,
  schedules: [],
  scheduleProblems: [],
  hiddenTriggers: 0,
  triggers: [{ company: 'default', trigger, streams: ['invoices'] }],
  unreadableTriggers: [],
  allStreams: ['invoices'],
  zones: ['UTC', 'America/Guayaquil'],
  zone,
  form: { company: 'default', at: '', zone, streams: [], start: '', end: '', job: '', fresh: false },
  csrfToken: 'token',
  now: new Date('2025-01-31T12:00:00Z'),
});

const headers = (html: string) =>
  [...(/<table class="data triggers">\s*<thead>(.*?)<\/thead>/s.exec(html)?.[1] ?? '').matchAll(/<th scope="col">(.*?)<\/th>/g)].map((m) => m[1]);

describe('the one-time triggers table', () => {
  it("shows a trigger's instant in UTC and beside it in the zone chosen", () => {
    const html = schedulesView(page('America/Guayaquil')).toString();
    expect(headers(html)).toEqual(['trigger', 'at (UTC)', 'at (America/Guayaquil)', 'status', 'job', 'streams', 'range', 'result']);
    expect(html).toContain('<td>2025-01-31 21:00:00 (UTC−05:00)</td>');
  });

  it('shows it once when the zone chosen is UTC: two columns saying the same instant read as two different times', () => {
    const html = schedulesView(page('UTC')).toString();
    expect(headers(html)).toEqual(['trigger', 'at (UTC)', 'status', 'job', 'streams', 'range', 'result']);
    expect(html).not.toContain('(UTC+00:00)');
  });
});

describe("a trigger's result", () => {
  it('goes under the link to its run, so a failure reads as its own line, not as "the run target-postgres-raw: …"', () => {
    const reason = 'target-postgres-raw: PostgreSQL at 127.0.0.1:5432/warehouse as user warehouse refused the connection: password authentication failed';
    const failed: Trigger = { ...trigger, status: 'failed', enabled: false, result: { exitCode: 2, message: reason, runIds: ['r1'], fix: reason } };
    const html = schedulesView({ ...page('UTC'), triggers: [{ company: 'default', trigger: failed, streams: ['invoices'], runId: 'r1' }] }).toString();
    expect(html).toContain(`<td><a href="/runs/r1">the run</a><br><small>${reason}</small></td>`);
  });

  it('over every stream is its one short line, each stream named in its tooltip', () => {
    const done: Trigger = {
      ...trigger,
      status: 'completed',
      enabled: false,
      result: {
        exitCode: 0,
        message: 'done: all 28 streams over 3 days, 120 records',
        detail: 'accounts 3 days, 3 records; bill_payments 3 days, 4 records; …',
        runIds: ['r1'],
      },
    };
    const html = schedulesView({ ...page('UTC'), triggers: [{ company: 'default', trigger: done, streams: ['invoices'] }] }).toString();
    expect(html).toContain(
      '<td><small title="accounts 3 days, 3 records; bill_payments 3 days, 4 records; …">done: all 28 streams over 3 days, 120 records</small></td>',
    );
  });
});
