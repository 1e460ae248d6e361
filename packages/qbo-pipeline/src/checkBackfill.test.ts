import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from 'singer-kit';
import { checkBackfill } from './checkBackfill.js';

const dir = await mkdtemp(path.join(tmpdir(), 'check-backfill-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const tapConfig = path.join(dir, 'tap.json');
await writeFile(
  tapConfig,
  JSON.stringify({
    realm_id: '9341453050000000',
    client_id: 'id',
    client_secret: 'client-secret-value',
    refresh_token: 'refresh-token-value',
    token_store: path.join(dir, 'tokens.json'),
  }),
);
const env = { DATABASE_URL: 'postgres://loader@127.0.0.1:5432/warehouse' };
const request = { streams: ['invoices'], start: '2025-01-01', end: '2025-02-01', tapConfig, stateDir: path.join(dir, 'state') };

async function refusal(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('checkBackfill: what a run needs, checked when the command is given', () => {
  it('returns the settings as the tap and target will read them, and the state to resume from', async () => {
    const checked = await checkBackfill(request, { env, cwd: dir });
    expect(checked.tap.realmId).toBe('9341453050000000');
    expect(checked.tap.startDate.toISO()).toBe('2025-01-01T00:00:00.000Z');
    expect(checked.target.connection.host).toBe('127.0.0.1');
    expect(checked.state).toBeUndefined();
  });

  it('names the config file a missing setting was looked for in, relative to the working directory', async () => {
    const bare = path.join(dir, 'bare.json');
    await writeFile(bare, JSON.stringify({ start_date: '2025-01-01' }));
    const error = await refusal(checkBackfill({ ...request, tapConfig: bare }, { env, cwd: dir }));
    expect(error.message).toMatch(
      /^tap-quickbooks settings \(--tap-config bare\.json, TAP_QUICKBOOKS_\* and \*_FILE variables\): settings client_id, client_secret, refresh_token, realm_id are required/,
    );
  });

  it('refuses a run with nothing saying where PostgreSQL is, rather than let it try the defaults for two minutes', async () => {
    const error = await refusal(checkBackfill(request, { env: {}, cwd: dir }));
    expect(error.message).toBe(
      'target-postgres-raw settings (no --target-config given, so TARGET_POSTGRES_RAW_* and *_FILE variables only): nothing says which PostgreSQL to load into, so the run would try the defaults (user postgres at localhost:5432/postgres); set TARGET_POSTGRES_RAW_DATABASE_URL (or _FILE), TARGET_POSTGRES_RAW_HOST/_USER/_DATABASE, or DATABASE_URL, or give --target-config',
    );
    // Any one of them will do, from the environment or a file.
    await writeFile(path.join(dir, 'host'), 'db.internal\n');
    for (const named of [
      { TARGET_POSTGRES_RAW_HOST: 'localhost' },
      { TARGET_POSTGRES_RAW_HOST_FILE: path.join(dir, 'host') },
      { TARGET_POSTGRES_RAW_DATABASE: 'warehouse' },
    ]) {
      await expect(checkBackfill(request, { env: named, cwd: dir })).resolves.toBeDefined();
    }
    const targetConfig = path.join(dir, 'target.json');
    await writeFile(targetConfig, JSON.stringify({ user: 'loader' }));
    await expect(checkBackfill({ ...request, targetConfig }, { env: {}, cwd: dir })).resolves.toBeDefined();
  });

  it('refuses a range that starts after the run would (a trigger checks against its own instant)', async () => {
    const error = await refusal(checkBackfill({ ...request, start: '2025-06-01', end: '2025-07-01' }, { env, cwd: dir, at: new Date('2025-05-01T00:00:00Z') }));
    expect(error.message).toMatch(/setting start_date \(2025-06-01T00:00:00.000Z\) is in the future/);
    await expect(
      checkBackfill({ ...request, start: '2025-06-01', end: '2025-07-01' }, { env, cwd: dir, at: new Date('2025-07-01T00:00:00Z') }),
    ).resolves.toBeDefined();
  });

  it('refuses a damaged token store (exit 2), saying to restore or delete it', async () => {
    await writeFile(path.join(dir, 'tokens.json'), '{"refresh_tok');
    const error = await refusal(checkBackfill(request, { env, cwd: dir }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(
      /^token store .*tokens\.json is damaged \(.*\); restore it from a backup, or delete it to start again from the configured refresh_token$/,
    );
    await rm(path.join(dir, 'tokens.json'));
  });

  it("refuses another job's state file, naming the right one; --fresh does not read it", async () => {
    await mkdir(path.join(dir, 'state'), { recursive: true });
    await writeFile(path.join(dir, 'state', 'qb_invoices_backfill.json'), '{"bookmarks":{"invoices":{"replication_key_value":"2025-01-10T00:00:00Z"}}}');
    const error = await refusal(checkBackfill({ ...request, job: 'qb_invoices_backfill', streams: ['customers'] }, { env, cwd: dir }));
    expect(error.message).toContain(`leave out --job (streams customers keep their state in ${path.join(dir, 'state', 'qb_customers.json')})`);
    // --fresh sets the file aside, so it is not read.
    await expect(checkBackfill({ ...request, job: 'qb_invoices_backfill', streams: ['customers'], fresh: true }, { env, cwd: dir })).resolves.toBeDefined();
  });
});
