/**
 * A gateway network that orders submitted transactions into blocks and validates them the way a Fabric 2.5 peer
 * does, for what FabricLedger reacts to:
 * - a transaction writing a key whose key-level endorsement policy was set by an earlier transaction of the same
 *   block, or whose policy names an organisation that did not endorse it, is ENDORSEMENT_POLICY_FAILURE (10);
 *   this is how two creations of the same key in one block end on a real peer;
 * - otherwise a transaction that read a key changed since its endorsement is MVCC_READ_CONFLICT (11).
 * The chaincode is a function over a key-value view; a `ChaincodeRefusal` becomes the gateway's EndorseError
 * with the peer's `chaincode response 500, REASON: message`.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { EndorseError } from '@hyperledger/fabric-gateway';
import type {
  GatewayChaincodeEvent,
  GatewayCommit,
  GatewayContract,
  GatewayEventStream,
  GatewayNetwork,
  GatewayProposal,
  GatewayProposalOptions,
  GatewayStatus,
  GatewayTransaction,
} from '../../src/ledger/index.js';

export interface SimulationView {
  /** MSP ID of the submitting client. */
  caller: string;
  txId: string;
  read(key: string): string | undefined;
}

export interface Simulation {
  result: unknown;
  writes?: Record<string, string>;
  /** Key-level endorsement policies set by the transaction: key → the one organisation whose peers must endorse. */
  policies?: Record<string, string>;
}

export type FakeChaincode = (name: string, args: string[], view: SimulationView) => Simulation;

export class ChaincodeRefusal extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface Entry {
  value: string;
  version: number;
}

interface Pending {
  txId: string;
  endorsers: string[];
  reads: Map<string, number>;
  simulation: Simulation;
  settle(status: GatewayStatus): void;
}

function serviceError(code: number, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

export class FakeBlockLedger {
  readonly state = new Map<string, Entry>();
  readonly policies = new Map<string, string>();
  /** Validation codes of every committed block, in order. */
  readonly blocks: number[][] = [];
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private counter = 0;

  constructor(
    private readonly chaincode: FakeChaincode,
    /** How long the "orderer" waits for more transactions before it cuts a block. */
    private readonly batchTimeoutMs = 20,
  ) {}

  /** The gateway of an organisation: its peers endorse unless `endorsingOrganizations` says otherwise. */
  network(mspId: string): GatewayNetwork {
    const contract: GatewayContract = {
      getChaincodeName: () => 'twinledger',
      newProposal: (name, options) => this.proposal(mspId, name, options ?? {}),
    };
    return {
      getContract: () => contract,
      getChaincodeEvents: async (): Promise<GatewayEventStream> => {
        const empty: AsyncIterable<GatewayChaincodeEvent> = { [Symbol.asyncIterator]: async function* () {} };
        return Object.assign(empty, { close: () => undefined });
      },
    };
  }

  codes(): number[] {
    return this.blocks.flat();
  }

  private simulate(mspId: string, txId: string, name: string, options: GatewayProposalOptions) {
    const reads = new Map<string, number>();
    const view: SimulationView = {
      caller: mspId,
      txId,
      read: (key) => {
        const entry = this.state.get(key);
        reads.set(key, entry?.version ?? 0);
        return entry?.value;
      },
    };
    const args = (options.arguments ?? []).map((arg) => (typeof arg === 'string' ? arg : Buffer.from(arg).toString('utf8')));
    try {
      return { reads, simulation: this.chaincode(name, args, view) };
    } catch (error) {
      if (!(error instanceof ChaincodeRefusal)) throw error;
      const message = `chaincode response 500, ${error.reason}: ${error.message}`;
      throw new EndorseError({
        code: 10,
        details: [{ address: `peer0.${mspId.toLowerCase()}:7051`, mspId, message }],
        cause: serviceError(10, 'failed to endorse transaction, see attached details for more info'),
        transactionId: txId,
        message: '10 ABORTED: failed to endorse transaction, see attached details for more info',
      });
    }
  }

  private proposal(mspId: string, name: string, options: GatewayProposalOptions): GatewayProposal {
    this.counter += 1;
    const txId = this.counter.toString(16).padStart(64, '0');
    return {
      getTransactionId: () => txId,
      evaluate: async () => Buffer.from(JSON.stringify(this.simulate(mspId, txId, name, options).simulation.result)),
      endorse: async (): Promise<GatewayTransaction> => {
        const { reads, simulation } = this.simulate(mspId, txId, name, options);
        const result = Buffer.from(JSON.stringify(simulation.result));
        return {
          getTransactionId: () => txId,
          getResult: () => result,
          submit: async (): Promise<GatewayCommit> => {
            const status = new Promise<GatewayStatus>((settle) => {
              this.pending.push({ txId, endorsers: options.endorsingOrganizations ?? [mspId], reads, simulation, settle });
              this.timer ??= setTimeout(() => this.cutBlock(), this.batchTimeoutMs);
            });
            return { getTransactionId: () => txId, getStatus: () => status };
          },
        };
      },
    };
  }

  private cutBlock(): void {
    this.timer = undefined;
    const block = this.pending;
    this.pending = [];
    const blockNumber = BigInt(this.blocks.length + 1);
    const policiesSetInBlock = new Set<string>();
    const codes: number[] = [];
    for (const tx of block) {
      const { writes = {}, policies = {} } = tx.simulation;
      const touched = [...Object.keys(writes), ...Object.keys(policies)];
      let code = 0;
      for (const key of touched) {
        const owner = this.policies.get(key);
        if (policiesSetInBlock.has(key) || (owner !== undefined && !tx.endorsers.includes(owner))) code = 10;
      }
      if (code === 0) {
        for (const [key, version] of tx.reads) if ((this.state.get(key)?.version ?? 0) !== version) code = 11;
      }
      if (code === 0) {
        for (const [key, value] of Object.entries(writes)) this.state.set(key, { value, version: (this.state.get(key)?.version ?? 0) + 1 });
        for (const [key, owner] of Object.entries(policies)) {
          this.policies.set(key, owner);
          policiesSetInBlock.add(key);
        }
      }
      codes.push(code);
      tx.settle({ blockNumber, code, successful: code === 0, transactionId: tx.txId });
    }
    this.blocks.push(codes);
  }
}
