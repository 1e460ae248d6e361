import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readStateArgument } from './readStateArgument.js';

const dir = await mkdtemp(path.join(tmpdir(), 'state-arg-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('--state FILE', () => {
  it('reads a state value, and keeps its text digit for digit', async () => {
    const file = path.join(dir, 'last-state.json');
    const text = '{"bookmarks":{"invoices":{"replication_key_value":"2025-01-03T00:00:00Z"}},"other":1.10}\n';
    await writeFile(file, text);
    expect(readStateArgument(file)).toEqual({
      value: { bookmarks: { invoices: { replication_key_value: '2025-01-03T00:00:00Z' } }, other: 1.1 },
      text,
    });
  });

  it('reads an empty file as no state: a run stopped before its first commit resumes from start_date', async () => {
    const file = path.join(dir, 'empty.json');
    await writeFile(file, '\n');
    expect(readStateArgument(file)).toBeUndefined();
  });

  it('refuses a state log with the tail -n 1 fix (exit 2)', async () => {
    const file = path.join(dir, 'state.jsonl');
    await writeFile(file, '{"bookmarks":{}}\n{"bookmarks":{}}\n{"bookmarks":{}}\n');
    expect(() => readStateArgument(file)).toThrow(
      `--state ${file} holds 3 lines, a log of states; pass only its last line: tail -n 1 ${file} > last-state.json, then --state last-state.json`,
    );
    try {
      readStateArgument(file);
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it.each([
    ['missing', undefined, /^cannot read --state .*missing\.json: no such file$/],
    ['broken', '{"bookmarks": {', /^--state .*broken\.json is not valid JSON: /],
    ['array', '[]', /must hold a JSON object \(a Singer state value/],
  ])('refuses a %s file with one line naming it', async (name, text, message) => {
    const file = path.join(dir, `${name}.json`);
    if (text !== undefined) await writeFile(file, text);
    expect(() => readStateArgument(file)).toThrow(message);
  });
});
