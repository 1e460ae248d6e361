import { beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { suiteFirm } from './companiesHarness.js';
import { send } from './consoleHttp.js';
import { COMPANY_JOB, consoleOptions, RunJournal, startConsole, type RunStart } from '../packages/qbo-pipeline/src/index.js';

/** docs/companies.md's walk, narrowed to two companies: a one-time trigger each, one company's token revoked. */
const START = '2025-02-26T00:00:00Z';
const END = '2025-03-01T00:00:00Z';

/** An hourly sync of globex's job as the runs journal records it: past the trigger's range, so it covers none of it. */
const hourlySync: Omit<RunStart, 'stateFile'> = {
  kind: 'sync',
  job: COMPANY_JOB,
  company: 'globex',
  streams: ['invoices'],
  range: { start: END, end: '2025-03-01T05:00:00Z' },
  progress: [],
};

const firm = suiteFirm({ names: ['acme', 'globex'], seed: 88, now: new Date(END), days: 3, counts: { invoices: 12 } });
beforeAll(() => firm.writeCompanies(firm.companiesYaml({ schemaPrefix: `ft_${Math.random().toString(16).slice(2, 8)}`, streams: ['invoices'] })));

/** What the console's overview says needs a person about `company`, as its HTML. */
async function needsYou(company: string): Promise<string> {
  const web = await startConsole(consoleOptions({ port: 0, stateDir: path.join(firm.dir, 'state'), companiesFile: path.join(firm.dir, 'companies.yaml') }, {}));
  try {
    const page = (await send(web.url, '/')).text;
    const section = page.slice(page.indexOf(`id="company-${company}"`));
    return section.slice(0, section.indexOf('<h3'));
  } finally {
    await web.close();
  }
}

describe("a company's failed one-time trigger", () => {
  it(
    'needs you after its run failed, and no longer once a later backfill of its company took its streams and range; trigger list keeps it',
    { timeout: 300_000 },
    async () => {
      firm.company('globex').revokeTokens();
      const added = await firm.cli([
        'trigger',
        'add',
        '--companies',
        'companies.yaml',
        '--at',
        '2025-03-01T02:00:00Z',
        '--start',
        START,
        '--end',
        END,
        '--fresh',
      ]);
      expect(added.code, added.stderr).toBe(0);
      const scheduler = await firm.cli(['scheduler', '--companies', 'companies.yaml', '--once']);
      expect(scheduler.code, scheduler.stdout).toBe(2);
      // Its run's failure is the item (it names the trigger: once is enough).
      const failed = await needsYou('globex');
      const trigger = /started by trigger (trg-\S+)\): [^<]*invalid_grant/.exec(failed)?.[1];
      expect(trigger, failed).toBeDefined();

      // Reconnected, its company backfilled by hand over the trigger's range: a plain backfill goes on from the
      // bookmarks, which the first load brought to the range's end, so it read nothing anew, as the --fresh trigger asked.
      await writeFile(path.join(firm.dir, 'secrets/globex/refresh_token'), `${firm.company('globex').reconnect()}\n`);
      const backfill = ['backfill', '--companies', 'companies.yaml', '--company', 'globex', '--start', START, '--end', END];
      const plain = await firm.cli(backfill);
      expect(plain.code, plain.stderr).toBe(0);
      expect(await needsYou('globex')).toContain(`trigger ${trigger} failed: tap-quickbooks: QuickBooks rejected the refresh token`);
      expect(await needsYou('globex')).toContain(`it asked to read its range anew: a backfill --fresh over [${START}, ${END}) does its work`);
      // Started over too, it did the trigger's work; a sync after it changes nothing.
      const fresh = await firm.cli([...backfill, '--fresh']);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(await needsYou('globex')).not.toContain(`trigger ${trigger}`);
      const sync = await firm.cli(['sync', '--companies', 'companies.yaml', '--company', 'globex']);
      expect(sync.code, sync.stderr).toBe(0);
      expect(await needsYou('globex')).not.toContain(`trigger ${trigger}`);

      // Four days of an hourly schedule later (100 more finished runs of the job, none covering the trigger), the
      // journal's pruning as the next sync starts keeps the run that covered it: the item does not come back.
      const journal = RunJournal.of(path.join(firm.dir, 'state/companies/globex'));
      for (let i = 0; i < 100; i++) {
        const run = await journal.start({ ...hourlySync, stateFile: journal.jobStateFile(COMPANY_JOB) });
        await run.finish({ status: 'succeeded', exitCode: 0 });
      }
      const after = await firm.cli(['sync', '--companies', 'companies.yaml', '--company', 'globex']);
      expect(after.code, after.stderr).toBe(0);
      expect((await journal.list()).length).toBeGreaterThan(100);
      expect(await needsYou('globex')).not.toContain(`trigger ${trigger}`);

      // The trigger itself and its failure stay where triggers are listed.
      const list = await firm.cli(['trigger', 'list', '--companies', 'companies.yaml']);
      expect(list.stdout).toMatch(new RegExp(`${trigger}[^\\n]*failed`));
    },
  );
});
