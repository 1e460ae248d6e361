import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
// Plain node module (no build step), so that `npm run gen` can run before tsc.
// @ts-expect-error -- no type declarations for the generator script
import { generateCatalogFiles } from '../packages/qbo-catalog/scripts/generateCatalogFiles.mjs';
import { ENTITIES } from 'qbo-catalog';
import { REPO_ROOT } from './support/db.js';

it('the committed catalog/*.json and catalog.json are what `npm run gen` produces', async () => {
  const files = (await generateCatalogFiles()) as Map<string, string>;
  // One schema per stream (every entity and _volumetry) and the catalog: a generator that wrote nothing would pass below.
  expect(files.size).toBe(ENTITIES.length + 2);
  const stale: string[] = [];
  for (const [file, content] of files) {
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== content) stale.push(path.relative(REPO_ROOT, file));
  }
  expect(stale, 'run `npm run gen` and commit the result').toEqual([]);
});
