import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import path from 'node:path';
import { databaseUrl, withClient } from './support/db.js';
import { suiteFirm } from './companiesHarness.js';
import { expectExactly, RUNNER_CLI, runnerArgs, tableCell } from './pipelineHarness.js';
import { send } from './consoleHttp.js';
import { writeRunRecord } from './support/runRecords.js';
import { consoleOptions, startConsole } from '../packages/qbo-pipeline/src/index.js';

/** Two emulated companies whose entities share Ids (every company has an Invoice "1"), in one warehouse. */
const START = '2025-02-24T00:00:00Z';
const END = '2025-03-01T00:00:00Z';
const STREAMS = ['invoices', 'customers', 'items'] as const;

const prefix = `co_${Math.random().toString(16).slice(2, 8)}`;
const firm = suiteFirm({
  names: ['acme', 'globex'],
  seed: 31,
  now: new Date(END),
  days: 5,
  counts: { invoices: 40, customers: 10, items: 6 },
});
beforeAll(() => firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS })));

const requests = () => firm.emulator.requestLog().length;
const schemaOf = (name: string) => `${prefix}_${name}`;

const expectExact = (name: string) => expectExactly(databaseUrl(), schemaOf(name), firm.company(name), STREAMS, START, END);

describe('companies file: refused before anything runs', () => {
  it.each([
    [
      'a malformed file',
      'companies:\n  - name: acme\n    realm_id: 123\n',
      [],
      /^FATAL qbo-pipeline: companies file bad\.yaml:3:15: companies\[0\] \(acme\)\.realm_id: must be the realm id's digits in quotes/,
    ],
    [
      'an unknown company',
      undefined,
      ['--company', 'initech'],
      /^FATAL qbo-pipeline: --company: no company "initech" in companies file bad\.yaml; its companies: acme, globex$/,
    ],
    [
      'a missing secret file of the company named',
      'missing',
      ['--company', 'globex'],
      /^FATAL qbo-pipeline: companies file bad\.yaml:\d+:\d+: company globex: refresh_token_file secrets\/nobody\/refresh_token does not exist$/,
    ],
  ])('%s: exit 2, one line naming file, line and what, no request made, no secret printed', async (_what, text, extra, line) => {
    const good = firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS });
    await firm.writeCompanies(
      text === undefined ? good : text === 'missing' ? good.replace('secrets/globex/refresh_token', 'secrets/nobody/refresh_token') : text,
      'bad.yaml',
    );
    const before = requests();
    const run = await firm.cli(['backfill', '--companies', 'bad.yaml', ...extra, '--start', START, '--end', END]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(line);
    expect(run.stdout).toBe('');
    expect(requests()).toBe(before);
    for (const secret of [firm.emulator.clientSecret, firm.company('acme').currentRefreshToken(), firm.company('globex').currentRefreshToken()]) {
      expect(run.stderr + run.stdout).not.toContain(secret);
    }
    expect(existsSync(path.join(firm.dir, 'state'))).toBe(false);
  });

  it('a companies file that names a secret value is refused, and the value is never shown', async () => {
    const token = firm.company('acme').currentRefreshToken();
    await firm.writeCompanies(
      firm.companiesYaml({ schemaPrefix: prefix }).replace('refresh_token_file: secrets/acme/refresh_token', `refresh_token: ${token}`),
      'bad.yaml',
    );
    const run = await firm.cli(['company', 'list', '--companies', 'bad.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(
      /^FATAL qbo-pipeline: companies file bad\.yaml:\d+:7: companies\[0\] \(acme\)\.secrets\.refresh_token: would hold a secret value/,
    );
    expect(run.stderr + run.stdout).not.toContain(token);
  });

  it('company list says what is wrong with each secret file (empty, missing), not "missing" for all', async () => {
    await writeFile(path.join(firm.dir, 'secrets/empty_token'), '');
    await firm.writeCompanies(
      firm
        .companiesYaml({ schemaPrefix: prefix, streams: STREAMS })
        .replace('secrets/acme/refresh_token', 'secrets/empty_token')
        .replace('secrets/globex/refresh_token', 'secrets/nobody/refresh_token'),
      'bad.yaml',
    );
    const run = await firm.cli(['company', 'list', '--companies', 'bad.yaml']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^acme\s+\|.*\| 1 empty\s+\| state\/companies\/acme /m);
    expect(run.stdout).toMatch(/^globex\s+\|.*\| 1 missing\s+\| state\/companies\/globex /m);
    expect(run.stdout).toMatch(/^companies file bad\.yaml:\d+:\d+: company acme: refresh_token_file secrets\/empty_token is empty$/m);
    expect(run.stderr.trim()).toMatch(
      /^FATAL qbo-pipeline: 2 of 2 companies cannot run \(acme, globex\): companies file bad\.yaml:\d+:\d+: company acme: refresh_token_file secrets\/empty_token is empty; the lines under the table name every problem$/,
    );
  });

  it('company list says a shared secret file of defaults: that is missing once, naming the companies, not once per company', async () => {
    await firm.writeCompanies(
      firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS }).replace('secrets/qbo_client_id', 'secrets/qbo_clientid'),
      'bad.yaml',
    );
    const run = await firm.cli(['company', 'list', '--companies', 'bad.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(
      /^FATAL qbo-pipeline: 2 of 2 companies cannot run \(acme, globex\): companies file bad\.yaml:\d+:\d+: company acme: client_id_file secrets\/qbo_clientid does not exist; the lines/,
    );
    expect(run.stderr.split('does not exist').length - 1).toBe(1);
  });

  it('company list says "unreadable" for a secret file that exists but cannot be opened (a symbolic link loop)', async () => {
    // Tests run as root, who reads any file whatever its mode; a link to itself fails for root too (ELOOP).
    await symlink('token_loop', path.join(firm.dir, 'secrets/token_loop'));
    await firm.writeCompanies(
      firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS }).replace('secrets/globex/refresh_token', 'secrets/token_loop'),
      'loop.yaml',
    );
    const run = await firm.cli(['company', 'list', '--companies', 'loop.yaml']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^globex\s+\|.*\| 1 unreadable\s+\| state\/companies\/globex /m);
    expect(run.stdout).toMatch(/^companies file loop\.yaml:\d+:\d+: company globex: refresh_token_file secrets\/token_loop cannot be read \(ELOOP\)$/m);
  });
});

describe('two companies whose Ids overlap, loaded into one warehouse', () => {
  it('company list shows both, their schemas and state folders, and that they can run', async () => {
    const run = await firm.cli(['company', 'list', '--companies', 'companies.yaml']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `acme\\s+\\| ${firm.company('acme').realmId} \\| ${schemaOf('acme')}\\s+\\| invoices, customers, items \\| ok\\s+\\| state/companies/acme\\s+\\| never ran`,
      ),
    );
    expect(run.stdout).toMatch(new RegExp(`globex\\s+\\| ${firm.company('globex').realmId} \\| ${schemaOf('globex')}`));
  });

  it('backfill runs every company into its own schema: both complete and exact, though every company has an Invoice "1"', async () => {
    const run = await firm.cli(['backfill', '--companies', 'companies.yaml', '--start', START, '--end', END]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/== company acme \(realm \d+, schema co_\w+_acme\) ==\nbackfill qb_company: done in/);
    expect(run.stdout).toMatch(/2 companies: 2 ok, 0 failed/);
    // The table over companies: a first load's records are all new rows.
    for (const name of ['acme', 'globex']) {
      expect(Number(tableCell(run.stdout, name, 'loaded')), run.stdout).toBeGreaterThan(0);
      expect(tableCell(run.stdout, name, 'new')).toBe(tableCell(run.stdout, name, 'loaded'));
      expect(tableCell(run.stdout, name, 'changed')).toBe('0');
    }
    await expectExact('acme');
    await expectExact('globex');
    const one = await withClient((c) =>
      c.query(
        `SELECT a.payload::text <> g.payload::text AS differ, a.realm_id AS a, g.realm_id AS g FROM ${schemaOf('acme')}.invoices a JOIN ${schemaOf('globex')}.invoices g USING (id) WHERE id = '1'`,
      ),
    );
    expect(one.rows).toEqual([{ differ: true, a: firm.company('acme').realmId, g: firm.company('globex').realmId }]);

    for (const name of firm.names) {
      const folder = path.join(firm.dir, 'state/companies', name);
      expect(JSON.parse(readFileSync(path.join(folder, 'qb_company.json'), 'utf8')).bookmarks.invoices.replication_key_value).toBe(END);
      expect(readdirSync(path.join(folder, 'tokens'))).toEqual([`${firm.company(name).realmId}.json`]);
      const [runFile] = readdirSync(path.join(folder, 'runs')).filter((f) => f.endsWith('.json'));
      expect(JSON.parse(readFileSync(path.join(folder, 'runs', runFile as string), 'utf8'))).toMatchObject({
        company: name,
        status: 'succeeded',
        job: 'qb_company',
      });
    }
    // No state outside the companies' folders: nothing of one company can reach another.
    expect(readdirSync(path.join(firm.dir, 'state'))).toEqual(['companies']);
  });

  it('company list says what became of a company taken out of the file: nothing runs it, its folder and rows are kept', async () => {
    const yaml = firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS });
    await firm.writeCompanies(yaml.replace(/^ {2}- name: globex\n(?: {4}.*\n)+/m, ''), 'acme-only.yaml');
    const run = await firm.cli(['company', 'list', '--companies', 'acme-only.yaml']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^companies file acme-only\.yaml: 1 company$/m);
    expect(run.stdout).toMatch(
      /^company globex is not in companies file acme-only\.yaml any more: nothing of it runs \(its pending triggers wait, unrun: trigger list --companies acme-only\.yaml shows them\); its state folder state\/companies\/globex \(bookmarks, token store, runs\) and its rows are kept\. Put it back in the file to go on from its bookmarks, or delete the folder and drop the schema to forget it$/m,
    );
    expect(readdirSync(path.join(firm.dir, 'state/companies/globex'))).toContain('qb_company.json');
    // One company asked for: only it.
    const one = await firm.cli(['company', 'list', '--companies', 'acme-only.yaml', '--company', 'acme']);
    expect(one.stdout).not.toContain('globex');
  });

  it('trigger list shows the pending triggers of a company taken out of the file, and says how to run or drop them', async () => {
    const triggers = path.join(firm.dir, 'state/companies/globex/triggers');
    const yaml = firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS });
    await firm.writeCompanies(yaml.replace(/^ {2}- name: globex\n(?: {4}.*\n)+/m, ''), 'acme-only.yaml');
    try {
      const add = ['trigger', 'add', '--companies', 'companies.yaml', '--company', 'globex', '--at', '2099-01-01T00:00:00Z', '--start', START, '--end', END];
      const added = await firm.cli(add);
      expect(added.code, added.stderr).toBe(0);
      const id = /trigger (trg-\S+):/.exec(added.stdout)?.[1] as string;
      const drop = `or delete a trigger's ${path.join(triggers, '<id>.json')} to drop it`;
      const all = await firm.cli(['trigger', 'list', '--companies', 'acme-only.yaml']);
      expect(all.code, all.stderr).toBe(0);
      expect(all.stdout).toContain(
        `company globex, not in companies file acme-only.yaml any more (1 pending trigger, waiting unrun: put it back in the file to run them, ${drop}):\n`,
      );
      expect(all.stdout).toMatch(new RegExp(`^${id} .*pending`, 'm'));
      const one = await firm.cli(['trigger', 'list', '--companies', 'acme-only.yaml', '--company', 'globex']);
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toMatch(new RegExp(`^${id} .*pending`, 'm'));
      expect(one.stdout).not.toContain('company acme');
      // Its file deleted, as the line says: no trigger of it is left, and a company with none pending is not listed.
      await rm(path.join(triggers, `${id}.json`));
      expect((await firm.cli(['trigger', 'list', '--companies', 'acme-only.yaml'])).stdout).not.toContain('globex');
    } finally {
      await rm(triggers, { recursive: true, force: true });
    }
  });

  it("evidence answers per company, stream and UTC day, from each company's schema; --sql is one query over all of them", async () => {
    const run = await firm.cli(['evidence', '--companies', 'companies.yaml', '--since', START, '--until', END]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^evidence of 2 companies, UTC days \[2025-02-24, 2025-03-01\)/);
    expect(run.stdout).toContain(`${2 * STREAMS.length * 5} company-stream-days, 0 where extracted ≠ loaded`);
    for (const name of firm.names) {
      for (const stream of STREAMS) {
        const perDay = new Map<string, number>();
        for (const r of firm.company(name).truth(stream)) {
          const day = new Date(r.lastUpdated).toISOString().slice(0, 10);
          if (day >= '2025-02-24' && day < '2025-03-01') perDay.set(day, (perDay.get(day) ?? 0) + 1);
        }
        for (const [day, n] of perDay) {
          expect(run.stdout).toMatch(new RegExp(`^${name}\\s+\\| ${stream}\\s+\\| ${day} \\|\\s+${n} \\|\\s+${n} \\|\\s+${n} \\|.*\\| yes$`, 'm'));
        }
      }
    }
    const sql = await firm.cli(['evidence', '--companies', 'companies.yaml', '--sql']);
    expect(sql.code, sql.stderr).toBe(0);
    const all = await withClient((c) => c.query(sql.stdout));
    expect(new Set(all.rows.map((r) => r.company))).toEqual(new Set(['acme', 'globex']));
    expect(all.rows.filter((r) => r.day_utc >= '2025-02-24' && r.day_utc < '2025-03-01')).toHaveLength(2 * STREAMS.length * 5);
    expect(all.rows.every((r) => r.extracted_equals_loaded)).toBe(true);
  });

  it('evidence: a company it cannot read is an error on stderr (exit 2), the others still print; one never loaded is not an error', async () => {
    const yaml = firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS });
    const acmeSecrets = '      refresh_token_file: secrets/acme/refresh_token';
    await firm.writeCompanies(yaml.replace(acmeSecrets, `${acmeSecrets}\n      database_url_file: secrets/acme/gone`), 'unreadable.yaml');
    const run = await firm.cli(['evidence', '--companies', 'unreadable.yaml', '--since', START, '--until', END, '--problems']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^ERROR qbo-pipeline: acme: cannot read schema co_\w+_acme: .*secrets\/acme\/gone.*ENOENT/m);
    expect(run.stdout).not.toContain('acme');
    expect(run.stdout).toContain('no day where extracted ≠ loaded');
    expect(run.stdout).toContain(`${STREAMS.length * 5} company-stream-days, 0 where extracted ≠ loaded; 1 of 2 companies could not be read`);

    await firm.writeCompanies(yaml.replace(`schema: ${prefix}_globex`, `schema: ${prefix}_never_loaded`), 'fresh.yaml');
    const fresh = await firm.cli(['evidence', '--companies', 'fresh.yaml', '--since', START, '--until', END]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain(`globex: no evidence yet: schema ${prefix}_never_loaded has no _volumetry and _load_stats`);
  });

  it('evidence refuses a --target-config it cannot read once, naming the file, before reading any company', async () => {
    const run = await firm.cli(['evidence', '--companies', 'companies.yaml', '--target-config', 'target.json']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`FATAL qbo-pipeline: cannot read target config ${path.join(firm.dir, 'target.json')}: no such file`);
  });

  it("schedule list --companies shows each company's schedule: from the file, and the streams it runs, by company (--company: that one)", async () => {
    const extra = '  schedule: {cron: "15 3 * * *", tz: America/New_York}';
    await firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS, extra }), 'scheduled.yaml');
    const run = await firm.cli(['schedule', 'list', '--companies', 'scheduled.yaml']);
    expect(run.code, run.stderr).toBe(0);
    for (const name of firm.names) {
      expect(run.stdout).toMatch(
        // The streams it runs are the company's own (the schedule names none: its file says which).
        new RegExp(
          `^company ${name}:\\nname .*\\n[-+]+\\ncompany\\s+\\| 15 3 \\* \\* \\* America/New_York \\| active\\s+\\| qb_company \\| ${STREAMS.join(',')}\\s+\\|`,
          'm',
        ),
      );
    }
    const one = await firm.cli(['schedule', 'list', '--companies', 'scheduled.yaml', '--company', 'globex']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^company globex:\n/);
    expect(one.stdout).not.toContain('company acme:');

    // A company of every stream (streams: all): 'all 28', in schedule list as in company list, not 28 names.
    await firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, extra }), 'scheduled-all.yaml');
    const all = await firm.cli(['schedule', 'list', '--companies', 'scheduled-all.yaml', '--company', 'acme']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/\| qb_company \| all 28\s+\|/);
    const list = await firm.cli(['company', 'list', '--companies', 'scheduled-all.yaml']);
    expect(list.stdout).toMatch(/^acme\s+\|.*\| all 28\s+\|/m);
  });

  it("schedule add with a companies file (given, or QBO_PIPELINE_COMPANIES) is refused, naming the file's schedule:, and adds no schedule the scheduler would never run", async () => {
    // The single-company variables a compose scheduler also has: without the refusal, schedule add succeeds into state/schedules/.
    const env = {
      TAP_QUICKBOOKS_CLIENT_ID_FILE: 'secrets/qbo_client_id',
      TAP_QUICKBOOKS_CLIENT_SECRET_FILE: 'secrets/qbo_client_secret',
      TAP_QUICKBOOKS_REFRESH_TOKEN_FILE: 'secrets/acme/refresh_token',
      TAP_QUICKBOOKS_REALM_ID: firm.company('acme').realmId,
      TARGET_POSTGRES_RAW_DATABASE_URL_FILE: 'secrets/warehouse_url',
    };
    const add = ['schedule', 'add', '--cron', '0 12 * * *', '--streams', 'invoices', '--start', START];
    for (const [args, extraEnv] of [
      [['--companies', 'companies.yaml', '--company', 'acme'], {}],
      [[], { QBO_PIPELINE_COMPANIES: 'companies.yaml' }],
    ] as const) {
      const run = await firm.cli([...add, ...args], { ...env, ...extraEnv });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(
        `FATAL qbo-pipeline: schedule add: with companies file companies.yaml, a company's recurring sync is its schedule: in that file (schedule: {cron: "15 3 * * *", tz: America/New_York}, under the company or defaults); edit it there: the scheduler reads it at its next pass, and schedule list --companies companies.yaml shows it`,
      );
      expect(existsSync(path.join(firm.dir, 'state/schedules'))).toBe(false);
    }
  });

  it('--company runs one company only, resuming from its own state file', async () => {
    const before = requests();
    const run = await firm.cli(['backfill', '--companies', 'companies.yaml', '--company', 'globex', '--start', START, '--end', END]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^backfill qb_company: done in/);
    expect(run.stdout).toContain('nothing to do');
    expect(requests()).toBe(before);
  });

  it('a company whose refresh token was revoked fails alone with its invalid_grant line; the other completes; the fix and the resume are per company', async () => {
    const since = new Date(Date.parse(END) - 86_400_000).toISOString().replace('.000Z', 'Z');
    firm.company('acme').revokeTokens();
    const run = await firm.cli(['backfill', '--companies', 'companies.yaml', '--start', since, '--end', END, '--fresh']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/2 companies: 1 ok, 1 failed/);
    expect(run.stdout).toMatch(/acme\s+\| \d+ \| co_\w+_acme\s+\| FIX\s+\|\s+2 \|[^\n]*invalid_grant/);
    expect(run.stdout).toMatch(/globex\s+\| \d+ \| co_\w+_globex\s+\| ok\s+\|\s+0 \|/);
    expect(run.stdout).toMatch(/acme: fix this first, then run again: tap-quickbooks: QuickBooks rejected the refresh token \(invalid_grant/);
    // Where acme's new token goes is its refresh_token_file, not the tap's setting its runs never read: so the fix says,
    // once: the tap's FATAL line, whose reason the summary gives, is not passed through too.
    expect(run.stdout).toMatch(
      /acme: fix this first, .*: reconnect the app to company \d+ and put the new refresh token in its refresh_token_file secrets\/acme\/refresh_token \(companies file companies\.yaml:\d+:\d+\);/,
    );
    expect(run.stderr).not.toContain('[acme tap] FATAL');
    expect(run.stdout + run.stderr).not.toContain('set the new refresh_token');
    await expectExact('globex');
    // The console's token health says so too, not "refresh token valid".
    const tokenAdvice = async () => {
      const web = await startConsole(
        consoleOptions({ port: 0, stateDir: path.join(firm.dir, 'state'), companiesFile: path.join(firm.dir, 'companies.yaml') }, {}),
      );
      try {
        const overview = (await send(web.url, '/')).text;
        const acme = overview.slice(overview.indexOf('id="company-acme"'), overview.indexOf('id="company-globex"'));
        return /<h3[^>]*>Token health<\/h3>[\s\S]*?<\/table>/.exec(acme)?.[0] ?? '';
      } finally {
        await web.close();
      }
    };
    expect(await tokenAdvice()).toMatch(
      new RegExp(
        `QuickBooks rejected the refresh token at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\(invalid_grant, intuit_tid [^)]+\\): reconnect the app to company ${firm.company('acme').realmId}`,
      ),
    );

    // The company reconnects the app; its new refresh token goes in its file; the same command completes it.
    await writeFile(path.join(firm.dir, 'secrets/acme/refresh_token'), `${firm.company('acme').reconnect()}\n`);
    const again = await firm.cli(['backfill', '--companies', 'companies.yaml', '--company', 'acme', '--start', START, '--end', END]);
    expect(again.code, again.stderr).toBe(0);
    await expectExact('acme');
    expect(await tokenAdvice()).not.toContain('rejected');
  });

  it('a company in a long outage (every request 503) fails alone with exit 1 and its resume command; the other completes; the resume completes it', async () => {
    const globex = firm.company('globex').realmId;
    firm.emulator.setFaults({ rules: [{ fault: '503', realms: [globex], probability: 1 }] });
    const since = new Date(Date.parse(END) - 2 * 86_400_000).toISOString().replace('.000Z', 'Z');
    const run = await firm.cli(['backfill', '--companies', 'companies.yaml', '--start', since, '--end', END, '--fresh']);
    firm.emulator.setFaults({ rules: [] });
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/2 companies: 1 ok, 1 failed/);
    // The reason is too long for its cell (the query, QBO's HTML page): cut there, in full under the table.
    expect(run.stdout).toMatch(/globex\s+\| \d+ \| co_\w+_globex\s+\| FAILED\s+\|\s+1 \|[^\n]* … \(see below\)\n/);
    expect(run.stdout).toMatch(/acme\s+\| \d+ \| co_\w+_acme\s+\| ok\s+\|\s+0 \|/);
    expect(run.stdout).toMatch(/^globex: tap-quickbooks: query .* failed after \d+ attempts: HTTP 503 .*\nglobex: resume with: /m);
    const resume = /^globex: resume with: (.+)$/m.exec(run.stdout)?.[1];
    expect(resume).toMatch(/^node \S+cli\.js backfill --companies companies\.yaml --company globex --job qb_company --start \S+ --end 2025-03-01T00:00:00Z$/);
    await expectExact('acme');
    const resumed = await new Promise<number | null>((resolve) => {
      const child = spawn('sh', ['-c', resume as string], { cwd: firm.dir, env: { PATH: process.env.PATH }, stdio: 'ignore' });
      child.on('close', resolve);
    });
    expect(resumed).toBe(0);
    await expectExact('globex');
  });

  it("the collision case: a company pointed at another company's schema is refused with exit 2 naming both realms and the setting; nothing of either is lost", async () => {
    // The same companies, but globex's entry names acme's schema (a copied line, a second file).
    const collide = firm
      .companiesYaml({ schemaPrefix: prefix, streams: STREAMS })
      .replace(`schema: ${schemaOf('globex')}`, `schema: ${schemaOf('acme')}`)
      .replace(/ {2}- name: acme\n( {4}.*\n)+?(?= {2}- name: globex)/, '');
    await firm.writeCompanies(collide, 'collide.yaml');
    const run = await firm.cli(['backfill', '--companies', 'collide.yaml', '--company', 'globex', '--start', START, '--end', END, '--fresh']);
    expect(run.code, run.stderr).toBe(2);
    const acme = firm.company('acme').realmId;
    const globex = firm.company('globex').realmId;
    expect(run.stdout).toMatch(
      new RegExp(
        `FAILED: target-postgres-raw: line \\d+: stream "\\w+" record id "\\d+" is of company \\(realm\\) ${globex}, but schema "${schemaOf('acme')}" holds company \\(realm\\) ${acme} \\(recorded in ${schemaOf('acme')}._company\\); one schema holds one company, so nothing of this batch was written; load each company into its own schema: set the target setting schema \\(TARGET_POSTGRES_RAW_SCHEMA\\), or the company's schema: in the companies file`,
      ),
    );
    await expectExact('acme');
    const realms = await withClient((c) =>
      c.query(`SELECT DISTINCT realm_id FROM ${schemaOf('acme')}.invoices UNION SELECT realm_id FROM ${schemaOf('acme')}._company`),
    );
    expect(realms.rows).toEqual([{ realm_id: acme }]);
    // Put right, the same command loads globex where it belongs, all of it.
    const fixed = await firm.cli(['backfill', '--companies', 'companies.yaml', '--company', 'globex', '--start', START, '--end', END]);
    expect(fixed.code, fixed.stderr).toBe(0);
    await expectExact('globex');
  });

  it('trigger add for every company checks them all first: one company that cannot run adds no trigger at all', async () => {
    const store = path.join(firm.dir, 'state/companies/globex/tokens', `${firm.company('globex').realmId}.json`);
    const kept = readFileSync(store, 'utf8');
    await writeFile(store, '{"refresh_token": ');
    try {
      const run = await firm.cli(['trigger', 'add', '--companies', 'companies.yaml', '--at', '2099-01-01T00:00:00Z', '--start', START, '--end', END]);
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toMatch(/^FATAL qbo-pipeline: .*token store .*globex/);
      for (const name of firm.names) expect(existsSync(path.join(firm.dir, 'state/companies', name, 'triggers'))).toBe(false);
    } finally {
      await writeFile(store, kept, { mode: 0o600 });
    }
  });

  it("trigger add for a company refuses a stream its streams: do not list, as the console's form does: exit 2, one line naming them", async () => {
    const run = await firm.cli(
      runnerArgs(['trigger', 'add'], {
        companies: 'companies.yaml',
        company: 'acme',
        streams: 'invoices,bills',
        at: '2099-01-01T00:00:00Z',
        start: START,
        end: END,
      }),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(
      `FATAL qbo-pipeline: --streams: "bills" is not among company acme's streams (its streams: in the companies file): ${STREAMS.join(', ')}`,
    );
    expect(existsSync(path.join(firm.dir, 'state/companies/acme/triggers'))).toBe(false);
  });

  it('trigger add for one company prints its instant in UTC once, with its Z, as trigger list and the ranges do', async () => {
    const triggers = path.join(firm.dir, 'state/companies/acme/triggers');
    try {
      const run = await firm.cli(
        runnerArgs(['trigger', 'add'], { companies: 'companies.yaml', company: 'acme', at: '2099-09-11T22:45:54-05:00', start: START, end: END }),
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(
        /^company acme: trigger trg-20990912T034554Z-\w+: backfill \S+ \[2025-02-24T00:00:00Z, 2025-03-01T00:00:00Z\) at 2099-09-12T03:45:54Z \(given as 2099-09-11T22:45:54-05:00\)$/m,
      );
      expect(run.stdout).not.toContain('UTC');
    } finally {
      await rm(triggers, { recursive: true, force: true });
    }
  });

  it('a company whose refresh token file is missing fails alone, one line naming it and the file; the others load, and the scheduler still starts', async () => {
    await firm.writeCompanies(
      firm.companiesYaml({ schemaPrefix: prefix, streams: STREAMS }).replace('secrets/globex/refresh_token', 'secrets/nobody/refresh_token'),
      'missing.yaml',
    );
    const line = /companies file missing\.yaml:\d+:\d+: company globex: refresh_token_file secrets\/nobody\/refresh_token does not exist/;
    const since = new Date(Date.parse(END) - 86_400_000).toISOString().replace('.000Z', 'Z');
    const run = await firm.cli(['backfill', '--companies', 'missing.yaml', '--start', since, '--end', END, '--fresh']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toMatch(/2 companies: 1 ok, 1 failed/);
    expect(run.stdout).toMatch(/acme\s+\| \d+ \| co_\w+_acme\s+\| ok\s+\|\s+0 \|/);
    expect(run.stdout).toMatch(new RegExp(`^globex: fix this first, then run again: ${line.source}$`, 'm'));
    await expectExact('acme');

    // The scheduler of the whole firm starts (and runs the others' work); it names the company and the file.
    // Under --once (cron, CI) it exits 2 though nothing was due: that company cannot run until someone fixes it.
    const scheduler = await firm.cli(['scheduler', '--companies', 'missing.yaml', '--once']);
    expect(scheduler.code, scheduler.stderr).toBe(2);
    expect(scheduler.stderr).toMatch(/ERROR qbo-pipeline: scheduler --once: 1 of 2 companies cannot run \(globex\): fix their secret files/);
    expect(scheduler.stderr).toMatch(
      new RegExp(`ERROR qbo-pipeline scheduler: ${line.source}; its runs fail until it is there \\(the other companies go on\\)`),
    );
  });

  it('company list says when the last run of a company says running but its runner was killed (kill -9), so nobody waits for it', async () => {
    // QBO answers nothing until the test is done: the run cannot end before the test has seen it running, however slow the machine.
    onTestFinished(firm.emulator.holdAnswers());
    const child = spawn(
      process.execPath,
      [RUNNER_CLI, 'backfill', '--companies', 'companies.yaml', '--company', 'globex', '--start', START, '--end', END, '--fresh'],
      {
        cwd: firm.dir,
        env: { PATH: process.env.PATH },
        stdio: 'ignore',
      },
    );
    const runs = path.join(firm.dir, 'state/companies/globex/runs');
    const running = () =>
      (existsSync(runs) ? readdirSync(runs) : [])
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(path.join(runs, f), 'utf8')) as { pid: number; status: string })
        .some((r) => r.pid === child.pid && r.status === 'running');
    while (!running()) await new Promise((resolve) => setTimeout(resolve, 100));
    const gone = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    const list = await firm.cli(['company', 'list', '--companies', 'companies.yaml', '--company', 'globex']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`running \\(runner pid ${child.pid} on \\S+ is gone: run it again to resume\\) backfill qb_company `));
  });

  it("company list reads a silent runner's last sign of life as every instant reads (2025-03-01 04:00:00Z), not raw ISO", async () => {
    // A run of another host that nothing shows alive: no runner holds its job's lock.
    const folder = path.join(firm.dir, 'state/companies/acme');
    const id = 'run-20990101T000000Z-d4e5f6'; // the newest run of the company
    await writeRunRecord(folder, { id, job: 'qb_company', company: 'acme', startedAt: '2025-03-01T04:00:00.123Z' });
    try {
      const list = await firm.cli(['company', 'list', '--companies', 'companies.yaml', '--company', 'acme']);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain('running (runner gone? no sign of life since 2025-03-01 04:00:00Z: run it again to resume) sync qb_company ');
    } finally {
      await rm(path.join(folder, 'runs', `${id}.json`));
    }
  });

  it('company list and the console call a run runner gone once its pid belongs to another process (one started at another time), not running', async () => {
    // Its runner died and the pid went to another process since: a sleep, whose start is not the one the run recorded.
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    const folder = path.join(firm.dir, 'state/companies/acme');
    const id = 'run-20990101T000000Z-a1b2c3'; // the newest run of the company
    await writeRunRecord(folder, { id, job: 'qb_company', company: 'acme', pid: other.pid!, pidStart: '1', host: hostname() });
    const web = await startConsole(
      consoleOptions({ port: 0, stateDir: path.join(firm.dir, 'state'), companiesFile: path.join(firm.dir, 'companies.yaml') }, {}),
    );
    try {
      const gone = `runner pid ${other.pid} on ${hostname()} is gone`;
      const list = await firm.cli(['company', 'list', '--companies', 'companies.yaml', '--company', 'acme']);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(`running (${gone}: run it again to resume) sync qb_company `);
      const runs = (await send(web.url, '/runs?company=acme')).text;
      expect(new RegExp(`<tr data-run="${id}"[^>]*>[\\s\\S]*?</tr>`).exec(runs)?.[0]).toContain(
        '<span class="pill warn">running</span> <small>runner gone</small>',
      );
      expect((await send(web.url, `/runs/${id}`)).text).toContain(`This run says running, but its runner (pid ${other.pid}) is gone`);
      expect((await send(web.url, '/')).text).toContain(`last run of job qb_company failed: ${gone}: run it again to resume`);
    } finally {
      await web.close();
      other.kill('SIGKILL');
      await rm(path.join(folder, 'runs', `${id}.json`));
    }
  });
});
