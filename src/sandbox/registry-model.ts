/**
 * The device registry's rules for what it stores: the IDs Hono (as Cloud2Edge configures it) accepts, the tenant and
 * device bodies of the management API, and credentials: validated, plain passwords hashed, secrets given IDs,
 * patch mode (a secret with an `id` keeps what the stored one has and the update lacks), and the confidential
 * properties left out of what GET returns. Failures are refusals (`refused`, errors.ts): 400 with Hono's `{ "error": … }` body.
 */
import { X509Certificate, createHash, randomBytes, randomUUID } from 'node:crypto';
import { BCRYPT_HASH, MAX_BCRYPT_COST } from '../registry/passwords.js';
import { refused } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const TENANT_ID = /^[a-zA-Z0-9-_.]+$/;
export const DEVICE_ID = /^[a-zA-Z0-9-_.:]+$/;
export const AUTH_ID = /^[a-zA-Z0-9-_=.]+$/;

export function registryError(status: number, message: string): Error {
  return refused(status, { error: message });
}

export const malformed = (message: string): Error => registryError(400, message);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkId(kind: 'tenant' | 'device', id: string): string {
  const pattern = kind === 'tenant' ? TENANT_ID : DEVICE_ID;
  if (id.length === 0 || id.length > 256 || !pattern.test(id))
    throw malformed(`${kind} ID ${JSON.stringify(id)} does not match ${pattern.source}`);
  return id;
}

type Check = (value: Json, field: string) => void;

const isBoolean: Check = (value, field) => {
  if (typeof value !== 'boolean') throw malformed(`${field} must be a boolean`);
};
const isString: Check = (value, field) => {
  if (typeof value !== 'string') throw malformed(`${field} must be a string`);
};
const isObjectField: Check = (value, field) => {
  if (!isObject(value)) throw malformed(`${field} must be a JSON object`);
};
const isArray: Check = (value, field) => {
  if (!Array.isArray(value)) throw malformed(`${field} must be an array`);
};
const isStringArray: Check = (value, field) => {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw malformed(`${field} must be an array of strings`);
};
const isNonNegativeInteger: Check = (value, field) => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw malformed(`${field} must be an integer ≥ 0`);
};

function checkFields(body: unknown, what: string, fields: Record<string, Check>): JsonObject {
  if (body === undefined) return {};
  if (!isObject(body)) throw malformed(`the ${what} must be a JSON object`);
  for (const [key, value] of Object.entries(body)) {
    const check = fields[key];
    if (check === undefined) throw malformed(`unknown property ${JSON.stringify(key)} in the ${what}`);
    check(value, key);
  }
  return body;
}

const TENANT_FIELDS: Record<string, Check> = {
  enabled: isBoolean,
  alias: isString,
  ext: isObjectField,
  adapters: isArray,
  defaults: isObjectField,
  'minimum-message-size': isNonNegativeInteger,
  'registration-limits': isObjectField,
  'resource-limits': isObjectField,
  tracing: isObjectField,
  'trust-anchor-group': isString,
  'trusted-ca': isArray,
};

const DEVICE_FIELDS: Record<string, Check> = {
  enabled: isBoolean,
  defaults: isObjectField,
  via: isStringArray,
  viaGroups: isStringArray,
  memberOf: isStringArray,
  authorities: isStringArray,
  'downstream-message-mapper': isString,
  'upstream-message-mapper': isString,
  ext: isObjectField,
  // Written by the registry; a client that sends back what it read may include it, and it is ignored.
  status: isObjectField,
  'command-endpoint': isObjectField,
};

export function checkTenant(body: unknown): JsonObject {
  return checkFields(body, 'tenant', TENANT_FIELDS);
}

export function checkDevice(body: unknown): JsonObject {
  const device = { ...checkFields(body, 'device', DEVICE_FIELDS) };
  if (device.memberOf !== undefined && (device.via !== undefined || device.viaGroups !== undefined)) {
    throw malformed('a device that is memberOf gateway groups cannot have via or viaGroups');
  }
  delete device.status;
  return device;
}

// ---- credentials -------------------------------------------------------------------------------

/** A stored secret: always with its `id`; confidential properties (`pwd-hash`, `salt`, `key`) as stored. */
type Secret = JsonObject & { id: string };
export type StoredCredential = JsonObject & { type: string; 'auth-id': string; secrets: Secret[] };

// What GET leaves out: hashes, salts, keys, and write-only properties.
const CONFIDENTIAL = ['pwd-hash', 'salt', 'pwd-plain', 'key', 'cert'];
const COMMON_SECRET: Record<string, Check> = {
  id: isString,
  enabled: isBoolean,
  'not-before': isDate,
  'not-after': isDate,
  comment: isString,
};
const SECRET_FIELDS: Record<string, Record<string, Check>> = {
  'hashed-password': { ...COMMON_SECRET, 'hash-function': isString, 'pwd-hash': isString, salt: isBase64, 'pwd-plain': isString },
  psk: { ...COMMON_SECRET, key: isBase64 },
  'x509-cert': COMMON_SECRET,
  rpk: { ...COMMON_SECRET, algorithm: isString, key: isBase64, cert: isBase64 },
};

function isDate(value: Json, field: string): void {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw malformed(`${field} must be an ISO 8601 date-time`);
}

function isBase64(value: Json, field: string): void {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw malformed(`${field} must be Base64`);
  }
}

/** A distinguished name as Node prints it (one attribute per line, most significant first) in RFC 2253 order. */
export function rfc2253(nodeName: string): string {
  return nodeName.split('\n').reverse().join(',');
}

/** Hono's way of writing a subject DN (RFC 2253), from a certificate given as Base64 DER. */
function subjectDnOf(certBase64: string): string {
  try {
    return rfc2253(new X509Certificate(Buffer.from(certBase64, 'base64')).subject);
  } catch {
    throw malformed('cert is not a Base64 DER X.509 certificate');
  }
}

/** The credentials array of a PUT, checked; `cert` turned into an auth-id where given. */
export function checkCredentials(body: unknown): StoredCredential[] {
  if (!Array.isArray(body)) throw malformed('the credentials must be a JSON array');
  const seen = new Set<string>();
  return body.map((item, index) => {
    const where = `credentials[${index}]`;
    if (!isObject(item)) throw malformed(`${where} must be a JSON object`);
    if ('device-id' in item) throw malformed(`${where} must not contain device-id (the device is the one in the path)`);
    const type = item.type;
    if (typeof type !== 'string' || !(type in SECRET_FIELDS)) {
      throw malformed(`${where}.type must be one of hashed-password, psk, x509-cert, rpk`);
    }
    const allowed = new Set(['type', 'auth-id', 'enabled', 'ext', 'secrets', ...(type === 'x509-cert' ? ['cert'] : [])]);
    for (const key of Object.keys(item)) if (!allowed.has(key)) throw malformed(`unknown property ${JSON.stringify(key)} in ${where}`);
    if (item.enabled !== undefined) isBoolean(item.enabled, `${where}.enabled`);
    if (item.ext !== undefined) isObjectField(item.ext, `${where}.ext`);
    let authId = item['auth-id'];
    if (type === 'x509-cert' && item.cert !== undefined) {
      isBase64(item.cert, `${where}.cert`);
      authId = subjectDnOf(item.cert as string);
    }
    if (typeof authId !== 'string' || authId === '') throw malformed(`${where}.auth-id is required`);
    if (type !== 'x509-cert' && !AUTH_ID.test(authId)) throw malformed(`${where}.auth-id does not match ${AUTH_ID.source}`);
    const key = `${type}\n${authId}`;
    if (seen.has(key)) throw malformed(`${where}: the ${type} credentials of auth-id ${authId} are given twice`);
    seen.add(key);
    const secrets = item.secrets ?? (type === 'x509-cert' ? [{}] : undefined);
    if (!Array.isArray(secrets) || secrets.length === 0) throw malformed(`${where}.secrets must be a non-empty array`);
    if (type === 'x509-cert' && secrets.length > 1) throw malformed(`${where}.secrets: x509-cert credentials have one secret`);
    const checked = secrets.map((secret, at) => {
      const field = `${where}.secrets[${at}]`;
      if (!isObject(secret)) throw malformed(`${field} must be a JSON object`);
      const fields = SECRET_FIELDS[type]!;
      for (const [name, value] of Object.entries(secret)) {
        const check = fields[name];
        if (check === undefined) throw malformed(`unknown property ${JSON.stringify(name)} in ${field}`);
        check(value, `${field}.${name}`);
      }
      return secret;
    });
    const { cert: _cert, ...rest } = item;
    return { ...rest, type, 'auth-id': authId, secrets: checked } as StoredCredential;
  });
}

/** A hashed-password secret as stored: `pwd-plain` hashed (salted SHA-512), a given hash checked. */
function storedPasswordSecret(secret: JsonObject, field: string): JsonObject {
  if (typeof secret['pwd-plain'] === 'string') {
    const { 'pwd-plain': plain, 'hash-function': _function, 'pwd-hash': _hash, salt: _salt, ...rest } = secret;
    const salt = randomBytes(16);
    const hash = createHash('sha512')
      .update(salt)
      .update(Buffer.from(plain as string, 'utf8'))
      .digest();
    return { ...rest, 'hash-function': 'sha-512', 'pwd-hash': hash.toString('base64'), salt: salt.toString('base64') };
  }
  const hashFunction = secret['hash-function'];
  const hash = secret['pwd-hash'];
  if (typeof hash !== 'string') throw malformed(`${field} needs pwd-plain, or pwd-hash with hash-function`);
  if (hashFunction === 'bcrypt') {
    const match = BCRYPT_HASH.exec(hash);
    if (!match) throw malformed(`${field}.pwd-hash is not a bcrypt hash in $2a$ form`);
    if (Number(match[1]) > MAX_BCRYPT_COST)
      throw malformed(`${field}.pwd-hash: bcrypt cost ${match[1]} exceeds the maximum ${MAX_BCRYPT_COST}`);
  } else if (hashFunction === 'sha-256' || hashFunction === 'sha-512') {
    isBase64(hash, `${field}.pwd-hash`);
  } else {
    throw malformed(`${field}.hash-function must be bcrypt, sha-256 or sha-512`);
  }
  return secret;
}

/**
 * The credentials to store after a PUT (Hono's patch mode): each update's secrets get an `id` (new) or take the
 * confidential properties of the stored secret with that `id` (400 when there is none); credentials not in the
 * update are gone.
 */
export function patchCredentials(existing: readonly StoredCredential[], update: readonly StoredCredential[]): StoredCredential[] {
  return update.map((credential, index) => {
    const stored = existing.find((old) => old.type === credential.type && old['auth-id'] === credential['auth-id']);
    const secrets = credential.secrets.map((secret, at) => {
      const field = `credentials[${index}].secrets[${at}]`;
      let merged: JsonObject = secret;
      if (typeof secret.id === 'string') {
        const previous = stored?.secrets.find((old) => old.id === secret.id);
        if (previous === undefined) throw malformed(`${field}: no stored secret has the id ${JSON.stringify(secret.id)}`);
        const kept = Object.fromEntries(Object.entries(previous).filter(([key]) => CONFIDENTIAL.includes(key)));
        merged =
          secret['pwd-plain'] !== undefined || secret['pwd-hash'] !== undefined || secret.key !== undefined
            ? secret
            : { ...kept, ...secret };
      }
      if (credential.type === 'hashed-password') merged = storedPasswordSecret(merged, field);
      if (credential.type === 'psk' && typeof merged.key !== 'string') throw malformed(`${field}.key is required`);
      if (credential.type === 'rpk' && typeof merged.key !== 'string' && typeof merged.cert !== 'string') {
        throw malformed(`${field} needs key or cert`);
      }
      return { ...merged, id: typeof merged.id === 'string' ? merged.id : randomUUID() } as Secret;
    });
    return { ...credential, secrets };
  });
}

/** What GET returns: every secret with its `id`, without the confidential properties (patch mode). */
export function publicCredentials(credentials: readonly StoredCredential[]): JsonObject[] {
  return credentials.map((credential) => ({
    ...credential,
    secrets: credential.secrets.map((secret) => Object.fromEntries(Object.entries(secret).filter(([key]) => !CONFIDENTIAL.includes(key)))),
  }));
}
