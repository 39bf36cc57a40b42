export * from './errors.js';
export * from './redact.js';
export * from './logger.js';
export * from './retry.js';
export * from './ids.js';
export * from './tls.js';
export * from './http.js';
export * from './config.js';
