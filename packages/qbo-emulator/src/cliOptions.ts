import { readFileSync } from 'node:fs';
import { UsageError, cliYargs } from 'singer-kit';
import type { EmulatorOptions } from './Emulator.js';
import { validateFaultPlan } from './faults.js';

/** What the CLI does besides serving: the companies' names and where to write their credentials. */
export interface CliOptions {
  readonly emulator: EmulatorOptions;
  /** One per company, in order: a name given with --companies, or its realm id. */
  readonly companyNames: readonly string[] | undefined;
  readonly secretsDir: string | undefined;
}

const COMPANY_NAME = /^[a-z0-9][a-z0-9_-]*$/i;

/** `--companies 3` or `--companies acme,globex,initech`: how many companies, and their names if given. */
function parseCompanies(text: string): { count: number; names: string[] | undefined } {
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > 1000) throw new UsageError(`--companies: give 1 to 1000 companies, got ${count}`);
    return { count, names: undefined };
  }
  const names = text.split(',').map((n) => n.trim());
  const bad = names.find((n) => !COMPANY_NAME.test(n));
  if (bad !== undefined)
    throw new UsageError(`--companies: ${JSON.stringify(bad)} is not a company name (letters, digits, _ and -), nor a number of companies`);
  if (new Set(names).size !== names.length) throw new UsageError('--companies: a name is given twice');
  return { count: names.length, names };
}

/** argv → the emulator's options and the CLI's own; any problem is a UsageError naming the option. */
export function parseCliOptions(argv: readonly string[]): CliOptions {
  const args = cliYargs(argv)
    .scriptName('qbo-emulator')
    .usage('$0 [options]\n\nServes a QuickBooks Online company on 127.0.0.1 and prints the tap settings to use (one JSON line on stdout).')
    .options({
      port: { type: 'number', default: 0, describe: 'port on 127.0.0.1 (0 = any free port)' },
      seed: { type: 'number', default: 42, describe: 'same seed and options => byte-identical data' },
      days: { type: 'number', default: 90, describe: 'records were last updated in the last N days' },
      now: { type: 'string', describe: "the company's now (ISO 8601); default: the real now" },
      'realm-id': { type: 'string', describe: 'company (realm) id (of the first company)' },
      companies: {
        type: 'string',
        describe: 'serve several companies whose Ids overlap: a number, or names (acme,globex); realm ids count up from --realm-id, seeds from --seed',
      },
      'secrets-dir': {
        type: 'string',
        describe: 'write the credentials as secret files: DIR/client_id, DIR/client_secret, DIR/<company>/refresh_token (mode 0600)',
      },
      invoices: { type: 'number', describe: 'number of invoices (shorthand for --count invoices=N)' },
      count: { type: 'string', array: true, default: [] as string[], describe: 'records of a stream, e.g. --count customers=500 (repeatable)' },
      fixtures: { type: 'string', describe: 'also serve the records of <stream>[.*].json array files in this folder' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'refresh-token': { type: 'string', describe: 'initial refresh token' },
      'access-token-ttl': { type: 'number', describe: 'access token lifetime in seconds (default 3600)' },
      'rotate-every-hours': { type: 'number', describe: 'rotate the refresh token at most once per N hours (default: on every refresh)' },
      'refresh-token-hard-expiry': { type: 'number', describe: 'refresh tokens die N seconds after start (or after a reconnect)' },
      'access-token-max-uses': { type: 'number', describe: 'fault: each access token dies after N API requests made with it (401 storms)' },
      'requests-per-minute': { type: 'number', describe: 'per-realm limit (default 500)' },
      'max-in-flight': { type: 'number', describe: 'per-realm concurrent requests (default 10)' },
      'retry-after': { type: 'number', describe: 'send Retry-After: N with 429 answers' },
      latency: { type: 'number', describe: 'milliseconds added to every response' },
      'visibility-delay': { type: 'number', describe: 'seconds after its LastUpdatedTime before a record shows in queries and COUNTs (default 0)' },
      faults: { type: 'string', describe: 'fault plan: JSON text or a file holding it, e.g. {"rules":[{"fault":"503","probability":0.05}]}' },
    })
    .version(false)
    .help()
    .parseSync();

  const counts: Record<string, number> = {};
  for (const pair of args.count) {
    const m = /^([A-Za-z_]+)=(\d+)$/.exec(pair);
    if (!m) throw new UsageError(`--count expects stream=N, got "${pair}"`);
    counts[m[1] as string] = Number(m[2]);
  }
  if (args.invoices !== undefined) counts.invoices = args.invoices;
  let now: Date | undefined;
  if (args.now !== undefined) {
    now = new Date(args.now);
    if (Number.isNaN(now.getTime())) throw new UsageError(`--now is not a date-time: "${args.now}"`);
  }
  const visibilityDelay = args['visibility-delay'];
  if (visibilityDelay !== undefined && !(Number.isInteger(visibilityDelay) && visibilityDelay >= 0)) {
    throw new UsageError(`--visibility-delay must be whole seconds, 0 or more, got ${String(visibilityDelay)}`);
  }
  let faults: EmulatorOptions['faults'];
  if (args.faults !== undefined) {
    const text = args.faults.trim().startsWith('{') ? args.faults : readFileSync(args.faults, 'utf8');
    try {
      faults = validateFaultPlan(JSON.parse(text));
    } catch (error) {
      throw new UsageError(`--faults: ${(error as Error).message}`);
    }
  }
  const defined = Object.entries({
    port: args.port,
    seed: args.seed,
    days: args.days,
    now,
    realmId: args['realm-id'],
    counts,
    fixturesDir: args.fixtures,
    clientId: args['client-id'],
    clientSecret: args['client-secret'],
    refreshToken: args['refresh-token'],
    accessTokenTtlSeconds: args['access-token-ttl'],
    rotation: args['rotate-every-hours'] === undefined ? undefined : { everyHours: args['rotate-every-hours'] },
    refreshTokenHardExpiresInSeconds: args['refresh-token-hard-expiry'],
    accessTokenMaxUses: args['access-token-max-uses'],
    requestsPerMinute: args['requests-per-minute'],
    maxInFlight: args['max-in-flight'],
    retryAfterSeconds: args['retry-after'],
    latencyMs: args.latency,
    visibilityDelaySeconds: args['visibility-delay'],
    faults,
  }).filter(([, v]) => v !== undefined);
  const companies = args.companies === undefined ? undefined : parseCompanies(args.companies);
  const emulator = Object.fromEntries(defined) as EmulatorOptions;
  return {
    emulator: companies ? { ...emulator, companies: Array.from({ length: companies.count }, () => ({})) } : emulator,
    companyNames: companies?.names,
    secretsDir: args['secrets-dir'],
  };
}
