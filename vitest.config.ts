import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/support/privateTmp.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time, also on 2 cores (vitest's default there is one, cores - 1): most files
    // wait on schedulers, timers, child processes and PostgreSQL rather than compute, and each
    // works apart from the others (its own schema, roles, TMPDIR, ports 0, tmpfs, servers).
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          // The packages' unit tests share their workers' processes (isolate: false): with a process
          // per file, starting and importing made the 105 files cost 83-98 CPU-s (80-100 s run alone),
          // against 21-23 CPU-s (19-26 s) shared. They start no servers, and restore what they
          // change; what stays is process-wide by design (singer-kit's list of secrets to redact), so
          // a test's secrets are values no other text contains.
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          // A process per file: these set TMPDIR, environment variables and start servers.
          name: 'end-to-end',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/globalSetup.ts'],
        },
      },
    ],
  },
});
