export * from './settings.js';
export * from './about.js';
export * from './runTarget.js';
export { clientConfig, LOAD_COUNT_NAMES, type LoadCounts } from './RawTableWriter.js';
export { tableNameFor, quoteIdent, qualified, RESERVED_TABLES } from './tableName.js';
export { createLoadTablesSql, createStreamTableSql } from './ddl.js';
