/**
 * Checks request bodies before anything is sent. Messages name the field and never repeat secret
 * values (passwords, keys, hashes).
 */
import { ValidationError } from '../core/errors.js';
import { type IdRules, validateAuthId, validateDeviceId } from '../core/ids.js';
import { BCRYPT_HASH, MAX_BCRYPT_COST } from './passwords.js';
import { CREDENTIAL_TYPES, type Credential, type CredentialType, type Device, HASH_FUNCTIONS, type Tenant } from './types.js';
import { normalizeSubjectDn } from './x509.js';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard Base64 with padding, not empty. */
export function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && BASE64.test(value);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function validateDateTime(field: string, value: unknown): void {
  if (typeof value !== 'string' || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ValidationError(field, `must be an RFC 3339 date-time, got ${JSON.stringify(value)}`, 'E.g. "2027-12-24T19:00:00Z".');
  }
}

function optionalBoolean(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') throw new ValidationError(field, 'must be a boolean');
}

function optionalObject(field: string, value: unknown): void {
  if (value !== undefined && !isPlainObject(value)) throw new ValidationError(field, 'must be a JSON object');
}

function optionalString(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') throw new ValidationError(field, 'must be a string');
}

function optionalStringArray(field: string, value: unknown, each?: (item: string, itemField: string) => void): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of strings');
  value.forEach((item, index) => {
    if (typeof item !== 'string' || item === '') throw new ValidationError(`${field}[${index}]`, 'must be a non-empty string');
    each?.(item, `${field}[${index}]`);
  });
}

function optionalInteger(field: string, value: unknown, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ValidationError(field, `must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
}

// ---------------------------------------------------------------------------------------------- tenants

/** Validates a tenant body and returns a copy without the read-only `id` (search results carry one). */
export function validateTenantBody(tenant: unknown, field = 'tenant'): Tenant {
  if (!isPlainObject(tenant)) throw new ValidationError(field, 'must be a JSON object (the tenant configuration)');
  optionalBoolean(`${field}.enabled`, tenant.enabled);
  if (tenant.alias !== undefined && (typeof tenant.alias !== 'string' || !/^[a-z0-9-]+$/.test(tenant.alias))) {
    throw new ValidationError(`${field}.alias`, `must consist of lower-case letters, digits and "-", got ${JSON.stringify(tenant.alias)}`);
  }
  optionalObject(`${field}.ext`, tenant.ext);
  optionalObject(`${field}.defaults`, tenant.defaults);
  optionalObject(`${field}.registration-limits`, tenant['registration-limits']);
  optionalObject(`${field}.resource-limits`, tenant['resource-limits']);
  optionalObject(`${field}.tracing`, tenant.tracing);
  optionalString(`${field}.trust-anchor-group`, tenant['trust-anchor-group']);
  optionalInteger(`${field}.minimum-message-size`, tenant['minimum-message-size'], 0);
  if (tenant.adapters !== undefined) {
    const adapters = tenant.adapters;
    if (!Array.isArray(adapters) || adapters.length === 0) {
      throw new ValidationError(`${field}.adapters`, 'must be a non-empty array when set', 'Leave it out to enable all adapters.');
    }
    const seen = new Set<string>();
    adapters.forEach((adapter: unknown, index) => {
      const adapterField = `${field}.adapters[${index}]`;
      if (!isPlainObject(adapter) || typeof adapter.type !== 'string' || adapter.type === '') {
        throw new ValidationError(`${adapterField}.type`, 'must be a non-empty string, e.g. "hono-mqtt"');
      }
      if (seen.has(adapter.type)) throw new ValidationError(`${adapterField}.type`, `${JSON.stringify(adapter.type)} is configured twice`);
      seen.add(adapter.type);
      optionalBoolean(`${adapterField}.enabled`, adapter.enabled);
    });
  }
  if (tenant['trusted-ca'] !== undefined) {
    const cas = tenant['trusted-ca'];
    if (!Array.isArray(cas)) throw new ValidationError(`${field}.trusted-ca`, 'must be an array');
    cas.forEach((ca: unknown, index) => {
      if (!isPlainObject(ca)) throw new ValidationError(`${field}.trusted-ca[${index}]`, 'must be a JSON object');
    });
  }
  const copy: Record<string, unknown> = { ...tenant };
  delete copy.id;
  return copy as Tenant;
}

// ---------------------------------------------------------------------------------------------- devices

/** Validates a device body and returns a copy without read-only `id` and `status`. */
export function validateDeviceBody(device: unknown, rules: IdRules, field = 'device'): Device {
  if (!isPlainObject(device)) throw new ValidationError(field, 'must be a JSON object (the device registration)');
  optionalBoolean(`${field}.enabled`, device.enabled);
  optionalObject(`${field}.defaults`, device.defaults);
  optionalObject(`${field}.ext`, device.ext);
  optionalStringArray(`${field}.via`, device.via, (gateway, itemField) => validateDeviceId(gateway, rules, itemField));
  optionalStringArray(`${field}.viaGroups`, device.viaGroups);
  optionalStringArray(`${field}.memberOf`, device.memberOf);
  optionalStringArray(`${field}.authorities`, device.authorities);
  optionalString(`${field}.downstream-message-mapper`, device['downstream-message-mapper']);
  optionalString(`${field}.upstream-message-mapper`, device['upstream-message-mapper']);
  if (device.memberOf !== undefined && (device.via !== undefined || device.viaGroups !== undefined)) {
    throw new ValidationError(`${field}.memberOf`, 'must not be set together with "via" or "viaGroups"');
  }
  const endpoint = device['command-endpoint'];
  if (endpoint !== undefined && (!isPlainObject(endpoint) || typeof endpoint.uri !== 'string' || endpoint.uri === '')) {
    throw new ValidationError(`${field}.command-endpoint.uri`, 'must be a non-empty string');
  }
  const copy: Record<string, unknown> = { ...device };
  delete copy.id;
  delete copy.status;
  return copy as Device;
}

// ------------------------------------------------------------------------------------------ credentials

const COMMON_SECRET_KEYS = ['id', 'enabled', 'not-before', 'not-after', 'comment'];
const SECRET_KEYS: Record<CredentialType, ReadonlySet<string>> = {
  'hashed-password': new Set([...COMMON_SECRET_KEYS, 'hash-function', 'pwd-hash', 'salt', 'pwd-plain']),
  psk: new Set([...COMMON_SECRET_KEYS, 'key']),
  'x509-cert': new Set(COMMON_SECRET_KEYS),
  rpk: new Set([...COMMON_SECRET_KEYS, 'algorithm', 'key', 'cert']),
};
const CREDENTIAL_KEYS = new Set(['type', 'auth-id', 'enabled', 'ext', 'secrets']);
const CUSTOM_TYPE = /^[a-zA-Z0-9][a-zA-Z0-9-_.]*$/;

export function isKnownCredentialType(type: unknown): type is CredentialType {
  return typeof type === 'string' && (CREDENTIAL_TYPES as readonly string[]).includes(type);
}

/** Validates a credential type argument (helpers, `remove`). */
export function validateCredentialType(type: unknown, allowCustomTypes: boolean, field = 'type'): string {
  if (isKnownCredentialType(type)) return type;
  if (allowCustomTypes && typeof type === 'string' && CUSTOM_TYPE.test(type)) return type;
  throw new ValidationError(
    field,
    `unknown credential type ${JSON.stringify(type)}`,
    `Use one of ${CREDENTIAL_TYPES.join(', ')}` +
      (allowCustomTypes ? '.' : ', or pass allowCustomTypes: true for a custom (generic) credential type.'),
  );
}

function validatePasswordSecret(field: string, secret: Record<string, unknown>): void {
  const plain = secret['pwd-plain'];
  const hashed = secret['pwd-hash'];
  if (plain === undefined && hashed === undefined) {
    if (secret.id !== undefined) return;
    throw new ValidationError(
      field,
      'has neither "pwd-plain" nor "pwd-hash"',
      'Give the password as "pwd-plain" (or use credentials.setPassword), or refer to an existing secret by its "id".',
    );
  }
  if (plain !== undefined && (typeof plain !== 'string' || plain === '')) {
    throw new ValidationError(`${field}.pwd-plain`, 'must be a non-empty string');
  }
  if (hashed === undefined) return;
  if (typeof hashed !== 'string' || hashed === '') throw new ValidationError(`${field}.pwd-hash`, 'must be a non-empty string');
  const hashFunction = secret['hash-function'];
  if (typeof hashFunction !== 'string' || !(HASH_FUNCTIONS as readonly string[]).includes(hashFunction)) {
    throw new ValidationError(`${field}.hash-function`, `must be one of ${HASH_FUNCTIONS.join(', ')} when "pwd-hash" is set`);
  }
  if (hashFunction === 'bcrypt') {
    const match = BCRYPT_HASH.exec(hashed);
    if (!match) {
      throw new ValidationError(
        `${field}.pwd-hash`,
        'is not a bcrypt hash of the "$2a$" variant',
        'Hono verifies "$2a$NN$..." hashes only; credentials.setPassword(..., { hash: "bcrypt" }) produces one.',
      );
    }
    if (Number(match[1]) > MAX_BCRYPT_COST) {
      throw new ValidationError(
        `${field}.pwd-hash`,
        `uses bcrypt cost ${Number(match[1])}; at most ${MAX_BCRYPT_COST} is accepted`,
        'Hono refuses bcrypt hashes with a higher cost factor (maxBcryptCostFactor).',
      );
    }
  } else {
    if (!isBase64(hashed)) throw new ValidationError(`${field}.pwd-hash`, `must be Base64 for ${hashFunction}`);
    if (secret.salt !== undefined && !isBase64(secret.salt)) throw new ValidationError(`${field}.salt`, 'must be Base64');
  }
}

function validateSecret(field: string, type: string, secret: unknown): void {
  if (!isPlainObject(secret)) throw new ValidationError(field, 'must be a JSON object');
  if (secret.id !== undefined && (typeof secret.id !== 'string' || secret.id === '')) {
    throw new ValidationError(`${field}.id`, 'must be a non-empty string');
  }
  optionalBoolean(`${field}.enabled`, secret.enabled);
  optionalString(`${field}.comment`, secret.comment);
  if (secret['not-before'] !== undefined) validateDateTime(`${field}.not-before`, secret['not-before']);
  if (secret['not-after'] !== undefined) validateDateTime(`${field}.not-after`, secret['not-after']);
  if (!isKnownCredentialType(type)) return;
  const allowed = SECRET_KEYS[type];
  for (const key of Object.keys(secret)) {
    if (!allowed.has(key)) throw new ValidationError(`${field}.${key}`, `is not a property of a ${type} secret`);
  }
  switch (type) {
    case 'hashed-password':
      validatePasswordSecret(field, secret);
      break;
    case 'psk':
      if (secret.key === undefined && secret.id === undefined) {
        throw new ValidationError(field, 'has no "key"', 'Give the shared key Base64-encoded, or refer to an existing secret by its "id".');
      }
      if (secret.key !== undefined && !isBase64(secret.key)) throw new ValidationError(`${field}.key`, 'must be non-empty Base64');
      break;
    case 'rpk':
      if (secret.key === undefined && secret.cert === undefined && secret.id === undefined) {
        throw new ValidationError(
          field,
          'has neither "key" nor "cert"',
          'Give the public key or certificate (Base64 DER), or an existing secret "id".',
        );
      }
      if (secret.key !== undefined && !isBase64(secret.key)) throw new ValidationError(`${field}.key`, 'must be non-empty Base64 (DER)');
      if (secret.cert !== undefined && !isBase64(secret.cert)) throw new ValidationError(`${field}.cert`, 'must be non-empty Base64 (DER)');
      optionalString(`${field}.algorithm`, secret.algorithm);
      break;
    case 'x509-cert':
      break;
  }
}

/** The key a credential is identified by within a device: type + auth-id (DNs normalised). */
export function credentialKey(type: string, authId: string | undefined): string {
  if (authId === undefined) return `${type}\u0000`;
  if (type === 'x509-cert') {
    try {
      return `${type}\u0000${normalizeSubjectDn(authId)}`;
    } catch {
      return `${type}\u0000${authId}`;
    }
  }
  return `${type}\u0000${authId}`;
}

function validateCredential(field: string, credential: unknown, rules: IdRules, allowCustomTypes: boolean): Credential {
  if (!isPlainObject(credential)) throw new ValidationError(field, 'must be a JSON object { type, auth-id, secrets }');
  if ('device-id' in credential) {
    throw new ValidationError(
      `${field}.device-id`,
      'must not be sent: the device is given by the URL',
      'Remove "device-id" from the credential; Hono answers 400 when it is present.',
    );
  }
  const type = validateCredentialType(credential.type, allowCustomTypes, `${field}.type`);
  optionalBoolean(`${field}.enabled`, credential.enabled);
  optionalObject(`${field}.ext`, credential.ext);
  const secrets = credential.secrets;
  if (type === 'x509-cert') {
    for (const key of Object.keys(credential)) {
      if (!CREDENTIAL_KEYS.has(key) && key !== 'cert') throw new ValidationError(`${field}.${key}`, 'is not a property of a credential');
    }
    if (credential.cert !== undefined) {
      if (!isBase64(credential.cert)) throw new ValidationError(`${field}.cert`, 'must be the Base64 DER encoding of the certificate');
      if (credential['auth-id'] !== undefined) normalizeSubjectDn(credential['auth-id'], `${field}.auth-id`);
    } else {
      normalizeSubjectDn(credential['auth-id'], `${field}.auth-id`);
    }
    if (secrets !== undefined) {
      if (!Array.isArray(secrets) || secrets.length !== 1) {
        throw new ValidationError(`${field}.secrets`, 'must hold exactly one secret (the certificate validity) when set');
      }
      validateSecret(`${field}.secrets[0]`, type, secrets[0]);
    }
    return credential as unknown as Credential;
  }
  if (isKnownCredentialType(type)) {
    for (const key of Object.keys(credential)) {
      if (!CREDENTIAL_KEYS.has(key)) throw new ValidationError(`${field}.${key}`, 'is not a property of a credential');
    }
  }
  validateAuthId(credential['auth-id'], rules, `${field}.auth-id`);
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new ValidationError(`${field}.secrets`, 'must be a non-empty array of secrets');
  }
  secrets.forEach((secret, index) => validateSecret(`${field}.secrets[${index}]`, type, secret));
  return credential as unknown as Credential;
}

/**
 * Validates a whole credentials array for `PUT /credentials/{tenant}/{device}`: a non-empty array,
 * known types (custom ones only with `allowCustomTypes`), valid auth-ids, no `device-id`, usable secrets,
 * and no type/auth-id pair twice.
 */
export function validateCredentials(credentials: unknown, rules: IdRules, allowCustomTypes = false, field = 'credentials'): Credential[] {
  if (!Array.isArray(credentials)) {
    throw new ValidationError(field, "must be an array of credentials (the device's whole set)");
  }
  if (credentials.length === 0) {
    throw new ValidationError(
      field,
      'must not be empty',
      'PUT replaces the whole set, so an empty array deletes every credential of the device; use credentials.clear() for that on purpose.',
    );
  }
  const seen = new Set<string>();
  return credentials.map((credential, index) => {
    const valid = validateCredential(`${field}[${index}]`, credential, rules, allowCustomTypes);
    const authId = valid['auth-id'];
    if (authId !== undefined) {
      const key = credentialKey(valid.type, authId);
      if (seen.has(key)) {
        throw new ValidationError(
          `${field}[${index}]`,
          `type ${JSON.stringify(valid.type)} with auth-id ${JSON.stringify(authId)} appears twice`,
        );
      }
      seen.add(key);
    }
    return valid;
  });
}

/** The confidential values inside a credentials array, to be registered with the redactor. */
export function confidentialValues(credentials: readonly Credential[]): string[] {
  const values: string[] = [];
  for (const credential of credentials) {
    if (credential.type !== 'hashed-password' && credential.type !== 'psk') continue;
    for (const secret of (credential.secrets ?? []) as Record<string, unknown>[]) {
      for (const key of ['pwd-plain', 'pwd-hash', 'key']) {
        const value = secret[key];
        if (typeof value === 'string') values.push(value);
      }
    }
  }
  return values;
}
