import type { CallOptions } from '@grpc/grpc-js';

/**
 * The part of `@hyperledger/fabric-gateway` that `FabricLedger` uses. The real `Network` satisfies
 * these interfaces; tests pass hand-written fakes.
 */

export interface GatewayStatus {
  blockNumber: bigint;
  /** Transaction validation code; 0 = VALID. */
  code: number;
  successful: boolean;
  transactionId: string;
}

export interface GatewayCommit {
  getTransactionId(): string;
  getStatus(options?: CallOptions): Promise<GatewayStatus>;
}

export interface GatewayTransaction {
  getTransactionId(): string;
  getResult(): Uint8Array;
  submit(options?: CallOptions): Promise<GatewayCommit>;
}

export interface GatewayProposal {
  getTransactionId(): string;
  evaluate(options?: CallOptions): Promise<Uint8Array>;
  endorse(options?: CallOptions): Promise<GatewayTransaction>;
}

export interface GatewayProposalOptions {
  arguments?: (string | Uint8Array)[];
  transientData?: Record<string, string | Uint8Array>;
  endorsingOrganizations?: string[];
}

export interface GatewayContract {
  getChaincodeName(): string;
  newProposal(transactionName: string, options?: GatewayProposalOptions): GatewayProposal;
}

export interface GatewayChaincodeEvent {
  blockNumber: bigint;
  transactionId: string;
  chaincodeName: string;
  eventName: string;
  payload: Uint8Array;
}

export interface GatewayEventsOptions {
  startBlock?: bigint;
  checkpoint?: { getBlockNumber(): bigint | undefined; getTransactionId(): string | undefined };
}

export interface GatewayEventStream extends AsyncIterable<GatewayChaincodeEvent> {
  close(): void;
}

export interface GatewayNetwork {
  getContract(chaincodeName: string, contractName?: string): GatewayContract;
  getChaincodeEvents(chaincodeName: string, options?: GatewayEventsOptions): Promise<GatewayEventStream>;
}
