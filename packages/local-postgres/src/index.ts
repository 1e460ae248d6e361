export * from './startLocalPostgres.js';
