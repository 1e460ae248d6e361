import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository's `catalog/` (same depth from `src/` and `dist/`). */
export const CATALOG_DIR: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../catalog');
