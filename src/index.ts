/**
 * The package root: every public name of every module, for applications that use several of them. Each module's
 * own entry point (`twinledger/device`, `twinledger/northbound`, ...) exports its curated part plus the shared core
 * API, and loads only that module's dependencies: import it where start-up time and memory matter (a device app need
 * not load gRPC, kafkajs and rhea). The root is the union of those lists (test/unit/api-report.test.ts checks).
 */
export * from './core/index.js';
export * from './protocol/index.js';
export * from './registry/index.js';
export * from './ditto/index.js';
export * from './device/index.js';
export * from './northbound/index.js';
export * from './ledger/index.js';
export * from './merkle/index.js';
export * from './offchain/index.js';
export * from './anchor/index.js';
export * from './c2e/index.js';
