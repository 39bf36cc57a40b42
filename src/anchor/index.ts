/**
 * Anchoring digital-twin records on the ledger: the `Anchorer` (a durable outbox, payloads to the store, Merkle batches
 * to the ledger), record envelopes (the Merkle leaves), proofs as plain JSON, and their verification against the ledger
 * and the payload store. See docs/anchoring.md and docs/proofs.md.
 */
export {
  RECORD_KINDS,
  type AnchorMode,
  type AnchorProof,
  type AppendInput,
  type AppendOptions,
  type BatchProof,
  type CheckName,
  type CheckResult,
  type CheckStatus,
  type LedgerLocation,
  type Receipt,
  type RecordEnvelope,
  type RecordKind,
  type RecordProof,
  type Verdict,
} from './types.js';
export { checkEnvelope, envelopeBytes, envelopeLeafHash } from './envelope.js';
export type { FieldErrorClass } from './fields.js';
export {
  PROOF_FORMAT,
  PROOF_VERSION,
  batchProofFor,
  parseProof,
  recordProofFor,
  type BatchProofInput,
  type RecordProofInput,
} from './proof.js';
export { batchMeta, recordKey, recordMeta, type BatchMeta, type RecordMeta } from './meta.js';
export { verify, verifyStream, type StreamBreak, type StreamVerification, type VerifyOptions, type VerifyStreamOptions } from './verify.js';
export { Anchorer, type AnchorerStatus, type StreamStatus } from './anchorer.js';
export type { AnchorerOptions, BatchOptions } from './options.js';
export type { PipelineError as AnchoringError } from './pipeline.js';
export { TwinAuditor } from './auditor.js';
export type {
  AuditAppendedEvent,
  AuditGapEvent,
  AuditThingOptions,
  AuditedChange,
  AuditedHistoryChange,
  AuditedThing,
  DivergenceKind,
  TwinAuditReport,
  TwinAuditorDitto,
  TwinAuditorEvents,
  TwinAuditorOptions,
  TwinChangeAction,
  TwinChangeRecord,
  TwinDivergence,
} from './audit-types.js';
export {
  anchorNorthbound,
  type NorthboundTap,
  type NorthboundTapOptions,
  type NorthboundTapStats,
  type TapAnchorer,
  type TapKind,
  type TapMessage,
  type TapSource,
} from './northbound-tap.js';
export { BacklogFullError, MalformedAnchorProofError, OutboxStateError, PayloadCidMismatchError, StreamHaltedError } from './errors.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
