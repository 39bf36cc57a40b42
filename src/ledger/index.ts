export * from './types.js';
export * from './errors.js';
export { FabricLedger, type FabricLedgerOptions, type FabricLedgerConnectOptions } from './fabric.js';
export { DEFAULT_DEADLINES, type FabricDeadlines } from './gateway-calls.js';
export type { FabricConnectionOptions } from './connection.js';
export type {
  GatewayNetwork,
  GatewayContract,
  GatewayProposal,
  GatewayProposalOptions,
  GatewayTransaction,
  GatewayCommit,
  GatewayStatus,
  GatewayChaincodeEvent,
  GatewayEventsOptions,
  GatewayEventStream,
} from './gateway-port.js';
export { DeliveredStore } from './delivered-store.js';
export { FileCheckpointer } from './checkpoint.js';
export {
  TelemetryRelay,
  type TelemetryRelayOptions,
  type RelayCredentialsSource,
  type RelayDeviceCredentials,
  type RelayDelivery,
  type RelayCommand,
  type RelaySkip,
  type RelayFailure,
  type RelayStats,
  type RelayEvents,
} from './relay.js';
