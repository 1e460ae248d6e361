export * from './Emulator.js';
export * from './startEmulator.js';
export { DEFAULT_REALM_ID } from './EmulatedRealm.js';
export * from './faults.js';
export * from './queryLanguage.js';
export * from './pacificTime.js';
export { DEFAULT_COUNTS, CDC_MAX_OBJECTS, type TruthRow } from './CompanyStore.js';
export type { RotationMode } from './TokenAuthority.js';
export { Rng } from './rng.js';
