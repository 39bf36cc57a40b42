export * from './errors.js';
export * from './connections.js';
export * from './provision.js';
export * from './cloud2edge.js';
