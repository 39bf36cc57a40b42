/**
 * The device registry's data: tenants, devices and their credentials, each with a version (its ETag), in the
 * sandbox's state. Every operation answers as Hono's management API does (the status codes and `{ "error" }` bodies
 * of the spec); the HTTP layer (registry-server.ts) only routes. Also what the protocol adapters ask of a registry:
 * the device behind an auth-id and password.
 */
import { X509Certificate, createHash, createPublicKey, randomUUID, timingSafeEqual } from 'node:crypto';
import { compare } from 'bcryptjs';
import {
  type JsonObject,
  type StoredCredential,
  checkCredentials,
  checkDevice,
  checkTenant,
  patchCredentials,
  publicCredentials,
  registryError,
  rfc2253,
} from './registry-model.js';
import { type SearchQuery, search } from './registry-search.js';
import type { Collection, SandboxState } from './state.js';

interface Versioned<T> {
  value: T;
  version: string;
}

interface StoredDevice {
  device: JsonObject;
  created: string;
  updated?: string;
}

const key = (tenantId: string, deviceId: string) => `${tenantId}\n${deviceId}`;
/** Tenant and device ID of a `key`; tenant IDs have no line break. */
const splitKey = (entry: string): [string, string] => {
  const at = entry.indexOf('\n');
  return [entry.slice(0, at), entry.slice(at + 1)];
};
const authKey = (tenantId: string, type: string, authId: string) => `${tenantId}\n${type}\n${authId}`;
const newVersion = (): string => randomUUID();

/** Compares `If-Match` with the current version: absent or `*` always matches; quotes are optional. */
function checkVersion(ifMatch: string | undefined, version: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const wanted = ifMatch.split(',').map((tag) =>
    tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1'),
  );
  if (!wanted.includes(version)) throw registryError(412, 'resource version mismatch');
}

export class RegistryStore {
  private readonly tenants: Collection<Versioned<JsonObject>>;
  private readonly devices: Collection<Versioned<StoredDevice>>;
  private readonly credentials: Collection<Versioned<StoredCredential[]>>;
  /**
   * `tenant\ntype\nauth-id` → device ID, derived from `credentials` and kept in step by `putCredentials`: the adapters
   * look a device up by its auth-id at every login, which must not scan every credential of every device.
   */
  private readonly authIds = new Map<string, string>();

  constructor(state: SandboxState) {
    this.tenants = state.collection('registry-tenants');
    this.devices = state.collection('registry-devices');
    this.credentials = state.collection('registry-credentials');
    for (const [entry, { value }] of this.credentials.entriesWith()) {
      const [tenantId, deviceId] = splitKey(entry);
      for (const credential of value) this.authIds.set(authKey(tenantId, credential.type, credential['auth-id']), deviceId);
    }
  }

  /** Writes (or, with undefined, deletes) a device's credentials, and keeps the auth-id index in step. */
  private async putCredentials(tenantId: string, deviceId: string, stored: Versioned<StoredCredential[]> | undefined): Promise<void> {
    for (const credential of this.credentials.get(key(tenantId, deviceId))?.value ?? []) {
      this.authIds.delete(authKey(tenantId, credential.type, credential['auth-id']));
    }
    if (stored === undefined) {
      await this.credentials.delete(key(tenantId, deviceId));
      return;
    }
    await this.credentials.put(key(tenantId, deviceId), stored);
    for (const credential of stored.value) this.authIds.set(authKey(tenantId, credential.type, credential['auth-id']), deviceId);
  }

  // ---- tenants -----------------------------------------------------------------------------------

  async createTenant(tenantId: string | undefined, body: unknown): Promise<{ id: string; version: string }> {
    const tenant = checkTenant(body);
    const id = tenantId ?? randomUUID();
    if (this.tenants.has(id)) throw registryError(409, 'tenant with given identifier already exists');
    const version = newVersion();
    await this.tenants.put(id, { value: tenant, version });
    return { id, version };
  }

  getTenant(tenantId: string): Versioned<JsonObject> {
    const found = this.tenants.get(tenantId);
    if (found === undefined) throw registryError(404, `tenant ${tenantId} not found`);
    return found;
  }

  /** The tenant, if it exists and is enabled (what an adapter asks before it lets a device in). */
  enabledTenant(tenantId: string): JsonObject | undefined {
    const tenant = this.tenants.get(tenantId)?.value;
    return tenant !== undefined && tenant.enabled !== false ? tenant : undefined;
  }

  async updateTenant(tenantId: string, body: unknown, ifMatch: string | undefined): Promise<string> {
    const current = this.getTenant(tenantId);
    checkVersion(ifMatch, current.version);
    const version = newVersion();
    await this.tenants.put(tenantId, { value: checkTenant(body), version });
    return version;
  }

  async deleteTenant(tenantId: string, ifMatch: string | undefined): Promise<void> {
    checkVersion(ifMatch, this.getTenant(tenantId).version);
    await this.deleteDevicesOf(tenantId);
    await this.tenants.delete(tenantId);
  }

  searchTenants(query: SearchQuery): { total: number; result: JsonObject[] } {
    return search(
      [...this.tenants.entriesWith()].map(([id, { value }]) => ({ id, ...value })),
      query,
    );
  }

  // ---- devices -----------------------------------------------------------------------------------

  async createDevice(tenantId: string, deviceId: string | undefined, body: unknown): Promise<{ id: string; version: string }> {
    if (!this.tenants.has(tenantId)) throw registryError(404, `tenant ${tenantId} not found`);
    const device = checkDevice(body);
    const id = deviceId ?? randomUUID();
    if (this.devices.has(key(tenantId, id))) throw registryError(409, 'device with given identifier already exists');
    const version = newVersion();
    await this.devices.put(key(tenantId, id), { value: { device, created: new Date().toISOString() }, version });
    // Hono creates an empty set of credentials with the device.
    await this.putCredentials(tenantId, id, { value: [], version: newVersion() });
    return { id, version };
  }

  getDevice(tenantId: string, deviceId: string): { device: JsonObject; version: string } {
    const found = this.devices.get(key(tenantId, deviceId));
    if (found === undefined || !this.tenants.has(tenantId)) throw registryError(404, `device ${deviceId} of tenant ${tenantId} not found`);
    const { device, created, updated } = found.value;
    return { device: { ...device, status: { created, ...(updated ? { updated } : {}) } }, version: found.version };
  }

  /** The device as registered, or undefined (the adapters' lookup). */
  device(tenantId: string, deviceId: string): JsonObject | undefined {
    return this.devices.get(key(tenantId, deviceId))?.value.device;
  }

  /** The devices of a tenant that name `gatewayId` in their `via`. */
  devicesVia(tenantId: string, gatewayId: string): string[] {
    return [...this.devices.entriesWith(`${tenantId}\n`)]
      .filter(([, { value }]) => Array.isArray(value.device.via) && value.device.via.includes(gatewayId))
      .map(([entry]) => entry.slice(tenantId.length + 1));
  }

  async updateDevice(tenantId: string, deviceId: string, body: unknown, ifMatch: string | undefined): Promise<string> {
    const found = this.devices.get(key(tenantId, deviceId));
    if (found === undefined) throw registryError(404, `device ${deviceId} of tenant ${tenantId} not found`);
    checkVersion(ifMatch, found.version);
    const version = newVersion();
    await this.devices.put(key(tenantId, deviceId), {
      value: { device: checkDevice(body), created: found.value.created, updated: new Date().toISOString() },
      version,
    });
    return version;
  }

  async deleteDevice(tenantId: string, deviceId: string, ifMatch: string | undefined): Promise<void> {
    const found = this.devices.get(key(tenantId, deviceId));
    if (found === undefined) throw registryError(404, `device ${deviceId} of tenant ${tenantId} not found`);
    checkVersion(ifMatch, found.version);
    await this.devices.delete(key(tenantId, deviceId));
    await this.putCredentials(tenantId, deviceId, undefined);
  }

  async deleteDevicesOf(tenantId: string): Promise<void> {
    for (const [entry] of [...this.devices.entriesWith(`${tenantId}\n`)]) {
      await this.devices.delete(entry);
      await this.putCredentials(tenantId, splitKey(entry)[1], undefined);
    }
  }

  searchDevices(tenantId: string, query: SearchQuery, isGateway: boolean | undefined): { total: number; result: JsonObject[] } {
    const devices: Array<JsonObject & { id: string }> = [...this.devices.entriesWith(`${tenantId}\n`)].map(([entry, { value }]) => ({
      ...value.device,
      id: entry.slice(tenantId.length + 1),
      status: { created: value.created, ...(value.updated ? { updated: value.updated } : {}) },
    }));
    // A gateway: a device that others name in `via`, or that belongs to a gateway group.
    const gateways = new Set(devices.flatMap((device) => (Array.isArray(device.via) ? (device.via as string[]) : [])));
    const chosen =
      isGateway === undefined
        ? devices
        : devices.filter((device) => (gateways.has(device.id) || Array.isArray(device.memberOf)) === isGateway);
    return search(chosen, isGateway === undefined ? query : { ...query, filters: [] });
  }

  // ---- credentials -------------------------------------------------------------------------------

  getCredentials(tenantId: string, deviceId: string): { credentials: JsonObject[]; version: string } {
    this.getDevice(tenantId, deviceId);
    const found = this.credentials.get(key(tenantId, deviceId)) ?? { value: [], version: newVersion() };
    return { credentials: publicCredentials(found.value), version: found.version };
  }

  async setCredentials(tenantId: string, deviceId: string, body: unknown, ifMatch: string | undefined): Promise<string> {
    this.getDevice(tenantId, deviceId);
    const current = this.credentials.get(key(tenantId, deviceId)) ?? { value: [], version: newVersion() };
    checkVersion(ifMatch, current.version);
    const updated = patchCredentials(current.value, checkCredentials(body));
    for (const credential of updated) {
      const owner = this.deviceOfAuthId(tenantId, credential.type, credential['auth-id']);
      if (owner !== undefined && owner !== deviceId) {
        throw registryError(409, `the ${credential.type} credentials of auth-id ${credential['auth-id']} belong to another device`);
      }
    }
    const version = newVersion();
    await this.putCredentials(tenantId, deviceId, { value: updated, version });
    return version;
  }

  private deviceOfAuthId(tenantId: string, type: string, authId: string): string | undefined {
    return this.authIds.get(authKey(tenantId, type, authId));
  }

  /** The enabled device and its enabled credential of this type and auth-id, as a login needs them; else undefined. */
  private enabledCredential(
    tenantId: string,
    type: string,
    authId: string,
  ): { deviceId: string; device: JsonObject; credential: StoredCredential } | undefined {
    const deviceId = this.deviceOfAuthId(tenantId, type, authId);
    if (deviceId === undefined) return undefined;
    const device = this.devices.get(key(tenantId, deviceId))?.value.device;
    if (device === undefined || device.enabled === false) return undefined;
    const credential = this.credentials
      .get(key(tenantId, deviceId))
      ?.value.find((entry) => entry.type === type && entry['auth-id'] === authId);
    return credential === undefined || credential.enabled === false ? undefined : { deviceId, device, credential };
  }

  /**
   * The device that `authId@tenantId` with this password logs in as, or undefined: the tenant and the device enabled,
   * a hashed-password credential enabled, and an enabled secret, valid now, whose hash matches.
   */
  async authenticate(tenantId: string, authId: string, password: string): Promise<{ deviceId: string; device: JsonObject } | undefined> {
    if (this.enabledTenant(tenantId) === undefined) return undefined;
    const found = this.enabledCredential(tenantId, 'hashed-password', authId);
    if (found === undefined) return undefined;
    for (const secret of validSecrets(found.credential.secrets)) {
      if (await passwordMatches(secret, password)) return { deviceId: found.deviceId, device: found.device };
    }
    return undefined;
  }

  /**
   * The device a client certificate logs in as, or undefined, as Hono's adapters decide it: the tenant is the one
   * with a trust anchor (`trusted-ca`) whose subject DN is the certificate's issuer, whose key signed it, and that is
   * valid now; the device is the one with an enabled `x509-cert` credential whose auth-id is the certificate's subject
   * DN (RFC 2253) and an enabled secret valid now.
   */
  authenticateCertificate(certificate: X509Certificate): { tenantId: string; deviceId: string } | undefined {
    const now = Date.now();
    if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) < now) return undefined;
    const issuer = rfc2253(certificate.issuer);
    for (const [tenantId, { value: tenant }] of this.tenants.entriesWith()) {
      if (tenant.enabled === false || !Array.isArray(tenant['trusted-ca'])) continue;
      const trusted = (tenant['trusted-ca'] as JsonObject[]).some((anchor) => signedBy(certificate, issuer, anchor, now));
      if (!trusted) continue;
      const found = this.enabledCredential(tenantId, 'x509-cert', rfc2253(certificate.subject));
      if (found === undefined || [...validSecrets(found.credential.secrets, now)].length === 0) return undefined;
      return { tenantId, deviceId: found.deviceId };
    }
    return undefined;
  }
}

/** A credential's enabled secrets that are valid now (`not-before` / `not-after`). */
function* validSecrets(secrets: readonly JsonObject[], now = Date.now()): Iterable<JsonObject> {
  for (const secret of secrets) {
    if (secret.enabled === false) continue;
    if (typeof secret['not-before'] === 'string' && Date.parse(secret['not-before']) > now) continue;
    if (typeof secret['not-after'] === 'string' && Date.parse(secret['not-after']) < now) continue;
    yield secret;
  }
}

/** Whether `anchor` (a tenant's trusted CA: `cert`, or `subject-dn` with `public-key`) issued and signed the certificate. */
function signedBy(certificate: X509Certificate, issuer: string, anchor: JsonObject, now: number): boolean {
  try {
    if (typeof anchor['not-before'] === 'string' && Date.parse(anchor['not-before']) > now) return false;
    if (typeof anchor['not-after'] === 'string' && Date.parse(anchor['not-after']) < now) return false;
    if (typeof anchor.cert === 'string') {
      const ca = new X509Certificate(Buffer.from(anchor.cert, 'base64'));
      if (Date.parse(ca.validFrom) > now || Date.parse(ca.validTo) < now) return false;
      return rfc2253(ca.subject) === issuer && certificate.verify(ca.publicKey);
    }
    if (anchor['subject-dn'] !== issuer || typeof anchor['public-key'] !== 'string') return false;
    return certificate.verify(createPublicKey({ key: Buffer.from(anchor['public-key'], 'base64'), format: 'der', type: 'spki' }));
  } catch {
    return false;
  }
}

async function passwordMatches(secret: JsonObject, password: string): Promise<boolean> {
  const hash = secret['pwd-hash'];
  if (typeof hash !== 'string') return false;
  const hashFunction = secret['hash-function'];
  if (hashFunction === 'bcrypt') return compare(password, hash);
  if (hashFunction !== 'sha-256' && hashFunction !== 'sha-512') return false;
  const salt = typeof secret.salt === 'string' ? Buffer.from(secret.salt, 'base64') : Buffer.alloc(0);
  const computed = createHash(hashFunction === 'sha-256' ? 'sha256' : 'sha512')
    .update(salt)
    .update(Buffer.from(password, 'utf8'))
    .digest();
  const expected = Buffer.from(hash, 'base64');
  return expected.byteLength === computed.byteLength && timingSafeEqual(expected, computed);
}
