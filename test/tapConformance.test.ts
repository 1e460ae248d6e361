import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverCatalog } from 'qbo-catalog';
import { startEmulator, type Emulator } from 'qbo-emulator';
import { catalogSelecting, recordsOf, runTapCli, TAP_CLI, tapSettings, tempDir, writeJson } from './tapHarness.js';

const NOW = '2025-03-10T12:00:00Z';

describe('tap-quickbooks CLI and Singer conformance (CONFORMANCE A, B, D)', () => {
  let emulator: Emulator;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 5, now: new Date(NOW), days: 2, counts: { items: 40, invoices: 30 } });
    dir = tempDir();
    config = writeJson(dir, 'config.json', tapSettings(emulator, dir, { start_date: '2025-03-08', end_date: NOW }));
  });
  afterAll(() => emulator?.close());

  it('discovers one JSON catalog, also with --state and --catalog, in either flag form (A1, A10, A11)', async () => {
    const state = writeJson(dir, 'some-state.json', { bookmarks: {} });
    const catalog = writeJson(dir, 'stale-catalog.json', { streams: [] });
    for (const args of [
      ['--config', config, '--discover'],
      [`--config=${config}`, '--state', state, '--catalog', catalog, '--discover'],
    ]) {
      const run = await runTapCli(args);
      expect(run.code).toBe(0);
      const parsed = JSON.parse(run.stdout);
      expect(parsed.streams.map((s: { tap_stream_id: string }) => s.tap_stream_id)).toContain('invoices');
    }
  });

  it('describes itself with --about (text, json, markdown) and --version (A12–A14)', async () => {
    const json = await runTapCli(['--about', '--format', 'json']);
    expect(json.code).toBe(0);
    const about = JSON.parse(json.stdout);
    expect(about).toMatchObject({ name: 'tap-quickbooks', capabilities: ['catalog', 'discover', 'state', 'about'] });
    expect(Object.keys(about.settings.properties)).toEqual(
      expect.arrayContaining(['client_id', 'refresh_token', 'realm_id', 'start_date', 'window', 'token_store', 'include_deleted']),
    );
    expect((await runTapCli(['--about', '--format=markdown'])).stdout).toMatch(/^# tap-quickbooks/);
    expect((await runTapCli(['--about'])).code).toBe(0);
    expect((await runTapCli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('fails cleanly on a missing config or a bad setting, writing nothing to stdout (A6)', async () => {
    const missing = await runTapCli(['--config', `${dir}/nope.json`]);
    expect([missing.code, missing.stdout]).toEqual([2, '']);
    expect(missing.stderr).toMatch(/^FATAL tap-quickbooks: cannot read config file .*nope\.json: no such file/);
    const bad = await runTapCli(['--config', writeJson(dir, 'bad.json', { ...tapSettings(emulator, dir), start_date: '2025-01-01', page_size: 5000 })]);
    expect([bad.code, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toMatch(/page_size must be an integer from 1 to 1000/);
  });

  it('reads settings from TAP_QUICKBOOKS_* and *_FILE', async () => {
    const secretFile = path.join(dir, 'client_secret.txt');
    writeFileSync(secretFile, `${emulator.clientSecret}\n`);
    const { client_secret: _omit, ...rest } = tapSettings(emulator, dir, { start_date: '2025-03-08', end_date: NOW });
    const partial = writeJson(dir, 'partial.json', rest);
    const catalog = writeJson(dir, 'terms.json', catalogSelecting(discoverCatalog() as never, ['terms']));
    const run = await runTapCli(['--config', partial, '--catalog', catalog], {
      env: { TAP_QUICKBOOKS_CLIENT_SECRET_FILE: secretFile, TAP_QUICKBOOKS_PAGE_SIZE: '7' },
    });
    expect(run.stderr).not.toMatch(/FATAL/);
    expect(recordsOf(run, 'terms').every((r) => r._sdc_page_size === 7)).toBe(true);
  });

  it('makes no request for a deselected stream and drops a deselected field (B9, B10, B11)', async () => {
    const catalog = catalogSelecting(discoverCatalog() as never, ['items']) as any;
    const items = catalog.streams.find((s: any) => s.tap_stream_id === 'items');
    for (const field of ['UnitPrice', 'Id']) items.metadata.find((m: any) => m.breadcrumb[1] === field).metadata.selected = false;
    const before = emulator.requestLog().length;
    const run = await runTapCli(['--config', config, '--catalog', writeJson(dir, 'items.json', catalog)]);
    expect(run.code).toBe(0);
    const queried = emulator
      .requestLog()
      .slice(before)
      .map((r) => decodeURIComponent(r.query.replace(/\+/g, ' ')));
    expect(queried.some((q) => /FROM Item\b/.test(q))).toBe(true);
    expect(queried.filter((q) => /FROM (?!Item\b)\w+/.test(q))).toEqual([]);
    expect(new Set(run.messages.filter((m) => m.type !== 'STATE').map((m) => m.stream))).toEqual(new Set(['items']));
    const schema = run.messages.find((m) => m.type === 'SCHEMA' && m.stream === 'items')!.schema;
    expect(schema.properties).not.toHaveProperty('UnitPrice');
    const records = recordsOf(run, 'items');
    expect(records.length).toBeGreaterThan(0);
    expect(records.some((r) => 'UnitPrice' in r)).toBe(false);
    expect(records.every((r) => typeof r.Id === 'string' && 'Name' in r)).toBe(true); // Id is automatic
  });

  it('takes the legacy --properties like --catalog, but not both', async () => {
    const catalog = writeJson(dir, 'terms-properties.json', catalogSelecting(discoverCatalog() as never, ['terms']));
    const run = await runTapCli(['--config', config, '--properties', catalog]);
    expect(run.code).toBe(0);
    expect(new Set(run.messages.filter((m) => m.type === 'RECORD').map((m) => m.stream))).toEqual(new Set(['terms']));
    const both = await runTapCli(['--config', config, '--properties', catalog, '--catalog', catalog]);
    expect([both.code, both.stdout]).toEqual([2, '']);
  });

  it('echoes the input state first and carries other bookmarks and unknown keys forward (D9–D11)', async () => {
    const input = {
      bookmarks: { invoices: { replication_key: 'MetaData.LastUpdatedTime', replication_key_value: '2025-03-09T00:00:00Z' }, gone_stream: { x: 1 } },
      currently_syncing: null,
      other: { keep: true },
    };
    const catalog = writeJson(dir, 'terms-only.json', catalogSelecting(discoverCatalog() as never, ['terms']));
    const run = await runTapCli(['--config', config, '--catalog', catalog, '--state', writeJson(dir, 'in-state.json', input)]);
    expect(run.code).toBe(0);
    expect(run.messages[0]).toEqual({ type: 'STATE', value: input });
    const states = run.messages.filter((m) => m.type === 'STATE').map((m) => m.value);
    expect(states.length).toBeGreaterThan(2);
    for (const state of states) {
      expect(state.bookmarks.invoices).toEqual(input.bookmarks.invoices);
      expect(state.bookmarks.gone_stream).toEqual({ x: 1 });
      expect(state.other).toEqual({ keep: true });
    }
    expect(states.at(-1).bookmarks.terms.replication_key_value).toBe(NOW);
  });

  it('carries what it does not own digit for digit: big integers and exact decimals in other keys stay as given (D10, D11)', async () => {
    // 9007199254740993 is 2^53 + 1: JSON.parse gives 9007199254740992, and 1.10 comes back as 1.1.
    const inputText =
      '{"bookmarks":{"invoices":{"replication_key":"MetaData.LastUpdatedTime","replication_key_value":"2025-03-09T00:00:00Z","cursor":9007199254740993},' +
      '"terms":{"replication_key":"MetaData.LastUpdatedTime","replication_key_value":"2025-03-08T00:00:00Z","partition":12345678901234567891,"progress_markers":{"n":1}}},' +
      '"other_tap":{"offset":9007199254740993,"amount":1.10,"e":1E+2}}';
    const stateFile = path.join(dir, 'big-state.json');
    writeFileSync(stateFile, `${inputText}\n`);
    const catalog = writeJson(dir, 'terms-only-big.json', catalogSelecting(discoverCatalog() as never, ['terms']));
    const run = await runTapCli(['--config', config, '--catalog', catalog, '--state', stateFile]);
    expect(run.code, run.stderr).toBe(0);
    const stateLines = run.lines.filter((l) => l.startsWith('{"type":"STATE"'));
    expect(stateLines[0]).toBe(`{"type":"STATE","value":${inputText}}`);
    expect(stateLines.length).toBeGreaterThan(2);
    for (const line of stateLines.slice(1)) {
      expect(line).toContain(
        '"invoices":{"replication_key":"MetaData.LastUpdatedTime","replication_key_value":"2025-03-09T00:00:00Z","cursor":9007199254740993}',
      );
      expect(line).toContain('"other_tap":{"offset":9007199254740993,"amount":1.10,"e":1E+2}');
      // The advanced stream keeps its own other keys exactly, and drops the SDK's transient ones.
      expect(line).toMatch(/"terms":\{"replication_key":"MetaData\.LastUpdatedTime","replication_key_value":"[^"]+","partition":12345678901234567891\}/);
    }
    expect(JSON.parse(stateLines.at(-1)!).value.bookmarks.terms.replication_key_value).toBe(NOW);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130], // Ctrl-C on a shell pipe
  ] as const)('stops on %s mid-sync leaving only whole lines, saying where to resume (A15)', async (signal, exit) => {
    // Every query after the first gets no answer: the signal lands mid-sync however late it comes.
    emulator.setFaults({ rules: [{ fault: 'stall', kinds: ['query'], from: 2 }] });
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [TAP_CLI, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString('utf8');
        if (out.includes('"type":"RECORD"')) child.kill(signal);
      });
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    emulator.setFaults({ rules: [] });
    expect(code).toBe(exit);
    expect(stdout.endsWith('\n')).toBe(true);
    for (const line of stdout.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      `WARN tap-quickbooks: stopped (${signal}); the last state the target printed marks where to resume (pipe: tail -n 1 of its output, then --state)`,
    );
  });

  it('resumes from an empty --state file (stopped before the first commit) at start_date, and says so', async () => {
    const empty = path.join(dir, 'last-state.json');
    writeFileSync(empty, '');
    const catalog = writeJson(dir, 'terms-only.json', catalogSelecting(discoverCatalog() as never, ['terms']));
    const run = await runTapCli(['--config', config, '--catalog', catalog, '--state', empty]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`INFO tap-quickbooks: --state ${empty} is empty (nothing had been committed yet): every stream starts at start_date`);
    // The first span queried starts at start_date.
    expect(run.stderr).toMatch(/INFO tap-quickbooks: terms \[?2025-03-08[T,:]/);
  });

  it('ends with a non-zero exit, without hanging, when its reader goes away (A16)', async () => {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [TAP_CLI, '--config', config], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', resolve);
    });
    expect(code).not.toBe(0);
  });
});
