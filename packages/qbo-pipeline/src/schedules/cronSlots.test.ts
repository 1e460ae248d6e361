import { describe, expect, it } from 'vitest';
import { UsageError } from 'singer-kit';
import { dueSlot, MISSED_COUNT_CAP, nextSlot, parseCron } from './cronSlots.js';

const d = (iso: string) => new Date(iso);
const MIN = 60_000;

describe('parseCron', () => {
  it('reads the expression in its time zone: 03:15 in Guayaquil (UTC-5, no DST) is 08:15Z', () => {
    const s = parseCron('15 3 * * *', 'America/Guayaquil');
    expect(nextSlot(s, d('2025-09-12T00:00:00Z'))).toEqual(d('2025-09-12T08:15:00Z'));
  });

  it('follows daylight saving time: 03:15 Madrid is 01:15Z in summer and 02:15Z in winter', () => {
    const s = parseCron('15 3 * * *', 'Europe/Madrid');
    expect(nextSlot(s, d('2025-07-01T00:00:00Z'))).toEqual(d('2025-07-01T01:15:00Z'));
    expect(nextSlot(s, d('2025-12-01T00:00:00Z'))).toEqual(d('2025-12-01T02:15:00Z'));
  });

  it('takes @daily and friends, and six fields with seconds first', () => {
    expect(nextSlot(parseCron('@daily', 'UTC'), d('2025-01-01T00:00:01Z'))).toEqual(d('2025-01-02T00:00:00Z'));
    expect(nextSlot(parseCron('*/20 * * * * *', 'UTC'), d('2025-01-01T00:00:01Z'))).toEqual(d('2025-01-01T00:00:20Z'));
  });

  it.each([
    ['15 3 * *', 'UTC', /^--cron: "15 3 \* \*" is not a cron expression; give 5 fields "minute hour day month weekday"/],
    ['61 3 * * *', 'UTC', /^--cron: "61 3 \* \* \*" is not a valid cron expression: Invalid value for minute: 61$/],
    ['every day', 'UTC', /^--cron: "every day" is not a cron expression/],
    ['@once', 'UTC', /^--cron: "@once" is not a cron expression/],
    ['2025-09-12T03:15:00Z', 'UTC', /^--cron: .* is not a cron expression/],
    ['0 0 30 2 *', 'UTC', /^--cron: "0 0 30 2 \*" never comes/],
    ['15 3 * * *', 'Mars/Olympus', /^--tz: "Mars\/Olympus" is not an IANA time zone; use a name such as UTC/],
    ['15 3 * * *', 'GMT-5', /^--tz: "GMT-5" is not an IANA time zone/],
  ])('refuses %j in %j with one line naming the option', (cron, tz, message) => {
    let thrown: unknown;
    try {
      parseCron(cron, tz);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('\n');
  });
});

describe('dueSlot (pure: schedule, last slot run, now)', () => {
  const everyMinute = parseCron('* * * * *', 'UTC');

  it('nothing is due before the first slot after the last one run', () => {
    expect(dueSlot(everyMinute, d('2025-01-01T00:01:00Z'), d('2025-01-01T00:01:59Z'), MIN)).toBeUndefined();
  });

  it('a slot is due from its instant on, on time when run at once', () => {
    expect(dueSlot(everyMinute, d('2025-01-01T00:01:00Z'), d('2025-01-01T00:02:00Z'), MIN)).toEqual({
      slot: d('2025-01-01T00:02:00Z'),
      firstMissed: d('2025-01-01T00:02:00Z'),
      slots: 1,
      lateByMs: 0,
      late: false,
    });
    expect(dueSlot(everyMinute, d('2025-01-01T00:01:00Z'), d('2025-01-01T00:02:03.500Z'), MIN)?.late).toBe(false);
  });

  it('three minutes give three slots, one at a time, each once', () => {
    let last = d('2025-01-01T00:00:30Z');
    const ran: string[] = [];
    for (let t = Date.parse('2025-01-01T00:00:30Z'); t <= Date.parse('2025-01-01T00:03:30Z'); t += 5_000) {
      const due = dueSlot(everyMinute, last, new Date(t), MIN);
      if (!due) continue;
      ran.push(due.slot.toISOString());
      last = due.slot;
    }
    expect(ran).toEqual(['2025-01-01T00:01:00.000Z', '2025-01-01T00:02:00.000Z', '2025-01-01T00:03:00.000Z']);
  });

  it('slots missed while the scheduler was down collapse into one run of the latest, marked late', () => {
    const due = dueSlot(everyMinute, d('2025-01-01T00:00:00Z'), d('2025-01-01T00:05:20Z'), MIN);
    expect(due).toEqual({ slot: d('2025-01-01T00:05:00Z'), firstMissed: d('2025-01-01T00:01:00Z'), slots: 5, lateByMs: 4 * MIN + 20_000, late: true });
  });

  it('one slot found long after its instant is late too', () => {
    const daily = parseCron('15 3 * * *', 'UTC');
    expect(dueSlot(daily, d('2025-01-01T03:15:00Z'), d('2025-01-02T09:00:00Z'), MIN)).toMatchObject({ slot: d('2025-01-02T03:15:00Z'), slots: 1, late: true });
  });

  it('counts missed slots only up to a cap, so a long outage of a per-second schedule stays cheap', () => {
    const due = dueSlot(parseCron('* * * * * *', 'UTC'), d('2025-01-01T00:00:00Z'), d('2025-02-01T00:00:00Z'), MIN);
    expect(due).toMatchObject({ slot: d('2025-02-01T00:00:00Z'), slots: MISSED_COUNT_CAP, late: true });
  });
});

describe('formatSchedules', () => {
  it('shows each schedule with its state, its last slot and how it went, and its next slot in its own time zone and UTC', async () => {
    const { formatSchedules } = await import('./formatSchedules.js');
    const sync = { streams: ['invoices'], job: 'qb_invoices' };
    const schedules = [
      {
        name: 'daily',
        cron: '15 3 * * *',
        tz: 'America/Guayaquil',
        sync,
        paused: false,
        createdAt: '2025-09-01T00:00:00Z',
        activeSince: '2025-09-01T00:00:00Z',
      },
      {
        name: 'held',
        cron: '0 * * * *',
        tz: 'UTC',
        sync,
        paused: true,
        pausedAt: '2025-09-11T00:00:00Z',
        createdAt: '2025-09-01T00:00:00Z',
        activeSince: '2025-09-01T00:00:00Z',
      },
    ];
    const done = {
      id: 'sch-daily-20250912T081500Z',
      at: '2025-09-12T08:15:00Z',
      atGiven: '',
      createdAt: '',
      sync,
      status: 'completed' as const,
      enabled: false,
      schedule: { name: 'daily', slot: '2025-09-12T08:15:00Z', slots: 1 },
    };
    const text = formatSchedules(schedules, [done], new Date('2025-09-12T09:00:00Z'));
    expect(text).toMatch(
      /^daily \| 15 3 \* \* \* America\/Guayaquil \| active +\| qb_invoices \| invoices \| 2025-09-12 03:15 America\/Guayaquil \(08:15Z\): completed \| 2025-09-13 03:15 America\/Guayaquil \(08:15Z\)$/m,
    );
    expect(text).toMatch(/^held +\| 0 \* \* \* \* +\| paused since 2025-09-11T00:00:00Z \| qb_invoices \| invoices \| none yet +\| \(paused\)$/m);
    expect(text.split('\n')).toHaveLength(4);
    // A failed last slot: why, in full, under the table.
    const reason =
      'tap-quickbooks: QuickBooks rejected the refresh token (invalid_grant, intuit_tid 5e6ee6a4): reconnect the app to company 9341453050000000 and set the new refresh_token';
    const failed = { ...done, status: 'failed' as const, result: { exitCode: 2, message: reason, runIds: ['r1'], fix: reason } };
    const lines = formatSchedules(schedules, [failed], new Date('2025-09-12T09:00:00Z')).split('\n');
    expect(lines[2]).toContain('| 2025-09-12 03:15 America/Guayaquil (08:15Z): failed |');
    expect(lines.slice(4)).toEqual([`daily: its last slot failed: ${reason}`]);
  });
});
