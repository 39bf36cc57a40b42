import type { Context } from 'fabric-contract-api';
import { callerMsp, emitEvent, formatTimestamp, readJson, setOwnerEndorsement, txTimestamp, writeJson } from './context';
import { ContractError } from './errors';
import { parseJsonBytes } from './json';
import { hashKey } from './keys';
import { EVENTS, type HashHistoryEntry, type HashRecord, type HashUpdated } from './types';
import * as v from './validate';

/** PoC 1's hash registry (`init` / `update` / `query`): one mutable hash (and CID) per key, with history. */

async function load(ctx: Context, key: string): Promise<HashRecord> {
  const record = await readJson<HashRecord>(ctx, hashKey(ctx, key));
  if (!record) throw new ContractError('NOT_FOUND', `hash key ${JSON.stringify(key)} does not exist; call InitHash first`);
  return record;
}

export async function initHash(ctx: Context, keyArg: string): Promise<HashRecord> {
  const key = v.key(keyArg);
  const owner = callerMsp(ctx);
  const existing = await readJson<HashRecord>(ctx, hashKey(ctx, key));
  if (existing) {
    // A retried InitHash by the same owner before any update is harmless: return what is there.
    if (existing.owner === owner && existing.version === 0) return existing;
    throw new ContractError(
      'ALREADY_EXISTS',
      `hash key ${JSON.stringify(key)} already exists (owner ${existing.owner}, version ${existing.version})`,
    );
  }
  const record: HashRecord = {
    docType: 'hash',
    key,
    owner,
    sha256: null,
    cid: null,
    version: 0,
    txId: ctx.stub.getTxID(),
    timestamp: txTimestamp(ctx),
  };
  await writeJson(ctx, hashKey(ctx, key), record);
  // Key-level endorsement: every UpdateHash of this key needs an endorsement by the owner's peers.
  await setOwnerEndorsement(ctx, hashKey(ctx, key), owner);
  return record;
}

export async function updateHash(ctx: Context, keyArg: string, sha256Arg: string, cidArg: string): Promise<HashRecord> {
  const key = v.key(keyArg);
  const sha256 = v.sha256Hex(sha256Arg);
  const cid = v.optionalCid(cidArg);
  const existing = await load(ctx, key);
  const caller = callerMsp(ctx);
  if (existing.owner !== caller) {
    throw new ContractError('FORBIDDEN', `hash key ${JSON.stringify(key)} belongs to ${existing.owner}; ${caller} may not update it`);
  }
  const record: HashRecord = {
    ...existing,
    sha256,
    cid,
    version: existing.version + 1,
    txId: ctx.stub.getTxID(),
    timestamp: txTimestamp(ctx),
  };
  await writeJson(ctx, hashKey(ctx, key), record);
  emitEvent(ctx, EVENTS.hashUpdated, {
    key,
    sha256,
    cid,
    version: record.version,
    owner: record.owner,
    txId: record.txId,
  } satisfies HashUpdated);
  return record;
}

export async function queryHash(ctx: Context, keyArg: string): Promise<HashRecord> {
  return load(ctx, v.key(keyArg));
}

/** Newest first, as Fabric 2.x returns it. Reads the peer's history database: evaluate only. */
export async function getHashHistory(ctx: Context, keyArg: string): Promise<HashHistoryEntry[]> {
  const key = v.key(keyArg);
  const entries: HashHistoryEntry[] = [];
  const iterator = await ctx.stub.getHistoryForKey(hashKey(ctx, key));
  try {
    for (let result = await iterator.next(); !result.done; result = await iterator.next()) {
      const modification = result.value;
      const hasValue = !modification.isDelete && modification.value && modification.value.length > 0;
      entries.push({
        txId: modification.txId,
        timestamp: formatTimestamp(modification.timestamp.seconds, modification.timestamp.nanos),
        isDelete: modification.isDelete,
        record: hasValue ? parseJsonBytes<HashRecord>(modification.value) : null,
      });
    }
  } finally {
    await iterator.close();
  }
  if (entries.length === 0) throw new ContractError('NOT_FOUND', `hash key ${JSON.stringify(key)} has no history`);
  return entries;
}
