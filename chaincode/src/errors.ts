/**
 * Errors thrown by the contract. The message starts with a stable code (`INVALID_ARGUMENT: ...`) so
 * that clients can tell the kinds apart after the peer has wrapped it as `chaincode response 500, ...`.
 */
export type ContractErrorCode =
  'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT' | 'CHAIN_MISMATCH' | 'FORBIDDEN' | 'FAILED_PRECONDITION';

export class ContractError extends Error {
  readonly code: ContractErrorCode;

  constructor(code: ContractErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'ContractError';
    this.code = code;
  }
}

export function invalid(field: string, message: string): ContractError {
  return new ContractError('INVALID_ARGUMENT', `${field} ${message}`);
}
