import { TwinLedgerContract } from './contract';

export { TwinLedgerContract } from './contract';
export { ContractError, type ContractErrorCode } from './errors';
export { canonicalJson } from './json';
export { credentialCommitment } from './devices';
export { cidProblem } from './cid';
export { collectionFor, KEY_TYPES } from './keys';
export { GENESIS_ROOT } from './validate';
export * from './types';

/** What `fabric-chaincode-node` loads: the first contract is the default one. */
export const contracts: (typeof TwinLedgerContract)[] = [TwinLedgerContract];
