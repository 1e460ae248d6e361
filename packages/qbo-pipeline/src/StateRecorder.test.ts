import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from 'singer-kit';
import { StateRecorder } from './StateRecorder.js';

const dir = await mkdtemp(path.join(tmpdir(), 'state-recorder-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('StateRecorder', () => {
  it('writes each committed state at once and skips lines that are not usable states', async () => {
    const warnings: string[] = [];
    const seen: unknown[] = [];
    const file = path.join(dir, 'job.json');
    const recorder = new StateRecorder(file, undefined, createLogger('t', { sink: (l) => warnings.push(l) }), (s) => seen.push(s));
    const first = { bookmarks: { invoices: { replication_key_value: '2025-01-02T00:00:00Z' } } };
    expect(await recorder.record(JSON.stringify(first))).toBe(true);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(first);
    expect(await recorder.record('not json')).toBe(true);
    expect(await recorder.record('{"bookmarks": []}')).toBe(true);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(first);
    expect(recorder.latest).toEqual(first);
    expect(seen).toEqual([first]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/WARN t: target printed a line that is not a state value; state file not updated: not json/);
  });

  it('reports a state file it cannot write, and records nothing after that', async () => {
    const blocked = path.join(dir, 'blocked');
    await mkdir(path.join(blocked, 'job.json'), { recursive: true }); // a folder where the file should be
    const recorder = new StateRecorder(path.join(blocked, 'job.json'), undefined, createLogger('t', { sink: () => undefined }), () => undefined);
    expect(await recorder.record('{"bookmarks":{}}')).toBe(false);
    expect(recorder.failure).toBeInstanceOf(Error);
    expect(await recorder.record('{"bookmarks":{}}')).toBe(false);
  });
});
