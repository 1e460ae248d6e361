import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTempOf, reserveFileAtomic, tempPathFor, writeFileAtomic } from './writeFileAtomic.js';

describe('writeFileAtomic', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atomic-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('replaces the file with the new text, private by default, leaving no temporary file', async () => {
    const file = path.join(dir, 'tokens.json');
    await writeFileAtomic(file, 'old\n');
    await writeFileAtomic(file, 'new\n');
    expect(await readFile(file, 'utf8')).toBe('new\n');
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect(await readdir(dir)).toEqual(['tokens.json']);
  });

  it('removes its temporary file when the rename fails, and leaves what was there', async () => {
    const taken = path.join(dir, 'taken');
    await mkdir(taken); // rename(2) does not replace a folder with a file
    await expect(writeFileAtomic(taken, 'never\n')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['taken']);
    expect((await stat(taken)).isDirectory()).toBe(true);
  });

  it('names temporary files hidden, next to the file, different each time', () => {
    const a = tempPathFor('/x/y/state.json');
    expect(path.dirname(a)).toBe('/x/y');
    expect(path.basename(a)).toMatch(/^\.state\.json\.\d+\.[0-9a-f]{8}\.tmp$/);
    expect(tempPathFor('/x/y/state.json')).not.toBe(a);
  });

  it("tells a file's temporary files of one process from any other name in its folder", () => {
    const mine = path.basename(tempPathFor('/x/y/state.json'));
    expect(isTempOf(mine, '/x/y/state.json', process.pid)).toBe(true);
    expect(isTempOf(mine, '/x/y/state.json', process.pid + 1)).toBe(false);
    expect(isTempOf(mine, '/x/y/stat.json', process.pid)).toBe(false);
    expect(isTempOf(`.state.json.${process.pid}.0123456789.tmp`, '/x/y/state.json', process.pid)).toBe(false);
    expect(isTempOf(`.state.json.${process.pid}1.0123abcd.tmp`, '/x/y/state.json', process.pid)).toBe(false);
    expect(isTempOf('state.json', '/x/y/state.json', process.pid)).toBe(false);
  });
});

describe('reserveFileAtomic', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reserve-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('holds the space in a hidden temporary file, then replaces the file with the text alone', async () => {
    const file = path.join(dir, 'tokens.json');
    await writeFileAtomic(file, 'old\n');
    const reserved = await reserveFileAtomic(file, 4096);
    const [temp] = (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
    expect((await stat(path.join(dir, temp!))).size).toBe(4096);
    expect(await readFile(file, 'utf8')).toBe('old\n');
    await reserved.write('new\n');
    await reserved.discard();
    expect(await readFile(file, 'utf8')).toBe('new\n');
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect(await readdir(dir)).toEqual(['tokens.json']);
  });

  it('gives the space back unused, and refuses a text larger than it, leaving the file as it was', async () => {
    const file = path.join(dir, 'state.json');
    await writeFileAtomic(file, 'old\n');
    await (await reserveFileAtomic(file, 100)).discard();
    expect(await readdir(dir)).toEqual(['state.json']);
    const small = await reserveFileAtomic(file, 3);
    await expect(small.write('too long\n')).rejects.toThrow(/9 bytes for .*state\.json, more than the 3 reserved/);
    expect(await readFile(file, 'utf8')).toBe('old\n');
    expect(await readdir(dir)).toEqual(['state.json']);
  });
});
