import { ClientClosedError, ValidationError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import { type CallOptions, durationMs, positiveInteger, retryPolicyOption, validateCallOptions } from '../../core/options.js';
import { Redactor } from '../../core/redact.js';
import { ExponentialBackoff, type RetryPolicy } from '../../core/retry.js';
import { FabricLedger } from '../fabric.js';
import type { FabricDeadlines } from '../gateway-calls.js';
import { abortReason } from '../gateway-errors.js';
import type {
  AnchoredRecord,
  Committed,
  BatchAnchor,
  BatchRecord,
  CredentialCommitment,
  CredentialsRequest,
  DeviceCredentials,
  DeviceRecord,
  HashHistoryEntry,
  HashRecord,
  Ledger,
  LedgerEvent,
  LedgerEventsOptions,
  RecordAnchor,
  StreamHead,
  TelemetryRecord,
  TelemetryRequest,
  TelemetrySubmission,
} from '../types.js';
import { type DevBlock, toDevBlock } from './dev-block.js';
import { DevGateway } from './gateway.js';
import { DevNode } from './node.js';
import type { DevLedgerVerification } from './verify.js';

export interface DevLedgerOptions {
  /**
   * Folder of the ledger (created when missing): `ledger.mdb` (LMDB: the block log, world state, history, transaction
   * index), `private.mdb` (LMDB: private data, never in the block log's file) and `devledger.lock`.
   */
  directory: string;
  /** MSP ID this ledger transacts as (`ledger.mspId`). Default `Org1MSP`. */
  mspId?: string;
  /**
   * The channel's organisations: each gets a private data collection `<MSP ID>PrivateCollection` (as the
   * chaincode's scripts/collections.mjs generates them) and a peer, and may be used with `as()`. Default: `[mspId]`.
   */
  organizations?: readonly string[];
  /** Channel name; fixed when the ledger is created. Default `twinledger`. */
  channel?: string;
  /** Chaincode name; fixed when the ledger is created. Default `twinledger`. */
  chaincode?: string;
  /** The orderer cuts a block when this many transactions wait (Fabric's BatchSize.MaxMessageCount). Default 500. */
  blockMaxTransactions?: number;
  /**
   * ... or when the oldest waiting transaction has waited this long (Fabric's BatchTimeout), and the previous block is
   * committed: transactions submitted meanwhile share a block. Default 2 ms; 0 cuts as soon as the committer is free.
   */
  blockTimeoutMs?: number;
  /**
   * Timing of re-runs after MVCC_READ_CONFLICT / PHANTOM_READ_CONFLICT (what is re-run is decided as in `FabricLedger`:
   * conflicts, and once at once a key-creating transaction that lost a same-block create race).
   * Default: exponential backoff, 5 attempts, 10 ms doubling to at most 500 ms, full jitter.
   */
  retry?: RetryPolicy;
  /**
   * Deadlines per step, as for `FabricLedger`: `evaluateMs` and `endorseMs` bound the run of the in-process chaincode,
   * `commitStatusMs` the wait for the transaction's block. A step past its deadline fails with DEADLINE_EXCEEDED
   * (`EvaluationError`, `EndorsementError`, `CommitStatusError`) and is repeated within `retry`.
   *
   * `submitMs` is accepted and checked but never expires: in `FabricLedger` it bounds the gateway's Submit call, which
   * returns once the orderer has accepted the transaction (a `SubmissionError` with DEADLINE_EXCEEDED otherwise), not
   * once it is in a block. The DevLedger's equivalent step appends the transaction to the orderer's in-memory queue,
   * which has no bound and never makes a submit wait, so it completes before any deadline can pass; the wait for the
   * block counts against `commitStatusMs`. Default: `DEFAULT_DEADLINES` of `twinledger/ledger`.
   */
  deadlines?: Partial<FabricDeadlines>;
  logger?: Logger;
  /** Shared redactor: passwords passed to `setCredentials` and read by `getCredentials` are registered with it. */
  redactor?: Redactor;
}

/** How a view of the ledger transacts: whose peers endorse. */
export interface DevIdentityOptions {
  /**
   * Organisations whose peers endorse this identity's submits (and run its queries). Default: its own. Another
   * organisation here shows key-level endorsement at work: a write to a key owned by one organisation, endorsed only
   * by another's peer, commits as ENDORSEMENT_POLICY_FAILURE. (`setCredentials`/`getCredentials` always name the
   * caller's own organisation, as `FabricLedger` does.)
   */
  endorsingOrganizations?: readonly string[];
  /** This view's logger (re-runs after conflicts are logged as warnings). Default: the ledger's. */
  logger?: Logger;
}

export type { DevLedgerVerification };

const MSP_ID = /^[A-Za-z0-9._-]+$/;

function mspIdOption(field: string, value: unknown): string {
  if (typeof value !== 'string' || !MSP_ID.test(value)) {
    throw new ValidationError(field, `must be an MSP ID of letters, digits and . _ - (e.g. Org1MSP), got ${JSON.stringify(value)}`);
  }
  return value;
}

function nameOption(field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(value)) {
    throw new ValidationError(field, `must be a Fabric name (lower-case letters, digits and . _ -), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** One organisation's identity on a `DevLedger` (`ledger.as(mspId)`): a `Ledger` that transacts as `mspId`. */
export interface DevLedgerView extends Ledger {
  readonly mspId: string;
  /** Organisations whose peers endorse its submits. */
  readonly endorsingOrganizations: readonly string[];
}

/**
 * An identity's client: `FabricLedger` itself (argument checks, re-runs of conflicts and lost create races, error
 * mapping, checkpointed events), over the dev ledger's in-process gateway instead of gRPC.
 */
class IdentityLedger extends FabricLedger implements DevLedgerView {
  protected override readonly clientName: string = 'DevLedger';
  override readonly mspId: string;
  readonly endorsingOrganizations: readonly string[];

  constructor(
    node: DevNode,
    identity: { mspId: string; endorsingOrganizations: readonly string[] },
    settings: Settings,
    onClose: (view: IdentityLedger) => void = () => undefined,
  ) {
    const gateway = new DevGateway(node, identity);
    super(gateway, { channel: node.config.channel, chaincode: node.config.chaincode, mspId: identity.mspId, ...settings }, () => {
      gateway.close();
      onClose(this);
    });
    this.mspId = identity.mspId;
    this.endorsingOrganizations = Object.freeze([...identity.endorsingOrganizations]);
  }
}

interface Settings {
  retry: RetryPolicy;
  deadlines: Partial<FabricDeadlines> | undefined;
  logger: Logger;
  redactor: Redactor;
}

/**
 * A single-node development ledger in a folder: the `Ledger` interface, executed by the real TwinLedger chaincode
 * in-process against a stub with a Fabric peer's semantics, blocks cut as an orderer cuts them, read sets validated at
 * commit as a peer validates them. A block commits in two synchronous LMDB transactions: first its private writes,
 * with an undo record of the rows they replace, in the private data store (`private.mdb`); then the block, appended to
 * the hash-chained block log, with its public writes (`ledger.mdb`). Opening undoes the private writes of a block a
 * crash kept out of the log, then verifies the whole folder.
 *
 * Not a Fabric network: no consensus, no endorsement by other organisations' own peers (every organisation's "peer" is
 * this process), no PKI (identities are MSP IDs), one writer process per folder. See docs/ledger.md.
 */
export class DevLedger implements DevLedgerView {
  /** The folder, resolved. */
  readonly directory: string;
  readonly mspId: string;
  readonly endorsingOrganizations: readonly string[];
  readonly organizations: readonly string[];
  /** What the check on open found. */
  readonly verification: DevLedgerVerification;
  private readonly client: IdentityLedger;
  private readonly views = new Set<IdentityLedger>();
  private closed = false;

  private constructor(
    private readonly node: DevNode,
    mspId: string,
    private readonly settings: Settings,
  ) {
    this.client = new IdentityLedger(node, { mspId, endorsingOrganizations: [mspId] }, settings);
    this.mspId = mspId;
    this.endorsingOrganizations = this.client.endorsingOrganizations;
    this.directory = node.directory;
    this.organizations = Object.freeze([...node.options.organizations]);
    this.verification = node.verification;
  }

  /**
   * Opens (or creates) the ledger in `options.directory`: takes the folder's lock, undoes the private writes of a block
   * a crash kept out of the log, verifies the block chain and every stored row against it (`LedgerTamperedError`
   * naming the block otherwise, also for a block or row it cannot decode), and starts the node.
   */
  static async open(options: DevLedgerOptions): Promise<DevLedger> {
    if (typeof options?.directory !== 'string' || options.directory.length === 0) {
      throw new ValidationError('directory', 'is required: the folder of the dev ledger');
    }
    const mspId = mspIdOption('mspId', options.mspId ?? 'Org1MSP');
    const organizations = [...(options.organizations ?? [mspId])];
    organizations.forEach((org, index) => mspIdOption(`organizations[${index}]`, org));
    if (!organizations.includes(mspId)) throw new ValidationError('organizations', `must include mspId ${mspId}`);
    if (new Set(organizations).size !== organizations.length) throw new ValidationError('organizations', 'lists an MSP ID twice');
    const logger = options.logger ?? silentLogger;
    if (options.deadlines !== undefined && (typeof options.deadlines !== 'object' || options.deadlines === null)) {
      throw new ValidationError('deadlines', 'must be an object of durations in ms, e.g. { commitStatusMs: 10000 }');
    }
    for (const [name, value] of Object.entries(options.deadlines ?? {})) durationMs(`deadlines.${name}`, value);
    const settings: Settings = {
      retry: retryPolicyOption(
        'retry',
        options.retry,
        () => new ExponentialBackoff({ maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 500 }),
      ),
      deadlines: options.deadlines,
      logger,
      redactor: options.redactor ?? new Redactor(),
    };
    const node = await DevNode.open({
      directory: options.directory,
      channel: nameOption('channel', options.channel, 'twinledger'),
      chaincode: nameOption('chaincode', options.chaincode, 'twinledger'),
      organizations,
      maxTransactions: positiveInteger('blockMaxTransactions', options.blockMaxTransactions, 500, 100_000),
      blockTimeoutMs: durationMs('blockTimeoutMs', options.blockTimeoutMs, 2, { allowZero: true }),
      logger,
    });
    try {
      const ledger = new DevLedger(node, mspId, settings);
      logger.info('dev ledger opened', { directory: node.directory, height: node.verification.height.toString(), mspId });
      return ledger;
    } catch (error) {
      await node.close();
      throw error;
    }
  }

  /**
   * Verifies a ledger folder without opening it for writing — also one that another process has open: the block chain,
   * then every state, private, history and index row against the log. Resolves with a summary (`lastBlockHash` pins
   * the whole chain); a difference is a `LedgerTamperedError` naming the block.
   */
  static async verify(directory: string): Promise<DevLedgerVerification> {
    if (typeof directory !== 'string' || directory.length === 0) throw new ValidationError('directory', 'is required');
    return DevNode.verify(directory);
  }

  /** The ledger as another organisation of `organizations` (or with other endorsers): a view sharing this node. */
  as(mspId: string, options: DevIdentityOptions = {}): DevLedgerView {
    this.assertOpen('as');
    const id = mspIdOption('mspId', mspId);
    if (!this.organizations.includes(id)) {
      throw new ValidationError(
        'mspId',
        `${id} is not one of the ledger's organizations (${this.organizations.join(', ')})`,
        'Add it to the DevLedger option organizations.',
      );
    }
    const endorsers = [...(options.endorsingOrganizations ?? [id])];
    if (endorsers.length === 0) throw new ValidationError('endorsingOrganizations', 'must name at least one organisation');
    endorsers.forEach((org, index) => {
      if (!this.organizations.includes(org)) {
        throw new ValidationError(`endorsingOrganizations[${index}]`, `${org} is not one of the ledger's organizations`);
      }
    });
    const settings = options.logger ? { ...this.settings, logger: options.logger } : this.settings;
    const view = new IdentityLedger(this.node, { mspId: id, endorsingOrganizations: endorsers }, settings, (closed) =>
      this.views.delete(closed),
    );
    this.views.add(view);
    return view;
  }

  /** Re-verifies the whole ledger now (as on open). */
  async verify(options: CallOptions = {}): Promise<DevLedgerVerification> {
    validateCallOptions(options);
    this.assertOpen('verify');
    if (options.signal?.aborted) throw abortReason(options.signal, 'verify');
    return this.node.verifyNow();
  }

  /** Block `blockNumber` (0 is the channel configuration), or `undefined` beyond the height. */
  async getBlock(blockNumber: bigint, options: CallOptions = {}): Promise<DevBlock | undefined> {
    validateCallOptions(options);
    this.assertOpen('getBlock');
    if (typeof blockNumber !== 'bigint') throw new ValidationError('blockNumber', 'must be a bigint, e.g. 1n');
    if (options.signal?.aborted) throw abortReason(options.signal, 'getBlock');
    const block = this.node.block(blockNumber);
    return block ? toDevBlock(block) : undefined;
  }

  registerDevice(input: { tenant: string; deviceId: string }, options?: CallOptions): Promise<DeviceRecord> {
    return this.client.registerDevice(input, options);
  }
  getDevice(tenant: string, deviceId: string, options?: CallOptions): Promise<DeviceRecord | undefined> {
    return this.client.getDevice(tenant, deviceId, options);
  }
  setCredentials(input: CredentialsRequest, options?: CallOptions): Promise<CredentialCommitment> {
    return this.client.setCredentials(input, options);
  }
  getCredentials(tenant: string, deviceId: string, options?: CallOptions): Promise<DeviceCredentials | undefined> {
    return this.client.getCredentials(tenant, deviceId, options);
  }
  publishTelemetry(input: TelemetryRequest, options?: CallOptions): Promise<TelemetrySubmission> {
    return this.client.publishTelemetry(input, options);
  }
  getTelemetry(tenant: string, thingId: string, transactionId: string, options?: CallOptions): Promise<TelemetryRecord | undefined> {
    return this.client.getTelemetry(tenant, thingId, transactionId, options);
  }
  initHash(key: string, options?: CallOptions): Promise<HashRecord> {
    return this.client.initHash(key, options);
  }
  updateHash(input: { key: string; sha256: string; cid?: string }, options?: CallOptions): Promise<HashRecord> {
    return this.client.updateHash(input, options);
  }
  queryHash(key: string, options?: CallOptions): Promise<HashRecord | undefined> {
    return this.client.queryHash(key, options);
  }
  getHashHistory(key: string, options?: CallOptions): Promise<HashHistoryEntry[]> {
    return this.client.getHashHistory(key, options);
  }
  anchorBatch(input: BatchAnchor, options?: CallOptions): Promise<BatchRecord & Committed> {
    return this.client.anchorBatch(input, options);
  }
  getBatch(stream: string, batchId: string, options?: CallOptions): Promise<BatchRecord | undefined> {
    return this.client.getBatch(stream, batchId, options);
  }
  getHead(stream: string, options?: CallOptions): Promise<StreamHead> {
    return this.client.getHead(stream, options);
  }
  anchorRecord(input: RecordAnchor, options?: CallOptions): Promise<AnchoredRecord & Committed> {
    return this.client.anchorRecord(input, options);
  }
  getRecord(key: string, options?: CallOptions): Promise<AnchoredRecord | undefined> {
    return this.client.getRecord(key, options);
  }
  /** Chaincode events, with the checkpoint semantics of `FabricLedger.events()` (it is the same code). */
  events(options?: LedgerEventsOptions): AsyncIterable<LedgerEvent> {
    return this.client.events(options);
  }
  getChainHeight(options?: CallOptions): Promise<bigint> {
    return this.client.getChainHeight(options);
  }

  /**
   * Closes the ledger, its views and their event streams; commits the transactions already handed to the orderer
   * (without waiting for the block timeout), then releases the folder. Idempotent and final: calls afterwards fail with
   * `ClientClosedError`.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const view of [...this.views]) await view.close();
    await this.client.close();
    await this.node.close();
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new ClientClosedError('DevLedger', what);
  }
}
