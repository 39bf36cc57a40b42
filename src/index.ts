export * from './core/index.js';
export * from './registry/index.js';
export * from './ditto/index.js';
export * from './c2e/index.js';
export * from './ledger/index.js';
export * from './device/index.js';
export * from './northbound/index.js';
