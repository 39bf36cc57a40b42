import {
  CommitError as FabricCommitError,
  CommitStatusError as FabricCommitStatusError,
  EndorseError,
  GatewayError,
} from '@hyperledger/fabric-gateway';
import { AbortError, TimeoutError, TwinLedgerError } from '../core/errors.js';
import { raceAbort } from '../core/abort.js';
import {
  ChaincodeError,
  type ChaincodeReason,
  CommitError,
  CommitStatusError,
  EndorsementError,
  EvaluationError,
  LedgerError,
  type LedgerErrorDetail,
  type LedgerErrorInfo,
  type LedgerPhase,
  SubmissionError,
} from './errors.js';

/** gRPC codes worth another try of the same step: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED. */
const TRANSIENT_GRPC: ReadonlySet<number> = new Set([14, 4, 8]);
const REASONS: ReadonlySet<string> = new Set([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CONFLICT',
  'CHAIN_MISMATCH',
  'FORBIDDEN',
  'FAILED_PRECONDITION',
]);

export interface FailureContext {
  phase: LedgerPhase;
  transaction: string;
  transactionId?: string;
}

/** Finds the chaincode's own error in the gateway's messages: peers report it as `chaincode response 500, <message>`. */
function chaincodeFailure(messages: string[]): { status: number; reason: ChaincodeReason; message: string } | undefined {
  for (const text of messages) {
    const match = /chaincode response (\d+), ([\s\S]*)$/.exec(text);
    if (!match) continue;
    return { status: Number(match[1]), ...chaincodeReason(match[2] as string) };
  }
  return undefined;
}

/** The reason code the TwinLedger contract puts in front of its message (`FORBIDDEN: ...`), or `UNKNOWN`. */
export function chaincodeReason(text: string): { reason: ChaincodeReason; message: string } {
  const body = text.trim();
  const coded = /^([A-Z_]+): ([\s\S]*)$/.exec(body);
  if (coded && REASONS.has(coded[1] as string)) return { reason: coded[1] as ChaincodeReason, message: coded[2] as string };
  return { reason: 'UNKNOWN', message: body };
}

function hintFor(phase: LedgerPhase, grpcCode: number, message: string): string | undefined {
  switch (grpcCode) {
    case 14:
      return 'The gateway peer (or a node behind it) is unreachable: check peerEndpoint, that the peer runs, the TLS root certificate and hostAlias.';
    case 4:
      return `The ${phase} step hit its deadline: raise deadlines.${phase}Ms or check the peer's load.`;
    case 7:
    case 16:
      return 'The identity was refused: check mspId, the certificate and that it is a member of the channel.';
    case 9:
      return /no combination of peers|no peers available/i.test(message)
        ? 'No endorsers could satisfy the endorsement policy: is the chaincode committed on this channel, and for private data, are endorsingOrganizations members of the collection?'
        : undefined;
    default:
      return undefined;
  }
}

/** Turns whatever the gateway threw into a TwinLedger error; the gateway's `details` are kept. */
export function toLedgerError(error: unknown, context: FailureContext): Error {
  if (error instanceof TwinLedgerError) return error;
  if (error instanceof FabricCommitError) {
    return new CommitError(error.code, {
      phase: 'commit',
      transaction: context.transaction,
      transactionId: error.transactionId,
      cause: error,
    });
  }
  if (error instanceof GatewayError) {
    const details: LedgerErrorDetail[] = (error.details ?? []).map(({ address, mspId, message }) => ({ address, mspId, message }));
    const transactionId = 'transactionId' in error && typeof error.transactionId === 'string' ? error.transactionId : context.transactionId;
    const phase: LedgerPhase =
      error instanceof EndorseError
        ? 'endorse'
        : error.name === 'SubmitError' // SubmitError is exported by fabric-gateway as a type only
          ? 'submit'
          : error instanceof FabricCommitStatusError
            ? 'commitStatus'
            : context.phase;
    const info: LedgerErrorInfo = {
      phase,
      transaction: context.transaction,
      transactionId,
      grpcCode: error.code,
      details,
      cause: error,
    };
    const failure = chaincodeFailure([error.message, ...details.map((detail) => detail.message)]);
    if (failure) return new ChaincodeError(failure.status, failure.reason, failure.message, info);
    const detailText = details.length > 0 ? `; ${details.map((d) => `${d.mspId}@${d.address}: ${d.message}`).join('; ')}` : '';
    const message = `${error.message}${detailText}`;
    const full: LedgerErrorInfo = { ...info, retryable: TRANSIENT_GRPC.has(error.code), hint: hintFor(phase, error.code, message) };
    switch (phase) {
      case 'endorse':
        return new EndorsementError(message, full);
      case 'submit':
        return new SubmissionError(message, full);
      case 'commitStatus':
        return new CommitStatusError(message, {
          ...full,
          hint: full.hint ?? 'The transaction may still commit: look it up by transactionId before sending it again.',
        });
      case 'evaluate':
        return new EvaluationError(message, full);
      default:
        return new LedgerError(message, full);
    }
  }
  if (error instanceof Error) return error;
  return new LedgerError(String(error), { phase: context.phase, transaction: context.transaction, transactionId: context.transactionId });
}

export function isRetryable(error: unknown): boolean {
  return error instanceof LedgerError && error.retryable;
}

/** Resolves or rejects like `promise`, but rejects with `AbortError`/`TimeoutError` as soon as `signal` fires. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  return raceAbort(promise, signal, () => abortReason(signal as AbortSignal, what));
}

export function abortReason(signal: AbortSignal, what: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof TimeoutError || reason instanceof AbortError) return reason;
  return new AbortError(what, reason);
}
