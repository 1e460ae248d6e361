import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { childEnv, targetConfig, warehouseSettings, writeChildConfigs } from './childConfigs.js';

const dir = await mkdtemp(path.join(tmpdir(), 'child-configs-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('child configs', () => {
  it('uses DATABASE_URL only when nothing else says where the warehouse is', () => {
    const env = { DATABASE_URL: 'postgres://u:p@db/x' };
    expect(targetConfig({ schema: 'raw' }, env)).toEqual({ schema: 'raw', database_url: 'postgres://u:p@db/x' });
    expect(targetConfig({ host: 'warehouse' }, env)).toEqual({ host: 'warehouse' });
    expect(targetConfig({}, { ...env, TARGET_POSTGRES_RAW_HOST: 'warehouse' })).toEqual({});
    expect(targetConfig({}, {})).toEqual({});
  });

  it('keeps the environment for the children, minus the range the runner sets itself', () => {
    const env = childEnv({ PATH: '/bin', TAP_QUICKBOOKS_START_DATE: '2020-01-01', TAP_QUICKBOOKS_END_DATE_FILE: '/x', TAP_QUICKBOOKS_REALM_ID: '1' });
    expect(env).toEqual({ PATH: '/bin', TAP_QUICKBOOKS_REALM_ID: '1' });
  });

  it("writes private files with the runner's range over the user's, and removes them", async () => {
    const user = path.join(dir, 'tap.json');
    await writeFile(user, JSON.stringify({ realm_id: '1', start_date: '2019-01-01', client_secret: 'sssssss' }));
    const configs = await writeChildConfigs({ tapConfig: user, targetConfig: undefined, tapOverrides: { start_date: '2025-01-01T00:00:00Z' }, env: {} });
    expect(JSON.parse(await readFile(configs.tap, 'utf8'))).toEqual({ realm_id: '1', start_date: '2025-01-01T00:00:00Z', client_secret: 'sssssss' });
    expect((await stat(configs.tap)).mode & 0o777).toBe(0o600);
    expect((await stat(configs.dir)).mode & 0o777).toBe(0o700);
    await configs.remove();
    expect(existsSync(configs.dir)).toBe(false);
  });

  it('names a config file that is missing or not an object', async () => {
    await expect(writeChildConfigs({ tapConfig: '/nope/tap.json', targetConfig: undefined, tapOverrides: {}, env: {} })).rejects.toThrow(
      'cannot read tap config /nope/tap.json: no such file',
    );
    const list = path.join(dir, 'target.json');
    await writeFile(list, '[1]');
    await expect(writeChildConfigs({ tapConfig: undefined, targetConfig: list, tapOverrides: {}, env: {} })).rejects.toThrow(
      `target config ${list} must hold a JSON object`,
    );
  });

  it('reads the warehouse as the target would: its file, its variables, then DATABASE_URL', async () => {
    const file = path.join(dir, 'target-warehouse.json');
    await writeFile(file, JSON.stringify({ schema: 'acme' }));
    const fromUrl = warehouseSettings(file, { DATABASE_URL: 'postgres://u:secret-pw-1@db:5433/x' });
    expect(fromUrl.schema).toBe('acme');
    expect(fromUrl.connection.connectionString?.reveal()).toBe('postgres://u:secret-pw-1@db:5433/x');
    const fromHost = warehouseSettings(file, {
      DATABASE_URL: 'postgres://u:p@db/x',
      TARGET_POSTGRES_RAW_HOST: 'warehouse',
      TARGET_POSTGRES_RAW_SCHEMA: 'other',
    });
    expect(fromHost.connection).toMatchObject({ host: 'warehouse' });
    expect(fromHost.connection.connectionString).toBeUndefined();
    expect(fromHost.schema).toBe('other');
  });
});
