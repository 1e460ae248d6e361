// knip (run by `npm run lint`): no unused file, dependency, export or type comes back. Two passes:
//   knip --include-entry-exports                                      every file, test and script included
//   knip --production --include-entry-exports --include exports,types  what only tests use, package roots included
// Without --include-entry-exports the first pass let through even an export nothing imports at all, and
// one only its own file uses passed the second: 65 such exports had piled up unseen.
// Everything listed below is used in a way knip cannot see; each line says how. A package-root export
// that only a README or another package's tests use says so beside it with a `@public` tag.

// In the production pass an export its own file also uses is the pure core tested directly (dayStatus,
// splitReserved, …), not dead: only an export that nothing but tests calls is reported. The first
// pass keeps reporting an export that only its own file uses.
const production = process.argv.includes('--production');

/** @type {import('knip').KnipConfig} */
export default {
  ignoreExportsUsedInFile: production,
  workspaces: {
    '.': {
      entry: [
        // spawned one by one by bench/run.mjs (npm run bench), never imported
        'bench/*.mjs',
        // loaded with `node --import` by test/soak.test.ts (a shifted clock in child processes)
        'test/support/shiftClock.mjs',
        // loaded with `node --import` by test/cliStartup.test.ts (records the files a CLI loads)
        'test/support/recordModules.mjs',
      ],
      ignoreUnresolved: [
        // test/meltano.run.test.ts spawns the repository's bin/ scripts from a Meltano project folder (cwd), not a path under test/
        './bin/tap-quickbooks',
        './bin/target-postgres-raw',
      ],
      // system programs, used when installed: test/compose.test.ts runs docker-compose (skipped without it),
      // bench/target.mjs times psql's \copy as its baseline (pg-copy-streams without it)
      ignoreBinaries: ['docker-compose', 'psql'],
    },
    'packages/qbo-pipeline': {
      // the console's browser script, served as a file by src/console/consoleServer.ts
      entry: ['assets/console.js'],
      // its chart.umd.min.js is served to browsers from the path createRequire resolves (consoleServer.ts), never imported
      ignoreDependencies: ['chart.js'],
    },
  },
};
