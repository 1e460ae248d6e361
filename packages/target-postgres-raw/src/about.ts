import { readFileSync } from 'node:fs';
import type { AboutInfo } from 'singer-kit';
import { TARGET_ENV_PREFIX, TARGET_SETTINGS } from './settings.js';

export const TARGET_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const TARGET_ABOUT: AboutInfo = {
  name: 'target-postgres-raw',
  description: 'Singer target that lands each stream as raw jsonb rows (one table per stream, id primary key) in PostgreSQL, exactly and idempotently',
  version: TARGET_VERSION,
  capabilities: ['about', 'validate-records'],
  settings: TARGET_SETTINGS,
  envPrefix: TARGET_ENV_PREFIX,
};
