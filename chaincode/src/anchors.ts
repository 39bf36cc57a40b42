import type { Context } from 'fabric-contract-api';
import { callerMsp, emitEvent, readJson, setOwnerEndorsement, txTimestamp, writeJson } from './context';
import { ContractError } from './errors';
import { canonicalJson } from './json';
import { batchKey, headKey, recordKey } from './keys';
import { type AnchoredRecord, type BatchAnchored, type BatchRecord, EVENTS, type RecordAnchored, type StreamHead } from './types';
import * as v from './validate';

/**
 * Merkle batch anchoring: each batch of a stream anchors one RFC 6962 tree head and links to the previous
 * batch's root, so a missing or reordered batch is refused. Every call reads and writes a constant number
 * of keys, whatever the length of the stream.
 */

function genesisHead(stream: string): StreamHead {
  return { docType: 'head', stream, seq: 0, batchId: null, root: v.GENESIS_ROOT, owner: null, txId: null, timestamp: null };
}

export async function getHead(ctx: Context, streamArg: string): Promise<StreamHead> {
  const stream = v.key(streamArg, 'stream');
  return (await readJson<StreamHead>(ctx, headKey(ctx, stream))) ?? genesisHead(stream);
}

export async function getBatch(ctx: Context, streamArg: string, batchArg: string): Promise<BatchRecord> {
  const stream = v.key(streamArg, 'stream');
  const batchId = v.key(batchArg, 'batchId');
  const record = await readJson<BatchRecord>(ctx, batchKey(ctx, stream, batchId));
  if (!record) throw new ContractError('NOT_FOUND', `batch ${JSON.stringify(batchId)} of stream ${JSON.stringify(stream)} is not anchored`);
  return record;
}

/** Names the first field in which a repeated anchoring differs from what is on the ledger. */
function firstDifference(fields: ReadonlyArray<[string, unknown, unknown]>): string | undefined {
  for (const [name, stored, given] of fields) {
    if (canonicalJson(stored) !== canonicalJson(given)) {
      return `${name} ${canonicalJson(given)} differs from the anchored ${canonicalJson(stored)}`;
    }
  }
  return undefined;
}

export async function anchorBatch(
  ctx: Context,
  streamArg: string,
  batchArg: string,
  rootArg: string,
  treeSizeArg: string,
  prevRootArg: string,
  metaArg: string,
): Promise<BatchRecord> {
  const stream = v.key(streamArg, 'stream');
  const batchId = v.key(batchArg, 'batchId');
  const root = v.sha256Hex(rootArg, 'root');
  const treeSize = v.positiveInteger(treeSizeArg, 'treeSize');
  if (prevRootArg === '') {
    throw new ContractError('INVALID_ARGUMENT', `prevRoot is empty; the first batch of a stream uses ${v.GENESIS_ROOT.length} zeros`);
  }
  const prevRoot = v.sha256Hex(prevRootArg, 'prevRoot');
  if (root === v.GENESIS_ROOT) {
    throw new ContractError(
      'INVALID_ARGUMENT',
      `root is the genesis root (${v.GENESIS_ROOT.length} zeros), which only marks a stream without batches; pass the batch's RFC 6962 Merkle tree head`,
    );
  }
  if (root === prevRoot) {
    throw new ContractError(
      'INVALID_ARGUMENT',
      `root equals prevRoot (${root}); a batch links to the previous batch's root and must have a tree head of its own — is this the previous batch sent again?`,
    );
  }
  const meta = v.metaObject(metaArg);
  const caller = callerMsp(ctx);

  const existing = await readJson<BatchRecord>(ctx, batchKey(ctx, stream, batchId));
  if (existing) {
    if (existing.root !== root) {
      throw new ContractError(
        'CONFLICT',
        `batch ${JSON.stringify(batchId)} of stream ${JSON.stringify(stream)} is already anchored with root ${existing.root}, not ${root}`,
      );
    }
    const difference = firstDifference([
      ['treeSize', existing.treeSize, treeSize],
      ['prevRoot', existing.prevRoot, prevRoot],
      ['meta', existing.meta, meta],
    ]);
    if (difference) {
      throw new ContractError(
        'CONFLICT',
        `batch ${JSON.stringify(batchId)} of stream ${JSON.stringify(stream)} is already anchored: ${difference}`,
      );
    }
    // Same batch again (a client retry): nothing to write.
    return existing;
  }

  const head = (await readJson<StreamHead>(ctx, headKey(ctx, stream))) ?? genesisHead(stream);
  if (head.owner !== null && head.owner !== caller) {
    throw new ContractError(
      'FORBIDDEN',
      `stream ${JSON.stringify(stream)} belongs to ${head.owner}; ${caller} may not anchor batches in it`,
    );
  }
  if (prevRoot !== head.root) {
    const where =
      head.seq === 0
        ? `the stream has no batch yet, so prevRoot must be ${v.GENESIS_ROOT.length} zeros`
        : `the stream's head is batch ${JSON.stringify(head.batchId)} (seq ${head.seq}, root ${head.root})`;
    throw new ContractError('CHAIN_MISMATCH', `prevRoot ${prevRoot} does not match: ${where}; a batch is missing or out of order`);
  }

  const txId = ctx.stub.getTxID();
  const timestamp = txTimestamp(ctx);
  const record: BatchRecord = {
    docType: 'batch',
    stream,
    batchId,
    seq: head.seq + 1,
    root,
    treeSize,
    prevRoot,
    meta,
    owner: caller,
    txId,
    timestamp,
  };
  const newHead: StreamHead = { docType: 'head', stream, seq: record.seq, batchId, root, owner: caller, txId, timestamp };
  await writeJson(ctx, batchKey(ctx, stream, batchId), record);
  await writeJson(ctx, headKey(ctx, stream), newHead);
  // The first batch creates the head key: from then on, moving the head needs an endorsement by the owner's peers
  // (the policy stays on the key for every later batch).
  if (head.owner === null) await setOwnerEndorsement(ctx, headKey(ctx, stream), caller);
  emitEvent(ctx, EVENTS.batchAnchored, {
    stream,
    batchId,
    seq: record.seq,
    root,
    treeSize,
    prevRoot,
    owner: caller,
    txId,
  } satisfies BatchAnchored);
  return record;
}

export async function anchorRecord(
  ctx: Context,
  keyArg: string,
  sha256Arg: string,
  cidArg: string,
  metaArg: string,
): Promise<AnchoredRecord> {
  const key = v.key(keyArg);
  const sha256 = v.sha256Hex(sha256Arg);
  const cid = v.optionalCid(cidArg);
  const meta = v.metaObject(metaArg);
  const existing = await readJson<AnchoredRecord>(ctx, recordKey(ctx, key));
  if (existing) {
    const difference = firstDifference([
      ['sha256', existing.sha256, sha256],
      ['cid', existing.cid, cid],
      ['meta', existing.meta, meta],
    ]);
    if (difference) throw new ContractError('CONFLICT', `record ${JSON.stringify(key)} is already anchored: ${difference}`);
    return existing;
  }
  const record: AnchoredRecord = {
    docType: 'record',
    key,
    sha256,
    cid,
    meta,
    owner: callerMsp(ctx),
    txId: ctx.stub.getTxID(),
    timestamp: txTimestamp(ctx),
  };
  await writeJson(ctx, recordKey(ctx, key), record);
  // Write-once in the contract; the key-level policy makes a rewrite without the owner's peers invalid too.
  await setOwnerEndorsement(ctx, recordKey(ctx, key), record.owner);
  emitEvent(ctx, EVENTS.recordAnchored, { key, sha256, cid, owner: record.owner, txId: record.txId } satisfies RecordAnchored);
  return record;
}

export async function getRecord(ctx: Context, keyArg: string): Promise<AnchoredRecord> {
  const key = v.key(keyArg);
  const record = await readJson<AnchoredRecord>(ctx, recordKey(ctx, key));
  if (!record) throw new ContractError('NOT_FOUND', `record ${JSON.stringify(key)} is not anchored`);
  return record;
}
