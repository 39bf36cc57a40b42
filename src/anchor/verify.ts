/**
 * Verification: `verify()` judges one proof (inclusion, anchored, chain, payload, in that order) and always answers
 * with a verdict; `verifyStream()` walks a stream's batches on the ledger from its head back to the first.
 */
import { ValidationError } from '../core/errors.js';
import { type CallOptions, validateCallOptions } from '../core/options.js';
import { type BatchRecord, GENESIS_ROOT, type Ledger } from '../ledger/types.js';
import { describe } from '../merkle/hash.js';
import type { PayloadStore } from '../offchain/types.js';
import { type LedgerReader, type PayloadReader, anchoredCheck, chainCheck, inclusionCheck, payloadCheck } from './checks.js';
import { MalformedAnchorProofError } from './errors.js';
import { ledgerKey } from './fields.js';
import { readBatchMeta } from './meta.js';
import { parseProof } from './proof.js';
import type { AnchorProof, CheckResult, Verdict } from './types.js';
import { type Call, beginCall } from '../core/call.js';

export interface VerifyOptions extends CallOptions {
  /** The ledger to check the anchoring and the chain on. Without it, `anchored` and `chain` are skipped. */
  ledger?: Pick<Ledger, 'getBatch' | 'getRecord'>;
  /** The payload store to check the payload's bytes in. Without it, `payload` is skipped. */
  store?: Pick<PayloadStore, 'get'>;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    value !== null && typeof value === 'object' && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

function checkVerifyOptions(options: unknown): { ledger: LedgerReader | undefined; store: PayloadReader | undefined } {
  validateCallOptions(options);
  const { ledger, store } = (options ?? {}) as VerifyOptions;
  if (ledger !== undefined && !hasMethods(ledger, ['getBatch', 'getRecord'])) {
    throw new ValidationError('options.ledger', `must be a Ledger (with getBatch and getRecord), got ${describe(ledger)}`);
  }
  if (store !== undefined && !hasMethods(store, ['get'])) {
    throw new ValidationError('options.store', `must be a PayloadStore (with get), got ${describe(store)}`);
  }
  return { ledger, store };
}

function malformed(error: MalformedAnchorProofError): Verdict {
  const because = 'the proof is malformed (see inclusion)';
  return {
    ok: false,
    checks: [
      { check: 'inclusion', status: 'failed', reason: `malformed proof: ${error.message}` },
      { check: 'anchored', status: 'skipped', reason: because },
      { check: 'chain', status: 'skipped', reason: because },
      { check: 'payload', status: 'skipped', reason: because },
    ],
  };
}

/**
 * Checks a proof (an `AnchorProof`, any value, or JSON text) and returns the verdict: inclusion, anchored, chain and
 * payload, each `ok`, `failed` or `skipped` with the reason. `ok` is true when inclusion passed and nothing failed;
 * without `ledger` and `store` only inclusion is checked (the others say they were skipped, and why).
 *
 * Never rejects over the proof: a malformed one fails inclusion, naming the field. Ledger and store failures that
 * are not evidence (unreachable, timed out on their own) skip their check with the reason. Rejects with
 * `ValidationError` for bad options, and with `AbortError` / `TimeoutError` when `signal` or `timeoutMs` ends the call.
 */
export async function verify(proof: AnchorProof | unknown, options?: VerifyOptions): Promise<Verdict> {
  const { ledger, store } = checkVerifyOptions(options);
  let parsed: AnchorProof;
  try {
    parsed = parseProof(proof);
  } catch (error) {
    if (error instanceof MalformedAnchorProofError) return malformed(error);
    throw error;
  }
  const call = beginCall('verify()', options ?? {});
  try {
    call.throwIfEnded();
    const inclusion = inclusionCheck(parsed);
    const anchored = await anchoredCheck(parsed, ledger, call);
    const chain = await chainCheck(parsed, ledger, call, anchored);
    const payload = await payloadCheck(parsed, store, call);
    const checks: CheckResult[] = [inclusion, anchored.result, chain, payload];
    return { ok: inclusion.status === 'ok' && checks.every((check) => check.status !== 'failed'), checks };
  } finally {
    call.done();
  }
}

export interface VerifyStreamOptions extends CallOptions {
  /** Called with each batch read, head first (for progress). What it throws ends the walk with that error. */
  onBatch?: (batch: BatchRecord) => void;
}

/** Where a stream's chain breaks. */
export interface StreamBreak {
  /** The seq of the batch at fault: one whose link is wrong, or the missing batch a link points to. */
  seq: number;
  /** Null only for a head that names no batch but claims some. */
  batchId: string | null;
  reason: string;
}

/** The result of `verifyStream()`: plain JSON. */
export interface StreamVerification {
  /** The chain from the head to the first batch is whole. */
  ok: boolean;
  /** Batches read. */
  batches: number;
  /** The stream's head as the ledger reports it (seq 0, batchId null and 64 zeros while it has no batch). */
  head: { seq: number; batchId: string | null; root: string };
  /** The break with the lowest seq found. Below a missing batch the walk cannot go, so breaks there stay unseen. */
  firstBreak?: StreamBreak;
}

/**
 * Walks `stream` on the ledger from its head back through each batch's `meta.prevBatchId` to the first batch,
 * checking every link: a batch's prevRoot is the previous batch's root, seqs go down by one, and the first batch has
 * seq 1 and prevRoot 64 zeros. Reports the break with the lowest seq. Ledger errors reject (a walk cut short proves
 * nothing); so do a bad argument (`ValidationError`), `signal` (`AbortError`) and `timeoutMs` (`TimeoutError`).
 */
export async function verifyStream(
  ledger: Pick<Ledger, 'getHead' | 'getBatch'>,
  stream: string,
  options?: VerifyStreamOptions,
): Promise<StreamVerification> {
  if (!hasMethods(ledger, ['getHead', 'getBatch'])) {
    throw new ValidationError('ledger', `must be a Ledger (with getHead and getBatch), got ${describe(ledger)}`);
  }
  ledgerKey(stream, 'stream', ValidationError);
  validateCallOptions(options);
  const onBatch = options?.onBatch;
  if (onBatch !== undefined && typeof onBatch !== 'function') throw new ValidationError('options.onBatch', 'must be a function');
  const call = beginCall(`verifyStream(${stream})`, options ?? {});
  try {
    return await walk(ledger, stream, call, onBatch);
  } finally {
    call.done();
  }
}

async function walk(
  ledger: Pick<Ledger, 'getHead' | 'getBatch'>,
  stream: string,
  call: Call,
  onBatch: ((batch: BatchRecord) => void) | undefined,
): Promise<StreamVerification> {
  const stored = await call.run((options) => ledger.getHead(stream, options));
  const head = { seq: stored.seq, batchId: stored.batchId, root: stored.root };
  const breaks: StreamBreak[] = [];
  let batches = 0;
  const result = (): StreamVerification => {
    const firstBreak = breaks.reduce<StreamBreak | undefined>(
      (lowest, found) => (lowest === undefined || found.seq < lowest.seq ? found : lowest),
      undefined,
    );
    return firstBreak === undefined ? { ok: true, batches, head } : { ok: false, batches, head, firstBreak };
  };
  const read = async (batchId: string): Promise<BatchRecord | undefined> => {
    const batch = await call.run((options) => ledger.getBatch(stream, batchId, options));
    if (batch !== undefined) {
      batches += 1;
      onBatch?.(batch);
    }
    return batch;
  };

  if (head.batchId === null) {
    if (head.seq !== 0 || head.root !== GENESIS_ROOT) {
      breaks.push({ seq: head.seq, batchId: null, reason: `the head names no batch, but has seq ${head.seq} and root ${head.root}` });
    }
    return result();
  }
  let current = await read(head.batchId);
  if (current === undefined) {
    breaks.push({ seq: head.seq, batchId: head.batchId, reason: `the head names batch ${head.batchId}, which is not on the ledger` });
    return result();
  }
  if (current.seq !== head.seq || current.root !== head.root) {
    breaks.push({
      seq: current.seq,
      batchId: current.batchId,
      reason: `the head says seq ${head.seq} and root ${head.root}, but batch ${current.batchId} has seq ${current.seq} and root ${current.root}`,
    });
  }
  for (;;) {
    const name = `batch ${current.batchId} (seq ${current.seq})`;
    const meta = readBatchMeta(current);
    if (typeof meta === 'string') {
      breaks.push({ seq: current.seq, batchId: current.batchId, reason: `${name} names no previous batch: ${meta}` });
      return result();
    }
    if (meta.prevBatchId === null) {
      if (current.seq !== 1) {
        breaks.push({
          seq: current.seq,
          batchId: current.batchId,
          reason: `${name} names no previous batch, but batches 1..${current.seq - 1} come before it`,
        });
      } else if (current.prevRoot !== GENESIS_ROOT) {
        breaks.push({
          seq: current.seq,
          batchId: current.batchId,
          reason: `${name} is the first batch, but its prevRoot ${current.prevRoot} is not 64 zeros`,
        });
      }
      return result();
    }
    if (current.seq <= 1) {
      breaks.push({
        seq: current.seq,
        batchId: current.batchId,
        reason: `${name} has seq ${current.seq}, but names ${meta.prevBatchId} as its previous batch`,
      });
      return result();
    }
    const previous = await read(meta.prevBatchId);
    if (previous === undefined) {
      breaks.push({
        seq: current.seq - 1,
        batchId: meta.prevBatchId,
        reason: `batch ${meta.prevBatchId} is not on the ledger, but ${name} links to it`,
      });
      return result();
    }
    if (previous.seq !== current.seq - 1) {
      breaks.push({
        seq: current.seq,
        batchId: current.batchId,
        reason: `${name} links to batch ${previous.batchId}, which has seq ${previous.seq}, not ${current.seq - 1}`,
      });
    } else if (current.prevRoot !== previous.root) {
      breaks.push({
        seq: current.seq,
        batchId: current.batchId,
        reason: `${name} has prevRoot ${current.prevRoot}, but the previous batch ${previous.batchId} has root ${previous.root}`,
      });
    }
    // Seqs only go down, so the walk ends even when links are wrong.
    if (previous.seq >= current.seq) return result();
    current = previous;
  }
}
