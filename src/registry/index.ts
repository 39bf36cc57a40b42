/** The Hono Device Registry Management API v1 client: tenants, devices and their credentials. */
export { DeviceRegistry, type DeviceRegistryOptions } from './registry.js';
// The resource APIs a registry hands out: named here, built only by the registry.
export type { TenantCreateOptions, TenantsApi } from './tenants.js';
export type { DeviceCreateOptions, DevicesApi } from './devices.js';
export type {
  CredentialHelperOptions,
  CredentialsApi,
  CredentialsSetOptions,
  PasswordOptions,
  PskOptions,
  RemoveCredentialOptions,
  SecretMode,
  X509Identity,
} from './credentials.js';
export type { PasswordHashing } from './passwords.js';
export type { RegistrySearchOptions } from './search.js';
export type { IfMatchOptions, ModifyOptions } from './transport.js';
export type {
  Adapter,
  CommandEndpoint,
  CommonCredential,
  CommonSecret,
  ConnectionDuration,
  Created,
  Credential,
  CredentialType,
  DataVolume,
  DefaultProperties,
  Device,
  DeviceSearchQuery,
  DeviceStatus,
  DeviceWithId,
  Extensions,
  FilterExpression,
  GenericCredential,
  GenericSecret,
  HashFunction,
  PasswordCredential,
  PasswordSecret,
  Period,
  PskCredential,
  PskSecret,
  RegistrationLimits,
  RegistrySearchQuery,
  ResourceLimits,
  RpkCredential,
  RpkSecret,
  SamplingMode,
  SearchResult,
  SortExpression,
  Tenant,
  TenantWithId,
  TracingConfig,
  TrustedCa,
  X509CertificateCredential,
  X509CertificateSecret,
} from './types.js';
// The HTTP transport the client runs on (its `http` option); loads axios.
export {
  HttpClient,
  type HintProvider,
  type HttpClientOptions,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type QueryValue,
} from '../core/http.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
