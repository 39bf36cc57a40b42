/**
 * Records the contract keeps in world state and returns as JSON. Field names are part of the
 * on-ledger format: change them only with a migration.
 */

export interface CredentialCommitment {
  /** hex SHA-256(salt ‖ UTF-8 authId ‖ 0x00 ‖ UTF-8 password); the salt stays in the private collection. */
  commitment: string;
  collection: string;
  txId: string;
  timestamp: string;
}

export interface DeviceRecord {
  docType: 'device';
  tenant: string;
  deviceId: string;
  /** MSP ID of the organisation that registered the device; only it may write for the device. */
  owner: string;
  txId: string;
  timestamp: string;
  credentials: CredentialCommitment | null;
}

/** What `GetCredentials` returns (and the private collection holds). Never in public state or events. */
export interface DeviceCredentials {
  tenant: string;
  deviceId: string;
  authId: string;
  password: string;
  /** hex salt of the commitment. */
  salt: string;
  txId: string;
  timestamp: string;
}

export interface TelemetryRecord {
  docType: 'telemetry';
  tenant: string;
  thingId: string;
  /** hex SHA-256 of the UTF-8 bytes of the Ditto command exactly as submitted. */
  sha256: string;
  txId: string;
  timestamp: string;
  ttd: number | null;
}

/** Payload of the `TelemetryPublishRequested` event: everything a relay needs to post the command to Hono. */
export interface TelemetryPublishRequested {
  tenant: string;
  thingId: string;
  /** On Cloud2Edge the Hono device ID equals the Ditto thing ID. */
  deviceId: string;
  sha256: string;
  txId: string;
  timestamp: string;
  ttd: number | null;
  /** The Ditto Protocol command, byte for byte as submitted. */
  command: string;
}

export interface HashRecord {
  docType: 'hash';
  key: string;
  owner: string;
  sha256: string | null;
  cid: string | null;
  version: number;
  txId: string;
  timestamp: string;
}

export interface HashHistoryEntry {
  txId: string;
  timestamp: string;
  isDelete: boolean;
  record: HashRecord | null;
}

export interface BatchRecord {
  docType: 'batch';
  stream: string;
  batchId: string;
  /** 1 for the stream's first batch. */
  seq: number;
  /** hex RFC 6962 Merkle tree head. */
  root: string;
  treeSize: number;
  prevRoot: string;
  meta: Record<string, unknown>;
  owner: string;
  txId: string;
  timestamp: string;
}

export interface StreamHead {
  docType: 'head';
  stream: string;
  /** 0 while no batch has been anchored. */
  seq: number;
  batchId: string | null;
  /** 64 zeros while no batch has been anchored: the `prevRoot` of the first batch. */
  root: string;
  owner: string | null;
  txId: string | null;
  timestamp: string | null;
}

export interface AnchoredRecord {
  docType: 'record';
  key: string;
  sha256: string;
  cid: string | null;
  meta: Record<string, unknown>;
  owner: string;
  txId: string;
  timestamp: string;
}

/** Payload of the `DeviceRegistered` event. */
export interface DeviceRegistered {
  tenant: string;
  deviceId: string;
  owner: string;
  txId: string;
}

/** Payload of the `CredentialsSet` event: the new commitment, never the credentials. */
export interface CredentialsSet {
  tenant: string;
  deviceId: string;
  owner: string;
  commitment: string;
  txId: string;
}

/** Payload of the `HashUpdated` event. */
export interface HashUpdated {
  key: string;
  sha256: string;
  cid: string | null;
  version: number;
  owner: string;
  txId: string;
}

/** Payload of the `BatchAnchored` event. */
export interface BatchAnchored {
  stream: string;
  batchId: string;
  seq: number;
  root: string;
  treeSize: number;
  prevRoot: string;
  owner: string;
  txId: string;
}

/** Payload of the `RecordAnchored` event. */
export interface RecordAnchored {
  key: string;
  sha256: string;
  cid: string | null;
  owner: string;
  txId: string;
}

/** Each event's payload, by event name. */
export interface EventPayloads {
  DeviceRegistered: DeviceRegistered;
  CredentialsSet: CredentialsSet;
  TelemetryPublishRequested: TelemetryPublishRequested;
  HashUpdated: HashUpdated;
  BatchAnchored: BatchAnchored;
  RecordAnchored: RecordAnchored;
}

/** Names of the chaincode events; at most one per transaction. */
export const EVENTS = {
  deviceRegistered: 'DeviceRegistered',
  credentialsSet: 'CredentialsSet',
  telemetryPublishRequested: 'TelemetryPublishRequested',
  hashUpdated: 'HashUpdated',
  batchAnchored: 'BatchAnchored',
  recordAnchored: 'RecordAnchored',
} as const;
