import type { Context } from 'fabric-contract-api';
import { callerMsp, emitEvent, peerMsp, readJson, setOwnerEndorsement, sha256, txTimestamp, writeJson } from './context';
import { ContractError, invalid } from './errors';
import { canonicalBytes, parseJsonBytes } from './json';
import { collectionFor, credentialsKey, deviceKey } from './keys';
import {
  type CredentialCommitment,
  type CredentialsSet,
  type DeviceCredentials,
  type DeviceRecord,
  type DeviceRegistered,
  EVENTS,
} from './types';
import * as v from './validate';

/**
 * Device registry: which organisation owns a device, and the device's Hono credentials. The
 * credentials travel in the transient map, are kept in the owner's private data collection, and
 * only a salted commitment is public.
 */

export async function getDevice(ctx: Context, tenant: string, deviceId: string): Promise<DeviceRecord> {
  const record = await readJson<DeviceRecord>(ctx, deviceKey(ctx, tenant, deviceId));
  if (!record) {
    throw new ContractError(
      'NOT_FOUND',
      `device ${JSON.stringify(deviceId)} of tenant ${JSON.stringify(tenant)} is not registered; call RegisterDevice first`,
    );
  }
  return record;
}

/** Throws unless the calling client belongs to the device's owner organisation. */
export function requireOwner(ctx: Context, device: DeviceRecord, action: string): void {
  const caller = callerMsp(ctx);
  if (caller !== device.owner) {
    throw new ContractError(
      'FORBIDDEN',
      `device ${JSON.stringify(device.deviceId)} of tenant ${JSON.stringify(device.tenant)} belongs to ${device.owner}; ${caller} may not ${action}`,
    );
  }
}

/** Throws unless this endorsement runs on a peer of the device's owner (private data must stay there). */
function requireOwnerPeer(ctx: Context, device: DeviceRecord, action: string): void {
  const peer = peerMsp(ctx);
  if (peer !== device.owner) {
    throw new ContractError(
      'FORBIDDEN',
      `${action} must be endorsed only by peers of ${device.owner}, but ran on a peer of ${peer}; ` +
        `send it with endorsingOrganizations: ["${device.owner}"]`,
    );
  }
}

export async function registerDevice(ctx: Context, tenantArg: string, deviceArg: string): Promise<DeviceRecord> {
  const tenant = v.tenantId(tenantArg);
  const deviceId = v.deviceId(deviceArg);
  const key = deviceKey(ctx, tenant, deviceId);
  const owner = callerMsp(ctx);
  const existing = await readJson<DeviceRecord>(ctx, key);
  if (existing) {
    if (existing.owner !== owner) {
      throw new ContractError(
        'ALREADY_EXISTS',
        `device ${JSON.stringify(deviceId)} of tenant ${JSON.stringify(tenant)} is already registered by ${existing.owner}`,
      );
    }
    return existing;
  }
  const record: DeviceRecord = {
    docType: 'device',
    tenant,
    deviceId,
    owner,
    txId: ctx.stub.getTxID(),
    timestamp: txTimestamp(ctx),
    credentials: null,
  };
  await writeJson(ctx, key, record);
  // Key-level endorsement: later changes to this record (credentials) need an endorsement by the owner's peers.
  await setOwnerEndorsement(ctx, key, owner);
  emitEvent(ctx, EVENTS.deviceRegistered, { tenant, deviceId, owner, txId: record.txId } satisfies DeviceRegistered);
  return record;
}

function transientText(transient: Map<string, Uint8Array>, name: string, required: boolean): string | undefined {
  const bytes = transient.get(name);
  if (bytes === undefined || bytes.length === 0) {
    if (!required) return undefined;
    const present = [...transient.keys()].sort().join(', ') || 'none';
    throw invalid(`transient.${name}`, `is missing; put authId, password and salt in the transient map (present: ${present})`);
  }
  return Buffer.from(bytes).toString('utf8');
}

export function credentialCommitment(salt: Buffer, authId: string, password: string): string {
  return sha256(Buffer.concat([salt, Buffer.from(authId, 'utf8'), Buffer.from([0]), Buffer.from(password, 'utf8')]));
}

export async function setCredentials(ctx: Context, tenantArg: string, deviceArg: string): Promise<CredentialCommitment> {
  const tenant = v.tenantId(tenantArg);
  const deviceId = v.deviceId(deviceArg);
  const transient = ctx.stub.getTransient();
  const authId = v.authId(transientText(transient, 'authId', true), 'transient.authId');
  const password = transientText(transient, 'password', true) as string;
  if (password.length > v.MAX_PASSWORD_LENGTH) {
    throw invalid('transient.password', `is longer than ${v.MAX_PASSWORD_LENGTH} characters`);
  }
  // The salt must come from the client: chaincode has no randomness, and a salt derived from anything public
  // (transaction ID, tenant, device) would let every reader of the commitment test password guesses offline.
  const saltText = transientText(transient, 'salt', false);
  if (saltText === undefined) {
    throw invalid(
      'transient.salt',
      'is missing; send a random salt of 16 to 64 bytes as lower-case hex in the transient map, e.g. crypto.randomBytes(32).toString("hex") (the SDK\'s FabricLedger.setCredentials does)',
    );
  }
  if (!/^(?:[0-9a-f]{2}){16,64}$/.test(saltText)) {
    throw invalid('transient.salt', 'must be 32 to 128 lower-case hex characters (16 to 64 bytes)');
  }
  const device = await getDevice(ctx, tenant, deviceId);
  requireOwner(ctx, device, 'set its credentials');
  requireOwnerPeer(ctx, device, 'SetCredentials');

  const txId = ctx.stub.getTxID();
  const timestamp = txTimestamp(ctx);
  const salt = Buffer.from(saltText, 'hex');
  const collection = collectionFor(device.owner);
  const secret: DeviceCredentials = { tenant, deviceId, authId, password, salt: salt.toString('hex'), txId, timestamp };
  await ctx.stub.putPrivateData(collection, credentialsKey(ctx, tenant, deviceId), canonicalBytes(secret));

  const credentials: CredentialCommitment = {
    commitment: credentialCommitment(salt, authId, password),
    collection,
    txId,
    timestamp,
  };
  await writeJson(ctx, deviceKey(ctx, tenant, deviceId), { ...device, credentials });
  emitEvent(ctx, EVENTS.credentialsSet, {
    tenant,
    deviceId,
    owner: device.owner,
    commitment: credentials.commitment,
    txId,
  } satisfies CredentialsSet);
  return credentials;
}

export async function getCredentials(ctx: Context, tenantArg: string, deviceArg: string): Promise<DeviceCredentials> {
  const tenant = v.tenantId(tenantArg);
  const deviceId = v.deviceId(deviceArg);
  const device = await getDevice(ctx, tenant, deviceId);
  requireOwner(ctx, device, 'read its credentials');
  requireOwnerPeer(ctx, device, 'GetCredentials');
  const bytes = await ctx.stub.getPrivateData(collectionFor(device.owner), credentialsKey(ctx, tenant, deviceId));
  if (!bytes || bytes.length === 0) {
    throw new ContractError(
      'NOT_FOUND',
      `no credentials are set for device ${JSON.stringify(deviceId)} of tenant ${JSON.stringify(tenant)}`,
    );
  }
  return parseJsonBytes<DeviceCredentials>(bytes);
}
