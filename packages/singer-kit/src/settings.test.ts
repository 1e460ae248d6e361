import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSettings, type SettingSpec } from './settings.js';
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

  it('rejects environment values of the wrong kind, naming the variable', () => {
    expect(() => loadSettings({ specs, envPrefix: 'T', env: { T_PAGE_SIZE: 'ten' } })).toThrow(/T_PAGE_SIZE: expected an integer/);
    expect(() => loadSettings({ specs, envPrefix: 'T', env: { T_SANDBOX: 'maybe' } })).toThrow(/T_SANDBOX/);
  });
});
