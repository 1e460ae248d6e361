import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from 'singer-kit';
import { backupStateFile, readStateFile, writeStateFile } from './stateFile.js';

const dir = await mkdtemp(path.join(tmpdir(), 'state-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('state file', () => {
  it('is absent before the first commit', async () => {
    expect(await readStateFile(path.join(dir, 'none.json'))).toBeUndefined();
  });

  it('round-trips a committed state value, written atomically with no temp file left', async () => {
    const file = path.join(dir, 'sub', 'job.json');
    const value = { bookmarks: { invoices: { replication_key_value: '2025-01-02T00:00:00Z' } }, other: 1 };
    await writeStateFile(file, value);
    expect(await readStateFile(file)).toEqual(value);
    expect(await readdir(path.dirname(file))).toEqual(['job.json']);
  });

  it.each([
    ['not JSON', '{"bookmarks": {', /is not valid JSON/],
    ['not an object', '[1,2]', /is malformed: it must hold a JSON object/],
    ['bookmarks not an object', '{"bookmarks": 3}', /"bookmarks" must be an object/],
    ['a bookmark that is no instant', '{"bookmarks": {"invoices": {"replication_key_value": "yesterday"}}}', /stream "invoices" .* not an ISO 8601 instant/],
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

  it('moves the state aside before a fresh run, so a fresh run that fails early does not resume from it', async () => {
    const file = path.join(dir, 'keep.json');
    await writeFile(file, '{"bookmarks":{}}');
    const backup = await backupStateFile(file, new Date('2025-02-03T04:05:06.789Z'));
    expect(backup).toBe(path.join(dir, 'keep.20250203T040506.789Z.bak.json'));
    expect(await readFile(backup!, 'utf8')).toBe('{"bookmarks":{}}');
    expect(existsSync(file)).toBe(false);
    expect(await backupStateFile(path.join(dir, 'missing.json'), new Date())).toBeUndefined();
  });
});
