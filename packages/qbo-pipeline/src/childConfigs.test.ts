import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { abandonedConfigDirs, childEnv, configDirHost, targetConfig, warehouseSettings, writeChildConfigs } from './childConfigs.js';
import type { ProcessLookup } from './processOnHost.js';

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

  it('names its folder after its process (host, pid, start), so that a later run can tell when that process is gone', async () => {
    const configs = await writeChildConfigs({ tapConfig: undefined, targetConfig: undefined, tapOverrides: {}, env: {} });
    try {
      const name = path.basename(configs.dir);
      expect(name.startsWith(`qbo-pipeline-${configDirHost()}-${process.pid}-`)).toBe(true);
      const self: ProcessLookup = (pid) => (pid === process.pid ? { start: name.split('-').at(-2)! } : undefined);
      expect(abandonedConfigDirs([name], configDirHost(), self), "a live runner's folder").toEqual([]);
      expect(
        abandonedConfigDirs([name], configDirHost(), () => undefined),
        'once its process is gone',
      ).toEqual([name]);
    } finally {
      await configs.remove();
    }
  });

  it('judges a config folder abandoned only when its process on this host is gone or its pid now belongs to a later process', () => {
    // pid 10 lives (started at tick 500), pid 20 is gone, pid 30 is a process started after the folder's (pid reused), pid 40 lives but its start is unknown (no /proc).
    const processes: ProcessLookup = (pid) => ({ 10: { start: '500' }, 30: { start: '900' }, 40: {} })[pid];
    const names = [
      'qbo-pipeline-web-1-10-500-aB3dE9', // live runner: kept
      'qbo-pipeline-web-1-20-700-Zz0011', // its runner is gone
      'qbo-pipeline-web-1-30-600-q1w2e3', // pid 30 is now another process
      'qbo-pipeline-web-1-40-650-r4t5y6', // pid 40 lives; nothing tells it is another process: kept
      'qbo-pipeline-web-1-20-x-u7i8o9', // made where no start is known; pid gone
      'qbo-pipeline-web-1-10-x-p0a1s2', // made where no start is known; pid lives: kept
      'qbo-pipeline-db-2-20-700-d3f4g5', // another host's (a shared temporary folder): never judged here
      'qbo-pipeline-Ab12Cd', // an older runner's folder, with no owner in its name: kept
      'qbo-pipeline-web-1-20-700-toolong7', // not a config folder's name
      'other-web-1-20-700-aB3dE9',
    ];
    expect(abandonedConfigDirs(names, 'web-1', processes)).toEqual([
      'qbo-pipeline-web-1-20-700-Zz0011',
      'qbo-pipeline-web-1-30-600-q1w2e3',
      'qbo-pipeline-web-1-20-x-u7i8o9',
    ]);
    expect(configDirHost('host/with space')).toBe('host_with_space');
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
