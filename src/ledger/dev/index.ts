/**
 * The embedded development ledger: `DevLedger`, the `Ledger` interface on a single in-process node that runs the real
 * TwinLedger chaincode over a hash-chained block log in a folder. A subpath of its own (`twinledger/ledger/dev`):
 * it loads the chaincode runtime (fabric-shim) and LMDB's native addon, which `twinledger/ledger` never loads.
 */
export { DevLedger, type DevIdentityOptions, type DevLedgerOptions, type DevLedgerVerification, type DevLedgerView } from './ledger.js';
export type { DevBlock, DevTransaction, DevVersion } from './dev-block.js';
export { DevLedgerError, LedgerLockedError, LedgerTamperedError } from './errors.js';
// What a DevLedger user needs of the ledger module without a second import: the chaincode's records and events, and
// the errors DevLedger reports exactly as FabricLedger does.
export {
  GENESIS_ROOT,
  LEDGER_EVENTS,
  type AnchoredRecord,
  type Committed,
  type BatchAnchor,
  type BatchAnchored,
  type BatchRecord,
  type CredentialCommitment,
  type CredentialsRequest,
  type CredentialsSet,
  type DeviceCredentials,
  type DeviceRecord,
  type DeviceRegistered,
  type EventCheckpointer,
  type HashHistoryEntry,
  type HashRecord,
  type HashUpdated,
  type Ledger,
  type LedgerEvent,
  type LedgerEventPayloads,
  type LedgerEventsOptions,
  type RecordAnchor,
  type RecordAnchored,
  type StreamHead,
  type TelemetryPublishRequested,
  type TelemetryRecord,
  type TelemetryRequest,
  type TelemetrySubmission,
} from '../types.js';
export {
  ChaincodeError,
  CommitError,
  CommitStatusError,
  EndorsementError,
  EvaluationError,
  LedgerError,
  SubmissionError,
  type ChaincodeReason,
  type LedgerErrorDetail,
  type LedgerErrorInfo,
  type LedgerPhase,
} from '../errors.js';
// The shared core API (errors, options, retry, logging and redaction, ...): one curated list, src/core/index.ts.
export * from '../../core/index.js';
