export * from './settings.js';
export * from './about.js';
export * from './runTarget.js';
export { clientConfig } from './db/clientConfig.js';
export { STREAM_TABLE_COLUMNS, STREAM_TABLE_COLUMN_TYPES } from './sql/ddl.js';
export { connectClient } from './db/connectClient.js';
export { isDiskFull, pgErrorKind, toConfigError } from './db/pgErrors.js';
/** @public the type of `counts` in runTarget's result */
export type { LoadCounts } from './db/loadCounts.js';
