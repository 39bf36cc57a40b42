export * from './types.js';
export * from './registry.js';
export * from './tenants.js';
export * from './devices.js';
export * from './credentials.js';
export { encodeSearchQuery, validateSearchQuery, REGISTRY_MAX_PAGE_SIZE } from './query.js';
export { type RegistrySearchOptions, REGISTRY_DEFAULT_PAGE_SIZE } from './search.js';
export * from './passwords.js';
export * from './x509.js';
export { registryHints } from './hints.js';
export type { IfMatchOptions, ModifyOptions } from './transport.js';
export {
  validateCredentials,
  validateCredentialType,
  validateDeviceBody,
  validateTenantBody,
  confidentialValues,
} from './validation.js';
