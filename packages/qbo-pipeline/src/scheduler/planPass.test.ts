import { describe, expect, it } from 'vitest';
import { parseCron } from '../schedules/cronSlots.js';
import type { Schedule } from '../schedules/Schedule.js';
import type { Lease, Trigger } from '../triggers/Trigger.js';
import { planPass, slotOfTriggerId, slotTriggerId, type PassInput } from './planPass.js';

const now = new Date('2025-09-12T04:00:30Z');
const trigger = (id: string, job: string, at = '2025-09-12T04:00:00Z', extra: Partial<Trigger> = {}): Trigger => ({
  id,
  at,
  atGiven: at,
  createdAt: at,
  backfill: { streams: ['invoices'], start: '2025-01-01T00:00:00Z', end: '2025-01-02T00:00:00Z', job },
  status: 'pending',
  enabled: true,
  ...extra,
});
const lease = (expiresAt: string, attempt = 1): Lease => ({
  owner: 'o',
  host: 'h',
  pid: 1,
  attempt,
  claimedAt: '2025-09-12T04:00:00Z',
  heartbeatAt: '2025-09-12T04:00:00Z',
  expiresAt,
});
const schedule = (name: string, job: string, cron = '* * * * *'): { schedule: Schedule; cron: ReturnType<typeof parseCron> } => ({
  schedule: {
    name,
    cron,
    tz: 'UTC',
    sync: { streams: ['invoices'], job },
    paused: false,
    createdAt: '2025-09-12T03:58:30Z',
    activeSince: '2025-09-12T03:58:30Z',
  },
  cron: parseCron(cron, 'UTC'),
});
const input = (over: Partial<PassInput>): PassInput => ({
  now,
  schedules: [],
  triggers: [],
  leases: new Map(),
  runningHere: new Set(),
  capacity: 1,
  lateAfterMs: 60_000,
  ...over,
});
const summary = (actions: ReturnType<typeof planPass>) =>
  actions.map(
    (a) =>
      `${a.kind} ${a.trigger.id}${a.kind === 'slot' && a.skipped ? ' skipped' : ''}${a.kind === 'start' ? ` #${a.attempt}${a.takeover ? ' takeover' : ''}` : ''}`,
  );

describe('planPass (pure: what one scheduler pass does)', () => {
  it('with dueBy (scheduler --once), leaves slots and triggers due after it to a later scheduler; leases are judged by now', () => {
    const dueBy = new Date('2025-09-12T04:00:05Z'); // the pass is at 04:00:30
    const triggers = [trigger('a', 'j1'), trigger('b', 'j2', '2025-09-12T04:00:10Z'), trigger('c', 'j3', '2025-09-12T03:59:00Z', {})];
    const leases = new Map([['c', lease('2025-09-12T04:00:20Z')]]); // expired by now, not by dueBy
    const every = schedule('every', 'j4', '* * * * * *');
    expect(summary(planPass(input({ triggers, leases, schedules: [every], capacity: 5, dueBy })))).toEqual([
      'slot sch-every-20250912T040005Z',
      'start c #2 takeover',
      'start a #1',
      'start sch-every-20250912T040005Z #1',
    ]);
    expect(summary(planPass(input({ triggers, leases, schedules: [every], capacity: 5 })))).toEqual([
      'slot sch-every-20250912T040030Z',
      'start c #2 takeover',
      'start a #1',
      'start b #1',
      'start sch-every-20250912T040030Z #1',
    ]);
  });

  it('starts due triggers earliest first, up to the capacity, one per job', () => {
    const triggers = [trigger('b', 'j1', '2025-09-12T04:00:10Z'), trigger('a', 'j1'), trigger('c', 'j2'), trigger('d', 'j3', '2025-09-12T05:00:00Z')];
    expect(summary(planPass(input({ triggers, capacity: 5 })))).toEqual(['start a #1', 'start c #1']);
    expect(summary(planPass(input({ triggers, capacity: 1 })))).toEqual(['start a #1']);
  });

  it('leaves a trigger with a live lease alone and takes over one whose lease expired, as the next attempt', () => {
    const triggers = [trigger('live', 'j1', undefined, { status: 'running' }), trigger('dead', 'j2', undefined, { status: 'running' })];
    const leases = new Map([
      ['live', lease('2025-09-12T04:01:00Z')],
      ['dead', lease('2025-09-12T04:00:29Z', 2)],
    ]);
    expect(summary(planPass(input({ triggers, leases, capacity: 5 })))).toEqual(['start dead #3 takeover']);
  });

  it('a job busy elsewhere (a live lease, or running here) makes its triggers wait and its schedule slots skipped', () => {
    const triggers = [trigger('running', 'j1', '2025-09-12T03:00:00Z', { status: 'running' }), trigger('waiting', 'j1')];
    const leases = new Map([['running', lease('2025-09-12T04:01:00Z')]]);
    const actions = planPass(input({ triggers, leases, schedules: [schedule('s1', 'j1'), schedule('s2', 'j2')], runningHere: new Set(['j2']), capacity: 5 }));
    expect(summary(actions)).toEqual(['slot sch-s1-20250912T040000Z skipped', 'slot sch-s2-20250912T040000Z skipped']);
    expect(actions[0]).toMatchObject({
      skipped: expect.stringMatching(/^skipped: job j1 was still running \(trigger running attempt 1 on h pid 1, since 2025-09-12T04:00:00Z\)$/),
    });
  });

  it('a job locked by another runner (a backfill by hand) makes its triggers wait and its slots skipped, without an attempt', () => {
    const lock = 'run r1 (backfill, pid 7 on h) until 2025-09-12T04:00:30Z unless renewed';
    const actions = planPass(
      input({ triggers: [trigger('waiting', 'j1')], schedules: [schedule('s1', 'j1')], lockedJobs: new Map([['j1', lock]]), capacity: 5 }),
    );
    expect(summary(actions)).toEqual(['slot sch-s1-20250912T040000Z skipped', 'wait waiting']);
    expect(actions[0]).toMatchObject({ skipped: `skipped: job j1 was still running (its state file is locked by ${lock})` });
    expect(actions[1]).toMatchObject({ kind: 'wait', lock });
  });

  it('skips a slot whose job already has a due sync waiting to start (no capacity, or a stopped run to resume)', () => {
    const waiting = trigger('waiting', 'j1', undefined, { backfill: undefined, sync: { streams: ['invoices'], job: 'j1' } });
    const actions = planPass(input({ triggers: [waiting], schedules: [schedule('s1', 'j1')], capacity: 0 }));
    expect(summary(actions)).toEqual(['slot sch-s1-20250912T040000Z skipped']);
    expect(actions[0]).toMatchObject({ skipped: 'skipped: job j1 has an earlier run waiting to start (trigger waiting)' });
  });

  it("a due backfill waiting to start does not swallow the night's sync: the slot waits its turn behind it", () => {
    // A one-time backfill of an old range (say, one left pending while its company was out of the
    // companies file) reads that range only; skipping the slot would leave the night unsynced.
    const backfill = trigger('old-range', 'j1', '2025-09-11T06:00:00Z');
    const first = planPass(input({ triggers: [backfill], schedules: [schedule('s1', 'j1')], capacity: 5 }));
    expect(summary(first)).toEqual(['slot sch-s1-20250912T040000Z', 'start old-range #1']);
    const slot = first[0]!.trigger;
    const leases = new Map([['old-range', lease('2025-09-12T04:01:00Z')]]);
    const running: Trigger = { ...backfill, status: 'running' };
    expect(summary(planPass(input({ triggers: [running, slot], leases, schedules: [schedule('s1', 'j1')], capacity: 5 })))).toEqual([]);
    const done: Trigger = { ...backfill, status: 'completed', enabled: false };
    expect(summary(planPass(input({ triggers: [done, slot], schedules: [schedule('s1', 'j1')], capacity: 5 })))).toEqual(['start sch-s1-20250912T040000Z #1']);
  });

  it('records a due slot once and starts it in the same pass; the next pass finds it recorded', () => {
    const first = planPass(input({ schedules: [schedule('s1', 'j1')] }));
    expect(summary(first)).toEqual(['slot sch-s1-20250912T040000Z', 'start sch-s1-20250912T040000Z #1']);
    const recorded = first[0]!.trigger;
    expect(summary(planPass(input({ schedules: [schedule('s1', 'j1')], triggers: [{ ...recorded, status: 'completed', enabled: false }] })))).toEqual([]);
  });
});

describe('slotOfTriggerId', () => {
  it("reads back the schedule and slot of a slot trigger's id, a schedule name with dashes included, and nothing of another id", () => {
    const slot = new Date('2025-09-12T02:00:00Z');
    expect(slotOfTriggerId(slotTriggerId('nightly-eu', slot))).toEqual({ schedule: 'nightly-eu', slot });
    expect(slotOfTriggerId('trg-20250912T020000Z-1a2b3c')).toBeUndefined();
  });
});
