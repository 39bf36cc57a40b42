import type { Context } from 'fabric-contract-api';
import { emitEvent, readJson, sha256, txTimestamp, writeJson } from './context';
import { getDevice, requireOwner } from './devices';
import { parseTwinCommand } from './ditto';
import { ContractError } from './errors';
import { telemetryKey } from './keys';
import { EVENTS, type TelemetryPublishRequested, type TelemetryRecord } from './types';
import * as v from './validate';

/**
 * The paper's `PublishTelemetryData` posted to the Hono HTTP adapter from inside the chaincode, so every
 * endorsing peer (and every query) fired it. Here the chaincode only records the command's hash and asks,
 * through an event, for an off-chain relay to deliver it once.
 */
export async function publishTelemetryData(
  ctx: Context,
  tenantArg: string,
  thingArg: string,
  command: string,
  ttdArg: string,
): Promise<string> {
  const tenant = v.tenantId(tenantArg);
  const thingId = v.thingId(thingArg);
  parseTwinCommand(command, thingId);
  const ttd = v.optionalTtd(ttdArg);
  const device = await getDevice(ctx, tenant, thingId);
  requireOwner(ctx, device, 'publish telemetry for it');

  const txId = ctx.stub.getTxID();
  const timestamp = txTimestamp(ctx);
  const digest = sha256(Buffer.from(command, 'utf8'));
  const record: TelemetryRecord = { docType: 'telemetry', tenant, thingId, sha256: digest, txId, timestamp, ttd };
  await writeJson(ctx, telemetryKey(ctx, tenant, thingId, txId), record);
  const event: TelemetryPublishRequested = { tenant, thingId, deviceId: thingId, sha256: digest, txId, timestamp, ttd, command };
  emitEvent(ctx, EVENTS.telemetryPublishRequested, event);
  return digest;
}

export async function getTelemetry(ctx: Context, tenantArg: string, thingArg: string, txIdArg: string): Promise<TelemetryRecord> {
  const tenant = v.tenantId(tenantArg);
  const thingId = v.thingId(thingArg);
  const txId = v.key(txIdArg, 'txId');
  const record = await readJson<TelemetryRecord>(ctx, telemetryKey(ctx, tenant, thingId, txId));
  if (!record) throw new ContractError('NOT_FOUND', `no telemetry of ${JSON.stringify(thingId)} was published in transaction ${txId}`);
  return record;
}
