import { describe, expect, it } from 'vitest';
import { UsageError } from 'singer-kit';
import { Ajv } from 'ajv';
import { COMPANIES_SCHEMA, KNOWN_STREAMS } from './companiesSchema.js';
import { COMPANIES_AJV_OPTIONS, parseCompanies } from './parseCompanies.js';

const FILE = '/firm/companies.yaml';
const parse = (text: string) => parseCompanies(text, FILE, 'companies.yaml');
/** The one-line error a file gives, or 'ok'. */
const problem = (text: string) => {
  try {
    parse(text);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
};

const GOOD = `# an accounting firm's clients
defaults:
  streams: [invoices, customers]
  secrets:
    client_id_file: secrets/qbo_client_id
    client_secret_file: /run/secrets/qbo_client_secret
  tap:
    sandbox: true
    max_requests_per_minute: 450
scheduler:
  max_parallel: 3
companies:
  - name: acme
    realm_id: "9341453050000000"
    schema: raw_acme
    secrets:
      refresh_token_file: secrets/acme/refresh_token
    tap:
      max_requests_per_minute: 300
  - name: globex-corp
    realm_id: "4620816365000000000"
    streams: all
    secrets:
      refresh_token_file: secrets/globex/refresh_token
      password_file: secrets/globex/warehouse_password
    target:
      batch_size_rows: 5000
`;

/** What tap-quickbooks says an end_lag must be (its `endLagSetting`): the file says the same. */
const END_LAG_ACCEPTS = 'must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (PT5M, PT0S), from PT0S to P1D';

describe('parseCompanies', () => {
  it('checks the file with a schema JSON Schema itself accepts (not checked at each start)', () => {
    const ajv = new Ajv({ ...COMPANIES_AJV_OPTIONS, validateSchema: true });
    expect(ajv.validateSchema(COMPANIES_SCHEMA), ajv.errorsText()).toBe(true);
  });

  it("applies the defaults, resolves secret files against the file's folder and names a schema per company", () => {
    const parsed = parse(GOOD);
    expect(parsed.maxParallel).toBe(3);
    expect(parsed.viewsSchema).toBeUndefined();
    expect(parse(GOOD.replace('companies:\n', 'views:\n  schema: qbo_all\ncompanies:\n')).viewsSchema).toBe('qbo_all');
    expect(parsed.notify).toBeUndefined();
    expect(
      parse(GOOD.replace('companies:\n', 'notify:\n  webhook_url_file: secrets/notify_webhook\n  console_url: https://qbo.example.com/\ncompanies:\n')).notify,
    ).toEqual({
      webhookUrlFile: { path: '/firm/secrets/notify_webhook', given: 'secrets/notify_webhook', where: 'companies.yaml:13:21' },
      consoleUrl: 'https://qbo.example.com/',
    });
    const [acme, globex] = parsed.companies;
    expect(acme).toEqual({
      name: 'acme',
      realmId: '9341453050000000',
      schema: 'raw_acme',
      streams: ['invoices', 'customers'],
      secretFiles: {
        client_id_file: { path: '/firm/secrets/qbo_client_id', given: 'secrets/qbo_client_id', where: 'companies.yaml:5:21' },
        client_secret_file: { path: '/run/secrets/qbo_client_secret', given: '/run/secrets/qbo_client_secret', where: 'companies.yaml:6:25' },
        refresh_token_file: { path: '/firm/secrets/acme/refresh_token', given: 'secrets/acme/refresh_token', where: 'companies.yaml:17:27' },
      },
      tap: { sandbox: true, max_requests_per_minute: 300 },
      target: {},
      where: 'companies.yaml:13',
    });
    expect(
      parse(GOOD.replace('  tap:\n    sandbox', '  start: 2024-01-01\n  schedule: {cron: "15 3 * * *", tz: America/New_York}\n  tap:\n    sandbox'))
        .companies[1],
    ).toMatchObject({ start: '2024-01-01', schedule: { cron: '15 3 * * *', tz: 'America/New_York', where: 'companies.yaml:8' } });
    // Where its schedule is set, for "edit it there": the defaults' line, or its own.
    expect(parse(GOOD.replace('    schema: raw_acme', '    schema: raw_acme\n    schedule: {cron: "0 4 * * *"}')).companies[0]?.schedule).toEqual({
      cron: '0 4 * * *',
      tz: 'UTC',
      where: 'companies.yaml:16',
    });
    expect(globex).toMatchObject({ schema: 'raw_globex_corp', streams: KNOWN_STREAMS, target: { batch_size_rows: 5000 }, where: 'companies.yaml:20' });
    expect(globex?.secretFiles.password_file?.path).toBe('/firm/secrets/globex/warehouse_password');
  });

  it('refuses a key that would hold a secret value, wherever it is, without showing the value', () => {
    const text = GOOD.replace('      refresh_token_file: secrets/acme/refresh_token', '      refresh_token: AB11-the-real-token');
    const message = problem(text);
    expect(message).toBe(
      'companies file companies.yaml:17:7: companies[0] (acme).secrets.refresh_token: would hold a secret value, and the companies file names files only: write it to a file and give refresh_token_file: <path> under secrets:',
    );
    expect(message).not.toContain('AB11');
    expect(problem(GOOD.replace('    sandbox: true', '    client_secret: hunter2hunter2'))).toMatch(
      /^companies file companies.yaml:8:5: defaults.tap.client_secret: would hold a secret value/,
    );
    expect(problem(GOOD.replace('      batch_size_rows: 5000', '      password: pw123456'))).toMatch(
      /^companies file companies.yaml:27:7: companies\[1\] \(globex-corp\)\.target\.password: would hold a secret value.*password_file/,
    );
  });

  it("keeps each tap setting the tap takes, the company's over the defaults'", () => {
    const parsed = parse(
      GOOD.replace('    sandbox: true', '    sandbox: false\n    window: PT6H\n    page_size: 1000').replace(
        '      max_requests_per_minute: 300',
        '      window: P1D\n      base_url: http://127.0.0.1:9\n      include_deleted: false\n      request_timeout_seconds: 0.5\n      max_concurrency: 10',
      ),
    );
    expect(parsed.companies.map((c) => c.tap)).toEqual([
      {
        sandbox: false,
        window: 'P1D',
        page_size: 1000,
        max_requests_per_minute: 450,
        base_url: 'http://127.0.0.1:9',
        include_deleted: false,
        request_timeout_seconds: 0.5,
        max_concurrency: 10,
      },
      { sandbox: false, window: 'PT6H', page_size: 1000, max_requests_per_minute: 450 },
    ]);
  });

  it("keeps each target setting the target takes, the company's over the defaults'", () => {
    const parsed = parse(
      GOOD.replace('scheduler:\n', '  target:\n    sslmode: require\n    port: 6543\n    batch_size_rows: 1000\nscheduler:\n').replace(
        '      batch_size_rows: 5000',
        '      batch_size_rows: 5000\n      host: db.internal\n      max_batch_age_seconds: 0.5\n      reconnect_timeout_seconds: 0\n      validate_records: false',
      ),
    );
    expect(parsed.companies.map((c) => c.target)).toEqual([
      { sslmode: 'require', port: 6543, batch_size_rows: 1000 },
      {
        sslmode: 'require',
        port: 6543,
        batch_size_rows: 5000,
        host: 'db.internal',
        max_batch_age_seconds: 0.5,
        reconnect_timeout_seconds: 0,
        validate_records: false,
      },
    ]);
  });

  it("keeps an end_lag the tap takes, the company's over the defaults'", () => {
    const parsed = parse(
      GOOD.replace('    sandbox: true', '    sandbox: true\n    end_lag: PT0S').replace('      max_requests_per_minute: 300', '      end_lag: PT1H'),
    );
    expect(parsed.companies.map((c) => c.tap.end_lag)).toEqual(['PT1H', 'PT0S']);
  });

  it('says where the YAML is broken', () => {
    expect(problem('companies:\n  - name: acme\n    realm_id: [1,\n')).toMatch(/^companies file companies.yaml:\d+:\d+: not valid YAML: /);
    expect(problem('companies:\n  - name: a\n    name: b\n    realm_id: "1"\n')).toMatch(
      /^companies file companies.yaml:3:5: not valid YAML: Map keys must be unique/,
    );
  });

  it.each([
    [
      'an unquoted realm id',
      GOOD.replace('"9341453050000000"', '9341453050000000'),
      'companies.yaml:14:15: companies[0] (acme).realm_id: must be the realm id\'s digits in quotes, e.g. realm_id: "9341453050000000" (an unquoted number can lose digits)',
    ],
    ['a company without a realm', GOOD.replace('    realm_id: "9341453050000000"\n', ''), 'companies.yaml:13:5: companies[0] (acme): missing realm_id'],
    [
      "the views in a company's schema",
      GOOD.replace('companies:\n', 'views:\n  schema: raw_globex_corp\ncompanies:\n'),
      "companies.yaml:13:11: views.schema: raw_globex_corp is company globex-corp's schema (companies.yaml:22): the views over every company need a schema of their own, e.g. qbo_all",
    ],
    [
      'a views schema that needs quoting',
      GOOD.replace('companies:\n', 'views: {schema: Qbo-All}\ncompanies:\n'),
      'companies.yaml:12:17: views.schema: must be a lower-case PostgreSQL name',
    ],
    [
      'a webhook URL as a value: it is a credential',
      GOOD.replace('companies:\n', 'notify:\n  webhook_url: https://hooks.slack.com/services/T0/B0/secretpath\ncompanies:\n'),
      'companies.yaml:13:3: notify.webhook_url: would hold a secret value, and the companies file names files only: write it to a file and give webhook_url_file: <path> under notify:',
    ],
    [
      'an unknown key',
      GOOD.replace('    schema: raw_acme', '    schema: raw_acme\n    colour: blue'),
      'companies.yaml:16:5: companies[0] (acme).colour: unknown setting "colour"; known here: name, realm_id, schema, streams, start, schedule, secrets, tap, target',
    ],
    [
      'a misspelt tap setting',
      GOOD.replace('    sandbox: true', '    sandbx: true'),
      'companies.yaml:8:5: defaults.tap.sandbx: unknown setting "sandbx"; known here:',
    ],
    [
      'a tap setting of the wrong type',
      GOOD.replace('max_requests_per_minute: 300', 'max_requests_per_minute: lots'),
      'companies.yaml:19:32: companies[0] (acme).tap.max_requests_per_minute: must be an integer from 1 to 100000, got "lots"',
    ],
    [
      'a realm set under tap:',
      GOOD.replace('    sandbox: true', '    realm_id: "1"'),
      "companies.yaml:8:5: defaults.tap.realm_id: realm_id cannot be set here: the realm is the company's own realm_id",
    ],
    [
      'a token store set under tap:',
      GOOD.replace('      max_requests_per_minute: 300', '      token_store: /tmp/t.json'),
      'companies.yaml:19:7: companies[0] (acme).tap.token_store: token_store cannot be set here: each company has its own token store',
    ],
    [
      'the schema set under target:',
      GOOD.replace('      batch_size_rows: 5000', '      schema: raw'),
      "companies.yaml:27:7: companies[1] (globex-corp).target.schema: schema cannot be set here: the schema is the company's own schema",
    ],
    [
      'an unknown stream',
      GOOD.replace('[invoices, customers]', '[invoices, invoice]'),
      'companies.yaml:3:12: defaults.streams: unknown stream "invoice"; known streams: accounts,',
    ],
    [
      'streams neither all nor a list',
      GOOD.replace('streams: all', 'streams: everything'),
      'companies.yaml:22:14: companies[1] (globex-corp).streams: must be all, or a list of streams',
    ],
    [
      'a bad name',
      GOOD.replace('name: globex-corp', 'name: Globex Corp'),
      'companies.yaml:20:11: companies[1] (Globex Corp).name: must be lower-case letters, digits and "-"',
    ],
    [
      'an unknown secret file',
      GOOD.replace('      password_file:', '      pasword_file:'),
      'companies.yaml:25:7: companies[1] (globex-corp).secrets.pasword_file: unknown secret file "pasword_file"; known: "client_id_file",',
    ],
    [
      'a company without its refresh token file',
      GOOD.replace('      refresh_token_file: secrets/globex/refresh_token\n', ''),
      'companies.yaml:20:5: companies[1] (globex-corp): no refresh_token_file under secrets: (here or under defaults:)',
    ],
    [
      'two companies of one realm',
      GOOD.replace('"4620816365000000000"', '"9341453050000000"'),
      "companies.yaml:21:15: companies[1] (globex-corp): realm_id 9341453050000000 is also company acme's (companies.yaml:13): one realm is one company",
    ],
    [
      'two companies in one schema',
      GOOD.replace('    streams: all', '    streams: all\n    schema: raw_acme'),
      "companies.yaml:23:13: companies[1] (globex-corp): schema raw_acme is also company acme's (companies.yaml:13): one company per schema",
    ],
    [
      'two companies of one name',
      GOOD.replace('name: globex-corp', 'name: acme'),
      "companies.yaml:20:11: companies[1] (acme): name acme is also company acme's (companies.yaml:13)",
    ],
    [
      'a start that is not a date',
      GOOD.replace('  streams: [invoices, customers]', '  streams: [invoices, customers]\n  start: 2025-13-01'),
      'companies.yaml:4:10: defaults.start: "2025-13-01" is not a date: there is no month 13',
    ],
    [
      'a schedule that is not cron',
      GOOD.replace('    schema: raw_acme', '    schema: raw_acme\n    schedule: {cron: "every day"}'),
      'companies.yaml:16:15: companies[0] (acme).schedule: cron: "every day" is not a cron expression',
    ],
    [
      'a schedule in no time zone',
      GOOD.replace('    schema: raw_acme', '    schema: raw_acme\n    schedule: {cron: "15 3 * * *", tz: Mars/Olympus}'),
      'companies.yaml:16:15: companies[0] (acme).schedule: tz: "Mars/Olympus" is not an IANA time zone',
    ],
    [
      "an end_lag the tap refuses (the tap's own message: what it accepts)",
      GOOD.replace('      max_requests_per_minute: 300', '      max_requests_per_minute: 300\n      end_lag: soon'),
      `companies.yaml:20:16: companies[0] (acme).tap.end_lag: ${END_LAG_ACCEPTS}, got "soon"`,
    ],
    [
      'a negative end_lag under defaults:, for every company',
      GOOD.replace('    sandbox: true', '    sandbox: true\n    end_lag: -PT5M'),
      `companies.yaml:9:14: defaults.tap.end_lag: ${END_LAG_ACCEPTS}, got "-PT5M"`,
    ],
    [
      'an end_lag over a day (a unit typed wrong)',
      GOOD.replace('      max_requests_per_minute: 300', '      max_requests_per_minute: 300\n      end_lag: P2D'),
      `companies.yaml:20:16: companies[0] (acme).tap.end_lag: ${END_LAG_ACCEPTS}, got "P2D"`,
    ],
    [
      'an end_lag that is a bare number',
      GOOD.replace('      max_requests_per_minute: 300', '      max_requests_per_minute: 300\n      end_lag: 5'),
      `companies.yaml:20:16: companies[0] (acme).tap.end_lag: ${END_LAG_ACCEPTS}, got 5`,
    ],
    [
      'a window the tap refuses (its own message, as for every setting of a fixed form)',
      GOOD.replace('      max_requests_per_minute: 300', '      max_requests_per_minute: 300\n      window: soon'),
      'companies.yaml:20:15: companies[0] (acme).tap.window: must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (P1D, PT6H), got "soon"',
    ],
    [
      "a page size over QBO's 1000 under defaults:, for every company",
      GOOD.replace('    sandbox: true', '    sandbox: true\n    page_size: 5000'),
      'companies.yaml:9:16: defaults.tap.page_size: must be an integer from 1 to 1000, got 5000',
    ],
    [
      'more requests in flight than QBO allows',
      GOOD.replace('      max_requests_per_minute: 300', '      max_concurrency: 11'),
      'companies.yaml:19:24: companies[0] (acme).tap.max_concurrency: must be an integer from 1 to 10, got 11',
    ],
    [
      'a base_url that is not http(s)',
      GOOD.replace('      max_requests_per_minute: 300', '      base_url: ftp://qbo.example'),
      'companies.yaml:19:17: companies[0] (acme).tap.base_url: must be an http(s) URL, got "ftp://qbo.example"',
    ],
    [
      'a negative request timeout',
      GOOD.replace('      max_requests_per_minute: 300', '      request_timeout_seconds: -1'),
      'companies.yaml:19:32: companies[0] (acme).tap.request_timeout_seconds: must be a number ≥ 0, got -1',
    ],
    [
      'a sandbox that is text, not true or false',
      GOOD.replace('    sandbox: true', '    sandbox: "yes"'),
      'companies.yaml:8:14: defaults.tap.sandbox: must be true or false, got "yes"',
    ],
    [
      'a default the tap refuses, though every company sets its own (still a mistake in the file, at its line)',
      GOOD.replace('    sandbox: true', '    sandbox: true\n    window: P0D')
        .replace('      max_requests_per_minute: 300', '      window: PT6H')
        .replace('    target:\n', '    tap:\n      window: PT6H\n    target:\n'),
      'companies.yaml:9:13: defaults.tap.window: must be an ISO 8601 duration in weeks, days, hours, minutes or whole seconds (P1D, PT6H), got "P0D"',
    ],
    [
      'a tap setting it does not know (refused by name, as before)',
      GOOD.replace('      max_requests_per_minute: 300', '      pagesize: 100'),
      'companies.yaml:19:7: companies[0] (acme).tap.pagesize: unknown setting "pagesize"; known here: end_lag, sandbox, base_url, token_url, page_size, window,',
    ],
    [
      "a batch size the target refuses (the target's own rule and words, as for the tap's settings)",
      GOOD.replace('      batch_size_rows: 5000', '      batch_size_rows: 0'),
      'companies.yaml:27:24: companies[1] (globex-corp).target.batch_size_rows: must be a positive integer, got 0',
    ],
    [
      'a batch age below zero',
      GOOD.replace('      batch_size_rows: 5000', '      batch_size_rows: 5000\n      max_batch_age_seconds: -1'),
      'companies.yaml:28:30: companies[1] (globex-corp).target.max_batch_age_seconds: must be a positive number of seconds, got -1',
    ],
    [
      'an sslmode libpq does not have, under defaults:, for every company',
      GOOD.replace('scheduler:\n', '  target:\n    sslmode: maybe\nscheduler:\n'),
      'companies.yaml:11:14: defaults.target.sslmode: must be one of disable, require, verify-full, got "maybe"',
    ],
    [
      'a connect timeout of 0',
      GOOD.replace('      batch_size_rows: 5000', '      connect_timeout_seconds: 0'),
      'companies.yaml:27:32: companies[1] (globex-corp).target.connect_timeout_seconds: must be a positive number of seconds, got 0',
    ],
    [
      'a port past 65535 (a run would retry it as a database that is down)',
      GOOD.replace('      batch_size_rows: 5000', '      port: 70000'),
      'companies.yaml:27:13: companies[1] (globex-corp).target.port: must be an integer from 1 to 65535, got 70000',
    ],
    [
      "a port in quotes: the target's words, not just the type's",
      GOOD.replace('      batch_size_rows: 5000', '      port: "5432"'),
      'companies.yaml:27:13: companies[1] (globex-corp).target.port: must be an integer from 1 to 65535, got "5432"',
    ],
    [
      'validate_records as text',
      GOOD.replace('      batch_size_rows: 5000', '      validate_records: "no"'),
      'companies.yaml:27:25: companies[1] (globex-corp).target.validate_records: must be true or false, got "no"',
    ],
    [
      'a default the target refuses, though every company sets its own',
      GOOD.replace('scheduler:\n', '  target:\n    reconnect_timeout_seconds: -5\nscheduler:\n')
        .replace(
          '    tap:\n      max_requests_per_minute: 300',
          '    tap:\n      max_requests_per_minute: 300\n    target:\n      reconnect_timeout_seconds: 0',
        )
        .replace('      batch_size_rows: 5000', '      reconnect_timeout_seconds: 0'),
      'companies.yaml:11:32: defaults.target.reconnect_timeout_seconds: must be a number of seconds, 0 or more, got -5',
    ],
    [
      "a company schema with PostgreSQL's pg_ prefix (the target's schema rule)",
      GOOD.replace('    schema: raw_acme', '    schema: pg_acme'),
      'companies.yaml:15:13: companies[0] (acme).schema: "pg_acme" starts with pg_, which PostgreSQL keeps for its system schemas; choose another name',
    ],
    ['no companies', 'defaults: {}\n', 'companies.yaml:1:1: the file: missing companies'],
    ['an empty list', 'companies: []\n', 'companies.yaml:1:12: companies: must NOT have fewer than 1 items'],
  ])('refuses %s, naming file, line, column and what is wrong', (_what, text, expected) => {
    expect(problem(text)).toContain(`companies file ${expected}`);
  });
});
