import type { Context } from 'fabric-contract-api';

/** Object types of the composite keys; each names one kind of record. */
export const KEY_TYPES = {
  device: 'twinledger.device',
  credentials: 'twinledger.credentials',
  telemetry: 'twinledger.telemetry',
  hash: 'twinledger.hash',
  batch: 'twinledger.batch',
  head: 'twinledger.head',
  record: 'twinledger.record',
} as const;

export const deviceKey = (ctx: Context, tenant: string, deviceId: string): string =>
  ctx.stub.createCompositeKey(KEY_TYPES.device, [tenant, deviceId]);
export const credentialsKey = (ctx: Context, tenant: string, deviceId: string): string =>
  ctx.stub.createCompositeKey(KEY_TYPES.credentials, [tenant, deviceId]);
export const telemetryKey = (ctx: Context, tenant: string, thingId: string, txId: string): string =>
  ctx.stub.createCompositeKey(KEY_TYPES.telemetry, [tenant, thingId, txId]);
export const hashKey = (ctx: Context, key: string): string => ctx.stub.createCompositeKey(KEY_TYPES.hash, [key]);
export const batchKey = (ctx: Context, stream: string, batchId: string): string =>
  ctx.stub.createCompositeKey(KEY_TYPES.batch, [stream, batchId]);
export const headKey = (ctx: Context, stream: string): string => ctx.stub.createCompositeKey(KEY_TYPES.head, [stream]);
export const recordKey = (ctx: Context, key: string): string => ctx.stub.createCompositeKey(KEY_TYPES.record, [key]);

/** The explicit private data collection of an organisation (see collections_config.json). */
export function collectionFor(mspId: string): string {
  return `${mspId}PrivateCollection`;
}
