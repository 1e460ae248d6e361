import { isIP } from 'node:net';
import { readUserFile, Secret, UsageError } from 'singer-kit';

/** The environment variable naming the file that holds the console's password (a Docker secret under compose). */
export const CONSOLE_PASSWORD_FILE_ENV = 'QBO_CONSOLE_PASSWORD_FILE';
export const DEFAULT_CONSOLE_HOST = '127.0.0.1';
export const DEFAULT_CONSOLE_PORT = 6789;
/** Shorter passwords are refused: the console can start backfills. */
const MIN_PASSWORD_LENGTH = 12;

/** Where the console listens and whether it asks for a password. */
export interface ConsoleAccess {
  readonly host: string;
  readonly port: number;
  /** Set when a password file was given; required when `host` is not a loopback address. */
  readonly password: Secret | undefined;
  /** Only reachable from this machine: the Host header must name a loopback address (no DNS rebinding). */
  readonly loopback: boolean;
}

/** 127.0.0.0/8, ::1 and localhost: what only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '::ffff:127.0.0.1';
}

function readPassword(file: string, source: string): Secret {
  const text = readUserFile(file, (reason) => `${source}: cannot read the console password file ${file} (${reason})`);
  const value = text.replace(/\r?\n$/, '');
  if (value.trim() === '')
    throw new UsageError(`${source}: the console password file ${file} is empty; put a password of at least ${MIN_PASSWORD_LENGTH} characters in it`);
  if (/^change-?me/i.test(value))
    throw new UsageError(`${source}: the console password file ${file} still holds the example value; put your own password in it`);
  if (value.length < MIN_PASSWORD_LENGTH)
    throw new UsageError(`${source}: the console password in ${file} has ${value.length} characters; use at least ${MIN_PASSWORD_LENGTH}`);
  return new Secret(value);
}

/**
 * Checks where the console may listen. Loopback needs nothing; any other address (0.0.0.0 in a
 * container, a LAN address) only with a password read from a file: `--password-file`, or the file
 * named by QBO_CONSOLE_PASSWORD_FILE. Every problem is a UsageError naming the setting.
 */
export function consoleAccess(options: {
  readonly host?: string;
  readonly port?: number;
  readonly passwordFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}): ConsoleAccess {
  const host = (options.host ?? DEFAULT_CONSOLE_HOST).trim();
  const port = options.port ?? DEFAULT_CONSOLE_PORT;
  if (host === '') throw new UsageError('--host: give an address to listen on, e.g. 127.0.0.1');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: ${String(port)} is not a TCP port (0 to 65535)`);
  const envFile = options.env?.[CONSOLE_PASSWORD_FILE_ENV];
  const file = options.passwordFile ?? (envFile ? envFile : undefined);
  const source = options.passwordFile !== undefined ? '--password-file' : CONSOLE_PASSWORD_FILE_ENV;
  const password = file === undefined ? undefined : readPassword(file, source);
  const loopback = isLoopbackHost(host);
  if (!loopback && password === undefined) {
    throw new UsageError(
      `--host ${host}: the console can start and stop pipelines, so off this machine it needs a password; put one in a file and name it with ${CONSOLE_PASSWORD_FILE_ENV} (or --password-file), or listen on 127.0.0.1`,
    );
  }
  return Object.freeze({ host, port, password, loopback });
}
