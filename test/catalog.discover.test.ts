import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './support/db.js';

const TAP_CLI = path.join(REPO_ROOT, 'packages/tap-quickbooks/dist/cli.js');

it('`tap-quickbooks --discover` prints exactly catalog/catalog.json (the committed default catalog)', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [TAP_CLI, '--discover'], { maxBuffer: 64 * 1024 * 1024 });
  const committed = JSON.parse(await readFile(path.join(REPO_ROOT, 'catalog', 'catalog.json'), 'utf8'));
  expect(JSON.parse(stdout)).toEqual(committed);
});
