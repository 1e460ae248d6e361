import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { openUserFile, readUserFile } from './readUserFile.js';

const dir = mkdtempSync(path.join(tmpdir(), 'user-file-'));

describe('readUserFile', () => {
  it('returns the text of a file', () => {
    writeFileSync(path.join(dir, 'a.json'), '{"a":1}\n');
    expect(readUserFile(path.join(dir, 'a.json'), () => 'unused')).toBe('{"a":1}\n');
  });

  it("refuses a missing file or a folder with a usage error (exit 2) in the caller's words", () => {
    const missing = () => readUserFile(path.join(dir, 'nope.json'), (reason) => `cannot read config file nope.json: ${reason}`);
    expect(missing).toThrow(UsageError);
    expect(missing).toThrow('cannot read config file nope.json: no such file');
    mkdirSync(path.join(dir, 'folder'));
    expect(() => readUserFile(path.join(dir, 'folder'), (reason) => `cannot read ${reason}`)).toThrow('cannot read EISDIR');
  });
});

describe('openUserFile', () => {
  it('opens a file for reading', async () => {
    writeFileSync(path.join(dir, 'b.singer'), 'line\n');
    const handle = await openUserFile(path.join(dir, 'b.singer'), () => 'unused');
    expect((await handle.readFile('utf8')).toString()).toBe('line\n');
    await handle.close();
  });

  it('refuses a missing file or a folder with the same usage errors as readUserFile', async () => {
    const missing = openUserFile(path.join(dir, 'nope.singer'), (reason) => `cannot read --input nope.singer: ${reason}`);
    await expect(missing).rejects.toThrow(UsageError);
    await expect(openUserFile(path.join(dir, 'nope.singer'), (reason) => `cannot read --input nope.singer: ${reason}`)).rejects.toThrow(
      'cannot read --input nope.singer: no such file',
    );
    mkdirSync(path.join(dir, 'folder2'));
    await expect(openUserFile(path.join(dir, 'folder2'), (reason) => `cannot read ${reason}`)).rejects.toThrow('cannot read EISDIR');
  });
});
