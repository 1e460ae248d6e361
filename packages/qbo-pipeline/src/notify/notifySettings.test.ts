import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { redact, UsageError } from 'singer-kit';
import { parseCompanies } from '../companies/parseCompanies.js';
import { notifySettings } from './notifySettings.js';

const dir = mkdtempSync(path.join(tmpdir(), 'notify-settings-'));
const file = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};
const URL_TEXT = 'https://hooks.slack.com/services/T0/B0/notifySettingsSecret';
const companies = (extra: string) =>
  parseCompanies(
    `${extra}companies:\n  - name: acme\n    realm_id: "1"\n    secrets: {client_id_file: a, client_secret_file: b, refresh_token_file: c}\n`,
    path.join(dir, 'companies.yaml'),
    'companies.yaml',
  );
/** The UsageError's one line, checked never to hold the URL. */
const refusal = (read: () => unknown) => {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain('notifySettingsSecret');
    return (error as Error).message;
  }
  throw new Error('not refused');
};

describe('notifySettings', () => {
  it('is undefined when no webhook is given: the scheduler notifies nothing', () => {
    expect(notifySettings({ env: {} })).toBeUndefined();
    expect(notifySettings({ env: {}, companies: companies('') })).toBeUndefined();
  });

  it('reads the URL from the file the option, the variable or the companies file names (in that order), as a Secret that prints redacted', () => {
    const option = file('option', `${URL_TEXT}/option\n`);
    const variable = file('variable', `${URL_TEXT}/variable\n`);
    file('named', `${URL_TEXT}/named\n`);
    const withNotify = companies('notify: {webhook_url_file: named, console_url: "https://qbo.example.com/"}\n');
    const env = { QBO_PIPELINE_NOTIFY_WEBHOOK_URL_FILE: variable };
    expect(notifySettings({ webhookFile: option, env, companies: withNotify })?.webhook?.url.reveal()).toBe(`${URL_TEXT}/option`);
    expect(notifySettings({ env, companies: withNotify })?.webhook?.url.reveal()).toBe(`${URL_TEXT}/variable`);
    expect(notifySettings({ env: { QBO_PIPELINE_NOTIFY_WEBHOOK_URL: `${URL_TEXT}/value` }, companies: withNotify })?.webhook?.from).toBe(
      'QBO_PIPELINE_NOTIFY_WEBHOOK_URL',
    );
    const fromFile = notifySettings({ env: {}, companies: withNotify })!;
    expect(fromFile).toMatchObject({ webhook: { from: 'notify.webhook_url_file named' }, command: undefined, consoleUrl: 'https://qbo.example.com/' });
    expect(JSON.stringify(fromFile)).not.toContain('notifySettingsSecret');
    expect(redact(`posting to ${URL_TEXT}/named`)).toBe('posting to [redacted]');
    expect(notifySettings({ env: { QBO_PIPELINE_CONSOLE_URL: 'http://console:6789/' }, companies: withNotify })?.consoleUrl).toBe('http://console:6789/');
  });

  it('refuses a missing or empty file, or one without an http(s) URL, naming the file and never its text', () => {
    expect(refusal(() => notifySettings({ webhookFile: path.join(dir, 'nope'), env: {} }))).toBe(
      `--notify-webhook-file ${path.join(dir, 'nope')}: no such file`,
    );
    const empty = file('empty', '\n');
    expect(refusal(() => notifySettings({ env: { QBO_PIPELINE_NOTIFY_WEBHOOK_URL_FILE: empty } }))).toBe(
      `QBO_PIPELINE_NOTIFY_WEBHOOK_URL_FILE (${empty}) is empty: put the webhook URL (Slack, Teams or any http(s) endpoint) there`,
    );
    file('bad', 'hooks.slack.com/services/T0/B0/notifySettingsSecret\n');
    expect(refusal(() => notifySettings({ env: {}, companies: companies('notify: {webhook_url_file: bad}\n') }))).toBe(
      'notify.webhook_url_file bad (companies.yaml:1:28) does not hold an http(s) URL: put the webhook URL there, e.g. https://hooks.slack.com/services/…',
    );
  });

  it("a command (an argv list, run in the companies file's folder) alone or beside a webhook; a notify: with neither, or a shell string, is refused", () => {
    expect(notifySettings({ env: {}, companies: companies('notify: {command: [msmtp, -a, ops, alerts@firm.example]}\n') })).toEqual({
      webhook: undefined,
      command: { argv: ['msmtp', '-a', 'ops', 'alerts@firm.example'], cwd: dir, from: 'notify.command msmtp' },
      consoleUrl: undefined,
    });
    file('both', `${URL_TEXT}/both\n`);
    const both = notifySettings({ env: {}, companies: companies('notify: {webhook_url_file: both, command: [./alert.sh]}\n') })!;
    expect([both.webhook?.from, both.command?.from]).toEqual(['notify.webhook_url_file both', 'notify.command ./alert.sh']);
    expect(() => companies('notify: {console_url: "https://qbo.example.com/"}\n')).toThrow(
      'companies.yaml:1:9: notify: says nowhere to notify: give webhook_url_file: <file holding the URL>, command: [program, args…], or both',
    );
    expect(() => companies('notify: {command: "mail -s alert ops@firm.example"}\n')).toThrow(/notify\.command/);
  });

  it('the command from --notify-command, else QBO_PIPELINE_NOTIFY_COMMAND, else the companies file: a JSON list, a shell line refused', () => {
    const inFile = companies('notify: {command: [msmtp, ops@firm.example]}\n');
    const env = { QBO_PIPELINE_NOTIFY_COMMAND: '["pd-send", "-k", "routing"]' };
    expect(notifySettings({ command: '["./alert.sh"]', env, companies: inFile })?.command).toEqual({
      argv: ['./alert.sh'],
      cwd: dir,
      from: '--notify-command',
    });
    expect(notifySettings({ env, companies: inFile })?.command).toMatchObject({ argv: ['pd-send', '-k', 'routing'], from: 'QBO_PIPELINE_NOTIFY_COMMAND' });
    expect(notifySettings({ env })?.command).toMatchObject({ argv: ['pd-send', '-k', 'routing'], cwd: process.cwd() });
    expect(notifySettings({ env: {}, companies: inFile })?.command?.from).toBe('notify.command msmtp');
    expect(refusal(() => notifySettings({ command: 'mail -s alert ops@firm.example', env: {} }))).toBe(
      '--notify-command is not a JSON list of the program and its arguments, e.g. ["msmtp", "-a", "ops", "alerts@firm.example"] (no shell line)',
    );
    expect(refusal(() => notifySettings({ env: { QBO_PIPELINE_NOTIFY_COMMAND: '[]' } }))).toMatch(/^QBO_PIPELINE_NOTIFY_COMMAND is not a JSON list/);
  });
});
