import { randomBytes } from 'node:crypto';
import { checkpointers } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { ClientClosedError, ValidationError } from '../core/errors.js';
import { validateDeviceId, validateTenantId, validateThingId } from '../core/ids.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { type CallOptions, durationMs } from '../core/options.js';
import { Redactor } from '../core/redact.js';
import { ExponentialBackoff, type RetryPolicy, sleep } from '../core/retry.js';
import { FileCheckpointer } from './checkpoint.js';
import { type FabricConnectionOptions, openConnection } from './connection.js';
import { LedgerError } from './errors.js';
import { DEFAULT_DEADLINES, type FabricDeadlines, GatewayCalls, utf8 } from './gateway-calls.js';
import { isRetryable, toLedgerError } from './gateway-errors.js';
import type { GatewayEventStream, GatewayNetwork } from './gateway-port.js';
import type {
  AnchoredRecord,
  Committed,
  BatchAnchor,
  BatchRecord,
  CredentialCommitment,
  CredentialsRequest,
  DeviceCredentials,
  DeviceRecord,
  EventCheckpointer,
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
} from './types.js';
import * as check from './validate.js';

export interface FabricLedgerOptions {
  channel: string;
  /** Chaincode name as committed on the channel, e.g. `twinledger`. */
  chaincode: string;
  /** Contract name inside the chaincode; default: the chaincode's default contract. */
  contract?: string;
  /** MSP ID of the client; needed for `setCredentials`/`getCredentials` (endorsed by this organisation only). */
  mspId?: string;
  deadlines?: Partial<FabricDeadlines>;
  /**
   * Timing of retries. Retried are: a gateway step that failed with UNAVAILABLE, DEADLINE_EXCEEDED or
   * RESOURCE_EXHAUSTED (the same proposal or signed transaction again, so nothing is applied twice), and a
   * whole transaction that committed with MVCC_READ_CONFLICT or PHANTOM_READ_CONFLICT (a new transaction).
   * Default: exponential backoff, 5 attempts, 250 ms doubling to at most 5 s, full jitter. Independently of this
   * policy, a key-creating transaction (`registerDevice`, `initHash`, `anchorBatch`, `anchorRecord`) that commits
   * as ENDORSEMENT_POLICY_FAILURE runs once more at once: that is how Fabric reports the loser of two creations of
   * the same key in one block.
   */
  retry?: RetryPolicy;
  /**
   * Timing of reconnects of the chaincode event stream (`events()`) after a transient failure; the attempt
   * count restarts with every event received. Return `undefined` to give up (the loop then ends with the
   * error). Default: exponential backoff without an attempt limit, 250 ms doubling to at most 30 s, full
   * jitter, so a peer restart of any length only delays the stream; each attempt is logged as a warning.
   */
  eventsRetry?: RetryPolicy;
  logger?: Logger;
  /** Shared redactor: credentials passed to `setCredentials` and read by `getCredentials` are registered with it. */
  redactor?: Redactor;
}

export interface FabricLedgerConnectOptions extends FabricConnectionOptions, Omit<FabricLedgerOptions, 'mspId'> {}

/**
 * The `Ledger` on a Hyperledger Fabric network through the Fabric Gateway (fabric-gateway 1.x, Fabric ≥ 2.4).
 *
 * ```ts
 * const ledger = FabricLedger.connect({
 *   peerEndpoint: 'localhost:7051', hostAlias: 'peer0.org1.example.com', tlsRootCertFile: '.../ca.crt',
 *   mspId: 'Org1MSP', certificateFile: '.../signcerts/cert.pem', privateKeyFile: '.../keystore/key_sk',
 *   channel: 'mychannel', chaincode: 'twinledger',
 * });
 * ```
 */
export class FabricLedger implements Ledger {
  readonly deadlines: FabricDeadlines;
  /** MSP ID of the client identity (from the options), when given. */
  readonly mspId: string | undefined;
  private readonly calls: GatewayCalls;
  private readonly eventsRetry: RetryPolicy;
  private readonly logger: Logger;
  private readonly redactor: Redactor;
  private readonly onClose: (() => void) | undefined;
  private closed = false;
  /** The client's name in `ClientClosedError` messages. */
  protected readonly clientName: string = 'FabricLedger';

  constructor(
    private readonly network: GatewayNetwork,
    private readonly options: FabricLedgerOptions,
    onClose?: () => void,
  ) {
    if (!options.channel) throw new ValidationError('channel', 'is required');
    if (!options.chaincode) throw new ValidationError('chaincode', 'is required, e.g. "twinledger"');
    for (const [name, value] of Object.entries(options.deadlines ?? {})) durationMs(`deadlines.${name}`, value);
    this.deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
    const retry = options.retry ?? new ExponentialBackoff({ maxAttempts: 5, initialDelayMs: 250, maxDelayMs: 5_000 });
    this.eventsRetry =
      options.eventsRetry ?? new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 250, maxDelayMs: 30_000 });
    this.mspId = options.mspId || undefined;
    this.logger = options.logger ?? silentLogger;
    this.redactor = options.redactor ?? new Redactor();
    this.onClose = onClose;
    this.calls = new GatewayCalls(network.getContract(options.chaincode, options.contract), this.deadlines, retry, this.logger, (what) => {
      if (this.closed) throw new ClientClosedError(this.clientName, what);
    });
  }

  /** Connects to a gateway peer. The gRPC connection is made lazily, on the first call. */
  static connect(options: FabricLedgerConnectOptions): FabricLedger {
    const { gateway, client } = openConnection(options);
    try {
      const network = gateway.getNetwork(options.channel);
      return new FabricLedger(network, { ...options, mspId: options.mspId }, () => {
        gateway.close();
        client.close();
      });
    } catch (error) {
      gateway.close();
      client.close();
      throw error;
    }
  }

  // ---- devices -------------------------------------------------------------------------------------

  async registerDevice(input: { tenant: string; deviceId: string }, options: CallOptions = {}): Promise<DeviceRecord> {
    const tenant = validateTenantId(input.tenant, undefined, 'tenant');
    const deviceId = validateDeviceId(input.deviceId);
    return JSON.parse(utf8((await this.calls.submit('RegisterDevice', [tenant, deviceId], {}, options)).result)) as DeviceRecord;
  }

  async getDevice(tenant: string, deviceId: string, options: CallOptions = {}): Promise<DeviceRecord | undefined> {
    const args = [validateTenantId(tenant, undefined, 'tenant'), validateDeviceId(deviceId)];
    return this.calls.evaluateOptional<DeviceRecord>('GetDevice', args, {}, options);
  }

  async setCredentials(input: CredentialsRequest, options: CallOptions = {}): Promise<CredentialCommitment> {
    const tenant = validateTenantId(input.tenant, undefined, 'tenant');
    const deviceId = validateDeviceId(input.deviceId);
    const authId = input.authId;
    if (typeof authId !== 'string' || !/^[a-zA-Z0-9-_=.]+$/.test(authId)) {
      throw new ValidationError('authId', 'must match ^[a-zA-Z0-9-_=.]+$ (no "@" or ":")');
    }
    if (typeof input.password !== 'string' || input.password.length === 0)
      throw new ValidationError('password', 'must be a non-empty string');
    // Always a salt the public cannot compute: the chaincode refuses SetCredentials without one.
    const salt = check.optionalSalt('salt', input.salt) ?? randomBytes(32).toString('hex');
    this.redactor.addSecret(input.password);
    const transientData: Record<string, string> = { authId, password: input.password, salt };
    const { result } = await this.calls.submit(
      'SetCredentials',
      [tenant, deviceId],
      { transientData, endorsingOrganizations: [this.ownMsp('setCredentials')] },
      options,
    );
    return JSON.parse(utf8(result)) as CredentialCommitment;
  }

  async getCredentials(tenant: string, deviceId: string, options: CallOptions = {}): Promise<DeviceCredentials | undefined> {
    const args = [validateTenantId(tenant, undefined, 'tenant'), validateDeviceId(deviceId)];
    const credentials = await this.calls.evaluateOptional<DeviceCredentials>(
      'GetCredentials',
      args,
      { endorsingOrganizations: [this.ownMsp('getCredentials')] },
      options,
    );
    if (credentials) this.redactor.addSecret(credentials.password);
    return credentials;
  }

  async publishTelemetry(input: TelemetryRequest, options: CallOptions = {}): Promise<TelemetrySubmission> {
    const tenant = validateTenantId(input.tenant, undefined, 'tenant');
    const thingId = validateThingId(input.thingId);
    const command = typeof input.command === 'string' ? input.command : JSON.stringify(input.command);
    if (typeof command !== 'string' || command.length === 0)
      throw new ValidationError('command', 'must be Ditto Protocol JSON text or an envelope object');
    const ttd = check.optionalTtd('ttd', input.ttd);
    const { result, transactionId } = await this.calls.submit('PublishTelemetryData', [tenant, thingId, command, ttd], {}, options);
    return { sha256: utf8(result), transactionId };
  }

  async getTelemetry(
    tenant: string,
    thingId: string,
    transactionId: string,
    options: CallOptions = {},
  ): Promise<TelemetryRecord | undefined> {
    const args = [
      validateTenantId(tenant, undefined, 'tenant'),
      validateThingId(thingId),
      check.requireKey('transactionId', transactionId),
    ];
    return this.calls.evaluateOptional<TelemetryRecord>('GetTelemetry', args, {}, options);
  }

  // ---- PoC 1 hash registry -------------------------------------------------------------------------

  async initHash(key: string, options: CallOptions = {}): Promise<HashRecord> {
    return this.calls.submitJson<HashRecord>('InitHash', [check.requireKey('key', key)], options);
  }

  async updateHash(input: { key: string; sha256: string; cid?: string }, options: CallOptions = {}): Promise<HashRecord> {
    const args = [check.requireKey('key', input.key), check.requireSha256('sha256', input.sha256), check.optionalCid('cid', input.cid)];
    return this.calls.submitJson<HashRecord>('UpdateHash', args, options);
  }

  async queryHash(key: string, options: CallOptions = {}): Promise<HashRecord | undefined> {
    return this.calls.evaluateOptional<HashRecord>('QueryHash', [check.requireKey('key', key)], {}, options);
  }

  async getHashHistory(key: string, options: CallOptions = {}): Promise<HashHistoryEntry[]> {
    return (await this.calls.evaluateOptional<HashHistoryEntry[]>('GetHashHistory', [check.requireKey('key', key)], {}, options)) ?? [];
  }

  // ---- anchoring -----------------------------------------------------------------------------------

  /** Resolves with the batch as the chaincode stored it, and the block that holds the transaction. */
  async anchorBatch(input: BatchAnchor, options: CallOptions = {}): Promise<BatchRecord & Committed> {
    const prevRoot = check.requireSha256('prevRoot', input.prevRoot);
    const args = [
      check.requireKey('stream', input.stream),
      check.requireKey('batchId', input.batchId),
      check.requireBatchRoot('root', input.root, prevRoot),
      check.requireTreeSize('treeSize', input.treeSize),
      prevRoot,
      check.optionalMeta('meta', input.meta),
    ];
    return this.submitCommitted<BatchRecord>('AnchorBatch', args, options);
  }

  async getBatch(stream: string, batchId: string, options: CallOptions = {}): Promise<BatchRecord | undefined> {
    const args = [check.requireKey('stream', stream), check.requireKey('batchId', batchId)];
    return this.calls.evaluateOptional<BatchRecord>('GetBatch', args, {}, options);
  }

  async getHead(stream: string, options: CallOptions = {}): Promise<StreamHead> {
    const result = await this.calls.evaluate('GetHead', [check.requireKey('stream', stream)], {}, options);
    return JSON.parse(utf8(result)) as StreamHead;
  }

  /** Resolves with the record as the chaincode stored it, and the block that holds the transaction. */
  async anchorRecord(input: RecordAnchor, options: CallOptions = {}): Promise<AnchoredRecord & Committed> {
    const args = [
      check.requireKey('key', input.key),
      check.requireSha256('sha256', input.sha256),
      check.optionalCid('cid', input.cid),
      check.optionalMeta('meta', input.meta),
    ];
    return this.submitCommitted<AnchoredRecord>('AnchorRecord', args, options);
  }

  /**
   * Submits a write-once creation; the block is reported only when this transaction made the record (a retry, or the
   * loser of a create race, gets the record another transaction made, in a block this one does not know).
   */
  private async submitCommitted<T extends { txId: string }>(name: string, args: string[], options: CallOptions): Promise<T & Committed> {
    const { result, transactionId, blockNumber } = await this.calls.submit(name, args, {}, options);
    const record = JSON.parse(utf8(result)) as T;
    return record.txId === transactionId ? { ...record, block: blockNumber.toString() } : record;
  }

  async getRecord(key: string, options: CallOptions = {}): Promise<AnchoredRecord | undefined> {
    return this.calls.evaluateOptional<AnchoredRecord>('GetRecord', [check.requireKey('key', key)], {}, options);
  }

  // ---- events --------------------------------------------------------------------------------------

  /**
   * Chaincode events of this chaincode, resuming after the checkpoint. Without a checkpoint position and
   * without `startBlock`, the stream starts at the chain height read once before the first open (and stored
   * in the checkpoint), so reconnects and restarts never skip an event committed in between. Reconnects on
   * transient gateway errors with `eventsRetry` (the attempt count reset by every event received).
   */
  async *events(options: LedgerEventsOptions = {}): AsyncGenerator<LedgerEvent, void, undefined> {
    const signal = options.signal;
    const checkpointer: EventCheckpointer =
      typeof options.checkpoint === 'string'
        ? await FileCheckpointer.open(options.checkpoint)
        : (options.checkpoint ?? checkpointers.inMemory());
    const names = options.names ? new Set(options.names) : undefined;
    // Where to start while the checkpoint holds no position: fixed once, never "the next commit" of each open.
    let startBlock = options.startBlock;
    let failures = 0;
    while (!signal?.aborted && !this.closed) {
      let stream: GatewayEventStream | undefined;
      const onAbort = () => stream?.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (checkpointer.getBlockNumber() === undefined && startBlock === undefined) {
          const height = await this.getChainHeight({ signal });
          // The chain has at least its genesis block, so height >= 1: blocks up to height - 1 are behind us.
          if (checkpointer.checkpointBlock) await checkpointer.checkpointBlock(height - 1n);
          startBlock = height;
          this.logger.info('chaincode event stream starts at the current chain height', {
            chaincode: this.options.chaincode,
            startBlock: height.toString(),
          });
        }
        stream = await this.network.getChaincodeEvents(this.options.chaincode, {
          checkpoint: checkpointer,
          ...(checkpointer.getBlockNumber() === undefined && startBlock !== undefined ? { startBlock } : {}),
        });
        if (signal?.aborted) return;
        for await (const event of stream) {
          failures = 0;
          if (!names || names.has(event.eventName)) {
            yield {
              blockNumber: event.blockNumber,
              transactionId: event.transactionId,
              chaincodeName: event.chaincodeName,
              name: event.eventName,
              payload: event.payload,
            };
          }
          // Reached only when the consumer asked for the next event: its loop body is done with this one.
          await checkpointer.checkpointTransaction(event.blockNumber, event.transactionId);
        }
        if (signal?.aborted) return;
        // The gateway ended the stream without an error: reconnect from the checkpoint.
        failures += 1;
        const ended = new LedgerError('the chaincode event stream ended', {
          phase: 'events',
          transaction: 'ChaincodeEvents',
          retryable: true,
        });
        const delay = this.eventsRetry.nextDelayMs(failures, ended) ?? this.deadlines.evaluateMs;
        this.logger.warn('chaincode event stream ended; reconnecting', {
          chaincode: this.options.chaincode,
          attempt: failures,
          delayMs: delay,
        });
        await sleep(delay, signal);
      } catch (error) {
        if (signal?.aborted || this.closed) return;
        const failure = toLedgerError(error, { phase: 'events', transaction: 'ChaincodeEvents' });
        failures += 1;
        const delay = isRetryable(failure) ? this.eventsRetry.nextDelayMs(failures, failure) : undefined;
        if (delay === undefined) throw failure;
        this.logger.warn('chaincode event stream failed; reconnecting', {
          chaincode: this.options.chaincode,
          attempt: failures,
          delayMs: delay,
          reason: failure.message,
        });
        try {
          await sleep(delay, signal);
        } catch {
          return;
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        stream?.close();
      }
    }
  }

  /** Blocks on the channel: qscc `GetChainInfo` (a `common.BlockchainInfo`) evaluated through the gateway. */
  async getChainHeight(options: CallOptions = {}): Promise<bigint> {
    const qscc = this.network.getContract('qscc');
    const bytes = await this.calls.evaluate('GetChainInfo', [this.options.channel], {}, options, qscc);
    let height: number;
    try {
      height = common.BlockchainInfo.deserializeBinary(bytes).getHeight();
    } catch (error) {
      throw new LedgerError(`qscc GetChainInfo answered bytes that are not a BlockchainInfo: ${(error as Error).message}`, {
        phase: 'evaluate',
        transaction: 'GetChainInfo',
        cause: error,
        hint: 'Check that the peer is a Fabric peer and the channel name is right.',
      });
    }
    if (!Number.isSafeInteger(height) || height < 1) {
      throw new LedgerError(`qscc GetChainInfo reported an invalid chain height ${String(height)}`, {
        phase: 'evaluate',
        transaction: 'GetChainInfo',
      });
    }
    return BigInt(height);
  }

  /**
   * Closes the gateway and its gRPC connection (when `connect()` made them). Idempotent and final, as for every
   * client of the SDK: calls afterwards fail with `ClientClosedError`, event streams end.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
  }

  // ---- plumbing ------------------------------------------------------------------------------------

  private ownMsp(operation: string): string {
    if (!this.options.mspId) throw new ValidationError('mspId', `the FabricLedger needs its organisation's MSP ID for ${operation}`);
    return this.options.mspId;
  }
}
