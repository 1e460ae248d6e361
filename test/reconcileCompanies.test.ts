import { beforeAll, describe, expect, it } from 'vitest';
import { withClient } from './support/db.js';
import { suiteFirm } from './companiesHarness.js';

/** `reconcile --companies FILE --company NAME`: the company's realm, secrets, schema and state folder, nothing of another company. */
const START = '2025-02-24T00:00:00Z';
const END = '2025-03-01T00:00:00Z';

const prefix = `rco_${Math.random().toString(16).slice(2, 8)}`;
const firm = suiteFirm({
  names: ['acme', 'globex'],
  seed: 33,
  now: new Date(END),
  days: 5,
  counts: { invoices: 40, customers: 10, items: 6 },
});
beforeAll(() => firm.writeCompanies(firm.companiesYaml({ schemaPrefix: prefix, streams: ['invoices'] })));

describe('reconcile with a companies file', () => {
  it('needs --company: one company at a time (exit 2, no request made)', async () => {
    const before = firm.emulator.requestLog().length;
    const run = await firm.cli(['reconcile', '--companies', 'companies.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(
      'FATAL qbo-pipeline: reconcile --companies: name the company to reconcile with --company NAME (one company at a time)',
    );
    expect(firm.emulator.requestLog().length).toBe(before);
  });

  it("marks in the company's own schema what its company deleted; the other company, whose Ids overlap, is untouched", async () => {
    const backfill = await firm.cli(['backfill', '--companies', 'companies.yaml', '--start', START, '--end', END]);
    expect(backfill.code, backfill.stderr).toBe(0);
    const victim = firm.company('acme').truth('invoices')[5]!.id;
    firm.company('acme').deleteTransaction('Invoice', victim);

    const run = await firm.cli(['reconcile', '--companies', 'companies.yaml', '--company', 'acme']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^reconcile qb_company: done in .*\\ncompany ${firm.company('acme').realmId}, schema ${prefix}_acme, run run-`));
    expect(run.stdout).toContain(`invoices marked deleted: ${victim}`);
    const deleted = async (name: string) =>
      (await withClient((c) => c.query<{ id: string }>(`SELECT id FROM ${prefix}_${name}.invoices WHERE deleted_at_utc IS NOT NULL`))).rows.map((r) => r.id);
    expect(await deleted('acme')).toEqual([victim]);
    expect(await deleted('globex')).toEqual([]);
    const [evidence] = (await withClient((c) => c.query(`SELECT realm_id, missing_ids FROM ${prefix}_acme._reconciliations`))).rows;
    expect(evidence).toEqual({ realm_id: firm.company('acme').realmId, missing_ids: [victim] });
  });

  it("a sync past CDC's 30 days names the exact reconcile command for each company (--companies, --company, its job); pasted, it runs", async () => {
    // The emulator's clock stands at END: to the tap, whose clock is today, every bookmark is older than CDC's 30 days.
    const victim = firm.company('acme').truth('invoices')[9]!.id;
    firm.company('acme').deleteTransaction('Invoice', victim);
    const run = await firm.cli(['sync', '--companies', 'companies.yaml']);
    expect(run.code, run.stderr).toBe(0);
    // The tap's advice, rewritten where the runner prints the tap's lines: no command a person would have to complete.
    expect(run.stderr).not.toContain('`qbo-pipeline reconcile');
    const command = (name: string) => `node \\S+cli\\.js reconcile --companies companies\\.yaml --company ${name} --job qb_company --streams invoices`;
    for (const name of firm.names) {
      expect(run.stderr).toMatch(
        new RegExp(
          `^\\[${name} tap\\] WARN tap-quickbooks: invoices: deletions between \\S+ and \\S+ are older than QBO's 30-day change data capture and cannot be read; to mark the rows QBO no longer has, run \`${command(name)}\`$`,
          'm',
        ),
      );
      expect(run.stdout).toMatch(
        new RegExp(`^${name}: WARNING: deletions QBO's change data capture could not give .*; to mark the rows QBO no longer has, run: ${command(name)}$`, 'm'),
      );
    }
    const pasted = new RegExp(`^acme: WARNING: .* run: (${command('acme')})$`, 'm').exec(run.stdout)![1]!;
    const reconcile = await firm.cli(pasted.split(' ').slice(2));
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(reconcile.stdout).toContain(`invoices marked deleted: ${victim}`);
  });
});
