export * from './settings.js';
export * from './about.js';
export * from './runTarget.js';
export { clientConfig } from './db/clientConfig.js';
export type { LoadCounts } from './db/loadCounts.js';
