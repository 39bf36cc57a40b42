import { createHash, randomBytes } from 'node:crypto';
import type { RootDatabase } from 'lmdb';
import { ClientClosedError, ValidationError } from '../../core/errors.js';
import type { LockFile } from '../../core/lock-file.js';
import type { Logger } from '../../core/logger.js';
import {
  type BlockLog,
  type ChannelConfig,
  type Envelope,
  type StoredBlock,
  buildBlock,
  decodeBlock,
  encodeEnvelope,
} from './block-log.js';
import { type ChaincodeResponse, type ChaincodeRuntime, loadChaincode } from './chaincode.js';
import { DevLedgerError, LedgerLockedError } from './errors.js';
import { type OpenedFolder, closeFolder, existingFolder, openFolder, resolveFolder, verifyFolder } from './folder.js';
import { devCertificate } from './identity.js';
import { Orderer } from './orderer.js';
import type { PrivateStore } from './private-store.js';
import type { Simulation } from './simulation.js';
import type { StateStore, StateUpdates } from './state-store.js';
import { DevStub } from './stub.js';
import { statusName, validateBlock } from './validation.js';
import { type DevLedgerVerification, verifyLedger } from './verify.js';

export { VALID } from './validation.js';

/**
 * The single node of the dev ledger: a peer (endorsement on the real chaincode, validation, commit, events) and an
 * orderer (block cutting, orderer.ts) in one process, over its folder (folder.ts). The block log, world state, key
 * history and transaction index share one LMDB environment, so a block and its public writes are one transaction;
 * private data has its own (private-store.ts), committed just before the block.
 */

export interface NodeOptions {
  directory: string;
  channel: string;
  chaincode: string;
  organizations: readonly string[];
  maxTransactions: number;
  blockTimeoutMs: number;
  logger: Logger;
  /** The chaincode to run. Default: the twinledger-chaincode package (tests run others on the same stub). */
  runtime?: ChaincodeRuntime;
}

export interface Proposal {
  txId: string;
  timestamp: { seconds: number; nanos: number };
  creator: string;
  /** Organisations whose peers run (endorse or evaluate) the transaction. */
  endorsers: readonly string[];
  function: string;
  args: readonly string[];
  transient: ReadonlyMap<string, Uint8Array>;
  nonce: Buffer;
}

export interface Endorsed {
  txId: string;
  proposal: Proposal;
  response: ChaincodeResponse;
  /** What the (first) endorsement read and wrote. */
  simulation: Simulation;
  envelope: string;
  /** Set when the chaincode answered an error (status ≥ 400) or the endorsers disagreed. */
  failure?: { kind: 'chaincode' | 'mismatch'; message: string; status: number };
}

export interface CommitStatus {
  blockNumber: bigint;
  code: number;
}

/** Directories open in this process (LMDB must not be opened twice by one process, and the lock file cannot tell). */
const openNodes = new Map<string, DevNode | undefined>();

export class DevNode {
  readonly directory: string;
  readonly config: ChannelConfig;
  /** What the check on open found. */
  readonly verification: DevLedgerVerification;
  readonly store: StateStore;
  readonly privateStore: PrivateStore;
  readonly collections: ReadonlyMap<string, readonly string[]>;
  private readonly root: RootDatabase;
  private readonly log: BlockLog;
  private readonly lock: LockFile;
  private readonly certificates = new Map<string, string>();
  private readonly listeners = new Set<(height: bigint) => void>();
  private readonly orderer: Orderer<Endorsed, CommitStatus>;
  private heightValue: number;
  private lastHash: string;
  private closed = false;
  private failure: Error | undefined;
  /** A block whose private writes are committed and whose block is not yet: simulations wait for it (consistent snapshots). */
  private privateCommit: Promise<unknown> | undefined;

  private constructor(
    readonly options: NodeOptions,
    folder: OpenedFolder,
    private readonly runtime: ChaincodeRuntime,
  ) {
    this.directory = folder.directory;
    this.root = folder.root;
    this.log = folder.log;
    this.store = folder.store;
    this.privateStore = folder.privateStore;
    this.lock = folder.lock;
    this.config = folder.config;
    this.verification = folder.verification;
    this.heightValue = folder.last.header.number + 1;
    this.lastHash = folder.last.hash;
    // One explicit collection per organisation, as the chaincode's scripts/collections.mjs generates them.
    this.collections = new Map(options.organizations.map((mspId) => [`${mspId}PrivateCollection`, [mspId]]));
    this.orderer = new Orderer(
      options,
      (transactions) => this.commitBlock(transactions),
      (error) => {
        this.failure = new DevLedgerError(`the dev ledger could not commit block ${this.heightValue}: ${(error as Error).message}`, {
          code: 'ledger.dev.commit',
          hint: 'Nothing of that block was applied. Close the DevLedger and open it again; check the disk.',
          cause: error,
        });
        this.options.logger.error('dev ledger commit failed', { block: this.heightValue, reason: (error as Error).message });
        return this.failure;
      },
    );
  }

  static async open(options: NodeOptions): Promise<DevNode> {
    const runtime = options.runtime ?? loadChaincode();
    const directory = resolveFolder(options.directory);
    if (openNodes.has(directory)) throw new LedgerLockedError(directory, process.pid);
    openNodes.set(directory, undefined);
    try {
      const folder = await openFolder(directory, options);
      if (folder.config.channel !== options.channel || folder.config.chaincode !== options.chaincode) {
        await closeFolder(folder);
        throw new ValidationError(
          'channel',
          `the dev ledger in ${directory} holds channel ${JSON.stringify(folder.config.channel)} with chaincode ` +
            `${JSON.stringify(folder.config.chaincode)}, not ${JSON.stringify(options.channel)} / ${JSON.stringify(options.chaincode)}`,
          'Open it with the channel and chaincode it was created with, or use another directory.',
        );
      }
      const node = new DevNode(options, folder, runtime);
      openNodes.set(directory, node);
      return node;
    } catch (error) {
      openNodes.delete(directory);
      throw error;
    }
  }

  /** Verifies a folder another DevLedger may have open. */
  static async verify(path: string): Promise<DevLedgerVerification> {
    const directory = existingFolder(path);
    // One LMDB environment per path and process: a ledger open here is verified through its own node.
    const node = openNodes.get(directory);
    if (node) return node.verifyNow();
    if (openNodes.has(directory)) throw new LedgerLockedError(directory, process.pid, 'it is being opened');
    return verifyFolder(directory);
  }

  height(): bigint {
    return BigInt(this.heightValue);
  }

  blockHash(): string {
    return this.lastHash;
  }

  verifyNow(): DevLedgerVerification {
    this.assertOpen('verify');
    return verifyLedger(this.directory, this.log, this.store, this.privateStore).summary;
  }

  block(number: bigint): StoredBlock | undefined {
    if (number < 0n || number >= BigInt(this.heightValue)) return undefined;
    const bytes = this.log.get(Number(number));
    if (!bytes) return undefined;
    return decodeBlock(bytes, Number(number), this.directory);
  }

  /** Called after each commit with the new height. */
  onCommit(listener: (height: bigint) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  newProposal(input: Omit<Proposal, 'txId' | 'timestamp' | 'nonce'>): Proposal {
    const nonce = randomBytes(24);
    const txId = createHash('sha256').update(nonce).update(this.certificate(input.creator)).digest('hex');
    const now = Date.now();
    return { ...input, txId, nonce, timestamp: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1_000_000 } };
  }

  /** Runs the proposal on the first endorsing organisation's peer, against committed state; nothing is recorded. */
  async evaluate(proposal: Proposal): Promise<ChaincodeResponse> {
    this.assertOpen(proposal.function);
    const { response } = await this.execute(proposal, proposal.endorsers[0] ?? proposal.creator);
    return response;
  }

  /**
   * Runs the proposal on a peer of each endorsing organisation. As a gateway does, the first error response ends the
   * endorsement; different results of two endorsers do too.
   */
  async endorse(proposal: Proposal): Promise<Endorsed> {
    this.assertOpen(proposal.function);
    let first: { response: ChaincodeResponse; simulation: Simulation; envelope: string } | undefined;
    for (const peer of proposal.endorsers) {
      const { response, simulation } = await this.execute(proposal, peer);
      const failed = (failure: Endorsed['failure']): Endorsed => ({
        txId: proposal.txId,
        proposal,
        response,
        simulation,
        envelope: '',
        failure,
      });
      if (response.status >= 400) return failed({ kind: 'chaincode', message: response.message ?? '', status: response.status });
      const envelope = this.envelope(proposal, response, simulation);
      if (first && first.envelope !== envelope) {
        const message = `ProposalResponsePayloads do not match (endorsers ${proposal.endorsers.join(', ')})`;
        return failed({ kind: 'mismatch', message, status: 500 });
      }
      first ??= { response, simulation, envelope };
    }
    if (!first) throw new DevLedgerError('a proposal needs at least one endorsing organisation', { code: 'validation' });
    return { txId: proposal.txId, proposal, ...first };
  }

  /**
   * Hands an endorsed transaction to the orderer; resolves with its validation code once its block is committed. The
   * hand-over itself is synchronous (the orderer's queue has no bound): nothing here waits but the block.
   */
  submit(endorsed: Endorsed): Promise<CommitStatus> {
    this.assertOpen(endorsed.proposal.function);
    return this.orderer.submit(endorsed);
  }

  /** Commits what waits for the orderer, then closes the stores and releases the folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.orderer.flush();
    this.orderer.abandon(() => new ClientClosedError('DevLedger', 'submit'));
    this.listeners.clear();
    try {
      await closeFolder({ privateStore: this.privateStore, root: this.root, lock: this.lock });
    } finally {
      openNodes.delete(this.directory);
    }
  }

  /** Throws `ClientClosedError` once closed, or the error that stopped the node. */
  assertOpen(what: string): void {
    if (this.closed) throw new ClientClosedError('DevLedger', what);
    if (this.failure) throw this.failure;
  }

  // ---- endorsement -----------------------------------------------------------------------------------

  private certificate(mspId: string): string {
    let pem = this.certificates.get(mspId);
    if (!pem) {
      pem = devCertificate(mspId);
      this.certificates.set(mspId, pem);
    }
    return pem;
  }

  private async execute(proposal: Proposal, peerMspId: string): Promise<{ response: ChaincodeResponse; simulation: Simulation }> {
    while (this.privateCommit) await this.privateCommit.catch(() => undefined);
    this.assertOpen(proposal.function);
    const snapshot = this.store.state.useReadTransaction();
    const privateSnapshot = this.privateStore.snapshot();
    try {
      const stub = new DevStub({
        store: this.store,
        snapshot,
        privateStore: this.privateStore,
        privateSnapshot,
        channel: this.config.channel,
        chaincode: this.config.chaincode,
        txId: proposal.txId,
        timestamp: proposal.timestamp,
        creator: { mspId: proposal.creator, certificate: this.certificate(proposal.creator) },
        peerMspId,
        args: [proposal.function, ...proposal.args],
        transient: proposal.transient,
        collections: this.collections,
        binding: createHash('sha256').update(proposal.nonce).update(proposal.creator).digest('hex'),
      });
      const response = await this.runtime.invoke(stub);
      return { response, simulation: stub.simulation };
    } finally {
      privateSnapshot.done();
      snapshot.done();
    }
  }

  private envelope(proposal: Proposal, response: ChaincodeResponse, simulation: Simulation): string {
    const event = simulation.chaincodeEvent();
    const envelope: Envelope = {
      txId: proposal.txId,
      timestamp: proposal.timestamp,
      channel: this.config.channel,
      chaincode: this.config.chaincode,
      creator: proposal.creator,
      endorsers: [...proposal.endorsers],
      function: proposal.function,
      args: [...proposal.args],
      response: { status: response.status, payload: Buffer.from(response.payload ?? []).toString('base64') },
      rwset: simulation.rwset(),
      event: event ? { name: event.name, payload: event.payload.toString('base64') } : null,
    };
    return encodeEnvelope(envelope);
  }

  // ---- validation and commit -------------------------------------------------------------------------

  /** Validates a block (validation.ts), commits its private writes, then the block with its public writes. */
  private async commitBlock(transactions: readonly Endorsed[]): Promise<CommitStatus[]> {
    const number = this.heightValue;
    const { codes, reasons, updates } = validateBlock(transactions, {
      block: number,
      store: this.store,
      privateStore: this.privateStore,
      collections: this.collections,
    });
    reasons.forEach((reason, index) => {
      if (reason === undefined) return;
      const code = codes[index] as number;
      this.options.logger.debug('transaction invalid', {
        transactionId: transactions[index]?.txId,
        block: number,
        status: statusName(code),
        reason,
      });
    });
    const block = buildBlock(
      number,
      this.lastHash,
      transactions.map((endorsed) => endorsed.envelope),
      codes,
    );
    if (updates.private.size > 0) {
      const commit = (async () => {
        await this.privateStore.commit(number, updates.private.values());
        await this.commitLog(number, block.bytes, updates);
      })();
      this.privateCommit = commit;
      try {
        await commit;
      } finally {
        this.privateCommit = undefined;
      }
    } else {
      await this.commitLog(number, block.bytes, updates);
    }
    this.heightValue = number + 1;
    this.lastHash = block.hash;
    const height = BigInt(this.heightValue);
    for (const listener of this.listeners) listener(height);
    return codes.map((code) => ({ blockNumber: BigInt(number), code }));
  }

  /** The block and its public writes: one synchronous LMDB transaction. */
  private async commitLog(number: number, bytes: Buffer, updates: StateUpdates): Promise<void> {
    await this.root.transaction(() => {
      this.log.put(number, bytes);
      this.store.apply(updates);
    });
  }
}
