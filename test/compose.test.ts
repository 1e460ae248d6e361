import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './support/db.js';

// No Docker engine here: a real compose parser (Debian's docker-compose 1.29, whose python3-docker
// also implements Docker's .dockerignore rules) proves the files. .ci/run installs it.
const HAVE_COMPOSE =
  spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).status === 0 &&
  spawnSync('python3', ['-c', 'import docker.utils.build'], { encoding: 'utf8' }).status === 0;
const NO_COMPOSE_REASON = 'docker-compose (apt-get install docker-compose) not installed; skipping compose parser checks';

const repoFile = (name: string) => readFileSync(path.join(REPO_ROOT, name), 'utf8');

type Service = {
  image?: string;
  command?: string[];
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  secrets?: Array<string | { source: string }>;
  ports?: Array<string | { published: number | string; target: number }>;
  volumes?: Array<string | { source?: string; target: string; type: string }>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
};
type ComposeConfig = {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};

function composeConfig(): ComposeConfig {
  const text = execFileSync('docker-compose', ['-f', 'docker-compose.yaml', 'config'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return parse(text) as ComposeConfig;
}

const secretNames = (service: Service) => (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));
const volumeSources = (service: Service) => (service.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : (v.source ?? '')));
const published = (service: Service) => (service.ports ?? []).map((p) => (typeof p === 'string' ? p : `${p.published}:${p.target}`));

function aboutSettings(pkg: string): string[] {
  const out = execFileSync('node', [path.join(REPO_ROOT, 'packages', pkg, 'dist/cli.js'), '--about', '--format', 'json'], { encoding: 'utf8' });
  return Object.keys((JSON.parse(out) as { settings: { properties: Record<string, unknown> } }).settings.properties);
}

describe.skipIf(!HAVE_COMPOSE)(`docker-compose.yaml through a real compose parser${HAVE_COMPOSE ? '' : ` (${NO_COMPOSE_REASON})`}`, () => {
  const config = HAVE_COMPOSE ? composeConfig() : ({ services: {}, secrets: {}, volumes: {} } satisfies ComposeConfig);
  const service = (name: string): Service => {
    const found = config.services[name];
    if (!found) throw new Error(`docker-compose.yaml has no service ${name}`);
    return found;
  };

  it('has the warehouse, warehouseui and scheduler services, with named volumes', () => {
    expect(Object.keys(config.services).sort()).toEqual(['scheduler', 'warehouse', 'warehouseui']);
    expect(Object.keys(config.volumes).sort()).toEqual(['pgadmin_data', 'pipeline_state', 'qbo_tokens', 'warehouse_data']);
    const [warehouse, warehouseui, scheduler] = ['warehouse', 'warehouseui', 'scheduler'].map(service) as [Service, Service, Service];
    expect(warehouse.image).toBe('postgres:13');
    expect(published(warehouse)).toContain('5432:5432');
    expect(volumeSources(warehouse)).toContain('warehouse_data');
    expect(JSON.stringify(warehouse.healthcheck?.test)).toContain('pg_isready');
    expect(warehouseui.image).toMatch(/^dpage\/pgadmin4/);
    expect(published(warehouseui)).toContain('8080:80');
    expect(volumeSources(warehouseui)).toContain('pgadmin_data');
    expect(scheduler.build?.dockerfile).toBe('Dockerfile');
    expect(volumeSources(scheduler)).toEqual(expect.arrayContaining(['pipeline_state', 'qbo_tokens']));
    for (const name of ['warehouseui', 'scheduler']) {
      expect(service(name).depends_on?.warehouse?.condition, name).toBe('service_healthy');
    }
  });

  it('reaches the warehouse by service name with the credentials PostgreSQL is created with', () => {
    const pg = service('warehouse').environment ?? {};
    const env = service('scheduler').environment ?? {};
    expect(env.TARGET_POSTGRES_RAW_HOST).toBe('warehouse');
    expect(env.TARGET_POSTGRES_RAW_PORT).toBe('5432');
    expect(env.TARGET_POSTGRES_RAW_USER).toBe(pg.POSTGRES_USER);
    expect(env.TARGET_POSTGRES_RAW_DATABASE).toBe(pg.POSTGRES_DB);
    const servers = JSON.parse(repoFile('docker/pgadmin/servers.json')) as { Servers: Record<string, Record<string, unknown>> };
    const [server = {}] = Object.values(servers.Servers);
    expect(server).toMatchObject({ Host: 'warehouse', Port: 5432, Username: pg.POSTGRES_USER, MaintenanceDB: pg.POSTGRES_DB });
    // The pgpass pgAdmin is told to use (relative to the login's storage folder) is the one
    // its entrypoint writes from the secret, for the same host, port and user.
    const entrypoint = repoFile('docker/pgadmin/entrypoint.sh');
    expect(server.PassFile).toBe('/.pgpass');
    expect(entrypoint).toContain('> "$storage/.pgpass"');
    expect(entrypoint).toContain(`'${String(server.Host)}:${String(server.Port)}:*:${String(server.Username)}:%s\\n'`);
    expect(entrypoint).toContain('/run/secrets/postgres_password');
    expect(service('warehouseui').environment?.PGADMIN_SERVER_JSON_FILE).toBe('/docker/pgadmin/servers.json');
  });

  it('passes every secret as a Docker secret file from ./secrets, consumed through *_FILE, never as a plain variable', () => {
    for (const [name, secret] of Object.entries(config.secrets)) {
      expect(path.relative(REPO_ROOT, secret.file), name).toBe(path.join('secrets', name));
    }
    for (const [serviceName, service] of Object.entries(config.services)) {
      const mounted = secretNames(service);
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/_FILE$/.test(key) && value.startsWith('/run/secrets/')) {
          expect(mounted, `${serviceName}: ${key}`).toContain(value.slice('/run/secrets/'.length));
        } else {
          expect(key, `${serviceName}: a secret in a plain environment variable`).not.toMatch(/PASSWORD|SECRET|TOKEN$|CLIENT_ID|REALM_ID|DATABASE_URL/);
        }
      }
    }
    const fileVars = (name: string) =>
      Object.entries(service(name).environment ?? {})
        .filter(([key]) => key.endsWith('_FILE'))
        .map(([key, value]) => `${key}=${value}`);
    expect(fileVars('warehouse')).toEqual(['POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password']);
    expect(fileVars('warehouseui')).toEqual(expect.arrayContaining(['PGADMIN_DEFAULT_PASSWORD_FILE=/run/secrets/pgadmin_password']));
    expect(fileVars('scheduler').sort()).toEqual([
      'QBO_CONSOLE_PASSWORD_FILE=/run/secrets/console_password',
      'TAP_QUICKBOOKS_CLIENT_ID_FILE=/run/secrets/qbo_client_id',
      'TAP_QUICKBOOKS_CLIENT_SECRET_FILE=/run/secrets/qbo_client_secret',
      'TAP_QUICKBOOKS_REALM_ID_FILE=/run/secrets/qbo_realm_id',
      'TAP_QUICKBOOKS_REFRESH_TOKEN_FILE=/run/secrets/qbo_refresh_token',
      'TARGET_POSTGRES_RAW_PASSWORD_FILE=/run/secrets/postgres_password',
    ]);
  });

  it("serves the console from the scheduler on the host's loopback only, with its password from a secret", () => {
    const scheduler = service('scheduler');
    // The start-up script ends by exec-ing the scheduler with its console.
    const script = (scheduler.command ?? []).at(-1) ?? '';
    const command = (script.split(' && ').at(-1) ?? '').split(' ').slice(1);
    expect(command.slice(0, 3)).toEqual(['node', 'packages/qbo-pipeline/dist/cli.js', 'scheduler']);
    expect(command).toContain('--console');
    // Inside the container it must listen on every address, which the console allows only with a password.
    expect(command.slice(command.indexOf('--console-host'), command.indexOf('--console-host') + 2)).toEqual(['--console-host', '0.0.0.0']);
    expect(scheduler.environment?.QBO_CONSOLE_PASSWORD_FILE).toBe('/run/secrets/console_password');
    expect(secretNames(scheduler)).toContain('console_password');
    expect(published(scheduler).map((p) => p.replace(/\/tcp$/, ''))).toEqual(['127.0.0.1:6789:6789']);
    const built = spawnSync('node', [...command.slice(1), '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/--console-host/);
    expect(JSON.stringify(scheduler.healthcheck?.test)).toContain('http://127.0.0.1:6789/healthz');
  });

  it('sets only settings the tap and target have (their --about)', () => {
    const known: Record<string, string[]> = {
      TAP_QUICKBOOKS: aboutSettings('tap-quickbooks'),
      TARGET_POSTGRES_RAW: aboutSettings('target-postgres-raw'),
    };
    for (const key of Object.keys(service('scheduler').environment ?? {})) {
      const [, prefix = '', setting = ''] = /^(TAP_QUICKBOOKS|TARGET_POSTGRES_RAW)_(.+?)(_FILE)?$/.exec(key) ?? [];
      if (!prefix) continue;
      expect(known[prefix], key).toContain(setting.toLowerCase());
    }
  });

  it('ships a daily sync: on start the scheduler adds schedule daily_sync (03:15 UTC, invoices,customers,items) once, keeps it as it is on restarts, then runs', () => {
    const scheduler = service('scheduler');
    const [shell, flag, script = ''] = scheduler.command ?? [];
    expect([shell, flag]).toEqual(['sh', '-c']);
    // `docker-compose config` prints $ as $$; the container's shell sees one.
    const [add = '', run] = script.replaceAll('$$', '$').split(' && ');
    expect(run).toBe('exec node packages/qbo-pipeline/dist/cli.js scheduler --console --console-host 0.0.0.0');
    // Run the start-up step as the container would, from a folder laid out like /app.
    const app = mkdtempSync(path.join(tmpdir(), 'compose-app-'));
    try {
      symlinkSync(path.join(REPO_ROOT, 'packages'), path.join(app, 'packages'));
      // The Docker secrets the container reads (schedule add checks every setting), as files of dummy values.
      mkdirSync(path.join(app, 'run-secrets'));
      const secretFiles = Object.fromEntries(
        Object.entries(scheduler.environment ?? {})
          .filter(([key, value]) => key.endsWith('_FILE') && value.startsWith('/run/secrets/'))
          .map(([key, value]) => {
            const file = path.join(app, 'run-secrets', path.basename(value));
            writeFileSync(file, key.includes('REALM_ID') ? '9341453050000000\n' : `dummy-${path.basename(value)}\n`);
            return [key, file];
          }),
      );
      const env = { PATH: process.env.PATH, ...scheduler.environment, ...secretFiles };
      const start = () => spawnSync('sh', ['-c', add], { cwd: app, env, encoding: 'utf8' });
      const first = start();
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^schedule daily_sync: added: sync qb_customers_invoices_items \(invoices,customers,items\) at "15 3 \* \* \*" UTC/);
      const file = path.join(app, 'state/schedules/daily_sync.json');
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
        name: 'daily_sync',
        cron: '15 3 * * *',
        tz: 'UTC',
        paused: false,
        sync: {
          streams: ['invoices', 'customers', 'items'],
          job: 'qb_customers_invoices_items',
          start: '2025-01-01T00:00:00Z',
          stateDir: path.join(app, 'state'),
        },
      });
      // A user's pause survives a restart of the container.
      const pause = spawnSync('node', ['packages/qbo-pipeline/dist/cli.js', 'schedule', 'pause', 'daily_sync'], { cwd: app, env, encoding: 'utf8' });
      expect(pause.status, pause.stderr).toBe(0);
      const again = start();
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^schedule daily_sync: exists, kept as it is: .*, paused/);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ paused: true });
      // A bad value in the environment stops the container at once with one line, not at 03:15.
      const bad = spawnSync('sh', ['-c', add], { cwd: app, env: { ...env, QBO_SYNC_CRON: '15 25 * * *' }, encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim()).toBe('FATAL qbo-pipeline: --cron: "15 25 * * *" is not a valid cron expression: Invalid value for hour: 25');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('has a documented example for every secret', () => {
    for (const name of Object.keys(config.secrets)) {
      expect(existsSync(path.join(REPO_ROOT, 'secrets.example', `${name}.example`)), `secrets.example/${name}.example`).toBe(true);
      expect(repoFile('secrets.example/README.md'), name).toContain(`\`${name}\``);
    }
  });
});

/** Files Docker would send as the build context, by Docker's own .dockerignore rules (docker-py). */
function imageContextFiles(): string[] {
  const script = [
    'import json, os, sys',
    'from docker.utils.build import exclude_paths',
    "patterns = [l.strip() for l in open('.dockerignore').read().splitlines() if l.strip() and not l.strip().startswith('#')]",
    "print(json.dumps(sorted(p for p in exclude_paths('.', patterns) if os.path.isfile(p))))",
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 })) as string[];
}

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

function dockerfileInstructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfile', () => {
  const instructions = dockerfileInstructions(repoFile('Dockerfile'));
  const stages = instructions.filter((i) => i.keyword === 'FROM');
  const finalStage = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));

  it('builds on node:20 (bookworm-slim) in two stages and runs the scheduler as a non-root user with state/ on volumes', () => {
    expect(stages.map((s) => s.args.split(' ')[0])).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    const user = finalStage.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(user.length).toBeGreaterThan(0);
    expect(user[user.length - 1]).not.toMatch(/^(root|0)$/);
    const volumes = finalStage.filter((i) => i.keyword === 'VOLUME').flatMap((i) => JSON.parse(i.args) as string[]);
    expect(volumes).toEqual(expect.arrayContaining(['/app/state', '/app/state/tokens']));
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.startsWith('npm ci'))).toBe(true);
    expect(runs.some((r) => r.includes('npm run build') && r.includes('npm prune --omit=dev'))).toBe(true);
  });

  it('copies every workspace manifest before npm ci, so the lockfile install sees all packages', () => {
    const workspaces = (JSON.parse(repoFile('package.json')) as { workspaces: string[] }).workspaces;
    const npmCi = instructions.findIndex((i) => i.keyword === 'RUN' && i.args.startsWith('npm ci'));
    const copiedBefore = instructions
      .slice(0, npmCi)
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copiedBefore).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', ...workspaces.map((w) => `${w}/package.json`)]));
  });

  it('runs a CLI that `npm run build` produces, and the scheduler command exists', () => {
    const cmd = JSON.parse(finalStage.find((i) => i.keyword === 'CMD')?.args ?? '[]') as string[];
    expect(cmd).toEqual(['node', 'packages/qbo-pipeline/dist/cli.js', 'scheduler']);
    const tsconfig = JSON.parse(repoFile('packages/qbo-pipeline/tsconfig.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(path.join(REPO_ROOT, 'packages/qbo-pipeline/src/cli.ts'))).toBe(true);
    const built = spawnSync('node', [...cmd.slice(1), '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
  });

  it.skipIf(!HAVE_COMPOSE)(`finds every COPY source in the build context${HAVE_COMPOSE ? '' : ` (${NO_COMPOSE_REASON})`}`, () => {
    const context = imageContextFiles();
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
      .map((i) => i.args.split(/\s+/))
      .filter((args) => !args.some((a) => a.startsWith('--from')))
      .flatMap((args) => args.filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(
        context.some((file) => file === source || file.startsWith(`${source}/`)),
        `${source} is missing from the build context`,
      ).toBe(true);
    }
    const keptOut = context.filter((file) => /^(secrets|state|\.git)\/|^\.env|(^|\/)(node_modules|dist)\//.test(file));
    expect(keptOut, 'secrets, state, VCS and local builds stay out of the image').toEqual([]);
  });
});

// ---- secrets must not leak --------------------------------------------------------------

const STRIPPED = /sha(1|256|384|512)-[A-Za-z0-9+/=]+/g; // lockfile integrity hashes are public
const CANDIDATE = /[A-Za-z0-9_+-]{20,}={0,2}/g;

/** Base64 of readable JSON, e.g. a JWT header (`eyJhbGciOi…`): public by design. */
const isEncodedJson = (s: string) => /^[\x20-\x7e]*$/.test(Buffer.from(s, 'base64url').toString('latin1')) && s.startsWith('eyJ');

function entropyBitsPerChar(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

/** How often the character class changes along the string (separators dropped): ~0.6 for random keys, low for words. */
function classChangeRate(text: string): number {
  const classOf = (ch: string) => (/[A-Z]/.test(ch) ? 'u' : /[a-z]/.test(ch) ? 'l' : /\d/.test(ch) ? 'd' : 'o');
  const chars = [...text.replace(/[-_]/g, '')];
  let changes = 0;
  for (let i = 1; i < chars.length; i++) if (classOf(chars[i]!) !== classOf(chars[i - 1]!)) changes++;
  return changes / Math.max(1, chars.length - 1);
}

/** Strings that look like keys or tokens: long, mixed case and digits, high entropy, not made of words. */
function tokenLikeStrings(text: string): string[] {
  return [...text.replace(STRIPPED, '').matchAll(CANDIDATE)]
    .map((m) => m[0])
    .filter((s) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d.*\d/.test(s) && entropyBitsPerChar(s) >= 4 && classChangeRate(s) >= 0.25 && !isEncodedJson(s));
}

const mask = (secret: string) => `${secret.slice(0, 3)}…(${secret.length} chars)`;

function repositoryFiles(): string[] {
  // Tracked files plus those that would be committed next (not ignored).
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\0').filter((f) => f !== '' && existsSync(path.join(REPO_ROOT, f)));
}

function readText(file: string): string | undefined {
  const full = path.join(REPO_ROOT, file);
  const buffer = readFileSync(full);
  return buffer.includes(0) ? undefined : buffer.toString('utf8');
}

/** Example values from secrets.example/*.example, plus real local secrets when a user has created them in secrets/. */
function knownSecretValues(): SecretValue[] {
  const all = ['secrets.example', 'secrets'].flatMap((folder) => {
    const dir = path.join(REPO_ROOT, folder);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f !== 'README.md' && f !== '.gitkeep')
      .map((f) => ({ name: `${folder}/${f}`, value: readFileSync(path.join(dir, f), 'utf8').trim() }))
      .filter((s) => s.value.length >= 8);
  });
  // secrets/ filled from the examples (the README's first step) holds their values again: one name per value.
  return all.filter((s, i) => all.findIndex((t) => t.value === s.value) === i);
}

interface SecretValue {
  readonly name: string;
  readonly value: string;
}

function findLeaks(files: ReadonlyArray<{ file: string; text: string }>, secrets: readonly SecretValue[]): string[] {
  const found: string[] = [];
  for (const { file, text } of files) {
    for (const s of secrets) if (text.includes(s.value)) found.push(`${file}: the value of ${s.name}`);
    for (const token of tokenLikeStrings(text)) found.push(`${file}: token-like string ${mask(token)}`);
  }
  return found;
}

/** secrets/ (and its examples) is where the values belong; every other text file is checked. */
function leaksIn(files: readonly string[]): string[] {
  const texts = files
    .filter((file) => !file.startsWith('secrets/') && !file.startsWith('secrets.example/'))
    .map((file) => ({ file, text: readText(file) }))
    .filter((f): f is { file: string; text: string } => f.text !== undefined);
  return findLeaks(texts, knownSecretValues());
}

describe('no secret in the repository, the compose file or the image', () => {
  it('the detector finds a random key and ignores identifiers, UUIDs and lockfile hashes', () => {
    const key =
      'Q0' +
      Buffer.from(Array.from({ length: 30 }, (_, i) => (i * 97 + 13) % 256))
        .toString('base64')
        .replace(/[/+=]/g, 'x');
    expect(tokenLikeStrings(`refresh_token: ${key}\n`)).toEqual([key]);
    // The shape of a real Intuit refresh token: AB11 and 46 random characters.
    const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const intuitLike = 'AB11' + Array.from({ length: 46 }, (_, i) => alnum[(i * 37 + 11) % alnum.length]).join('');
    expect(tokenLikeStrings(`"refresh_token":"${intuitLike}"`)).toEqual([intuitLike]);
    expect(
      tokenLikeStrings(
        'TAP_QUICKBOOKS_CLIENT_SECRET_FILE maxRequestsPerMinute 5b0c7c1e-4f51-4c36-9a8e-0f2f1d6a9c11 ' +
          '"integrity": "sha512-Ab3dEf9hIjK2mNoP4qRsT6uVwX8yZ+aB1cD/eF3gH5iJ7kL==" ' +
          'changedSince=2025-03-19T00:00:00-07:00 eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0 AB11emulator-refresh-token-seed-42',
      ),
    ).toEqual([]);
  });

  it('reports a file that holds a secret value, without printing the value', () => {
    const secrets = knownSecretValues();
    expect(secrets.map((s) => s.name)).toEqual(
      expect.arrayContaining(['secrets.example/qbo_refresh_token.example', 'secrets.example/postgres_password.example']),
    );
    const first = secrets[0]!;
    const leaks = findLeaks([{ file: 'docs/x.md', text: `password: ${first.value}\n` }], secrets);
    expect(leaks).toEqual([`docs/x.md: the value of ${first.name}`]);
    expect(findLeaks([{ file: 'a', text: 'nothing here' }], secrets)).toEqual([]);
  });

  it('finds no secret value or token-like string in the compose file, the Dockerfile or any repository file', () => {
    expect(leaksIn(['docker-compose.yaml', 'Dockerfile', '.dockerignore', ...repositoryFiles()])).toEqual([]);
  });

  it.skipIf(!HAVE_COMPOSE)(`finds none in the image build context${HAVE_COMPOSE ? '' : ` (${NO_COMPOSE_REASON})`}`, () => {
    const context = imageContextFiles();
    expect(context).toContain('package-lock.json');
    expect(leaksIn(context)).toEqual([]);
  });
});
