/**
 * The `meta` the anchoring writes next to each batch and record on the ledger, and how verification reads it back.
 * Batches: `{ v: 1, firstSeq, lastSeq, prevBatchId }` (the records firstSeq..lastSeq of the stream are the leaves, in
 * order; prevBatchId is the stream's previous batch, null for the first). Records: `{ v: 1, stream, seq }` under the
 * key `${stream}/${seq}`. Other fields are ignored, so later versions may add some.
 */
import type { BatchRecord } from '../ledger/types.js';
import { describe } from '../merkle/hash.js';

export interface BatchMeta {
  v: 1;
  firstSeq: number;
  lastSeq: number;
  /** The batch ID of the stream's previous batch; null for the first batch. */
  prevBatchId: string | null;
}

export interface RecordMeta {
  v: 1;
  stream: string;
  seq: number;
}

export function batchMeta(firstSeq: number, lastSeq: number, prevBatchId: string | null): BatchMeta {
  return { v: 1, firstSeq, lastSeq, prevBatchId };
}

export function recordMeta(stream: string, seq: number): RecordMeta {
  return { v: 1, stream, seq };
}

/** The ledger key of a record anchored on its own. */
export function recordKey(stream: string, seq: number): string {
  return `${stream}/${seq}`;
}

const isSeq = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;

/** A batch's meta, or why it is not a v1 batch meta that fits the batch (lastSeq − firstSeq + 1 leaves). */
export function readBatchMeta(batch: BatchRecord): BatchMeta | string {
  const { v, firstSeq, lastSeq, prevBatchId } = batch.meta;
  if (v !== 1) return `its meta.v is ${describe(v)}, not 1`;
  if (!isSeq(firstSeq)) return `its meta.firstSeq is ${describe(firstSeq)}, not a positive integer`;
  if (!isSeq(lastSeq) || lastSeq < firstSeq) return `its meta.lastSeq is ${describe(lastSeq)}, not an integer ≥ firstSeq ${firstSeq}`;
  if (prevBatchId !== null && typeof prevBatchId !== 'string')
    return `its meta.prevBatchId is ${describe(prevBatchId)}, not a batch ID or null`;
  if (lastSeq - firstSeq + 1 !== batch.treeSize) {
    return `its meta covers records ${firstSeq}..${lastSeq} (${lastSeq - firstSeq + 1}), but its tree has ${batch.treeSize} leaves`;
  }
  return { v, firstSeq, lastSeq, prevBatchId };
}

/** Why a record's meta is not `{ v: 1, stream, seq }` for this stream and seq, or undefined. */
export function recordMetaProblem(meta: Record<string, unknown>, stream: string, seq: number): string | undefined {
  if (meta.v !== 1) return `its meta.v is ${describe(meta.v)}, not 1`;
  if (meta.stream !== stream) return `its meta.stream is ${describe(meta.stream)}, not ${JSON.stringify(stream)}`;
  if (meta.seq !== seq) return `its meta.seq is ${describe(meta.seq)}, not ${seq}`;
  return undefined;
}
