import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { ContractError } from './errors';
import { canonicalBytes, parseJsonBytes } from './json';

/**
 * Helpers over the transaction context. Everything here is deterministic: time comes from the
 * transaction header (the client's timestamp, identical on every endorser), never from the clock.
 */

/** Timestamp of the transaction as RFC 3339 with nanoseconds, e.g. `2024-05-01T10:00:00.123456789Z`. */
export function txTimestamp(ctx: Context): string {
  const { seconds, nanos } = ctx.stub.getTxTimestamp();
  return formatTimestamp(seconds, nanos);
}

export function formatTimestamp(seconds: number | { toString(): string }, nanos: number): string {
  const secs = typeof seconds === 'number' ? seconds : Number(seconds.toString());
  const base = new Date(secs * 1000).toISOString().slice(0, 19);
  return `${base}.${String(nanos).padStart(9, '0')}Z`;
}

export function callerMsp(ctx: Context): string {
  return ctx.clientIdentity.getMSPID();
}

/** The MSP of the peer running this endorsement (`CORE_PEER_LOCALMSPID`). */
export function peerMsp(ctx: Context): string {
  try {
    return ctx.stub.getMspID();
  } catch {
    throw new ContractError(
      'FAILED_PRECONDITION',
      'the peer MSP ID is unknown: set CORE_PEER_LOCALMSPID in the chaincode server environment (chaincode-as-a-service)',
    );
  }
}

/**
 * Key-level (state-based) endorsement: from the next transaction on, a change to `key` is valid only with an
 * endorsement by a peer of `owner`, whatever the chaincode-level policy. This keeps the ownership checks in the
 * contract from depending on honest endorsers: a peer of another organisation running modified chaincode cannot
 * produce a valid write to the key on its own. Set it in the transaction that creates the key.
 */
export async function setOwnerEndorsement(ctx: Context, key: string, owner: string): Promise<void> {
  const policy = new KeyEndorsementPolicy();
  policy.addOrgs('PEER', owner);
  await ctx.stub.setStateValidationParameter(key, policy.getPolicy());
}

export async function readJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  return bytes && bytes.length > 0 ? parseJsonBytes<T>(bytes) : undefined;
}

export async function writeJson(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, canonicalBytes(value));
}

const emitted = new WeakSet<object>();

/**
 * Sets the transaction's chaincode event. Fabric keeps only the last `setEvent` of a transaction, so a
 * second call would silently drop the first: refuse it instead.
 */
export function emitEvent(ctx: Context, name: string, payload: unknown): void {
  if (emitted.has(ctx.stub)) throw new Error(`a chaincode event was already set in this transaction; ${name} would replace it`);
  emitted.add(ctx.stub);
  ctx.stub.setEvent(name, canonicalBytes(payload));
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
