import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from 'singer-kit';
import { backupStateFile, listJobStates, readStateFile, stateJobProblem, writeStateText } from './stateFile.js';

const dir = await mkdtemp(path.join(tmpdir(), 'state-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('state file', () => {
  it('is absent before the first commit', async () => {
    expect(await readStateFile(path.join(dir, 'none.json'))).toBeUndefined();
  });

  it('round-trips a committed state value, written atomically with no temp file left', async () => {
    const file = path.join(dir, 'sub', 'job.json');
    const value = { bookmarks: { invoices: { replication_key_value: '2025-01-02T00:00:00Z' } }, other: 1 };
    await writeStateText(file, JSON.stringify(value));
    expect(await readStateFile(file)).toEqual(value);
    expect(await readdir(path.dirname(file))).toEqual(['job.json']);
  });

  it.each([
    ['not JSON', '{"bookmarks": {', /is not valid JSON/],
    ['not an object', '[1,2]', /is malformed: it must hold a JSON object/],
    ['bookmarks not an object', '{"bookmarks": 3}', /"bookmarks" must be an object/],
    ['a bookmark that is no instant', '{"bookmarks": {"invoices": {"replication_key_value": "yesterday"}}}', /stream "invoices" .* not an ISO 8601 instant/],
    // Date.parse takes it (in the machine's zone); the tap, reading ISO 8601 only, would refuse the state the runner handed it.
    [
      'a bookmark that is no ISO 8601',
      '{"bookmarks": {"invoices": {"replication_key_value": "2025-01-02 00:00:00"}}}',
      /stream "invoices" .* not an ISO 8601 instant/,
    ],
  ])('refuses a malformed file (%s) with an error naming it, never as "no state"', async (_name, text, message) => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, text);
    const error = await readStateFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('--fresh');
  });

  it("refuses a state log (the target's whole output) with the tail -n 1 fix", async () => {
    const file = path.join(dir, 'log.json');
    await writeFile(
      file,
      '{"bookmarks":{"invoices":{"replication_key_value":"2025-01-02T00:00:00Z"}}}\n{"bookmarks":{"invoices":{"replication_key_value":"2025-01-03T00:00:00Z"}}}\n',
    );
    await expect(readStateFile(file)).rejects.toThrow(
      `state file ${file} holds 2 lines, a log of states; a state file is only the last one: tail -n 1 ${file} > ${file}.tmp && mv ${file}.tmp ${file}`,
    );
  });

  it('moves the state aside before a fresh run, so a fresh run that fails early does not resume from it', async () => {
    const file = path.join(dir, 'keep.json');
    await writeFile(file, '{"bookmarks":{}}');
    const backup = await backupStateFile(file, new Date('2025-02-03T04:05:06.789Z'));
    expect(backup).toBe(path.join(dir, 'keep.20250203T040506.789Z.bak.json'));
    expect(await readFile(backup!, 'utf8')).toBe('{"bookmarks":{}}');
    expect(existsSync(file)).toBe(false);
    expect(await backupStateFile(path.join(dir, 'missing.json'), new Date())).toBeUndefined();
  });

  it('lists every job state of a folder, not backups, each read on its own', async () => {
    const folder = path.join(dir, 'listed');
    expect(await listJobStates(folder)).toEqual([]);
    await writeStateText(path.join(folder, 'daily.json'), JSON.stringify({ bookmarks: { invoices: { replication_key_value: '2025-01-02T00:00:00Z' } } }));
    await writeFile(path.join(folder, 'broken.json'), '{');
    await writeFile(path.join(folder, 'daily.20250101T000000Z.bak.json'), '{}');
    await writeFile(path.join(folder, 'daily.lock'), '');
    const jobs = await listJobStates(folder);
    expect(jobs.map((j) => [j.job, j.state === undefined, j.problem === undefined])).toEqual([
      ['broken', true, false],
      ['daily', false, true],
    ]);
    expect(jobs[0]?.problem).toMatch(/broken\.json is not valid JSON/);
  });
});

describe('a state file knows its job', () => {
  const state = (...streams: string[]) => ({ bookmarks: Object.fromEntries(streams.map((s) => [s, { replication_key_value: '2025-01-02T00:00:00Z' }])) });
  const job = (streams: string[], file: string, defaultFile = file) => ({ streams, stateFile: file, defaultStateFile: defaultFile });

  it('accepts its own bookmarks, a new stream added to the job, and no state at all', () => {
    expect(stateJobProblem(state('invoices'), job(['invoices'], 'state/qb_invoices_backfill.json'))).toBeUndefined();
    expect(stateJobProblem(state('invoices'), job(['invoices', 'customers'], 'state/x.json'))).toBeUndefined();
    expect(stateJobProblem(undefined, job(['customers'], 'state/x.json'))).toBeUndefined();
    expect(stateJobProblem({}, job(['customers'], 'state/x.json'))).toBeUndefined();
  });

  it("refuses another job's file (--job naming the wrong one), naming the right file and both ways out", () => {
    expect(stateJobProblem(state('invoices'), job(['customers'], 'state/qb_invoices_backfill.json', 'state/qb_customers_backfill.json'))).toBe(
      'state file state/qb_invoices_backfill.json holds bookmarks of invoices, which this run (streams customers) does not extract: it belongs to another job. ' +
        'Use --streams invoices to continue that job, or leave out --job (streams customers keep their state in state/qb_customers_backfill.json)',
    );
    expect(stateJobProblem(state('invoices', 'customers'), job(['invoices'], 'state/qb_invoices_backfill.json'))).toMatch(
      /holds bookmarks of customers, .* Use --streams invoices,customers to continue that job, or move it aside, or run with --fresh$/,
    );
  });
});
