export * from './Emulator.js';
export * from './startEmulator.js';
export * from './faults.js';
export * from './queryLanguage.js';
export * from './pacificTime.js';
export type { TruthRow } from './CompanyStore.js';
export type { RotationMode } from './TokenAuthority.js';
export { Rng } from './rng.js';
