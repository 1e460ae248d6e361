import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator, type EmulatedCompany, type Emulator, type EmulatorOptions } from '../packages/qbo-emulator/src/index.js';
import { runCliProcess } from './pipelineHarness.js';
import { query } from './targetHarness.js';
import { userEnv, type ProcessRun } from './support/runProcess.js';
import { databaseUrl } from './support/db.js';
import { forSuite } from './support/forSuite.js';

/**
 * An accounting firm's setup against one multi-company emulator: a folder with `secrets/`
 * (the app's client id and secret, each company's refresh token, the warehouse URL) and a
 * companies file naming them, as the README walkthrough does. Commands run with that folder as
 * their working directory, without any TAP_QUICKBOOKS_* or TARGET_POSTGRES_RAW_* variable.
 */
export interface Firm {
  readonly emulator: Emulator;
  readonly dir: string;
  readonly names: readonly string[];
  company(name: string): EmulatedCompany;
  /** Writes `companies.yaml` (or another name) in the folder; returns its name. */
  writeCompanies(text: string, file?: string): Promise<string>;
  /** The companies file the README shows for these companies, with `schemaPrefix` to keep test schemas apart. */
  companiesYaml(options: { readonly schemaPrefix: string; readonly streams?: readonly string[]; readonly extra?: string; readonly endLag?: string }): string;
  cli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<ProcessRun>;
  /** Stops the emulator, removes the folder and drops every schema a `companiesYaml` named. */
  close(): Promise<void>;
}

export type FirmOptions = EmulatorOptions & { readonly names: readonly string[]; readonly databaseUrl: string };

export async function startFirm(options: FirmOptions): Promise<Firm> {
  const { names, databaseUrl, ...emulatorOptions } = options;
  const emulator = await startEmulator({ requestsPerMinute: 1_000_000, ...emulatorOptions, companies: emulatorOptions.companies ?? names.map(() => ({})) });
  const dir = await mkdtemp(path.join(tmpdir(), 'firm-'));
  const secret = async (file: string, value: string) => {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, file), `${value}\n`, { mode: 0o600 });
  };
  await secret('secrets/qbo_client_id', emulator.clientId);
  await secret('secrets/qbo_client_secret', emulator.clientSecret);
  await secret('secrets/warehouse_url', databaseUrl);
  for (const [i, name] of names.entries()) await secret(`secrets/${name}/refresh_token`, emulator.companies[i]!.currentRefreshToken());
  const company = (name: string) => emulator.companies[names.indexOf(name)] as EmulatedCompany;
  const schemas = new Set<string>();
  const schemaOf = (schemaPrefix: string, name: string) => {
    const schema = `${schemaPrefix}_${name.replace(/-/g, '_')}`;
    schemas.add(schema);
    return schema;
  };
  return {
    emulator,
    dir,
    names,
    company,
    async writeCompanies(text, file = 'companies.yaml') {
      await writeFile(path.join(dir, file), text);
      return file;
    },
    companiesYaml({ schemaPrefix, streams, extra = '', endLag }) {
      return [
        'defaults:',
        `  streams: ${streams ? `[${streams.join(', ')}]` : 'all'}`,
        '  secrets:',
        '    client_id_file: secrets/qbo_client_id',
        '    client_secret_file: secrets/qbo_client_secret',
        '    database_url_file: secrets/warehouse_url',
        '  tap:',
        `    base_url: ${emulator.baseUrl}`,
        `    token_url: ${emulator.tokenUrl}`,
        '    retry_backoff_seconds: 0.01',
        '    throttle_wait_seconds: 0.1',
        ...(endLag === undefined ? [] : [`    end_lag: ${endLag}`]),
        extra,
        'companies:',
        ...names.flatMap((name) => [
          `  - name: ${name}`,
          `    realm_id: "${company(name).realmId}"`,
          `    schema: ${schemaOf(schemaPrefix, name)}`,
          '    secrets:',
          `      refresh_token_file: secrets/${name}/refresh_token`,
        ]),
        '',
      ].join('\n');
    },
    cli: (args, env = {}) => runCliProcess(args, { cwd: dir, env: { ...userEnv(), ...env } }),
    async close() {
      if (schemas.size > 0) await query(databaseUrl, [...schemas].map((s) => `DROP SCHEMA IF EXISTS "${s}" CASCADE;`).join('\n'));
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A firm for the suite (the file, or the describe it is called in), its warehouse the tests' database: see forSuite. */
export const suiteFirm = (options: Omit<FirmOptions, 'databaseUrl'>): Firm => forSuite('firm', () => startFirm({ databaseUrl: databaseUrl(), ...options }));

/**
 * A slot of a daily company schedule (`schedule`, for a companies file's defaults) at the whole
 * hour 12 to 13 hours before the test starts, whatever time of day it is: due for hours (past the
 * 15-minute overdue rule), and its next slot 11 to 12 hours away, so a wait for it is never cut short
 * and no other slot comes due while the test runs (a slot at today's 00:00 was replaced by
 * tomorrow's in a test started just before midnight).
 * `start` and `end` are whole UTC days before the test's day, and `trigger` is the slot's trigger's
 * id. `countFromJustBefore(folder)` makes the company's schedule count its slots from just before
 * it, as if a scheduler had first seen the company then, so the slot is due.
 */
export function pastDailySlot() {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const now = Date.now();
  const today = Math.floor(now / DAY) * DAY;
  const slotMs = Math.floor(now / HOUR) * HOUR - 12 * HOUR;
  const slot = new Date(slotMs).toISOString().replace('.000Z', 'Z');
  return {
    start: `${day(today - 3 * DAY)}T00:00:00Z`,
    end: `${day(today - DAY)}T00:00:00Z`,
    slot,
    trigger: `sch-company-${slot.replace(/[-:]/g, '')}`,
    schedule: `  schedule: {cron: "0 ${new Date(slotMs).getUTCHours()} * * *", tz: UTC}`,
    /**
     * Writes `firm`'s companies file: its invoices from the start, on this daily schedule (`more`
     * appended). Records are synced as soon as a test makes them, from an emulator that shows them at
     * once: no end_lag (test/endLag has the lag).
     */
    writeCompanies(firm: Firm, schemaPrefix: string, more = ''): Promise<string> {
      return firm.writeCompanies(
        firm.companiesYaml({ schemaPrefix, streams: ['invoices'], endLag: 'PT0S', extra: `  start: ${day(today - 3 * DAY)}\n${this.schedule}${more}` }),
      );
    },
    countFromJustBefore(companyFolder: string): void {
      mkdirSync(companyFolder, { recursive: true });
      writeFileSync(path.join(companyFolder, 'schedule-since.json'), `${JSON.stringify({ since: new Date(slotMs - 1000).toISOString() })}\n`);
    },
  };
}

/**
 * The locks in `folder` as a runner killed `seconds` ago left them (a lock is judged by the age of
 * its last refresh, and nothing refreshes the locks of a dead runner): rather than waiting that out.
 * A lock that is not there was not taken yet (a run says running before it takes its realm's lock).
 */
export function ageLocks(folder: string, locks: readonly string[], seconds: number): void {
  const then = new Date(Date.now() - seconds * 1000);
  for (const lock of locks.map((name) => path.join(folder, name)).filter((file) => existsSync(file))) utimesSync(lock, then, then);
}
