import type { CallOptions as GrpcCallOptions } from '@grpc/grpc-js';
import { common } from '@hyperledger/fabric-protos';
import { ClientClosedError } from '../../core/errors.js';
import { ChaincodeError, CommitStatusError, EndorsementError, EvaluationError, type LedgerErrorInfo } from '../errors.js';
import { chaincodeReason } from '../gateway-errors.js';
import type {
  GatewayChaincodeEvent,
  GatewayCommit,
  GatewayContract,
  GatewayEventStream,
  GatewayEventsOptions,
  GatewayNetwork,
  GatewayProposal,
  GatewayProposalOptions,
  GatewayStatus,
  GatewayTransaction,
} from '../gateway-port.js';
import type { ChaincodeResponse } from './chaincode.js';
import { type CommitStatus, type DevNode, type Endorsed, VALID } from './node.js';

/**
 * The Fabric gateway of the dev ledger: the `GatewayNetwork` port that `FabricLedger` talks to, served by the
 * in-process node. One gateway per identity (MSP ID). Answers like a Fabric gateway: a chaincode refusal is a
 * `ChaincodeError` from the endorse or evaluate step, a transaction invalidated at commit is a non-successful status
 * (`FabricLedger` turns it into a `CommitError` and re-runs conflicts), and `qscc GetChainInfo` is a
 * `common.BlockchainInfo`.
 */

const ADDRESS = 'devledger';

const toBytes = (value: string | Uint8Array): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

export interface DevGatewayIdentity {
  mspId: string;
  /** Organisations whose peers endorse submits (and evaluate queries) unless a call names its own. */
  endorsingOrganizations: readonly string[];
}

function refusal(response: ChaincodeResponse, info: LedgerErrorInfo): ChaincodeError {
  const { reason, message } = chaincodeReason(response.message ?? '');
  return new ChaincodeError(response.status, reason, message, {
    ...info,
    details: [
      {
        address: ADDRESS,
        mspId: info.details?.[0]?.mspId ?? '',
        message: `chaincode response ${response.status}, ${response.message ?? ''}`,
      },
    ],
  });
}

const DEADLINE_ERRORS = { evaluate: EvaluationError, endorse: EndorsementError, commitStatus: CommitStatusError } as const;

/**
 * `work`, unless the gRPC call option `deadline` passes first: then a DEADLINE_EXCEEDED error of the step, retryable,
 * as a gateway reports it (`FabricLedger` repeats the step within its retry policy). Work in this process cannot be
 * cancelled: a late endorsement's result is dropped, a late commit still happens. The submit step has no deadline
 * here: it only appends to the orderer's unbounded queue, synchronously, so it cannot be late.
 */
async function withDeadline<T>(
  work: Promise<T>,
  options: GrpcCallOptions | undefined,
  phase: keyof typeof DEADLINE_ERRORS,
  info: { transaction: string; transactionId?: string; hint?: string },
): Promise<T> {
  const deadline = options?.deadline instanceof Date ? options.deadline.getTime() : options?.deadline;
  if (deadline === undefined || deadline === Infinity) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DEADLINE_ERRORS[phase](`the ${phase} step did not finish before its deadline`, {
            phase,
            grpcCode: 4,
            retryable: true,
            hint: `Raise deadlines.${phase}Ms.`,
            ...info,
          }),
        ),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

class DevEventStream implements GatewayEventStream {
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly node: DevNode,
    private readonly chaincode: string,
    private blockNumber: bigint,
    private afterTransactionId: string | undefined,
    private readonly onEnd: (stream: DevEventStream) => void,
  ) {
    this.unsubscribe = node.onCommit(() => this.wake?.());
  }

  close(): void {
    this.end();
  }

  /** Ends the stream with an error: its consumer's ledger or the node was closed. */
  fail(error: Error): void {
    this.failure ??= error;
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe();
    this.onEnd(this);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<GatewayChaincodeEvent, void, undefined> {
    while (!this.ended) {
      if (this.blockNumber >= this.node.height()) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.ended || this.blockNumber < this.node.height()) resolve();
        });
        this.wake = undefined;
        continue;
      }
      const block = this.node.block(this.blockNumber);
      const number = this.blockNumber;
      this.blockNumber += 1n;
      if (!block) continue;
      let events = block.data.transactions
        .filter((tx, index) => block.data.validationCodes[index] === VALID && tx.event !== null && tx.chaincode === this.chaincode)
        .map((tx): GatewayChaincodeEvent => ({
          blockNumber: number,
          transactionId: tx.txId,
          chaincodeName: tx.chaincode,
          eventName: tx.event?.name ?? '',
          payload: Buffer.from(tx.event?.payload ?? '', 'base64'),
        }));
      // As the gateway's after_transaction_id: in the start block, skip up to and including that transaction.
      if (this.afterTransactionId !== undefined) {
        const at = events.findIndex((event) => event.transactionId === this.afterTransactionId);
        if (at >= 0) events = events.slice(at + 1);
        this.afterTransactionId = undefined;
      }
      for (const event of events) {
        if (this.ended) break;
        yield event;
      }
    }
    if (this.failure) throw this.failure;
  }
}

export class DevGateway implements GatewayNetwork {
  private readonly streams = new Set<DevEventStream>();

  constructor(
    private readonly node: DevNode,
    private readonly identity: DevGatewayIdentity,
  ) {}

  getContract(chaincodeName: string): GatewayContract {
    if (chaincodeName === 'qscc') return this.qscc();
    return {
      getChaincodeName: () => chaincodeName,
      newProposal: (name, options) => this.newProposal(chaincodeName, name, options ?? {}),
    };
  }

  async getChaincodeEvents(chaincodeName: string, options: GatewayEventsOptions = {}): Promise<GatewayEventStream> {
    this.assertOpen('ChaincodeEvents');
    const checkpointBlock = options.checkpoint?.getBlockNumber();
    const start = checkpointBlock ?? options.startBlock ?? this.node.height();
    const after = checkpointBlock === undefined ? undefined : options.checkpoint?.getTransactionId();
    const stream = new DevEventStream(this.node, chaincodeName, start, after, (ended) => this.streams.delete(ended));
    this.streams.add(stream);
    return stream;
  }

  /** Ends this identity's event streams (its ledger was closed). */
  close(): void {
    for (const stream of [...this.streams]) stream.fail(new ClientClosedError('DevLedger', 'ChaincodeEvents'));
  }

  private assertOpen(what: string): void {
    this.node.assertOpen(what);
  }

  private newProposal(chaincodeName: string, name: string, options: GatewayProposalOptions): GatewayProposal {
    const endorsers = options.endorsingOrganizations?.length ? options.endorsingOrganizations : this.identity.endorsingOrganizations;
    if (chaincodeName !== this.node.config.chaincode) {
      throw new EndorsementError(`chaincode ${chaincodeName} is not defined on channel ${this.node.config.channel}`, {
        phase: 'endorse',
        transaction: name,
        grpcCode: 5,
      });
    }
    for (const org of endorsers) {
      if (!this.node.options.organizations.includes(org)) {
        throw new EndorsementError(
          `no peers available for organization ${org} (the DevLedger's organizations: ${this.node.options.organizations.join(', ')})`,
          {
            phase: 'endorse',
            transaction: name,
            grpcCode: 9,
            hint: 'Add it to the DevLedger option organizations.',
          },
        );
      }
    }
    const proposal = this.node.newProposal({
      creator: this.identity.mspId,
      endorsers,
      function: name,
      args: (options.arguments ?? []).map((arg) => Buffer.from(toBytes(arg)).toString('utf8')),
      transient: new Map(Object.entries(options.transientData ?? {}).map(([key, value]) => [key, toBytes(value)])),
    });
    const info = (phase: LedgerErrorInfo['phase'], peer: string): LedgerErrorInfo => ({
      phase,
      transaction: name,
      transactionId: proposal.txId,
      details: [{ address: ADDRESS, mspId: peer, message: '' }],
    });
    return {
      getTransactionId: () => proposal.txId,
      evaluate: async (callOptions) => {
        const at = { transaction: name, transactionId: proposal.txId };
        const response = await withDeadline(this.node.evaluate(proposal), callOptions, 'evaluate', at);
        if (response.status >= 400) throw refusal(response, info('evaluate', endorsers[0] ?? this.identity.mspId));
        return Buffer.from(response.payload ?? []);
      },
      endorse: async (callOptions) => {
        const at = { transaction: name, transactionId: proposal.txId };
        const endorsed = await withDeadline(this.node.endorse(proposal), callOptions, 'endorse', at);
        if (endorsed.failure?.kind === 'chaincode') throw refusal(endorsed.response, info('endorse', endorsers[0] ?? this.identity.mspId));
        if (endorsed.failure) {
          throw new EndorsementError(endorsed.failure.message, {
            phase: 'endorse',
            transaction: name,
            transactionId: proposal.txId,
            grpcCode: 10,
          });
        }
        return this.transaction(endorsed);
      },
    };
  }

  private transaction(endorsed: Endorsed): GatewayTransaction {
    let committing: Promise<CommitStatus> | undefined;
    return {
      getTransactionId: () => endorsed.txId,
      getResult: () => Buffer.from(endorsed.response.payload ?? []),
      submit: async () => {
        committing ??= this.node.submit(endorsed);
        // The caller reads the outcome with getStatus(); a failed commit is reported there.
        committing.catch(() => undefined);
        return this.commit(endorsed, committing);
      },
    };
  }

  private commit(endorsed: Endorsed, committing: Promise<CommitStatus>): GatewayCommit {
    return {
      getTransactionId: () => endorsed.txId,
      getStatus: async (options?: GrpcCallOptions): Promise<GatewayStatus> => {
        const status = await withDeadline(committing, options, 'commitStatus', {
          transaction: endorsed.proposal.function,
          transactionId: endorsed.txId,
          hint: 'The transaction may still commit: look it up by transactionId before sending it again.',
        });
        return { blockNumber: status.blockNumber, code: status.code, successful: status.code === VALID, transactionId: endorsed.txId };
      },
    };
  }

  private qscc(): GatewayContract {
    return {
      getChaincodeName: () => 'qscc',
      newProposal: (name) => ({
        getTransactionId: () => '',
        endorse: () => Promise.reject(new EndorsementError(`qscc ${name} is a query`, { phase: 'endorse', transaction: name })),
        evaluate: async () => {
          if (name !== 'GetChainInfo')
            throw new ChaincodeError(500, 'UNKNOWN', `qscc ${name} is not supported by the DevLedger`, {
              phase: 'evaluate',
              transaction: name,
            });
          const info = new common.BlockchainInfo();
          info.setHeight(Number(this.node.height()));
          info.setCurrentblockhash(Buffer.from(this.node.blockHash(), 'hex'));
          return info.serializeBinary();
        },
      }),
    };
  }
}
