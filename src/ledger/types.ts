/**
 * The ledger as the rest of TwinLedger sees it: typed records of the TwinLedger chaincode
 * (chaincode/src/types.ts is the on-ledger format) and the `Ledger` interface, which `FabricLedger`
 * implements over a Fabric gateway and which an embedded development ledger can implement too.
 */

import type { CallOptions } from '../core/options.js';

/*
 * Per call, every method takes `CallOptions`: `signal` cancels the call, including waits before retries (a transaction
 * already sent to the orderer may still commit); `timeoutMs` is a deadline for the whole call, retries included
 * (default: none beyond the per-phase deadlines and the retry policy).
 */

export interface CredentialCommitment {
  /** hex SHA-256(salt ‖ UTF-8 authId ‖ 0x00 ‖ UTF-8 password); the salt stays in the private collection. */
  commitment: string;
  /** Private data collection holding the credentials, `<MSP ID>PrivateCollection`. */
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
  /** RFC 3339 with nanoseconds: the transaction's timestamp. */
  timestamp: string;
  credentials: CredentialCommitment | null;
}

export interface DeviceCredentials {
  tenant: string;
  deviceId: string;
  authId: string;
  password: string;
  salt: string;
  txId: string;
  timestamp: string;
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
  /** `GENESIS_ROOT` (64 zeros) while no batch has been anchored: the `prevRoot` of the first batch. */
  root: string;
  owner: string | null;
  txId: string | null;
  timestamp: string | null;
}

/**
 * Where the transaction that created a record committed, as the ledger reported it. Not kept in the state (a later
 * read lacks it), and absent when the call returned a record an earlier transaction had made (an idempotent retry).
 */
export interface Committed {
  /** The block holding the record's transaction (`txId`), decimal text. */
  block?: string;
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

/** What `PublishTelemetryData` keeps on the ledger for one publication (the command itself only travels in the event). */
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

/** Payload of the chaincode event `TelemetryPublishRequested`. */
export interface TelemetryPublishRequested {
  tenant: string;
  thingId: string;
  /** On Cloud2Edge the Hono device ID equals the Ditto thing ID. */
  deviceId: string;
  /** hex SHA-256 of the UTF-8 bytes of `command`. */
  sha256: string;
  txId: string;
  timestamp: string;
  /** `hono-ttd` seconds, or null. */
  ttd: number | null;
  /** Ditto Protocol command JSON, byte for byte as submitted. */
  command: string;
}

/** Payload of the chaincode event `DeviceRegistered`. */
export interface DeviceRegistered {
  tenant: string;
  deviceId: string;
  /** MSP ID of the registering organisation. */
  owner: string;
  txId: string;
}

/** Payload of the chaincode event `CredentialsSet`: the new commitment, never the credentials. */
export interface CredentialsSet {
  tenant: string;
  deviceId: string;
  owner: string;
  commitment: string;
  txId: string;
}

/** Payload of the chaincode event `HashUpdated`. */
export interface HashUpdated {
  key: string;
  sha256: string;
  cid: string | null;
  /** The record's version after the update. */
  version: number;
  owner: string;
  txId: string;
}

/** Payload of the chaincode event `BatchAnchored`. */
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

/** Payload of the chaincode event `RecordAnchored`. */
export interface RecordAnchored {
  key: string;
  sha256: string;
  cid: string | null;
  owner: string;
  txId: string;
}

/** Each chaincode event's payload (`LedgerEvent.payload`, JSON), by event name. */
export interface LedgerEventPayloads {
  DeviceRegistered: DeviceRegistered;
  CredentialsSet: CredentialsSet;
  TelemetryPublishRequested: TelemetryPublishRequested;
  HashUpdated: HashUpdated;
  BatchAnchored: BatchAnchored;
  RecordAnchored: RecordAnchored;
}

/** The `prevRoot` of a stream's first batch: 64 zeros. */
export const GENESIS_ROOT = '0'.repeat(64);

/** Chaincode event names. */
export const LEDGER_EVENTS = {
  deviceRegistered: 'DeviceRegistered',
  credentialsSet: 'CredentialsSet',
  telemetryPublishRequested: 'TelemetryPublishRequested',
  hashUpdated: 'HashUpdated',
  batchAnchored: 'BatchAnchored',
  recordAnchored: 'RecordAnchored',
} as const;

export interface BatchAnchor {
  stream: string;
  batchId: string;
  /** hex RFC 6962 tree head. */
  root: string;
  treeSize: number;
  /** Root of the stream's current head; `GENESIS_ROOT` for the first batch. */
  prevRoot: string;
  meta?: Record<string, unknown>;
}

export interface RecordAnchor {
  key: string;
  sha256: string;
  cid?: string;
  meta?: Record<string, unknown>;
}

export interface TelemetryRequest {
  tenant: string;
  thingId: string;
  /** A Ditto Protocol twin command: JSON text (hashed byte for byte) or an envelope object (serialised with JSON.stringify). */
  command: string | object;
  /** `hono-ttd` seconds (1 to 60) the relay sends along, to pick up a command for the device. */
  ttd?: number;
}

export interface TelemetrySubmission {
  /** hex SHA-256 of the command bytes, as the chaincode computed it. */
  sha256: string;
  transactionId: string;
}

export interface CredentialsRequest {
  tenant: string;
  deviceId: string;
  authId: string;
  password: string;
  /**
   * Lower-case hex salt of the public credential commitment (16 to 64 bytes). Default: 32 random bytes
   * (`crypto.randomBytes`), generated by the SDK. The salt stays in the private collection; the chaincode
   * refuses a call without one, because a salt derivable from public data would let anyone who reads the
   * device record test password guesses offline.
   */
  salt?: string;
}

/** A chaincode event, in ledger order. */
export interface LedgerEvent {
  blockNumber: bigint;
  transactionId: string;
  chaincodeName: string;
  name: string;
  payload: Uint8Array;
}

/**
 * Where an event stream resumes: the same shape as `@hyperledger/fabric-gateway`'s `Checkpointer`, so
 * `checkpointers.file(path)` and `checkpointers.inMemory()` fit.
 */
export interface EventCheckpointer {
  getBlockNumber(): bigint | undefined;
  getTransactionId(): string | undefined;
  checkpointTransaction(blockNumber: bigint, transactionId: string): Promise<void>;
  /**
   * Block `blockNumber` is done: resume at the next block. Used to pin where a stream without a position
   * starts (see `LedgerEventsOptions.startBlock`); without it, that position is kept in memory only.
   */
  checkpointBlock?(blockNumber: bigint): Promise<void>;
}

export interface LedgerEventsOptions {
  /**
   * A file path (a durable checkpoint file, written crash-safe; the format of fabric-gateway's
   * `checkpointers.file`) or a checkpointer. The stream resumes after the last checkpointed event.
   * Default: in memory.
   */
  checkpoint?: string | EventCheckpointer;
  /**
   * Block to start at when the checkpoint holds no position yet. Default: the chain height when the stream
   * is first opened (the next block to be committed), read once and stored in the checkpoint before the
   * stream opens, so a reconnect or restart before the first event still starts there and loses nothing.
   */
  startBlock?: bigint;
  /** Only these event names (others are still checkpointed past). */
  names?: readonly string[];
  /** Ends the stream. */
  signal?: AbortSignal;
}

/**
 * The TwinLedger chaincode's operations. Reads of something absent resolve to `undefined`; everything
 * the chaincode refuses is a `ChaincodeError` with its `reason` (`INVALID_ARGUMENT`, `FORBIDDEN`,
 * `CONFLICT`, `CHAIN_MISMATCH`, ...).
 */
export interface Ledger {
  /** MSP ID of the identity the ledger transacts as, when known (e.g. the relay's default `ownerMsp`). */
  readonly mspId?: string | undefined;
  registerDevice(input: { tenant: string; deviceId: string }, options?: CallOptions): Promise<DeviceRecord>;
  getDevice(tenant: string, deviceId: string, options?: CallOptions): Promise<DeviceRecord | undefined>;
  /** Sends the credentials in the transient map, endorsed only by the caller's organisation. */
  setCredentials(input: CredentialsRequest, options?: CallOptions): Promise<CredentialCommitment>;
  /** Evaluate only (never submitted, so the password never lands in a block). Owner organisation only. */
  getCredentials(tenant: string, deviceId: string, options?: CallOptions): Promise<DeviceCredentials | undefined>;
  publishTelemetry(input: TelemetryRequest, options?: CallOptions): Promise<TelemetrySubmission>;
  /** The record of one publication, by the transaction ID `publishTelemetry` returned. */
  getTelemetry(tenant: string, thingId: string, transactionId: string, options?: CallOptions): Promise<TelemetryRecord | undefined>;

  initHash(key: string, options?: CallOptions): Promise<HashRecord>;
  updateHash(input: { key: string; sha256: string; cid?: string }, options?: CallOptions): Promise<HashRecord>;
  queryHash(key: string, options?: CallOptions): Promise<HashRecord | undefined>;
  /** Newest first; empty for an unknown key. */
  getHashHistory(key: string, options?: CallOptions): Promise<HashHistoryEntry[]>;

  anchorBatch(input: BatchAnchor, options?: CallOptions): Promise<BatchRecord & Committed>;
  getBatch(stream: string, batchId: string, options?: CallOptions): Promise<BatchRecord | undefined>;
  getHead(stream: string, options?: CallOptions): Promise<StreamHead>;
  anchorRecord(input: RecordAnchor, options?: CallOptions): Promise<AnchoredRecord & Committed>;
  getRecord(key: string, options?: CallOptions): Promise<AnchoredRecord | undefined>;

  /**
   * Chaincode events from the checkpoint on. An event is checkpointed when the loop asks for the next one,
   * i.e. after your loop body finished with it: at-least-once delivery to your code.
   */
  events(options?: LedgerEventsOptions): AsyncIterable<LedgerEvent>;
  /** Number of blocks on the channel (the next block to be committed has this number). */
  getChainHeight(options?: CallOptions): Promise<bigint>;
  close(): Promise<void>;
}
