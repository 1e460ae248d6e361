// `npm run gen`: writes the catalog's generated files (see generateCatalogFiles.mjs); `--check` only
// reports files that are out of date and exits 1 if any is.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateCatalogFiles, REPO_ROOT } from './generateCatalogFiles.mjs';

const check = process.argv.includes('--check');
const stale = [];
for (const [file, content] of await generateCatalogFiles()) {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) continue;
  stale.push(path.relative(REPO_ROOT, file));
  if (!check) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}
const verb = check ? 'out of date' : 'written';
process.stderr.write(stale.length === 0 ? 'catalog: generated files are up to date\n' : `catalog: ${verb}: ${stale.join(', ')}\n`);
if (check && stale.length > 0) process.exitCode = 1;
