/**
 * The anchoring pipeline's data: the record envelope (the Merkle leaf), receipts, proofs and verdicts. All plain JSON,
 * so a proof can be stored, sent and checked by a third party with any SHA-256 implementation (docs/proofs.md).
 */
import type { CallOptions } from '../core/options.js';

/** What a record is about: Hono messages (telemetry, event, command, command-response), twin lifecycle and changes. */
export type RecordKind =
  'telemetry' | 'event' | 'command' | 'command-response' | 'twin-change' | 'created' | 'deleted' | 'policy-change' | 'custom';

export const RECORD_KINDS: readonly RecordKind[] = [
  'telemetry',
  'event',
  'command',
  'command-response',
  'twin-change',
  'created',
  'deleted',
  'policy-change',
  'custom',
];

/**
 * One anchored record. Its canonical JSON (RFC 8785) is the Merkle leaf data: the leaf hash is
 * SHA-256(0x00 ‖ canonical bytes). The payload itself is off-chain (by CID); `salt` (16 random bytes) keeps a small
 * payload from being guessed from the leaf hash.
 */
export interface RecordEnvelope {
  /** Envelope format version: 1. */
  v: 1;
  tenant: string;
  thingId: string;
  kind: RecordKind;
  /** Position in its stream, from 1, without gaps. */
  seq: number;
  /** When it was appended: ISO 8601 UTC with milliseconds (`2026-12-07T10:00:00.000Z`). */
  ts: string;
  /** The payload's CID in the payload store (CIDv1 `bafk…`/`bafy…` or CIDv0 `Qm…`, by the store's options). */
  payloadCid: string;
  /** SHA-256 of the payload bytes, lower-case hex. */
  payloadSha256: string;
  payloadSize: number;
  contentType: string;
  /** 16 random bytes, lower-case hex (32 characters). */
  salt: string;
}

/** How a record reaches the ledger: in a Merkle batch (`AnchorBatch`) or on its own (`AnchorRecord`). */
export type AnchorMode = 'batch' | 'record';

/** A proof that a record was anchored in a Merkle batch of a stream. */
export interface BatchProof {
  format: 'twinledger-proof';
  version: 1;
  mode: 'batch';
  envelope: RecordEnvelope;
  /** The ledger stream (`AnchorBatch`'s stream key). */
  stream: string;
  batchId: string;
  /** Position of the record's leaf in the batch's tree, from 0. */
  leafIndex: number;
  /** Leaves in the batch's tree. */
  treeSize: number;
  /** RFC 9162 inclusion path (sibling hashes, leaf to root), lower-case hex. */
  auditPath: string[];
  /** The batch's tree head, lower-case hex; what the ledger holds for `batchId`. */
  root: string;
  /** The root of the stream's previous batch (64 zeros for the first batch). */
  prevRoot: string;
  /** Where the ledger recorded the batch. */
  ledger: LedgerLocation;
  /** The payload's CID (as in the envelope): where to fetch the bytes to check `payloadSha256`. */
  payloadCid: string;
}

/** A proof that a record was anchored on its own (`AnchorRecord`, per-record mode). */
export interface RecordProof {
  format: 'twinledger-proof';
  version: 1;
  mode: 'record';
  envelope: RecordEnvelope;
  stream: string;
  /** The ledger key of the record (`AnchorRecord`'s key). */
  key: string;
  /** The RFC 9162 leaf hash of the envelope's canonical JSON: what the ledger holds as the record's sha256. */
  leafHash: string;
  ledger: LedgerLocation;
  payloadCid: string;
}

export type AnchorProof = BatchProof | RecordProof;

export interface LedgerLocation {
  /** Transaction that anchored the batch or record. */
  txId: string;
  /** The transaction's timestamp as the ledger recorded it. */
  timestamp: string;
  /** Block number (decimal text), when the ledger reports it. */
  block?: string;
  /** For batches: the batch's position in its stream on the ledger, from 1. */
  batchSeq?: number;
}

export type CheckName = 'inclusion' | 'anchored' | 'chain' | 'payload';
export type CheckStatus = 'ok' | 'failed' | 'skipped';

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  /** Why: what was compared, or what is missing to check it. */
  reason: string;
}

/** The result of `verify()`: one result per check, in the order inclusion, anchored, chain, payload. */
export interface Verdict {
  /** No check failed and inclusion was checked. Skipped checks are not failures: read `checks` for what was covered. */
  ok: boolean;
  checks: CheckResult[];
}

/** What `append()` gets. */
export interface AppendInput {
  tenant: string;
  thingId: string;
  kind: RecordKind;
  /** Bytes as they are; a string as UTF-8; anything else as its canonical JSON (RFC 8785). */
  payload: Uint8Array | string | unknown;
  /** Default: `application/octet-stream` for bytes, `text/plain; charset=utf-8` for a string, `application/json` otherwise. */
  contentType?: string;
  /** Stream name within the tenant. Default `default`. */
  stream?: string;
  /** Override the anchorer's mode for this record. */
  anchor?: AnchorMode;
  /**
   * The identity of the record's source, unique within its stream (up to 512 characters): a Kafka
   * `topic/partition/offset`, a Hono message ID, an event ID. An append whose key the stream has seen returns the
   * receipt of the record that key made (`duplicate: true`) and stores nothing, so a source delivered twice (a
   * consumer that crashed before acknowledging) is recorded once. Kept with the record, for as long as the outbox is.
   */
  idempotencyKey?: string;
}

export interface AppendOptions extends CallOptions {
  /**
   * When the backlog is full: wait for room (default) until the call's deadline, or fail at once with
   * `BacklogFullError`.
   */
  whenFull?: 'wait' | 'fail';
}

/** What `append()` resolves with, once the record and its payload are durable in the outbox. */
export interface Receipt {
  /** The ledger stream. */
  readonly stream: string;
  readonly seq: number;
  readonly mode: AnchorMode;
  readonly envelope: RecordEnvelope;
  /** The envelope's RFC 9162 leaf hash, lower-case hex. */
  readonly leafHash: string;
  /** True when the append's `idempotencyKey` was seen before: this is the receipt of the record made then. */
  readonly duplicate: boolean;
  /** Waits until the record is anchored and returns its proof. */
  proof(options?: CallOptions): Promise<AnchorProof>;
}
