/** The ledger: the `Ledger` interface, `FabricLedger` over a Fabric gateway, and the telemetry relay to Hono. */
export { FabricLedger, type FabricLedgerConnectOptions, type FabricLedgerOptions } from './fabric.js';
export { DEFAULT_DEADLINES, type FabricDeadlines } from './gateway-calls.js';
export type { FabricConnectionOptions } from './connection.js';
export { FileCheckpointer } from './checkpoint.js';
export {
  TelemetryRelay,
  type RelayCommand,
  type RelayCredentialsSource,
  type RelayDelivery,
  type RelayDeviceCredentials,
  type RelayEvents,
  type RelayFailure,
  type RelaySkip,
  type RelayStats,
  type TelemetryRelayOptions,
} from './relay.js';
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
} from './types.js';
export {
  ChaincodeError,
  CommitError,
  CommitStatusError,
  EndorsementError,
  EvaluationError,
  LedgerError,
  RelayStateError,
  SubmissionError,
  UndeliverableError,
  type ChaincodeReason,
  type LedgerErrorDetail,
  type LedgerErrorInfo,
  type LedgerPhase,
} from './errors.js';
// The small slice of a Fabric gateway `Network` that `FabricLedger` uses: implement it to test without Fabric.
export type {
  GatewayChaincodeEvent,
  GatewayCommit,
  GatewayContract,
  GatewayEventsOptions,
  GatewayEventStream,
  GatewayNetwork,
  GatewayProposal,
  GatewayProposalOptions,
  GatewayStatus,
  GatewayTransaction,
} from './gateway-port.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
