export * from './Emulator.js';
export * from './startEmulator.js';
export * from './faults.js';
export * from './queryLanguage.js';
export * from './pacificTime.js';
/** @public the rows of `EmulatedRealm.truth()`, which tests compare with what landed */
export type { TruthRow } from './CompanyStore.js';
/** @public the type of the emulator's `rotation` option */
export type { RotationMode } from './TokenAuthority.js';
/** @public seeded random numbers for other packages' tests (target-postgres-raw fuzzes its line parser with them) */
export { Rng } from './rng.js';
