export * from './entities.js';
export * from './catalogDir.js';
export * from './SingerCatalog.js';
export * from './discoverCatalog.js';
export * from './selectStreams.js';
