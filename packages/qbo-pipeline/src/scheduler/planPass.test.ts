import { describe, expect, it } from 'vitest';
import { parseCron } from '../schedules/cronSlots.js';
import type { Schedule } from '../schedules/Schedule.js';
import type { Lease, Trigger } from '../triggers/Trigger.js';
import { afterBusyStart, planPass, slotOfTriggerId, slotTriggerId, type PassInput } from './planPass.js';

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
      `${a.kind} ${a.trigger.id}${a.kind === 'slot' && a.trigger.queued ? ' queued' : ''}${a.kind === 'slot' && a.replaces ? ` replaces ${a.replaces.id}` : ''}${a.kind === 'start' ? ` #${a.attempt}${a.takeover ? ' takeover' : ''}` : ''}`,
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

  it('a slot whose job is busy (a live lease elsewhere, or running here) is recorded pending, queued behind what holds the job, until its next slot', () => {
    const triggers = [trigger('running', 'j1', '2025-09-12T03:00:00Z', { status: 'running' }), trigger('waiting', 'j1')];
    const leases = new Map([['running', lease('2025-09-12T04:01:00Z')]]);
    const actions = planPass(input({ triggers, leases, schedules: [schedule('s1', 'j1'), schedule('s2', 'j2')], runningHere: new Set(['j2']), capacity: 5 }));
    expect(summary(actions)).toEqual(['slot sch-s1-20250912T040000Z queued', 'slot sch-s2-20250912T040000Z queued']);
    expect(actions[0]!.trigger).toMatchObject({
      status: 'pending',
      enabled: true,
      queued: { behind: 'trigger running attempt 1 on h pid 1, since 2025-09-12T04:00:00Z', at: now.toISOString(), until: '2025-09-12T04:01:00Z' },
    });
    expect(actions[1]!.trigger.queued).toMatchObject({ behind: "this scheduler's run of the job" });
  });

  it('a slot whose job another runner has locked (a sync by hand) is queued, and waits without an attempt; it starts at the first pass that finds the job free', () => {
    const lock = 'run r1 (sync, pid 7 on h) until 2025-09-12T04:00:30Z unless renewed';
    const first = planPass(input({ schedules: [schedule('s1', 'j1')], lockedJobs: new Map([['j1', lock]]), capacity: 5 }));
    expect(summary(first)).toEqual(['slot sch-s1-20250912T040000Z queued', 'wait sch-s1-20250912T040000Z']);
    expect(first[0]!.trigger.queued).toMatchObject({ behind: lock });
    expect(first[1]).toMatchObject({ kind: 'wait', lock });
    const queued = first[0]!.trigger;
    const later = { now: new Date('2025-09-12T04:00:50Z'), schedules: [schedule('s1', 'j1')], triggers: [queued], capacity: 5 };
    expect(summary(planPass(input({ ...later, lockedJobs: new Map([['j1', lock]]) })))).toEqual(['wait sch-s1-20250912T040000Z']);
    expect(summary(planPass(input(later)))).toEqual(['start sch-s1-20250912T040000Z #1']);
  });

  it('a queued slot takes no room of the capacity while it waits: a trigger of another job starts', () => {
    const queued = trigger('sch-s1-20250912T040000Z', 'j1', undefined, {
      backfill: undefined,
      sync: { streams: ['invoices'], job: 'j1' },
      schedule: { name: 's1', slot: '2025-09-12T04:00:00Z', slots: 1 },
      queued: { behind: "this scheduler's run of the job", at: '2025-09-12T04:00:01Z' },
    });
    expect(summary(planPass(input({ triggers: [queued, trigger('other', 'j2')], runningHere: new Set(['j1']), capacity: 1 })))).toEqual(['start other #1']);
  });

  it("the schedule's next slot replaces a slot still queued and never run: one run stands for both, late from the first", () => {
    const queued = planPass(input({ schedules: [schedule('s1', 'j1')], runningHere: new Set(['j1']) }))[0]!.trigger;
    const next = { now: new Date('2025-09-12T04:01:10Z'), schedules: [schedule('s1', 'j1')], triggers: [queued] };
    const stillBusy = planPass(input({ ...next, runningHere: new Set(['j1']) }));
    expect(summary(stillBusy)).toEqual(['slot sch-s1-20250912T040100Z queued replaces sch-s1-20250912T040000Z']);
    expect(stillBusy[0]!.trigger).toMatchObject({
      schedule: { slot: '2025-09-12T04:01:00Z', slots: 3, firstSlot: '2025-09-12T03:59:00Z' }, // the queued one stood for 03:59 and 04:00 (the schedule is active since 03:58:30)
      queued: { behind: "this scheduler's run of the job", at: '2025-09-12T04:01:10.000Z', until: '2025-09-12T04:02:00Z' },
    });
    // The job free at the next slot (say the queued one waited for capacity): the next slot replaces it and starts, the queued one does not.
    const free = planPass(input(next));
    expect(summary(free)).toEqual(['slot sch-s1-20250912T040100Z queued replaces sch-s1-20250912T040000Z', 'start sch-s1-20250912T040100Z #1']);
    expect(free[0]!.trigger.queued).toMatchObject({ behind: "this scheduler's run of the job", until: '2025-09-12T04:02:00Z' });
    // One whose only attempt found its job taken as it started never ran: replaced the same way.
    const busyAttempt = { attempt: 1, owner: 'o', host: 'h', pid: 1, startedAt: '2025-09-12T04:00:02Z', outcome: 'job busy' } as const;
    expect(summary(planPass(input({ ...next, triggers: [{ ...queued, attempts: [busyAttempt] }] })))).toEqual([
      'slot sch-s1-20250912T040100Z queued replaces sch-s1-20250912T040000Z',
      'start sch-s1-20250912T040100Z #1',
    ]);
    // One that ran (stopped with its scheduler) is kept: it resumes, and the next slot queues behind it.
    const stopped: Trigger = { ...queued, attempts: [busyAttempt, { ...busyAttempt, attempt: 2, outcome: 'stopped' }] };
    expect(summary(planPass(input({ ...next, triggers: [stopped] })))).toEqual(['slot sch-s1-20250912T040100Z queued', 'start sch-s1-20250912T040000Z #3']);
  });

  it('queues a slot behind a due sync of its job that waits to start (no capacity, or a stopped run to resume)', () => {
    const waiting = trigger('waiting', 'j1', undefined, { backfill: undefined, sync: { streams: ['invoices'], job: 'j1' } });
    const actions = planPass(input({ triggers: [waiting], schedules: [schedule('s1', 'j1')], capacity: 0 }));
    expect(summary(actions)).toEqual(['slot sch-s1-20250912T040000Z queued']);
    expect(actions[0]!.trigger.queued).toMatchObject({ behind: 'trigger waiting, due earlier and waiting to start' });
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

describe('afterBusyStart (pure: a start that found its job taken meanwhile)', () => {
  const holder = 'run run-x (sync, pid 7 on h, last sign of life 2025-09-12T04:00:31Z), until 2025-09-12T04:01:01.000Z unless its runner refreshes it';
  const busyAt = new Date('2025-09-12T04:00:31Z');
  // The slot as its start left it in its file: running, claimed, started on time.
  const started = (extra: Partial<Trigger> = {}): Trigger =>
    trigger('sch-s1-20250912T040000Z', 'j1', '2025-09-12T04:00:00Z', {
      backfill: undefined,
      sync: { streams: ['invoices'], job: 'j1' },
      schedule: { name: 's1', slot: '2025-09-12T04:00:00Z', slots: 1 },
      status: 'running',
      claimedBy: { pid: 1, host: 'h', owner: 'o' },
      startedAt: '2025-09-12T04:00:30.000Z',
      lateByMs: 30_000,
      late: false,
      ...extra,
    });

  it('queues a schedule slot behind the run that took its job, as a slot that came while its job was busy, until its next slot; nothing of the start stays', () => {
    const waiting = afterBusyStart(started(), holder, busyAt, '2025-09-12T04:01:00Z');
    expect(waiting).toEqual({
      ...started(),
      status: 'pending',
      claimedBy: undefined,
      startedAt: undefined,
      lateByMs: undefined,
      late: undefined,
      queued: { behind: holder, at: '2025-09-12T04:00:31.000Z', until: '2025-09-12T04:01:00Z' },
    });
    // Its start once the job frees is then the first, late and saying why: nothing of this one counts.
    expect(Object.keys(waiting)).not.toContain('startedAt');
    expect(Object.keys(waiting)).not.toContain('late');
  });

  it('a slot already queued stays queued since it was first, behind the new holder, with its bound', () => {
    const queued = { behind: 'the old holder', at: '2025-09-12T04:00:00.000Z', until: '2025-09-12T04:01:00Z' };
    expect(afterBusyStart(started({ queued }), holder, busyAt, undefined).queued).toEqual({ ...queued, behind: holder });
  });

  it('a one-time trigger is only pending again, for a later pass: no queue', () => {
    const oneTime = trigger('trg-1', 'j1', '2025-09-12T04:00:00Z', { status: 'running', startedAt: '2025-09-12T04:00:30.000Z' });
    expect(afterBusyStart(oneTime, holder, busyAt, undefined)).toEqual({ ...trigger('trg-1', 'j1'), status: 'pending' });
  });
});

describe('slotOfTriggerId', () => {
  it("reads back the schedule and slot of a slot trigger's id, a schedule name with dashes included, and nothing of another id", () => {
    const slot = new Date('2025-09-12T02:00:00Z');
    expect(slotOfTriggerId(slotTriggerId('nightly-eu', slot))).toEqual({ schedule: 'nightly-eu', slot });
    expect(slotOfTriggerId('trg-20250912T020000Z-1a2b3c')).toBeUndefined();
  });
});
