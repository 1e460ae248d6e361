/**
 * The daily sync of meltano.yml, run by the real Meltano (test/support/pythonPeers.ts): Meltano
 * lists schedule qb_all_daily_sync as written, `meltano schedule run qb_all_daily_sync` loads up
 * to the start of the run, and the next run goes on from the committed bookmarks, the same state
 * id as the backfill job.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { dayStart, expectExactly } from './pipelineHarness.js';
import { databaseUrl, REPO_ROOT, scratchSchema, withClient } from './support/db.js';
import { PYTHON_TOOLS_ENV, pythonPeers } from './support/pythonPeers.js';
import { runProcess, type ProcessRun } from './support/runProcess.js';

const peers = await pythonPeers();
const skipped = peers.ok ? '' : ` (skipped: ${peers.reason})`;

function meltano(args: readonly string[], cwd: string): Promise<ProcessRun> {
  if (!peers.ok) throw new Error(peers.reason);
  return runProcess(peers.tools.meltano, args, { cwd, env: { ...process.env, ...PYTHON_TOOLS_ENV } });
}

describe.skipIf(!peers.ok)(`meltano.yml's daily sync, run by Meltano 4.2.2${skipped}`, () => {
  const schema = scratchSchema('meltano_daily');
  const start = dayStart(Date.now() - 2 * 86_400_000);
  let emulator: Emulator;
  let project: string;

  beforeAll(async () => {
    // The company's clock is the real one: the sync runs up to now. Few rows per stream: qb_all_sync selects every stream.
    emulator = await startEmulator({ days: 2, counts: { invoices: 30, customers: 8, items: 4 }, requestsPerMinute: 1_000_000 });
    project = mkdtempSync(path.join(tmpdir(), 'meltano-daily-'));
    copyFileSync(path.join(REPO_ROOT, 'meltano.yml'), path.join(project, 'meltano.yml'));
    mkdirSync(path.join(project, 'bin'));
    for (const name of ['tap-quickbooks', 'target-postgres-raw']) symlinkSync(path.join(REPO_ROOT, 'bin', name), path.join(project, 'bin', name));
    mkdirSync(path.join(project, 'secrets'));
    writeFileSync(path.join(project, 'secrets/qbo_client_secret'), `${emulator.clientSecret}\n`);
    writeFileSync(path.join(project, 'secrets/qbo_refresh_token'), `${emulator.currentRefreshToken()}\n`);
    writeFileSync(path.join(project, 'secrets/warehouse_url'), `${databaseUrl()}\n`);
    // As docs/meltano.md says for a daily sync: no end date. An invoice changed in QBO is synced
    // right after, from an emulator that shows it at once: no end_lag (test/endLag runs the tap alone with it).
    writeFileSync(
      path.join(project, '.env'),
      [
        `TAP_QUICKBOOKS_CLIENT_ID=${emulator.clientId}`,
        'TAP_QUICKBOOKS_CLIENT_SECRET_FILE=secrets/qbo_client_secret',
        'TAP_QUICKBOOKS_REFRESH_TOKEN_FILE=secrets/qbo_refresh_token',
        `TAP_QUICKBOOKS_REALM_ID=${emulator.realmId}`,
        `TAP_QUICKBOOKS_START_DATE=${start}`,
        `TAP_QUICKBOOKS_BASE_URL=${emulator.baseUrl}`,
        `TAP_QUICKBOOKS_TOKEN_URL=${emulator.tokenUrl}`,
        'TAP_QUICKBOOKS_END_LAG=PT0S',
        'TARGET_POSTGRES_RAW_DATABASE_URL_FILE=secrets/warehouse_url',
        `TARGET_POSTGRES_RAW_SCHEMA=${schema}`,
      ].join('\n') + '\n',
    );
  });

  afterAll(async () => {
    await emulator?.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('lists the schedule as written, runs it up to now, and the next run goes on from the bookmarks', { timeout: 400_000 }, async () => {
    const committed = readFileSync(path.join(project, 'meltano.yml'));
    const list = await meltano(['schedule', 'list', '--format=json'], project);
    expect(list.code, list.stderr.slice(-2000)).toBe(0);
    const schedules = (
      JSON.parse(list.stdout) as {
        schedules: { job: Array<{ name: string; interval: string; cron_interval: string; job: { name: string; tasks: string[] } }> };
      }
    ).schedules.job;
    expect(schedules.find((s) => s.name === 'qb_all_daily_sync')).toMatchObject({
      interval: '15 3 * * *',
      cron_interval: '15 3 * * *',
      job: { name: 'qb_all_sync', tasks: ['tap-quickbooks target-postgres-raw'] },
    });

    const before = Date.now();
    const first = await meltano(['schedule', 'run', 'qb_all_daily_sync'], project);
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    const state = await meltano(['state', 'get', 'dev:tap-quickbooks-to-target-postgres-raw'], project);
    expect(state.code, state.stderr.slice(-2000)).toBe(0);
    const bookmarks = (JSON.parse(state.stdout) as { singer_state: { bookmarks: Record<string, { replication_key_value: string }> } }).singer_state.bookmarks;
    const end = bookmarks.invoices!.replication_key_value;
    expect(Date.parse(end)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(end)).toBeLessThanOrEqual(Date.now());
    await expectExactly(databaseUrl(), schema, emulator, ['invoices', 'customers', 'items'], start, end);

    // An invoice changes in QBO; the next day's run reads from the bookmark and brings it, and nothing before it.
    const [changed] = emulator.truth('invoices');
    emulator.touch('Invoice', changed!.id);
    await sleep(1100);
    const queried = emulator.requestLog().length;
    const second = await meltano(['schedule', 'run', 'qb_all_daily_sync'], project);
    expect(second.code, second.stderr.slice(-3000)).toBe(0);
    const windows = emulator
      .requestLog()
      .slice(queried)
      .filter((r) => r.kind === 'count' && r.query.includes('Invoice'))
      .map((r) => /LastUpdatedTime >= '([^']+)'/.exec(new URLSearchParams(r.query.slice(1)).get('query') ?? '')?.[1] ?? '');
    expect(windows.length).toBeGreaterThan(0);
    expect(windows.every((w) => Date.parse(w) >= Date.parse(end))).toBe(true);
    const row = await withClient((c) => c.query<{ payload: string }>(`SELECT payload::text FROM "${schema}".invoices WHERE id = $1`, [changed!.id]));
    const now = emulator.truth('invoices').find((r) => r.id === changed!.id)!;
    expect(JSON.parse(row.rows[0]!.payload)).toEqual(JSON.parse(now.text));
    expect(readFileSync(path.join(project, 'meltano.yml')).equals(committed), 'meltano.yml changed by Meltano: commit it in the form Meltano writes').toBe(
      true,
    );
  });
});
