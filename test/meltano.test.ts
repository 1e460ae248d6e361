import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { nextSlot, parseCron } from '../packages/qbo-pipeline/src/schedules/cronSlots.js';
import { FIXTURES_DIR, HAVE_FIXTURES, NO_FIXTURES_REASON, REPO_ROOT } from './support/db.js';

interface MeltanoSetting {
  name: string;
  kind?: string;
  sensitive?: boolean;
}
interface MeltanoPlugin {
  name: string;
  namespace?: string;
  executable?: string;
  inherit_from?: string;
  pip_url?: string;
  capabilities?: string[];
  settings?: MeltanoSetting[];
  select?: string[];
}
interface MeltanoProject {
  plugins: { extractors: MeltanoPlugin[]; loaders: MeltanoPlugin[] };
  jobs: Array<{ name: string; tasks: string[] }>;
  schedules: Array<{ name: string; interval: string; job: string }>;
}

const project = parse(readFileSync(path.join(REPO_ROOT, 'meltano.yml'), 'utf8')) as MeltanoProject;
const plugin = (name: string) => [...project.plugins.extractors, ...project.plugins.loaders].find((p) => p.name === name);

interface AboutProperty {
  type: string;
  format?: string;
  secret?: boolean;
}
interface About {
  name: string;
  version: string;
  capabilities: string[];
  settings: { properties: Record<string, AboutProperty> };
}

/** Runs a bin/ wrapper the way Meltano does: from another working directory. */
function runWrapper(executable: string, args: string[], cwd: string) {
  return spawnSync(executable, args, { cwd, encoding: 'utf8', env: { ...process.env, PATH: process.env.PATH } });
}

function about(name: string): About {
  const result = runWrapper(path.join(REPO_ROOT, 'bin', name), ['--about', '--format', 'json'], tmpdir());
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as About;
}

/** The meltano.yml entry a plugin's --about setting calls for: kinds as Meltano names them, secrets sensitive. */
function expectedSetting(name: string, property: AboutProperty): MeltanoSetting {
  if (property.secret) return { name, kind: 'string', sensitive: true };
  if (property.type === 'string') return { name, kind: property.format === 'date-time' ? 'date_iso8601' : 'string' };
  return { name, kind: property.type === 'number' ? 'decimal' : property.type };
}

describe('meltano.yml', () => {
  it.skipIf(!HAVE_FIXTURES)(`validates against Meltano's schema (draft 2020-12)${HAVE_FIXTURES ? '' : ` (${NO_FIXTURES_REASON})`}`, () => {
    const schema = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'meltano/meltano.schema.json'), 'utf8')) as object;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(project);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
    // The validator is live: a wrong setting kind is rejected.
    const broken = structuredClone(project);
    broken.plugins.extractors[0]!.settings![0]!.kind = 'no-such-kind';
    expect(validate(broken)).toBe(false);
  });

  for (const [name, pkg, capabilities] of [
    ['tap-quickbooks', 'tap-quickbooks', ['catalog', 'discover', 'state', 'about']],
    ['target-postgres-raw', 'target-postgres-raw', ['about']],
  ] as const) {
    describe(name, () => {
      const declared = plugin(name)!;

      it('is a local executable from bin/, with no pip_url, under its namespace', () => {
        expect(declared).toMatchObject({ executable: `./bin/${name}`, namespace: name.replaceAll('-', '_') });
        expect(declared.pip_url).toBeUndefined();
        expect(existsSync(path.join(REPO_ROOT, declared.executable!))).toBe(true);
      });

      it('declares exactly the capabilities the plugin implements', () => {
        expect(declared.capabilities).toEqual(capabilities);
        expect(about(name).capabilities).toEqual(expect.arrayContaining([...capabilities]));
      });

      it('declares every setting of --about with its kind, secrets sensitive, and no other', () => {
        const properties = about(name).settings.properties;
        const expected = Object.entries(properties).map(([key, property]) => expectedSetting(key, property));
        expect(
          declared.settings,
          `meltano.yml settings of ${name} should be:\n${expected.map((s) => `    - ${JSON.stringify(s).replaceAll('"', '').replaceAll(',', ', ').replaceAll(':', ': ')}`).join('\n')}`,
        ).toEqual(expected);
      });

      it('runs through its wrapper from another directory and through a symlink', () => {
        const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { version: string }).version;
        const elsewhere = mkdtempSync(path.join(tmpdir(), 'meltano-project-'));
        try {
          const direct = runWrapper(path.join(REPO_ROOT, 'bin', name), ['--version'], elsewhere);
          expect(direct.status, direct.stderr).toBe(0);
          expect(direct.stdout.trim()).toBe(version);
          const link = path.join(elsewhere, name);
          symlinkSync(path.join(REPO_ROOT, 'bin', name), link);
          const linked = runWrapper(link, ['--about', '--format', 'json'], elsewhere);
          expect(linked.status, linked.stderr).toBe(0);
          expect((JSON.parse(linked.stdout) as About).name).toBe(name);
        } finally {
          rmSync(elsewhere, { recursive: true, force: true });
        }
      });
    });
  }

  it('has the seed pipelines as jobs, each on its own plugin (own state id), a one-time schedule and a daily sync', () => {
    const tasks = Object.fromEntries(project.jobs.map((j) => [j.name, j.tasks]));
    expect(tasks).toEqual({
      qb_invoice_backfill: ['tap-quickbooks--invoices target-postgres-raw'],
      qb_customer_backfill: ['tap-quickbooks--customers target-postgres-raw'],
      qb_item_backfill: ['tap-quickbooks--items target-postgres-raw'],
      qb_all_backfill: ['tap-quickbooks target-postgres-raw'],
      qb_all_sync: ['tap-quickbooks target-postgres-raw'],
    });
    // Meltano's state id is <environment>:<extractor>-to-<loader>: the sync has the backfill's blocks, so it goes on from its bookmarks.
    expect(tasks.qb_all_sync).toEqual(tasks.qb_all_backfill);
    for (const [stream, name] of [
      ['invoices', 'tap-quickbooks--invoices'],
      ['customers', 'tap-quickbooks--customers'],
      ['items', 'tap-quickbooks--items'],
    ] as const) {
      // The evidence stream too: a select names every stream the tap sends (docs/evidence.md).
      expect(plugin(name)).toMatchObject({ inherit_from: 'tap-quickbooks', select: [`${stream}.*`, '_volumetry.*'] });
    }
    for (const task of Object.values(tasks).flat()) {
      for (const block of task.split(' ')) expect(plugin(block), block).toBeDefined();
    }
    expect(project.schedules).toEqual([
      { name: 'qb_all_backfill_once', interval: '@once', job: 'qb_all_backfill' },
      { name: 'qb_all_daily_sync', interval: '15 3 * * *', job: 'qb_all_sync' },
    ]);
    // The daily interval is the same cron expression `qbo-pipeline schedule add` accepts: 03:15 UTC every day.
    const daily = parseCron(project.schedules[1]!.interval, 'UTC');
    expect(nextSlot(daily, new Date('2025-09-12T03:15:00Z'))).toEqual(new Date('2025-09-13T03:15:00Z'));
  });

  it('runs the bare wrapper with a clear error instead of guessing a package', () => {
    const result = runWrapper(path.join(REPO_ROOT, 'bin', 'run-package-cli'), ['--version'], tmpdir());
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/run it through a symlink named after a package/);
  });
});

describe('docs/settings.md', () => {
  it('is the current --about --format markdown of both plugins (node docs/render-settings.mjs rewrites it)', async () => {
    const { renderSettings, SETTINGS_DOC } = (await import(path.join(REPO_ROOT, 'docs/render-settings.mjs'))) as {
      renderSettings: () => string;
      SETTINGS_DOC: string;
    };
    expect(readFileSync(SETTINGS_DOC, 'utf8'), 'docs/settings.md is stale: run node docs/render-settings.mjs').toBe(renderSettings());
  });

  /** The `| setting | default | … |` rows of a package README's Settings section: each name of a row with its default cell. */
  function readmeDefaults(pkg: string): Map<string, string> {
    const text = readFileSync(path.join(REPO_ROOT, 'packages', pkg, 'README.md'), 'utf8');
    const section = text.slice(text.indexOf('\n## Settings'), text.indexOf('\n## ', text.indexOf('\n## Settings') + 1));
    const rows = new Map<string, string>();
    for (const line of section.split('\n').filter((l) => /^\| `/.test(l))) {
      const [names = '', defaults = ''] = line.split(' | ').map((cell) => cell.replace(/^\| /, ''));
      const each = names.split(', ').map((n) => n.replace(/`/g, ''));
      const cells = defaults.split(', ');
      for (const [i, name] of each.entries()) rows.set(name, (cells.length === each.length ? cells[i] : defaults) as string);
    }
    return rows;
  }

  it.each(['tap-quickbooks', 'target-postgres-raw'])("%s's README table lists every setting, with the default --about gives", (pkg) => {
    const about = spawnSync(process.execPath, [path.join(REPO_ROOT, 'packages', pkg, 'dist/cli.js'), '--about', '--format', 'json'], { encoding: 'utf8' });
    const properties = (JSON.parse(about.stdout) as { settings: { properties: Record<string, { default?: string | number | boolean }> } }).settings.properties;
    const rows = readmeDefaults(pkg);
    expect([...rows.keys()].sort()).toEqual(Object.keys(properties).sort());
    // A default short enough for a table cell is written there as it is (a URL may be named instead: "Intuit's").
    const shown = Object.entries(properties).filter(([, p]) => p.default !== undefined && String(p.default).length <= 20);
    expect(
      shown
        .filter(([name, p]) => rows.get(name)?.replace(/`/g, '') !== String(p.default))
        .map(([name, p]) => `${name}: ${rows.get(name)} ≠ ${String(p.default)}`),
    ).toEqual([]);
  });
});
