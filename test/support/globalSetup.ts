import type { TestProject } from 'vitest/node';
import { startLocalPostgres, type LocalPostgres } from 'local-postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

let server: LocalPostgres | undefined;

/**
 * One real PostgreSQL for the whole suite: DATABASE_URL when set, otherwise an embedded
 * PostgreSQL 13 (the warehouse's version) on a free port in a temporary directory.
 * Every test works in a schema of its own (see db.ts), so the two cases behave alike.
 */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    server = await startLocalPostgres({ version: '13', fast: true });
    url = server.url;
  }
  project.provide('databaseUrl', url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
