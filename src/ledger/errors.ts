import { TwinLedgerError } from '../core/errors.js';

/** What an endorsing peer or orderer said, as the Fabric gateway reports it. */
export interface LedgerErrorDetail {
  address: string;
  mspId: string;
  message: string;
}

export type LedgerPhase = 'evaluate' | 'endorse' | 'submit' | 'commitStatus' | 'commit' | 'events';

export interface LedgerErrorInfo {
  /** Chaincode transaction name, e.g. `AnchorBatch`. */
  transaction?: string;
  transactionId?: string;
  phase: LedgerPhase;
  /** gRPC status code of the gateway call, when there was one. */
  grpcCode?: number;
  /** Per-node errors from the gateway (`GatewayError.details`). */
  details?: LedgerErrorDetail[];
  /** Safe to retry as is. */
  retryable?: boolean;
  hint?: string;
  cause?: unknown;
}

const GRPC_CODE_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

export function grpcCodeName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : (GRPC_CODE_NAMES[code] ?? String(code));
}

/** A Fabric gateway call failed. Subclasses say in which phase; `details` lists what each node said. */
export class LedgerError extends TwinLedgerError {
  readonly transaction: string | undefined;
  readonly transactionId: string | undefined;
  readonly phase: LedgerPhase;
  readonly grpcCode: number | undefined;
  readonly details: LedgerErrorDetail[];
  readonly retryable: boolean;

  constructor(message: string, info: LedgerErrorInfo, code = `ledger.${info.phase}`) {
    const grpc = grpcCodeName(info.grpcCode);
    const where = [info.transaction, grpc].filter(Boolean).join(', ');
    super(`${where ? `${where}: ` : ''}${message}`, { code, hint: info.hint, cause: info.cause });
    this.transaction = info.transaction;
    this.transactionId = info.transactionId;
    this.phase = info.phase;
    this.grpcCode = info.grpcCode;
    this.details = info.details ?? [];
    this.retryable = info.retryable ?? false;
  }
}

/** Reason codes the TwinLedger chaincode puts in front of its error messages. */
export type ChaincodeReason =
  'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT' | 'CHAIN_MISMATCH' | 'FORBIDDEN' | 'FAILED_PRECONDITION' | 'UNKNOWN';

/** The chaincode refused the transaction (status 500 from the contract). Not retryable. */
export class ChaincodeError extends LedgerError {
  /** Chaincode response status (500 for errors thrown by the contract). */
  readonly status: number;
  readonly reason: ChaincodeReason;
  /** The contract's message without the reason prefix. */
  readonly chaincodeMessage: string;

  constructor(status: number, reason: ChaincodeReason, chaincodeMessage: string, info: LedgerErrorInfo) {
    super(
      `chaincode refused: ${reason === 'UNKNOWN' ? '' : `${reason}: `}${chaincodeMessage}`,
      { ...info, retryable: false },
      `chaincode.${reason.toLowerCase()}`,
    );
    this.status = status;
    this.reason = reason;
    this.chaincodeMessage = chaincodeMessage;
  }
}

/** Evaluating (querying) failed for a reason other than the chaincode itself. */
export class EvaluationError extends LedgerError {}

/** Endorsement failed for a reason other than the chaincode itself (no endorsers, policy, mismatching results, ...). */
export class EndorsementError extends LedgerError {}

/** The endorsed transaction could not be handed to the ordering service. */
export class SubmissionError extends LedgerError {}

/** The commit status could not be obtained: the transaction may or may not have committed. */
export class CommitStatusError extends LedgerError {}

/** Fabric transaction validation codes (`peer.TxValidationCode`). */
export const TX_VALIDATION_CODES: Readonly<Record<number, string>> = Object.freeze({
  0: 'VALID',
  1: 'NIL_ENVELOPE',
  2: 'BAD_PAYLOAD',
  3: 'BAD_COMMON_HEADER',
  4: 'BAD_CREATOR_SIGNATURE',
  5: 'INVALID_ENDORSER_TRANSACTION',
  6: 'INVALID_CONFIG_TRANSACTION',
  7: 'UNSUPPORTED_TX_PAYLOAD',
  8: 'BAD_PROPOSAL_TXID',
  9: 'DUPLICATE_TXID',
  10: 'ENDORSEMENT_POLICY_FAILURE',
  11: 'MVCC_READ_CONFLICT',
  12: 'PHANTOM_READ_CONFLICT',
  13: 'UNKNOWN_TX_TYPE',
  14: 'TARGET_CHAIN_NOT_FOUND',
  15: 'MARSHAL_TX_ERROR',
  16: 'NIL_TXACTION',
  17: 'EXPIRED_CHAINCODE',
  18: 'CHAINCODE_VERSION_CONFLICT',
  19: 'BAD_HEADER_EXTENSION',
  20: 'BAD_CHANNEL_HEADER',
  21: 'BAD_RESPONSE_PAYLOAD',
  22: 'BAD_RWSET',
  23: 'ILLEGAL_WRITESET',
  24: 'INVALID_WRITESET',
  25: 'INVALID_CHAINCODE',
  254: 'NOT_VALIDATED',
  255: 'INVALID_OTHER_REASON',
});

/** The transaction was ordered but committed as invalid; `code` is its validation code. */
export class CommitError extends LedgerError {
  /** Fabric validation code, e.g. 11 = MVCC_READ_CONFLICT (`code` is `ledger.commit.mvcc_read_conflict`). */
  readonly validationCode: number;
  readonly statusName: string;
  readonly blockNumber: bigint | undefined;

  constructor(validationCode: number, info: LedgerErrorInfo & { blockNumber?: bigint }) {
    const statusName = TX_VALIDATION_CODES[validationCode] ?? `code ${validationCode}`;
    const conflict = validationCode === 11 || validationCode === 12;
    super(
      `transaction ${info.transactionId ?? ''} committed as invalid: ${statusName} (${validationCode})`,
      {
        ...info,
        retryable: conflict,
        hint:
          info.hint ??
          (conflict
            ? 'Another transaction changed what this one read; it is safe to run again (a new transaction ID).'
            : validationCode === 10
              ? 'The endorsements do not satisfy the endorsement policy (chaincode, collection or key level): check which organisations endorsed.'
              : undefined),
      },
      `ledger.commit.${statusName.toLowerCase()}`,
    );
    this.validationCode = validationCode;
    this.statusName = statusName;
    this.blockNumber = info.blockNumber;
  }
}

/** Why the telemetry relay skipped an event for good (the `error` of an `undeliverable` event). */
export class UndeliverableError extends TwinLedgerError {
  /** `code` defaults to `relay.undeliverable`; e.g. `relay.unknown_device` says more. */
  constructor(message: string, options: { code?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'relay.undeliverable', hint: options.hint, cause: options.cause });
  }
}

/** A relay call that does not fit its lifecycle: `start()` while running, the delivered-transactions store used after `close()`. */
export class RelayStateError extends TwinLedgerError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'relay.state', hint });
  }
}
