import path from 'node:path';
import { readUserFile, Secret, UsageError } from 'singer-kit';
import type { Companies } from '../companies/parseCompanies.js';

/** The webhook URL itself (a Slack or Teams URL is a credential: prefer the _FILE variable). */
const NOTIFY_WEBHOOK_ENV = 'QBO_PIPELINE_NOTIFY_WEBHOOK_URL';
/** A file holding the webhook URL (Docker secrets). */
export const NOTIFY_WEBHOOK_FILE_ENV = `${NOTIFY_WEBHOOK_ENV}_FILE`;
/** The notification command, as a JSON list: the program, then its arguments. */
export const NOTIFY_COMMAND_ENV = 'QBO_PIPELINE_NOTIFY_COMMAND';
/** The console's address as the people notified open it; each notification links to its page there. */
const CONSOLE_URL_ENV = 'QBO_PIPELINE_CONSOLE_URL';

/**
 * How often a running scheduler looks for what needs a person besides the look after each run (an
 * overdue slot, a token's days), unless `scheduler --notify-interval` says otherwise.
 */
export const NOTIFY_EVERY_MS = 60_000;

/** The ways a notification goes out; each tracks its own deliveries (`Notifier`). */
export const NOTIFY_CHANNELS = ['webhook', 'command'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** Where the scheduler tells what needs a person: a webhook, a command, or both. */
export interface NotifySettings {
  /** The URL is a `Secret` (it prints as [redacted]); `from` is where it was read, for messages: a file or a variable, never the URL. */
  readonly webhook: { readonly url: Secret; readonly from: string } | undefined;
  /** A program given each notification's JSON on stdin, run in the companies file's folder; `from` names it for messages. */
  readonly command: { readonly argv: readonly string[]; readonly cwd: string; readonly from: string } | undefined;
  readonly consoleUrl: string | undefined;
}

/** `["msmtp", "-a", "ops"]` given as text (an option, a variable): a list of strings, never a shell line. */
function commandFrom(text: string, from: string): readonly string[] {
  let argv: unknown;
  try {
    argv = JSON.parse(text);
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string' && a !== ''))
    throw new UsageError(`${from} is not a JSON list of the program and its arguments, e.g. ["msmtp", "-a", "ops", "alerts@firm.example"] (no shell line)`);
  return Object.freeze(argv as string[]);
}

const httpUrl = (text: string) => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

function webhookFrom(text: string, from: string): Secret {
  const value = text.trim();
  if (value === '') throw new UsageError(`${from} is empty: put the webhook URL (Slack, Teams or any http(s) endpoint) there`);
  // Its value is never shown: a mistyped URL may still be a working credential.
  if (!httpUrl(value)) throw new UsageError(`${from} does not hold an http(s) URL: put the webhook URL there, e.g. https://hooks.slack.com/services/…`);
  return new Secret(value);
}

/**
 * The notification settings, or undefined when none is given. The webhook: `--notify-webhook-file`,
 * else QBO_PIPELINE_NOTIFY_WEBHOOK_URL_FILE, else QBO_PIPELINE_NOTIFY_WEBHOOK_URL, else the
 * companies file's `notify: {webhook_url_file}`; the command: `--notify-command`, else
 * QBO_PIPELINE_NOTIFY_COMMAND (each a JSON list), else the companies file's `notify: {command}`,
 * run in the companies file's folder (else the current one); the console URL from QBO_PIPELINE_CONSOLE_URL, else
 * `notify: {console_url}`. A file that cannot be read, or holds no URL, is a UsageError naming it.
 */
export function notifySettings(options: {
  readonly webhookFile?: string | undefined;
  readonly command?: string | undefined;
  readonly companies?: Companies | undefined;
  readonly env: NodeJS.ProcessEnv;
}): NotifySettings | undefined {
  const { env, companies } = options;
  const fromFile = (file: string, from: string) =>
    webhookFrom(
      readUserFile(path.resolve(file), (reason) => `${from}: ${reason}`),
      from,
    );
  const named = companies?.notify?.webhookUrlFile;
  const webhook =
    options.webhookFile !== undefined
      ? { url: fromFile(options.webhookFile, `--notify-webhook-file ${options.webhookFile}`), from: `--notify-webhook-file ${options.webhookFile}` }
      : env[NOTIFY_WEBHOOK_FILE_ENV]
        ? { url: fromFile(env[NOTIFY_WEBHOOK_FILE_ENV], `${NOTIFY_WEBHOOK_FILE_ENV} (${env[NOTIFY_WEBHOOK_FILE_ENV]})`), from: NOTIFY_WEBHOOK_FILE_ENV }
        : env[NOTIFY_WEBHOOK_ENV]
          ? { url: webhookFrom(env[NOTIFY_WEBHOOK_ENV], NOTIFY_WEBHOOK_ENV), from: NOTIFY_WEBHOOK_ENV }
          : named
            ? { url: fromFile(named.path, `notify.webhook_url_file ${named.given} (${named.where})`), from: `notify.webhook_url_file ${named.given}` }
            : undefined;
  const cwd = companies ? path.dirname(companies.file) : process.cwd();
  const command =
    options.command !== undefined
      ? { argv: commandFrom(options.command, '--notify-command'), cwd, from: '--notify-command' }
      : env[NOTIFY_COMMAND_ENV]
        ? { argv: commandFrom(env[NOTIFY_COMMAND_ENV], NOTIFY_COMMAND_ENV), cwd, from: NOTIFY_COMMAND_ENV }
        : companies?.notify?.command && { argv: companies.notify.command, cwd, from: `notify.command ${companies.notify.command[0]}` };
  if (!webhook && !command) return undefined;
  const consoleUrl = env[CONSOLE_URL_ENV] || companies?.notify?.consoleUrl;
  if (consoleUrl !== undefined && !httpUrl(consoleUrl)) throw new UsageError(`${CONSOLE_URL_ENV}: ${JSON.stringify(consoleUrl)} is not an http(s) URL`);
  return Object.freeze({ webhook, command, consoleUrl });
}
