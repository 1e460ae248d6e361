/**
 * The tap's end_lag over real HTTP and real PostgreSQL: QBO stamps LastUpdatedTime when a change
 * is saved but may show the record a little later (the emulator's visibility delay). A record
 * stamped just before a sync's start and shown just after it is, with a range that ends at the
 * run start, behind the bookmark for good; with the default lag the next sync loads it, once.
 * The runner and the emulator share a clock moved by the test (test/support/shiftClock.mjs).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseUrl, scratchSchema, withClient } from './support/db.js';
import { shiftedClockEnv } from './support/shiftedClockEnv.js';
import { discoverCatalog } from 'qbo-catalog';
import { userEnv } from './support/runProcess.js';
import { dayStart, expectExactly, runCliProcess, runnerArgs, startHarness, type Harness } from './pipelineHarness.js';
import { catalogSelecting, lastState, recordsOf, runTapCli, tapSettings, writeJson } from './tapHarness.js';

const SECOND = 1000;
const DAY = 86_400_000;
/** How long after its LastUpdatedTime the emulator shows a record: seconds, as QBO's indexes catch up. */
const VISIBILITY_DELAY_SECONDS = 120;

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ databaseUrl: databaseUrl(), seed: 68, days: 3, counts: { invoices: 20 }, visibilityDelaySeconds: VISIBILITY_DELAY_SECONDS });
});
afterEach(() => h?.close());

/** Moves the emulator's clock to `at`; the runner started next lives on the same clock. */
function clockAt(at: number): NodeJS.ProcessEnv {
  h.emulator.setNow(new Date(at));
  return shiftedClockEnv(at - Date.now());
}

async function sync(schema: string, env: NodeJS.ProcessEnv, start?: string) {
  const args = runnerArgs('sync', {
    streams: 'invoices',
    start,
    tapConfig: h.tapConfig,
    targetConfig: await h.targetConfig(schema),
    stateDir: path.join(h.dir, 'state'),
  });
  const run = await runCliProcess(args, { env: { ...userEnv(), ...env } });
  expect(run.code, run.stderr).toBe(0);
  return run;
}

async function bookmark(): Promise<string> {
  const state = JSON.parse(await readFile(path.join(h.dir, 'state', 'qb_invoices.json'), 'utf8')) as {
    bookmarks: Record<string, { replication_key_value: string }>;
  };
  return state.bookmarks.invoices!.replication_key_value;
}

async function loadedIds(schema: string): Promise<string[]> {
  const rows = await withClient((c) => c.query<{ id: string }>(`SELECT id FROM "${schema}".invoices ORDER BY id`));
  return rows.rows.map((r) => r.id);
}

/** Records the target received per run (`_load_stats`), summed: each record of the company once means no record loaded twice. */
async function received(schema: string): Promise<number> {
  const rows = await withClient((c) =>
    c.query<{ n: number }>(`SELECT coalesce(sum(received), 0)::int AS n FROM "${schema}"._load_stats WHERE stream = 'invoices'`),
  );
  return rows.rows[0]!.n;
}

/**
 * A record created (stamped) one second before the first sync starts (its clock), shown by the
 * emulator VISIBILITY_DELAY_SECONDS after its stamp, so not during that sync; the second sync
 * starts ten minutes after the stamp.
 */
async function lateRecord(schema: string, tap: NodeJS.ProcessEnv) {
  const t0 = Math.floor(h.emulator.now().getTime() / SECOND) * SECOND;
  clockAt(t0);
  const late = h.emulator.create('Invoice');
  const stamped = Date.parse(h.emulator.truth('invoices').find((r) => r.id === late)!.lastUpdated);
  const first = await sync(schema, { ...tap, ...clockAt(stamped + SECOND) }, dayStart(t0 - 4 * DAY));
  expect(await loadedIds(schema), 'not shown yet during the first sync').not.toContain(late);
  const afterFirst = await bookmark();
  const second = await sync(schema, { ...tap, ...clockAt(stamped + 10 * 60 * SECOND) });
  return { late, stamped, first, second, afterFirst, afterSecond: await bookmark() };
}

describe('end_lag: a record QBO shows late is never skipped', () => {
  it('with end_lag PT0S (the range ends at the run start, as before end_lag), a record stamped just before a sync and shown just after it is never loaded', async () => {
    const schema = scratchSchema('lag0');
    const { late, stamped, afterFirst } = await lateRecord(schema, { TAP_QUICKBOOKS_END_LAG: 'PT0S' });
    // The first sync read up to its start, past the record's stamp, while QBO did not show it yet.
    expect(Date.parse(afterFirst)).toBeGreaterThan(stamped);
    expect(await loadedIds(schema)).not.toContain(late);
  });

  it('with the default end_lag (5 minutes), the second sync loads it, exactly once, and every other record once too', async () => {
    const schema = scratchSchema('lag');
    const { late, stamped, first, afterFirst, afterSecond } = await lateRecord(schema, {});
    expect(await loadedIds(schema)).toContain(late);
    // The first sync's range ended 5 minutes before its start (a few seconds after the stamp): the record was the next sync's.
    expect(Date.parse(afterFirst) - (stamped - 5 * 60 * SECOND)).toBeGreaterThan(0);
    expect(Date.parse(afterFirst) - (stamped - 5 * 60 * SECOND)).toBeLessThan(VISIBILITY_DELAY_SECONDS * SECOND);
    expect(first.stdout).toContain(`range [${dayStart(stamped - 4 * DAY)}, ${afterFirst})`);
    // The second sync starts at the stamp plus 10 minutes, or within a second after: its end, cut to the second, may be exactly 5 minutes after the stamp.
    expect(Date.parse(afterSecond) - (stamped + 5 * 60 * SECOND)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(afterSecond) - (stamped + 5 * 60 * SECOND)).toBeLessThan(VISIBILITY_DELAY_SECONDS * SECOND);
    await expectExactly(databaseUrl(), schema, h.emulator, ['invoices'], dayStart(stamped - 4 * DAY), afterSecond);
    expect(await received(schema)).toBe((await loadedIds(schema)).length);
  });

  it('a sync whose bookmark is past now minus end_lag (the lag raised since) reads nothing, says so, keeps the bookmark and succeeds', async () => {
    const schema = scratchSchema('lagup');
    const t0 = Math.floor(h.emulator.now().getTime() / SECOND) * SECOND;
    await sync(schema, clockAt(t0), dayStart(t0 - 4 * DAY));
    const before = await bookmark();
    const rows = await loadedIds(schema);
    const again = await sync(schema, { TAP_QUICKBOOKS_END_LAG: 'PT1H', ...clockAt(t0 + 60 * SECOND) });
    expect(again.stderr).toMatch(
      new RegExp(
        `invoices: nothing to read, it resumes at ${before}, at or after the range end \\S+ \\(end_date, else the run start minus end_lag PT1H\\); its bookmark stays`,
      ),
    );
    expect(await bookmark()).toBe(before);
    expect(await loadedIds(schema)).toEqual(rows);
  });

  it('a wrong end_lag stops a sync before it starts: exit 2, one line naming the setting, where it came from and the value; no state written', async () => {
    for (const value of ['-PT5M', 'PT1.5S', 'five minutes']) {
      const args = runnerArgs('sync', { streams: 'invoices', start: '2025-01-01', tapConfig: h.tapConfig, stateDir: path.join(h.dir, 'state') });
      const run = await runCliProcess(args, { env: { ...userEnv(), TAP_QUICKBOOKS_END_LAG: value } });
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(
        `FATAL qbo-pipeline: tap-quickbooks settings (--tap-config ${h.tapConfig}, TAP_QUICKBOOKS_* and *_FILE variables): setting end_lag must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (PT5M, PT0S), from PT0S to P1D, got ${JSON.stringify(value)}`,
      );
    }
    await expect(readFile(path.join(h.dir, 'state', 'qb_invoices.json'))).rejects.toThrow(/ENOENT/);
  });

  it('the tap alone (as Meltano runs it, no end_date): two runs, each from the state of the one before, emit the late record once, in the second', async () => {
    const dir = h.dir;
    const t0 = Math.floor(h.emulator.now().getTime() / SECOND) * SECOND;
    clockAt(t0);
    const late = h.emulator.create('Invoice');
    const stamped = Date.parse(h.emulator.truth('invoices').find((r) => r.id === late)!.lastUpdated);
    const config = writeJson(dir, 'tap-alone.json', tapSettings(h.emulator, dir, { start_date: dayStart(t0 - 4 * DAY) }));
    const catalog = writeJson(dir, 'catalog.json', catalogSelecting(discoverCatalog() as never, ['invoices']));
    const tap = async (env: NodeJS.ProcessEnv, state?: unknown) => {
      const args = ['--config', config, '--catalog', catalog, ...(state === undefined ? [] : ['--state', writeJson(dir, 'state.json', state)])];
      const run = await runTapCli(args, { env: { ...userEnv(), ...env } });
      expect(run.code, run.stderr).toBe(0);
      return run;
    };
    const first = await tap(clockAt(stamped + SECOND));
    const second = await tap(clockAt(stamped + 10 * 60 * SECOND), lastState(first));
    const ids = (run: Awaited<ReturnType<typeof tap>>) => recordsOf(run, 'invoices').map((r) => String(r.Id));
    expect(ids(first)).not.toContain(late);
    expect(ids(second).filter((id) => id === late)).toEqual([late]);
    // No record in both runs: the second starts where the first's range ended.
    expect(ids(second).filter((id) => ids(first).includes(id))).toEqual([]);
  });
});
