/**
 * The four checks of `verify()`, each on a proof that `parseProof` accepted: inclusion (the envelope is in what the
 * proof claims), anchored (the ledger holds what the proof claims), chain (the batch links to its stream's previous
 * batch), payload (the store's bytes are the ones the envelope hashes). docs/proofs.md says what each compares.
 *
 * What the ledger or the store reports as wrong is evidence, and fails a check; infrastructure that cannot answer is
 * not evidence of tampering, and skips it with the reason. The caller's own abort or deadline ends the call instead.
 */
import { createHash } from 'node:crypto';
import { TwinLedgerError, ValidationError } from '../core/errors.js';
import type { CallOptions } from '../core/options.js';
import { ChaincodeError } from '../ledger/errors.js';
import { type BatchRecord, GENESIS_ROOT, type Ledger } from '../ledger/types.js';
import { verifyInclusion } from '../merkle/index.js';
import { PayloadFormatError, PayloadIntegrityError, PayloadNotFoundError, PayloadSizeLimitError } from '../offchain/errors.js';
import type { PayloadStore } from '../offchain/types.js';
import { envelopeLeafHash } from './envelope.js';
import { readBatchMeta, recordKey, recordMetaProblem } from './meta.js';
import type { AnchorProof, BatchProof, CheckName, CheckResult, RecordProof } from './types.js';
import type { Call } from '../core/call.js';

export type LedgerReader = Pick<Ledger, 'getBatch' | 'getRecord'>;
export type PayloadReader = Pick<PayloadStore, 'get'>;

/** `store.get()` returns one buffer: payloads above this cannot be read to check them. */
const MAX_PAYLOAD_READ = 2 ** 31 - 1;

const ok = (check: CheckName, reason: string): CheckResult => ({ check, status: 'ok', reason });
const failed = (check: CheckName, reason: string): CheckResult => ({ check, status: 'failed', reason });
const skipped = (check: CheckName, reason: string): CheckResult => ({ check, status: 'skipped', reason });

/** An error's message without the hint the SDK appends to it. */
function detail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const hint = error instanceof TwinLedgerError && error.hint ? ` (hint: ${error.hint})` : '';
  return hint && error.message.endsWith(hint) ? error.message.slice(0, -hint.length) : error.message;
}

type Read<T> = { value: T } | { failed: string } | { skipped: string };

/** A ledger read: the ledger refusing the query (or reporting its own files altered) is evidence; anything else is not. */
async function readLedger<T>(call: Call, what: string, work: (options: CallOptions) => Promise<T>): Promise<Read<T>> {
  try {
    return { value: await call.run(work) };
  } catch (error) {
    if (call.signal.aborted) throw error;
    const evidence =
      error instanceof ChaincodeError ||
      error instanceof ValidationError ||
      // DevLedger found its own files altered (LedgerTamperedError, which this module does not import).
      (error instanceof TwinLedgerError && error.code === 'ledger.dev.tampered');
    return evidence ? { failed: `the ledger refused ${what}: ${detail(error)}` } : { skipped: `ledger unavailable: ${detail(error)}` };
  }
}

/** The proof's claims that differ from the ledger's, as `name: ledger x, proof y`. */
function differences(fields: ReadonlyArray<[string, unknown, unknown]>): string[] {
  return fields
    .filter(([, onLedger, inProof]) => onLedger !== inProof)
    .map(([name, onLedger, inProof]) => `${name}: ledger ${JSON.stringify(onLedger)}, proof ${JSON.stringify(inProof)}`);
}

export function inclusionCheck(proof: AnchorProof): CheckResult {
  const { envelope } = proof;
  if (proof.payloadCid !== envelope.payloadCid) {
    return failed('inclusion', `the proof's payloadCid ${proof.payloadCid} is not the envelope's ${envelope.payloadCid}`);
  }
  const leafHash = envelopeLeafHash(envelope);
  if (proof.mode === 'record') {
    const key = recordKey(proof.stream, envelope.seq);
    if (proof.key !== key)
      return failed('inclusion', `the proof's key ${proof.key} is not ${key}, the key of record ${envelope.seq} of its stream`);
    if (proof.leafHash !== leafHash)
      return failed('inclusion', `the envelope's leaf hash is ${leafHash}, not the proof's leafHash ${proof.leafHash}`);
    return ok('inclusion', `the envelope's leaf hash is the proof's leafHash ${leafHash}`);
  }
  const { leafIndex, treeSize, root } = proof;
  if (leafIndex >= treeSize) return failed('inclusion', `leafIndex ${leafIndex} is not below treeSize ${treeSize}`);
  const head = { treeSize, root };
  if (!verifyInclusion({ leafIndex, treeSize, path: proof.auditPath }, { hash: leafHash }, head)) {
    return failed(
      'inclusion',
      `the audit path does not lead from the envelope's leaf hash ${leafHash} (leaf ${leafIndex} of ${treeSize}) to root ${root}`,
    );
  }
  return ok('inclusion', `the envelope's leaf hash ${leafHash} is leaf ${leafIndex} of the ${treeSize}-leaf tree with root ${root}`);
}

export interface AnchoredOutcome {
  result: CheckResult;
  /** The proof's batch as the ledger holds it, when it does. */
  batch?: BatchRecord;
}

async function batchAnchored(proof: BatchProof, ledger: LedgerReader, call: Call): Promise<AnchoredOutcome> {
  const name = `batch ${proof.batchId} of stream ${proof.stream}`;
  const read = await readLedger(call, `GetBatch for ${name}`, (options) => ledger.getBatch(proof.stream, proof.batchId, options));
  if ('skipped' in read) return { result: skipped('anchored', read.skipped) };
  if ('failed' in read) return { result: failed('anchored', read.failed) };
  const batch = read.value;
  if (batch === undefined) return { result: failed('anchored', `${name} is not on the ledger`) };
  const differ = differences([
    ['root', batch.root, proof.root],
    ['treeSize', batch.treeSize, proof.treeSize],
    ['prevRoot', batch.prevRoot, proof.prevRoot],
    ['seq', batch.seq, proof.ledger.batchSeq],
    ['txId', batch.txId, proof.ledger.txId],
    ['timestamp', batch.timestamp, proof.ledger.timestamp],
  ]);
  if (differ.length > 0) return { batch, result: failed('anchored', `${name} on the ledger is not the proof's: ${differ.join('; ')}`) };
  const meta = readBatchMeta(batch);
  if (typeof meta === 'string') return { batch, result: failed('anchored', `${name} is not a TwinLedger batch: ${meta}`) };
  const seq = meta.firstSeq + proof.leafIndex;
  if (seq !== proof.envelope.seq) {
    return {
      batch,
      result: failed(
        'anchored',
        `leaf ${proof.leafIndex} of ${name} is record ${seq} (records ${meta.firstSeq}..${meta.lastSeq}), not the envelope's ${proof.envelope.seq}`,
      ),
    };
  }
  return {
    batch,
    result: ok(
      'anchored',
      `${name} (seq ${batch.seq}, transaction ${batch.txId}) holds root ${batch.root} of ${batch.treeSize} leaves, records ${meta.firstSeq}..${meta.lastSeq}`,
    ),
  };
}

async function recordAnchored(proof: RecordProof, ledger: LedgerReader, call: Call): Promise<AnchoredOutcome> {
  const name = `record ${proof.key}`;
  const read = await readLedger(call, `GetRecord for ${name}`, (options) => ledger.getRecord(proof.key, options));
  if ('skipped' in read) return { result: skipped('anchored', read.skipped) };
  if ('failed' in read) return { result: failed('anchored', read.failed) };
  const record = read.value;
  if (record === undefined) return { result: failed('anchored', `${name} is not on the ledger`) };
  const differ = differences([
    ['sha256', record.sha256, proof.leafHash],
    ['cid', record.cid, proof.payloadCid],
    ['txId', record.txId, proof.ledger.txId],
    ['timestamp', record.timestamp, proof.ledger.timestamp],
  ]);
  if (differ.length > 0) return { result: failed('anchored', `${name} on the ledger is not the proof's: ${differ.join('; ')}`) };
  const metaProblem = recordMetaProblem(record.meta, proof.stream, proof.envelope.seq);
  if (metaProblem !== undefined) return { result: failed('anchored', `${name} is not this record's anchor: ${metaProblem}`) };
  return { result: ok('anchored', `${name} (transaction ${record.txId}) holds leaf hash ${record.sha256} and CID ${record.cid}`) };
}

export async function anchoredCheck(proof: AnchorProof, ledger: LedgerReader | undefined, call: Call): Promise<AnchoredOutcome> {
  if (ledger === undefined) return { result: skipped('anchored', 'no ledger given: offline verification checks inclusion only') };
  return proof.mode === 'batch' ? batchAnchored(proof, ledger, call) : recordAnchored(proof, ledger, call);
}

/** One link: the ledger's batch to the stream's previous batch (verifyStream walks them all). */
export async function chainCheck(
  proof: AnchorProof,
  ledger: LedgerReader | undefined,
  call: Call,
  anchored: AnchoredOutcome,
): Promise<CheckResult> {
  if (proof.mode === 'record') return skipped('chain', 'records anchored on their own are not chained');
  if (ledger === undefined) return skipped('chain', 'no ledger given: offline verification checks inclusion only');
  const batch = anchored.batch;
  if (batch === undefined) {
    return skipped(
      'chain',
      anchored.result.status === 'skipped'
        ? anchored.result.reason
        : `batch ${proof.batchId} could not be read from the ledger, so it has no link to check (see anchored)`,
    );
  }
  const name = `batch ${batch.batchId} (seq ${batch.seq})`;
  const meta = readBatchMeta(batch);
  if (typeof meta === 'string') return failed('chain', `${name} names no previous batch: ${meta}`);
  if (batch.seq === 1 || meta.prevBatchId === null) {
    if (batch.seq !== 1) return failed('chain', `${name} names no previous batch, but batches 1..${batch.seq - 1} come before it`);
    if (meta.prevBatchId !== null)
      return failed('chain', `${name} is the stream's first batch, but names ${meta.prevBatchId} as its previous one`);
    if (batch.prevRoot !== GENESIS_ROOT)
      return failed('chain', `${name} is the stream's first batch, but its prevRoot ${batch.prevRoot} is not 64 zeros`);
    return ok('chain', `${name} is the stream's first batch: its prevRoot is the genesis root (64 zeros)`);
  }
  const previousName = `batch ${meta.prevBatchId}`;
  const read = await readLedger(call, `GetBatch for the previous ${previousName}`, (options) =>
    ledger.getBatch(batch.stream, meta.prevBatchId as string, options),
  );
  if ('skipped' in read) return skipped('chain', read.skipped);
  if ('failed' in read) return failed('chain', read.failed);
  const previous = read.value;
  if (previous === undefined) return failed('chain', `the previous ${previousName} of ${name} is not on the ledger`);
  if (previous.seq !== batch.seq - 1)
    return failed('chain', `the previous ${previousName} of ${name} has seq ${previous.seq}, not ${batch.seq - 1}`);
  if (previous.root !== batch.prevRoot) {
    return failed(
      'chain',
      `${name} has prevRoot ${batch.prevRoot}, but the previous ${previousName} (seq ${previous.seq}) has root ${previous.root}`,
    );
  }
  return ok(
    'chain',
    `${name} links to the previous ${previousName} (seq ${previous.seq}): its prevRoot is that batch's root ${previous.root}`,
  );
}

export async function payloadCheck(proof: AnchorProof, store: PayloadReader | undefined, call: Call): Promise<CheckResult> {
  if (store === undefined) return skipped('payload', "no payload store given: the payload's bytes were not checked");
  const { payloadCid: cid, payloadSize: size, payloadSha256: sha256 } = proof.envelope;
  if (size > MAX_PAYLOAD_READ) return skipped('payload', `the payload has ${size} bytes, more than one read can return`);
  let bytes: Uint8Array;
  try {
    // maxBytes: a payload larger than the envelope says is refused after its root block, unread.
    bytes = await call.run((options) => store.get(cid, { ...options, maxBytes: size }));
  } catch (error) {
    if (call.signal.aborted) throw error;
    if (error instanceof PayloadSizeLimitError) return failed('payload', `the store's payload ${cid} has ${error.size} bytes, not ${size}`);
    if (error instanceof PayloadNotFoundError) return failed('payload', `the store has no payload ${cid}`);
    if (error instanceof PayloadIntegrityError || error instanceof PayloadFormatError || error instanceof ValidationError) {
      return failed('payload', detail(error));
    }
    return skipped('payload', `store unavailable: ${detail(error)}`);
  }
  if (bytes.length !== size) return failed('payload', `the store's payload ${cid} has ${bytes.length} bytes, not ${size}`);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) return failed('payload', `the store's payload ${cid} hashes to ${actual}, not payloadSha256 ${sha256}`);
  return ok('payload', `the store's ${size} bytes under ${cid} hash to payloadSha256 ${sha256}`);
}
