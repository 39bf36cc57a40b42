/**
 * Plain JSON shapes of the Hono Device Registry Management API v1 (`device-registry-v1.yaml`).
 * Field names are the spec's own, kebab-case (`auth-id`, `resource-limits`) or camelCase (`viaGroups`,
 * `memberOf`) exactly as the spec has them.
 */

/** Application-specific properties (`ext`): any JSON object. */
export type Extensions = Record<string, unknown>;

/** Defaults for properties on tenant and device level (`defaults`), e.g. `ttl`, `content-type`. */
export type DefaultProperties = Record<string, unknown>;

export type { Versioned } from '../core/http.js';

/** The outcome of a create operation: the (possibly generated) ID and the new version. */
export interface Created {
  id: string;
  etag: string | undefined;
}

// ---------------------------------------------------------------------------------------------- tenants

export interface Adapter {
  /** Adapter type, e.g. `hono-http`, `hono-mqtt`, `hono-amqp`, `hono-coap`, `hono-lora`. */
  type: string;
  enabled?: boolean;
  'device-authentication-required'?: boolean;
  ext?: Extensions;
  [key: string]: unknown;
}

export interface RegistrationLimits {
  'max-devices'?: number;
  'max-credentials-per-device'?: number;
}

export interface Period {
  /** `monthly` or `days` (registries may support more). */
  mode: string;
  'no-of-days'?: number;
}

export interface DataVolume {
  'effective-since': string;
  'max-bytes'?: number;
  period?: Period;
}

export interface ConnectionDuration {
  'effective-since': string;
  'max-minutes'?: number;
  period?: Period;
}

export interface ResourceLimits {
  'max-connections'?: number;
  'max-ttl'?: number;
  'max-ttl-telemetry-qos0'?: number;
  'max-ttl-telemetry-qos1'?: number;
  'max-ttl-command-response'?: number;
  'data-volume'?: DataVolume;
  'connection-duration'?: ConnectionDuration;
  ext?: Extensions;
}

export type SamplingMode = 'default' | 'all' | 'none';

export interface TracingConfig {
  'sampling-mode'?: SamplingMode;
  'sampling-mode-per-auth-id'?: Record<string, SamplingMode>;
}

export interface TrustedCa {
  id?: string;
  /** RFC 2253 subject DN of the CA certificate. */
  'subject-dn'?: string;
  'subject-dn-bytes'?: string;
  /** Base64 DER public key. */
  'public-key'?: string;
  algorithm?: string;
  'not-before'?: string;
  'not-after'?: string;
  /** Base64 DER of the CA certificate (write only). */
  cert?: string;
  'auth-id-template'?: string;
  'auto-provisioning-enabled'?: boolean;
  'auto-provision-as-gateway'?: boolean;
  'auto-provisioning-device-id-template'?: string;
  'ocsp-revocation-enabled'?: boolean;
  'ocsp-responder-uri'?: string;
  'ocsp-responder-cert'?: string;
  'ocsp-nonce-enabled'?: boolean;
}

export interface Tenant {
  enabled?: boolean;
  /** Lower-case letters, digits and hyphens; unique among tenants. */
  alias?: string;
  ext?: Extensions;
  /** Per-adapter configuration; if set, not empty and no type twice. */
  adapters?: Adapter[];
  defaults?: DefaultProperties;
  'minimum-message-size'?: number;
  'registration-limits'?: RegistrationLimits;
  'resource-limits'?: ResourceLimits;
  tracing?: TracingConfig;
  'trust-anchor-group'?: string;
  'trusted-ca'?: TrustedCa[];
}

// ---------------------------------------------------------------------------------------------- devices

/** Server-managed metadata of a device (read only; never sent). */
export interface DeviceStatus {
  created?: string;
  updated?: string;
  'last-user'?: string;
  'auto-provisioned'?: boolean;
  'auto-provisioning-notification-sent'?: boolean;
}

export interface CommandEndpoint {
  /** `{{deviceId}}` is replaced with the device ID. */
  uri: string;
  headers?: Record<string, unknown>;
  'payload-properties'?: Record<string, unknown>;
}

export interface Device {
  enabled?: boolean;
  defaults?: DefaultProperties;
  /** IDs of gateways that may act on behalf of this device. Not together with `memberOf`. */
  via?: string[];
  /** IDs of gateway groups that may act on behalf of this device. Not together with `memberOf`. */
  viaGroups?: string[];
  /** IDs of the gateway groups this device (a gateway) belongs to. */
  memberOf?: string[];
  /** E.g. `auto-provisioning-enabled` for gateways. */
  authorities?: string[];
  'downstream-message-mapper'?: string;
  'upstream-message-mapper'?: string;
  ext?: Extensions;
  /** Read only: returned by the registry, stripped from requests. */
  status?: DeviceStatus;
  'command-endpoint'?: CommandEndpoint;
}

// ------------------------------------------------------------------------------------------ credentials

export type CredentialType = 'hashed-password' | 'psk' | 'x509-cert' | 'rpk';

export const CREDENTIAL_TYPES: readonly CredentialType[] = Object.freeze(['hashed-password', 'psk', 'x509-cert', 'rpk']);

export type HashFunction = 'bcrypt' | 'sha-256' | 'sha-512';

export const HASH_FUNCTIONS: readonly HashFunction[] = Object.freeze(['bcrypt', 'sha-256', 'sha-512']);

export interface CommonSecret {
  /**
   * Assigned by the registry (patch mode). Sending a secret with its `id` keeps that secret (its
   * confidential data is merged in); a secret without `id` is new.
   */
  id?: string;
  enabled?: boolean;
  /** RFC 3339 date-time. */
  'not-before'?: string;
  'not-after'?: string;
  comment?: string;
}

export interface PasswordSecret extends CommonSecret {
  'hash-function'?: HashFunction | (string & {});
  /** bcrypt: the `$2a$` string; sha-*: Base64(hash(salt ‖ UTF-8 password)). */
  'pwd-hash'?: string;
  /** Base64 salt for sha-* hashes. */
  salt?: string;
  /** Clear text; the registry hashes it (write only). */
  'pwd-plain'?: string;
}

export interface PskSecret extends CommonSecret {
  /**
   * Base64 shared key. Required by the spec when writing a new secret; Hono's patch mode leaves it out
   * of GET responses (only `id` and metadata come back).
   */
  key?: string;
}

export interface RpkSecret extends CommonSecret {
  algorithm?: string;
  /** Base64 DER public key. */
  key?: string;
  /** Base64 DER certificate holding the public key (write only). */
  cert?: string;
}

export type X509CertificateSecret = CommonSecret;

/** A secret of a custom credential type (Hono's generic credentials): any properties. */
export interface GenericSecret extends CommonSecret {
  [key: string]: unknown;
}

export interface CommonCredential {
  'auth-id'?: string;
  enabled?: boolean;
  ext?: Extensions;
}

export interface PasswordCredential extends CommonCredential {
  type: 'hashed-password';
  /** What the device puts before `@tenant` in its user name. */
  'auth-id': string;
  secrets: PasswordSecret[];
}

export interface PskCredential extends CommonCredential {
  type: 'psk';
  /** The PSK identity of the TLS handshake. */
  'auth-id': string;
  secrets: PskSecret[];
}

export interface X509CertificateCredential extends CommonCredential {
  type: 'x509-cert';
  /** RFC 2253 subject DN; optional when `cert` is sent (the registry extracts it). */
  'auth-id'?: string;
  /** At most one secret: the certificate's validity period. */
  secrets?: X509CertificateSecret[];
  /** Base64 DER of the device certificate (write only). */
  cert?: string;
}

export interface RpkCredential extends CommonCredential {
  type: 'rpk';
  'auth-id': string;
  secrets: RpkSecret[];
}

/**
 * A credential of a custom type (Hono stores unknown types as generic credentials). Writing one needs
 * `allowCustomTypes: true`, so a typo such as `password` is not taken for a custom type.
 */
export interface GenericCredential extends CommonCredential {
  type: string;
  'auth-id': string;
  secrets: GenericSecret[];
}

/** One entry of a device's credentials array, discriminated by `type`. */
export type Credential = PasswordCredential | PskCredential | X509CertificateCredential | RpkCredential | GenericCredential;

// ------------------------------------------------------------------------------------------------ search

/** `filterJson`: objects whose field at JSON pointer `field` equals `value` (`*` and `?` wildcards in strings). */
export interface FilterExpression {
  /** JSON pointer (RFC 6901), e.g. `/enabled`, `/ext/brand`. */
  field: string;
  value: boolean | number | string;
  op?: 'eq';
}

/** `sortJson`: sort by the field at JSON pointer `field`. */
export interface SortExpression {
  field: string;
  direction?: 'asc' | 'desc';
}

export interface RegistrySearchQuery {
  /** Objects per page, 1..200 (registry default 30). */
  pageSize?: number;
  /**
   * Which page to return, starting at 0. Hono's MongoDB registry skips `pageOffset × pageSize` objects,
   * so this counts pages, not objects.
   */
  pageOffset?: number;
  /** All filters must match. */
  filter?: FilterExpression[];
  /** Applied in order. */
  sort?: SortExpression[];
}

export interface DeviceSearchQuery extends RegistrySearchQuery {
  /** Only gateways (`true`) or only non-gateways (`false`). The registry then ignores `filter`. */
  isGateway?: boolean;
}

export interface SearchResult<T> {
  /** Matches in total, regardless of paging. */
  total: number;
  result: T[];
}

export type TenantWithId = Tenant & { id: string };
export type DeviceWithId = Device & { id: string };
