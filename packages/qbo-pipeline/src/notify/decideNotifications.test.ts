import { describe, expect, it } from 'vitest';
import type { Attention } from '../console/views/overviewView.js';
import { decideNotifications, type CompanyLook, type SentState } from './decideNotifications.js';

const failed = (runId: string, reason = 'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant)'): Attention => ({
  level: 'error',
  text: `last run of job company failed: ${reason}`,
  href: `/runs/${runId}`,
  about: { kind: 'run-failed', key: 'run-failed company', job: 'company', runId },
});
const token = (level: 'warn' | 'error', days: number): Attention => ({
  level,
  text: `realm 9: the refresh token expires in ${days} days`,
  about: { kind: 'token', key: `token 9 ${level}` },
});
const look = (attention: readonly Attention[], runs: CompanyLook['runs'] = []): CompanyLook => ({ company: 'acme', attention, runs });
const at = (hour: number) => new Date(Date.UTC(2025, 2, 1, hour));

/** Feeds the looks one pass after another, as a scheduler does, and returns every notification's kind and reason. */
function passes(...looks: ReadonlyArray<readonly CompanyLook[]>): { sent: SentState; told: string[] } {
  let sent: SentState = {};
  const told: string[] = [];
  looks.forEach((l, i) => {
    const next = decideNotifications(sent, l, at(i));
    told.push(...next.events.map((e) => `${e.kind}: ${e.reason}`));
    sent = next.sent;
  });
  return { sent, told };
}

describe('decideNotifications', () => {
  it('tells a failing job once however many of its runs fail, then once that it recovered', () => {
    const { told, sent } = passes(
      [look([failed('r1')], [{ id: 'r1', job: 'company', status: 'failed' }])],
      [look([failed('r2')], [{ id: 'r2', job: 'company', status: 'failed' }])],
      // A run of the job going on: the overview has no failure to show, but the streak goes on.
      [look([], [{ id: 'r3', job: 'company', status: 'running' }])],
      [look([failed('r3')], [{ id: 'r3', job: 'company', status: 'failed' }])],
      [look([], [{ id: 'r4', job: 'company', status: 'succeeded' }])],
      [look([], [{ id: 'r5', job: 'company', status: 'succeeded' }])],
    );
    expect(told).toEqual([
      'run-failed: last run of job company failed: tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant)',
      'recovered: job company recovered: run r4 succeeded (its failure was notified at 2025-03-01 00:00:00Z)',
    ]);
    expect(sent).toEqual({ acme: {} });
  });

  it('tells a job that fails again after it recovered: a new streak', () => {
    const { told } = passes(
      [look([failed('r1')], [{ id: 'r1', job: 'company', status: 'failed' }])],
      [look([], [{ id: 'r2', job: 'company', status: 'succeeded' }])],
      [look([failed('r3', 'network down')], [{ id: 'r3', job: 'company', status: 'failed' }])],
    );
    expect(told.map((t) => t.split(':')[0])).toEqual(['run-failed', 'recovered', 'run-failed']);
    expect(told[2]).toContain('network down');
  });

  it('tells a token once per threshold it crosses, not every pass, and again only after it was fixed and crosses again', () => {
    const { told } = passes(
      [look([token('warn', 29)])],
      [look([token('warn', 28)])],
      [look([token('error', 6)])],
      [look([token('error', 5)])],
      [look([])],
      [look([token('warn', 29)])],
    );
    expect(told).toEqual([
      'token: realm 9: the refresh token expires in 29 days',
      'token: realm 9: the refresh token expires in 6 days',
      'token: realm 9: the refresh token expires in 29 days',
    ]);
  });

  it('never tells an item without an identity (a stale stream, a damaged file: the console shows them), nor recovers a company not looked at', () => {
    const stale: Attention = { level: 'warn', text: '1 stream not refreshed for over a day and a half: items' };
    const first = decideNotifications({}, [look([stale, failed('r1')])], at(0));
    expect(first.events.map((e) => e.kind)).toEqual(['run-failed']);
    // acme could not be read at this pass: what was sent stays, nothing is told.
    const second = decideNotifications(first.sent, [{ company: 'globex', attention: [], runs: [] }], at(1));
    expect(second.events).toEqual([]);
    expect(second.sent.acme).toEqual(first.sent.acme);
  });

  it('carries the facts a webhook receiver needs: company, job, run, reason, the console page', () => {
    const [event] = decideNotifications({}, [look([failed('r1')])], at(0)).events;
    expect(event).toEqual({
      kind: 'run-failed',
      level: 'error',
      company: 'acme',
      job: 'company',
      runId: 'r1',
      reason: 'last run of job company failed: tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant)',
      href: '/runs/r1',
      at: '2025-03-01T00:00:00.000Z',
    });
  });

  it('turned on over a history: what needed you before is one summary; what came up since, and later, one message each', () => {
    const old = look([failed('r1'), token('warn', 29)], [{ id: 'r1', job: 'company', status: 'failed', startedAt: at(0).toISOString() }]);
    const first = decideNotifications({}, [old, { company: 'globex', attention: [token('error', 3)], runs: [] }], at(2), at(1));
    expect(first.events.map((e) => [e.kind, e.level, e.company])).toEqual([['summary', 'error', 'acme, globex']]);
    expect(first.events[0]!.reason).toBe(
      "notifications are on; 3 items already needed you before then (the console's overview keeps them; from now on each new one is sent as it comes up):" +
        '\n- acme: last run of job company failed: tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant)' +
        '\n- acme: realm 9: the refresh token expires in 29 days\n- globex: realm 9: the refresh token expires in 3 days',
    );
    // Nothing more until something changes: the next threshold is told.
    expect(decideNotifications(first.sent, [old], at(3)).events).toEqual([]);
    expect(decideNotifications(first.sent, [look([failed('r1'), token('error', 6)], old.runs)], at(3)).events.map((e) => e.kind)).toEqual(['token']);
    // A run started after notifications were turned on is told on its own, even at the first look.
    const since = decideNotifications(
      {},
      [look([failed('r2')], [{ id: 'r2', job: 'company', status: 'failed', startedAt: at(1).toISOString() }])],
      at(2),
      at(1),
    );
    expect(since.events.map((e) => e.kind)).toEqual(['run-failed']);
  });

  it('a rejection told with the run it failed is not told again by the token item shown while the next run goes on', () => {
    const rejectedRun: Attention = { ...failed('r1'), about: { ...failed('r1').about!, covers: 'token 9 rejected' } };
    const rejectedToken: Attention = {
      level: 'error',
      text: 'realm 9: QuickBooks rejected the refresh token',
      about: { kind: 'token', key: 'token 9 rejected' },
    };
    const { told } = passes(
      [look([rejectedRun], [{ id: 'r1', job: 'company', status: 'failed' }])],
      [look([rejectedToken], [{ id: 'r2', job: 'company', status: 'running' }])],
      [look([{ ...rejectedRun, about: { ...rejectedRun.about!, runId: 'r2' } }], [{ id: 'r2', job: 'company', status: 'failed' }])],
      [look([rejectedToken], [{ id: 'r3', job: 'company', status: 'running' }])],
    );
    expect(told.map((t) => t.split(':')[0])).toEqual(['run-failed']);
  });
});
