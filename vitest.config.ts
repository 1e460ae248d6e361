import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    setupFiles: ['test/support/privateTmp.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time, also on 2 cores (vitest's default there is one, cores - 1): most files
    // wait on schedulers, timers, child processes and PostgreSQL rather than compute, and each
    // works apart from the others (its own schema, roles, TMPDIR, ports 0, tmpfs, servers).
    maxWorkers: 2,
    reporters: ['default'],
  },
});
