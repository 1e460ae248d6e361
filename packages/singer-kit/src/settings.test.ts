import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSettings, misspeltSetting, settingInEnv, withoutSettingEnv, type SettingSpec } from './settings.js';
import { UsageError } from './errors.js';
import { redact } from './redact.js';

const specs: SettingSpec[] = [
  { name: 'client_secret', kind: 'password', description: 'secret' },
  { name: 'page_size', kind: 'integer', description: 'rows per page', default: 100 },
  { name: 'sandbox', kind: 'boolean', description: 'sandbox host', default: false },
  { name: 'start_date', kind: 'date_iso8601', description: 'start' },
];
const dir = mkdtempSync(path.join(tmpdir(), 'settings-'));
const configFile = path.join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify({ page_size: 500, start_date: '2025-01-01', extra: 'kept' }));

describe('loadSettings', () => {
  it('layers defaults, file, environment and *_FILE, environment winning', () => {
    const secretFile = path.join(dir, 'secret');
    writeFileSync(secretFile, 'file-secret-value-123\n');
    const settings = loadSettings({
      specs,
      envPrefix: 'TAP_X',
      configFile,
      env: { TAP_X_PAGE_SIZE: '1000', TAP_X_SANDBOX: 'true', TAP_X_CLIENT_SECRET_FILE: secretFile },
    });
    expect(settings).toEqual({
      client_secret: 'file-secret-value-123',
      page_size: 1000,
      sandbox: true,
      start_date: '2025-01-01',
      extra: 'kept',
    });
    // a password read from anywhere is redacted from every log line from then on
    expect(redact('token=file-secret-value-123')).toBe('token=[redacted]');
  });

  it('names the file and the problem for unreadable or invalid config', () => {
    expect(() => loadSettings({ specs, envPrefix: 'T', configFile: path.join(dir, 'missing.json') })).toThrow(
      /cannot read config file .*missing\.json: no such file/,
    );
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"page_size": 10,');
    expect(() => loadSettings({ specs, envPrefix: 'T', configFile: bad })).toThrow(UsageError);
  });

  it('never quotes a file given by mistake: a secret pasted as the config file stays out of the message', () => {
    const pasted = path.join(dir, 'pasted.json');
    writeFileSync(pasted, 'AB11SECRETTOKENTEXT');
    expect(() => loadSettings({ specs, envPrefix: 'T', configFile: pasted })).toThrow(/pasted\.json is not valid JSON: unexpected token 'A'$/);
  });

  it('refuses a config key a slip away from a setting, naming the file, the key and the setting; keeps a key unlike any', () => {
    const typo = path.join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ start_dat: '2025-01-01', extra: 'kept' }));
    expect(() => loadSettings({ specs, envPrefix: 'T', configFile: typo })).toThrow(
      new UsageError(`config file ${typo}: "start_dat" is not a setting; did you mean start_date?`),
    );
    expect(() => loadSettings({ specs, envPrefix: 'T', overrides: { pageSize: 10 } })).toThrow(/^"pageSize" is not a setting; did you mean page_size\?$/);
    expect(loadSettings({ specs, envPrefix: 'T', overrides: { admin_url: 'http://x' } })).toMatchObject({ admin_url: 'http://x' });
  });

  it('takes a slip for a setting by its case, dashes, one edit in a short name or two in a long one', () => {
    const more: SettingSpec[] = [...specs, { name: 'host', kind: 'string', description: 'host' }, { name: 'schema', kind: 'string', description: 'schema' }];
    expect(misspeltSetting('start_date', more)).toBeUndefined();
    expect(misspeltSetting('startDate', more)).toBe('"startDate" is not a setting; did you mean start_date?');
    expect(misspeltSetting('page-size', more)).toBe('"page-size" is not a setting; did you mean page_size?');
    expect(misspeltSetting('satrt_date', more)).toBe('"satrt_date" is not a setting; did you mean start_date?');
    expect(misspeltSetting('Schema', more)).toBe('"Schema" is not a setting; did you mean schema?');
    expect(misspeltSetting('schem', more)).toBe('"schem" is not a setting; did you mean schema?');
    expect(misspeltSetting('hast', more)).toBe('"hast" is not a setting; did you mean host?');
    expect(misspeltSetting('list', more)).toBeUndefined();
    expect(misspeltSetting('extra', more)).toBeUndefined();
  });

  it('rejects environment values of the wrong kind, naming the variable', () => {
    expect(() => loadSettings({ specs, envPrefix: 'T', env: { T_PAGE_SIZE: 'ten' } })).toThrow(/T_PAGE_SIZE: expected an integer/);
    expect(() => loadSettings({ specs, envPrefix: 'T', env: { T_SANDBOX: 'maybe' } })).toThrow(/T_SANDBOX/);
  });

  it('names the variables that set a setting, directly or through a file, and takes them out of a copy', () => {
    const env = { PATH: '/bin', T_START_DATE: '2020-01-01', T_END_DATE_FILE: '/run/secrets/end', T_REALM_ID: '1' };
    expect(settingInEnv(env, 'T', 'start_date')).toBe(true);
    expect(settingInEnv(env, 'T', 'end_date')).toBe(true);
    expect(settingInEnv(env, 'T', 'page_size')).toBe(false);
    expect(withoutSettingEnv(env, 'T', ['start_date', 'end_date'])).toEqual({ PATH: '/bin', T_REALM_ID: '1' });
    expect(env.T_START_DATE).toBe('2020-01-01');
  });
});
