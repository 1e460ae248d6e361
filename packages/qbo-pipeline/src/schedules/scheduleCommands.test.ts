import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from 'singer-kit';
import { addSchedule, pauseSchedule, removeSchedule, resumeSchedule } from './scheduleCommands.js';
import { ScheduleStore } from './ScheduleStore.js';

async function fresh() {
  const dir = await mkdtemp(path.join(tmpdir(), 'schedules-'));
  return { dir, store: new ScheduleStore(path.join(dir, 'schedules')), sync: { streams: ['items', 'invoices'], stateDir: path.join(dir, 'state') } };
}
/** Settings as the scheduler's environment holds them: a schedule is only accepted when they are complete. */
const env = {
  TAP_QUICKBOOKS_CLIENT_ID: 'client-id',
  TAP_QUICKBOOKS_CLIENT_SECRET: 'client-secret-value',
  TAP_QUICKBOOKS_REFRESH_TOKEN: 'refresh-token-value',
  TAP_QUICKBOOKS_REALM_ID: '9341453050000000',
  TAP_QUICKBOOKS_TOKEN_STORE: path.join(tmpdir(), 'schedules-test-no-such-token-store.json'),
  DATABASE_URL: 'postgres://loader@127.0.0.1:5432/warehouse',
};

describe('schedule commands (the library the CLI and the console call)', () => {
  it('adds a schedule named after its job, paths absolute, and warns when the job has no bookmark and no --start', async () => {
    const { store, sync, dir } = await fresh();
    const added = await addSchedule(store, { cron: '15 3 * * *', tz: 'America/Guayaquil', sync }, { now: new Date('2025-09-12T00:00:00Z'), cwd: dir, env });
    expect(added.created).toBe(true);
    expect(added.schedule).toEqual({
      name: 'qb_invoices_items',
      cron: '15 3 * * *',
      tz: 'America/Guayaquil',
      sync: { streams: ['items', 'invoices'], job: 'qb_invoices_items', stateDir: path.join(dir, 'state') },
      paused: false,
      createdAt: '2025-09-12T00:00:00.000Z',
      activeSince: '2025-09-12T00:00:00.000Z',
    });
    expect(added.warnings).toEqual([
      expect.stringMatching(/^job qb_invoices_items has no bookmark yet for items, invoices and no --start was given: its slots fail until a backfill/),
    ]);
    expect(await store.list()).toEqual([added.schedule]);
  });

  it('no warning when the job has its bookmarks (a backfill ran) or --start is given', async () => {
    const { store, sync } = await fresh();
    expect((await addSchedule(store, { name: 'a', cron: '@daily', sync: { ...sync, start: '2025-01-01' } }, { env })).warnings).toEqual([]);
    await import('node:fs/promises').then((fs) => fs.mkdir(sync.stateDir, { recursive: true }));
    const mark = { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2025-09-01T00:00:00Z' };
    await writeFile(path.join(sync.stateDir, 'qb_invoices_items.json'), JSON.stringify({ bookmarks: { items: mark, invoices: mark } }));
    expect((await addSchedule(store, { name: 'b', cron: '@daily', sync }, { env })).warnings).toEqual([]);
    // company_info is read whole by every run and never has a bookmark: the backfill's bookmarks are all the job needs.
    await writeFile(path.join(sync.stateDir, 'qb_company_info_invoices_items.json'), JSON.stringify({ bookmarks: { items: mark, invoices: mark } }));
    const withCompanyInfo = { ...sync, streams: ['company_info', 'items', 'invoices'] };
    expect((await addSchedule(store, { name: 'c', cron: '@daily', sync: withCompanyInfo }, { env })).warnings).toEqual([]);
  });

  it('refuses a name already taken (unless --if-missing, which keeps the existing one as it is), writing nothing', async () => {
    const { store, sync } = await fresh();
    await addSchedule(store, { name: 'daily', cron: '15 3 * * *', sync }, { env });
    await pauseSchedule(store, 'daily');
    await expect(addSchedule(store, { name: 'daily', cron: '0 4 * * *', sync }, { env })).rejects.toThrow(
      'schedule daily exists (15 3 * * * UTC, job qb_invoices_items); remove it first (schedule remove daily) or give another --name',
    );
    const kept = await addSchedule(store, { name: 'daily', cron: '0 4 * * *', sync, ifMissing: true }, { env });
    expect(kept).toMatchObject({ created: false, schedule: { cron: '15 3 * * *', paused: true } });
  });

  it.each([
    [{ cron: 'nope' }, /^--cron: "nope" is not a cron expression/],
    [{ cron: '15 3 * * *', tz: 'Nowhere/City' }, /^--tz: "Nowhere\/City" is not an IANA time zone/],
    [{ cron: '15 3 * * *', name: 'bad name' }, /^--name: "bad name" may hold only letters, digits, _ and -$/],
    [{ cron: '15 3 * * *', streams: ['invoice'] }, /^--streams: unknown stream "invoice"/],
  ])('refuses %j with a UsageError and writes nothing', async (input, message) => {
    const { store, sync } = await fresh();
    const { streams, ...rest } = input as { streams?: string[]; cron: string };
    await expect(addSchedule(store, { ...rest, sync: { ...sync, ...(streams ? { streams } : {}) } }, { env })).rejects.toThrow(UsageError);
    await expect(addSchedule(store, { ...rest, sync: { ...sync, ...(streams ? { streams } : {}) } }, { env })).rejects.toThrow(message);
    expect(existsSync(store.dir)).toBe(false);
  });

  it('pauses, resumes (slots count from the resume) and removes; an unknown name lists the known ones', async () => {
    const { store, sync } = await fresh();
    await addSchedule(store, { name: 'daily', cron: '15 3 * * *', sync }, { now: new Date('2025-09-01T00:00:00Z'), env });
    expect(await pauseSchedule(store, 'daily', { now: new Date('2025-09-02T00:00:00Z') })).toMatchObject({
      paused: true,
      pausedAt: '2025-09-02T00:00:00.000Z',
    });
    const resumed = await resumeSchedule(store, 'daily', { now: new Date('2025-09-05T00:00:00Z') });
    expect(resumed).toMatchObject({ paused: false, activeSince: '2025-09-05T00:00:00.000Z', createdAt: '2025-09-01T00:00:00.000Z' });
    expect('pausedAt' in (await store.get('daily'))).toBe(false);
    await expect(pauseSchedule(store, 'weekly')).rejects.toThrow(/^no schedule "weekly" in .*schedules; schedules: daily$/);
    await removeSchedule(store, 'daily');
    expect(await readdir(store.dir)).toEqual([]);
    await expect(removeSchedule(store, 'daily')).rejects.toThrow(/there are none \(add one with schedule add\)$/);
  });

  it('never reaches a file outside the schedules folder through a name such as ../x', async () => {
    const { dir, store } = await fresh();
    const outside = path.join(dir, 'outside.json');
    await writeFile(outside, '{}');
    for (const act of [() => removeSchedule(store, '../outside'), () => pauseSchedule(store, '../outside'), () => resumeSchedule(store, '../outside')]) {
      await expect(act()).rejects.toThrow(/^schedule name "\.\.\/outside" may hold only letters, digits, _ and -$/);
    }
    expect(existsSync(outside)).toBe(true);
  });
});
