/**
 * The seam between the chaincode and the SDK. chaincode/src/types.ts is the on-ledger format; src/ledger/types.ts
 * declares the same records for SDK users, without importing the chaincode package. This file compiles only while
 * each pair is assignable both ways and has the same field names (a field that is optional on one side and absent
 * on the other passes assignability, so the names are compared too).
 *
 * Checked by `npm run lint` and by test/unit/ledger-seam.test.ts, which also shows that a drift fails it. It has
 * its own tsconfig.json: the chaincode is a CommonJS package, which the SDK's `verbatimModuleSyntax` refuses.
 */
import type * as Chaincode from '../../chaincode/src/types.js';
import type * as Sdk from '../../src/ledger/types.js';

interface SdkTypes {
  CredentialCommitment: Sdk.CredentialCommitment;
  DeviceRecord: Sdk.DeviceRecord;
  DeviceCredentials: Sdk.DeviceCredentials;
  TelemetryRecord: Sdk.TelemetryRecord;
  TelemetryPublishRequested: Sdk.TelemetryPublishRequested;
  HashRecord: Sdk.HashRecord;
  HashHistoryEntry: Sdk.HashHistoryEntry;
  BatchRecord: Sdk.BatchRecord;
  StreamHead: Sdk.StreamHead;
  AnchoredRecord: Sdk.AnchoredRecord;
  DeviceRegistered: Sdk.DeviceRegistered;
  CredentialsSet: Sdk.CredentialsSet;
  HashUpdated: Sdk.HashUpdated;
  BatchAnchored: Sdk.BatchAnchored;
  RecordAnchored: Sdk.RecordAnchored;
  EventPayloads: Sdk.LedgerEventPayloads;
  EVENTS: typeof Sdk.LEDGER_EVENTS;
}

interface ChaincodeTypes {
  CredentialCommitment: Chaincode.CredentialCommitment;
  DeviceRecord: Chaincode.DeviceRecord;
  DeviceCredentials: Chaincode.DeviceCredentials;
  TelemetryRecord: Chaincode.TelemetryRecord;
  TelemetryPublishRequested: Chaincode.TelemetryPublishRequested;
  HashRecord: Chaincode.HashRecord;
  HashHistoryEntry: Chaincode.HashHistoryEntry;
  BatchRecord: Chaincode.BatchRecord;
  StreamHead: Chaincode.StreamHead;
  AnchoredRecord: Chaincode.AnchoredRecord;
  DeviceRegistered: Chaincode.DeviceRegistered;
  CredentialsSet: Chaincode.CredentialsSet;
  HashUpdated: Chaincode.HashUpdated;
  BatchAnchored: Chaincode.BatchAnchored;
  RecordAnchored: Chaincode.RecordAnchored;
  EventPayloads: Chaincode.EventPayloads;
  EVENTS: typeof Chaincode.EVENTS;
}

export function sdkReadsChaincode(types: ChaincodeTypes): SdkTypes {
  return types;
}

export function chaincodeReadsSdk(types: SdkTypes): ChaincodeTypes {
  return types;
}

/** Per type, the field names `A` has and `B` lacks: `never` for every type while the two agree. */
type ExtraFields<A, B> = { [K in keyof A & keyof B]: Exclude<keyof A[K], keyof B[K]> };
type NoExtraFields<T extends { [K in keyof T]: never }> = T;

export type SdkFieldsAreChaincodeFields = NoExtraFields<ExtraFields<SdkTypes, ChaincodeTypes>>;
export type ChaincodeFieldsAreSdkFields = NoExtraFields<ExtraFields<ChaincodeTypes, SdkTypes>>;
