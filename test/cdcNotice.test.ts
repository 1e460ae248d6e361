/**
 * The notice that QBO's 30-day change data capture (CDC) soon stops reaching a stream's deletions
 * follows the tap setting the company's runs actually use: a company whose runs read no CDC
 * (`include_deleted: false`, in the companies file or in the --tap-config its runs were given) has
 * nothing to sync before then, so neither the console nor `company list` warns of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { consoleOptions, startConsole, type RunningConsole } from '../packages/qbo-pipeline/src/index.js';
import { send } from './consoleHttp.js';
import { databaseUrl } from './support/db.js';
import { startFirm, type Firm } from './companiesHarness.js';

const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
const day = (n: number) => new Date(today.getTime() + n * 86_400_000).toISOString().slice(0, 10);
const prefix = `cdcn_${Math.random().toString(16).slice(2, 8)}`;
/** acme reads CDC (the default); bravo's companies-file entry turns it off; carol's runs were given a --tap-config that does. */
const NAMES = ['acme', 'bravo', 'carol'] as const;

let firm: Firm;
let web: RunningConsole;
/** Each company's section of the overview, and `company list`'s output, with every bookmark 25 days old. */
const sections: Record<string, string> = {};
let list = '';

beforeAll(async () => {
  firm = await startFirm({ names: NAMES, databaseUrl: databaseUrl(), seed: 44, now: new Date(today.getTime() - 3_600_000), days: 5, counts: { invoices: 10 } });
  const yaml = firm.companiesYaml({ schemaPrefix: prefix, streams: ['invoices'] });
  await firm.writeCompanies(yaml.replace('  - name: bravo\n', '  - name: bravo\n    tap:\n      include_deleted: false\n'));
  await writeFile(path.join(firm.dir, 'no-cdc.json'), JSON.stringify({ include_deleted: false }));
  for (const [company, extra] of [
    ['acme', []],
    ['bravo', []],
    ['carol', ['--tap-config', 'no-cdc.json']],
  ] as const) {
    const run = await firm.cli(['backfill', '--companies', 'companies.yaml', '--company', company, '--start', day(-5), '--end', day(-3), ...extra]);
    expect(run.code, run.stderr).toBe(0);
  }
  // The scheduler was down for 25 days: every bookmark is that old.
  const bookmark = new Date(Math.floor((Date.now() - 25 * 86_400_000) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  for (const name of NAMES) {
    const stateFile = path.join(firm.dir, 'state', 'companies', name, 'qb_company.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    state.bookmarks.invoices.replication_key_value = bookmark;
    await writeFile(stateFile, JSON.stringify(state));
  }
  // A console given no --tap-config: what carol's runs were given, it only knows from their records.
  web = await startConsole(consoleOptions({ port: 0, stateDir: path.join(firm.dir, 'state'), companiesFile: path.join(firm.dir, 'companies.yaml') }, {}));
  const overview = (await send(web.url, '/')).text;
  for (const section of overview.match(/<section class="company"[\s\S]*?<\/section>/g) ?? []) {
    const name = NAMES.find((n) => section.includes(`${prefix}_${n}`));
    if (name) sections[name] = section;
  }
  const listed = await firm.cli(['company', 'list', '--companies', 'companies.yaml']);
  expect(listed.code, listed.stderr).toBe(0);
  list = listed.stdout;
}, 120_000);

afterAll(async () => {
  await web?.close();
  await firm?.close();
});

describe('the CDC window notice with a 25-day-old bookmark', () => {
  it('warns for the company whose runs read deletions from CDC, in the overview and company list', () => {
    expect(Object.keys(sections).sort()).toEqual([...NAMES]);
    const notice = /invoices: deletions since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ can be read from QBO(&#39;|')s change data capture for \d more days/;
    expect(sections.acme).toMatch(notice);
    expect(sections.acme).toMatch(/<small class="cdc">deletions via change data capture until <time /);
    expect(list).toMatch(new RegExp(`\\nacme: ${notice.source}`));
  });

  it('says nothing of CDC for a company whose runs read none: include_deleted false in the companies file, or in the --tap-config its runs used', () => {
    for (const name of ['bravo', 'carol']) {
      expect(sections[name], name).not.toContain('change data capture');
      expect(list, name).not.toMatch(new RegExp(`^${name}: .*change data capture`, 'm'));
    }
    // The bookmark is old all the same: a stream not refreshed for a day and a half is still named.
    expect(sections.bravo).toContain('1 stream not refreshed for over a day and a half beyond end_lag PT5M: invoices');
  });

  it('records in each run whether its tap read deletions, as its settings said', async () => {
    for (const [name, reads] of [
      ['acme', true],
      ['bravo', false],
      ['carol', false],
    ] as const) {
      const runs = path.join(firm.dir, 'state', 'companies', name, 'runs');
      const [record] = (await readdir(runs)).filter((f) => f.endsWith('.json'));
      expect(JSON.parse(await readFile(path.join(runs, record!), 'utf8')), name).toMatchObject({ status: 'succeeded', readsDeletions: reads });
    }
  });
});
