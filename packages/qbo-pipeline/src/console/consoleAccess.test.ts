import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redact, UsageError } from 'singer-kit';
import { CONSOLE_PASSWORD_FILE_ENV, consoleAccess, isLoopbackHost } from './consoleAccess.js';

const dir = mkdtempSync(path.join(tmpdir(), 'console-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('consoleAccess', () => {
  it('listens on 127.0.0.1:6789 without a password by default', () => {
    expect(consoleAccess({ env: {} })).toEqual({ host: '127.0.0.1', port: 6789, password: undefined, loopback: true });
  });

  it('tells loopback addresses from the others', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.com', 'localhost.example.com', '128.0.0.1', '']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses to listen off this machine without a password, naming the setting', () => {
    expect(() => consoleAccess({ host: '0.0.0.0', env: {} })).toThrow(UsageError);
    expect(() => consoleAccess({ host: '0.0.0.0', env: {} })).toThrow(new RegExp(`--host 0.0.0.0: .*${CONSOLE_PASSWORD_FILE_ENV}`));
  });

  it('reads the password from the file the environment names (trailing newline dropped) and redacts it', () => {
    const access = consoleAccess({ host: '0.0.0.0', env: { [CONSOLE_PASSWORD_FILE_ENV]: file('pw', 'a-long-console-password\n') } });
    expect(access.loopback).toBe(false);
    expect(access.password?.reveal()).toBe('a-long-console-password');
    expect(JSON.stringify(access)).not.toContain('a-long-console-password');
    expect(redact('typed a-long-console-password')).toBe('typed [redacted]');
    // --password-file wins over the environment
    expect(
      consoleAccess({
        passwordFile: file('pw2', 'another-long-password'),
        env: { [CONSOLE_PASSWORD_FILE_ENV]: file('pw3', 'third-long-password') },
      }).password?.reveal(),
    ).toBe('another-long-password');
  });

  it('refuses a missing, empty, short or example password file, and a bad port', () => {
    expect(() => consoleAccess({ passwordFile: path.join(dir, 'nope') })).toThrow(
      /--password-file: cannot read the console password file .*nope \(no such file\)/,
    );
    expect(() => consoleAccess({ passwordFile: file('empty', '\n') })).toThrow(/is empty/);
    expect(() => consoleAccess({ passwordFile: file('short', 'short') })).toThrow(/has 5 characters; use at least 12/);
    expect(() => consoleAccess({ env: { [CONSOLE_PASSWORD_FILE_ENV]: file('example', 'changeme-and-more-words') } })).toThrow(
      new RegExp(`${CONSOLE_PASSWORD_FILE_ENV}: .* still holds the example value`),
    );
    expect(() => consoleAccess({ port: 70000 })).toThrow(/--port: 70000 is not a TCP port/);
    expect(() => consoleAccess({ host: ' ' })).toThrow(/--host: give an address/);
  });
});
