/**
 * Proofs as plain JSON: `parseProof` reads one strictly (a proof from elsewhere is input like any other), and
 * `batchProofFor` / `recordProofFor` build one from what the anchoring wrote to the ledger. The format is in
 * docs/proofs.md.
 */
import { ValidationError } from '../core/errors.js';
import type { AnchoredRecord, BatchRecord } from '../ledger/types.js';
import { MerkleTree } from '../merkle/index.js';
import { describe } from '../merkle/hash.js';
import { checkEnvelope, envelopeLeafHash } from './envelope.js';
import { MalformedAnchorProofError } from './errors.js';
import { blockNumber, exactFields, hex, ledgerKey, ledgerTime, payloadCid, plainObject, safeInteger, transactionId } from './fields.js';
import { readBatchMeta, recordKey, recordMetaProblem } from './meta.js';
import type { AnchorProof, BatchProof, LedgerLocation, RecordEnvelope, RecordProof } from './types.js';

export const PROOF_FORMAT = 'twinledger-proof';
export const PROOF_VERSION = 1;

/** A tree of up to 2^53 leaves has paths of at most 53 hashes. */
const MAX_AUDIT_PATH = 64;

const COMMON_FIELDS = ['format', 'version', 'mode', 'envelope', 'stream', 'ledger', 'payloadCid'] as const;
const BATCH_FIELDS = [...COMMON_FIELDS, 'batchId', 'leafIndex', 'treeSize', 'auditPath', 'root', 'prevRoot'] as const;
const RECORD_FIELDS = [...COMMON_FIELDS, 'key', 'leafHash'] as const;

const Malformed = MalformedAnchorProofError;

function readLocation(value: unknown, mode: AnchorProof['mode']): LedgerLocation {
  const field = 'proof.ledger';
  const object = plainObject(value, field, Malformed);
  exactFields(object, field, mode === 'batch' ? ['txId', 'timestamp', 'batchSeq'] : ['txId', 'timestamp'], ['block'], Malformed);
  const location: LedgerLocation = {
    txId: transactionId(object.txId, `${field}.txId`, Malformed),
    timestamp: ledgerTime(object.timestamp, `${field}.timestamp`, Malformed),
  };
  if (object.block !== undefined) location.block = blockNumber(object.block, `${field}.block`, Malformed);
  if (mode === 'batch') location.batchSeq = safeInteger(object.batchSeq, `${field}.batchSeq`, 1, Malformed);
  return location;
}

function readAuditPath(value: unknown): string[] {
  if (!Array.isArray(value)) throw new Malformed('proof.auditPath', `must be an array of hashes, got ${describe(value)}`);
  if (value.length > MAX_AUDIT_PATH)
    throw new Malformed('proof.auditPath', `has ${value.length} hashes; a path has at most ${MAX_AUDIT_PATH}`);
  return value.map((element: unknown, index) => hex(element, `proof.auditPath[${index}]`, 32, Malformed));
}

/**
 * Reads a proof (an object, or its JSON text) strictly: `format`, `version` and `mode` first, then every field of the
 * mode, no field missing or extra. Throws `MalformedAnchorProofError` naming the first field that is wrong. Whether
 * the proof proves anything is `verify()`'s question.
 */
export function parseProof(json: unknown): AnchorProof {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json) as unknown;
    } catch (cause) {
      throw new Malformed('proof', `is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }
  const object = plainObject(value, 'proof', Malformed);
  if (object.format !== PROOF_FORMAT) {
    throw new Malformed('proof.format', `must be ${JSON.stringify(PROOF_FORMAT)}, got ${describe(object.format)}`);
  }
  if (object.version !== PROOF_VERSION) {
    throw new Malformed(
      'proof.version',
      `must be ${PROOF_VERSION}, got ${describe(object.version)}`,
      typeof object.version === 'number' && object.version > PROOF_VERSION ? 'The proof is newer than this SDK: upgrade it.' : undefined,
    );
  }
  const mode = object.mode;
  if (mode !== 'batch' && mode !== 'record') throw new Malformed('proof.mode', `must be "batch" or "record", got ${describe(mode)}`);
  exactFields(object, 'proof', mode === 'batch' ? BATCH_FIELDS : RECORD_FIELDS, [], Malformed);

  const envelope = checkEnvelope(object.envelope, 'proof.envelope', Malformed);
  const stream = ledgerKey(object.stream, 'proof.stream', Malformed);
  if (mode === 'batch') {
    const proof: BatchProof = {
      format: PROOF_FORMAT,
      version: PROOF_VERSION,
      mode,
      envelope,
      stream,
      batchId: ledgerKey(object.batchId, 'proof.batchId', Malformed),
      leafIndex: safeInteger(object.leafIndex, 'proof.leafIndex', 0, Malformed),
      treeSize: safeInteger(object.treeSize, 'proof.treeSize', 1, Malformed),
      auditPath: readAuditPath(object.auditPath),
      root: hex(object.root, 'proof.root', 32, Malformed),
      prevRoot: hex(object.prevRoot, 'proof.prevRoot', 32, Malformed),
      ledger: readLocation(object.ledger, mode),
      payloadCid: payloadCid(object.payloadCid, 'proof.payloadCid', Malformed),
    };
    return proof;
  }
  const proof: RecordProof = {
    format: PROOF_FORMAT,
    version: PROOF_VERSION,
    mode,
    envelope,
    stream,
    key: ledgerKey(object.key, 'proof.key', Malformed),
    leafHash: hex(object.leafHash, 'proof.leafHash', 32, Malformed),
    ledger: readLocation(object.ledger, mode),
    payloadCid: payloadCid(object.payloadCid, 'proof.payloadCid', Malformed),
  };
  return proof;
}

function locationOf(anchored: { txId: string; timestamp: string }, block: string | undefined, batchSeq?: number): LedgerLocation {
  const location: LedgerLocation = { txId: anchored.txId, timestamp: anchored.timestamp };
  if (block !== undefined) location.block = blockNumber(block, 'block', ValidationError);
  if (batchSeq !== undefined) location.batchSeq = batchSeq;
  return location;
}

export interface BatchProofInput {
  /** The record's envelope. */
  envelope: RecordEnvelope;
  /** The batch's tree, or the data of its leaves in order (`envelopeBytes` of each record, seq firstSeq..lastSeq). */
  tree: MerkleTree | readonly Uint8Array[];
  /** The record's leaf in the batch, from 0 (its seq − the batch's firstSeq). */
  leafIndex: number;
  /** The batch as the ledger returned it (`anchorBatch` or `getBatch`). */
  batch: BatchRecord;
  /** The block number of the anchoring transaction, when the ledger reported it. */
  block?: string;
}

/**
 * The proof that `envelope` is leaf `leafIndex` of `batch`. Pure. Throws `ValidationError` when the pieces do not
 * fit together (a proof built from them would not verify): a tree whose size or root is not the batch's, an
 * envelope that is not that leaf, a leaf index that is not the envelope's place in the batch's meta.
 */
export function batchProofFor(input: BatchProofInput): BatchProof {
  const envelope = checkEnvelope(input.envelope, 'envelope');
  const { batch } = input;
  const tree = input.tree instanceof MerkleTree ? input.tree : treeOf(input.tree);
  if (tree.size !== batch.treeSize) throw new ValidationError('tree', `has ${tree.size} leaves, but batch.treeSize is ${batch.treeSize}`);
  const leafIndex = safeInteger(input.leafIndex, 'leafIndex', 0, ValidationError);
  if (leafIndex >= tree.size) throw new ValidationError('leafIndex', `must be below the tree's size ${tree.size}, got ${leafIndex}`);
  const root = Buffer.from(tree.root()).toString('hex');
  if (root !== batch.root) throw new ValidationError('batch.root', `is ${batch.root}, but the tree's root is ${root}`);
  const leafHash = envelopeLeafHash(envelope);
  const treeLeaf = Buffer.from(tree.leafHash(leafIndex)).toString('hex');
  if (treeLeaf !== leafHash)
    throw new ValidationError('envelope', `has leaf hash ${leafHash}, but leaf ${leafIndex} of the tree is ${treeLeaf}`);
  const meta = readBatchMeta(batch);
  if (typeof meta === 'string') throw new ValidationError('batch', `is not a TwinLedger batch: ${meta}`);
  if (meta.firstSeq + leafIndex !== envelope.seq) {
    throw new ValidationError(
      'leafIndex',
      `is ${leafIndex}, but record ${envelope.seq} is leaf ${envelope.seq - meta.firstSeq} of a batch from seq ${meta.firstSeq}`,
    );
  }
  return {
    format: PROOF_FORMAT,
    version: PROOF_VERSION,
    mode: 'batch',
    envelope,
    stream: batch.stream,
    batchId: batch.batchId,
    leafIndex,
    treeSize: batch.treeSize,
    auditPath: tree.inclusionProof(leafIndex).path,
    root: batch.root,
    prevRoot: batch.prevRoot,
    ledger: locationOf(batch, input.block, batch.seq),
    payloadCid: envelope.payloadCid,
  };
}

function treeOf(leaves: readonly Uint8Array[]): MerkleTree {
  if (!Array.isArray(leaves)) throw new ValidationError('tree', `must be a MerkleTree or an array of leaf data, got ${describe(leaves)}`);
  const tree = new MerkleTree();
  for (const leaf of leaves) tree.append(leaf);
  return tree;
}

export interface RecordProofInput {
  envelope: RecordEnvelope;
  /** The record's stream; the ledger key is `${stream}/${envelope.seq}`. */
  stream: string;
  /** The record as the ledger returned it (`anchorRecord` or `getRecord`). */
  record: AnchoredRecord;
  /** The block number of the anchoring transaction, when the ledger reported it. */
  block?: string;
}

/**
 * The proof that `envelope` was anchored on its own as `record`. Pure. Throws `ValidationError` when the record is not
 * the envelope's: another key, leaf hash or CID.
 */
export function recordProofFor(input: RecordProofInput): RecordProof {
  const envelope = checkEnvelope(input.envelope, 'envelope');
  const stream = ledgerKey(input.stream, 'stream', ValidationError);
  const { record } = input;
  const key = recordKey(stream, envelope.seq);
  if (record.key !== key)
    throw new ValidationError('record.key', `is ${JSON.stringify(record.key)}, but the envelope's key is ${JSON.stringify(key)}`);
  const leafHash = envelopeLeafHash(envelope);
  if (record.sha256 !== leafHash)
    throw new ValidationError('record.sha256', `is ${record.sha256}, but the envelope's leaf hash is ${leafHash}`);
  if (record.cid !== envelope.payloadCid) {
    throw new ValidationError('record.cid', `is ${describe(record.cid)}, but the envelope's payloadCid is ${envelope.payloadCid}`);
  }
  const metaProblem = recordMetaProblem(record.meta, stream, envelope.seq);
  if (metaProblem !== undefined) throw new ValidationError('record', `is not this record's anchor: ${metaProblem}`);
  return {
    format: PROOF_FORMAT,
    version: PROOF_VERSION,
    mode: 'record',
    envelope,
    stream,
    key,
    leafHash,
    ledger: locationOf(record, input.block),
    payloadCid: envelope.payloadCid,
  };
}
