import { TwinLedgerError, type TwinLedgerErrorOptions } from '../../core/errors.js';

/**
 * Errors of the embedded development ledger. What the chaincode and the validation say is reported with the same
 * classes as `FabricLedger` (`ChaincodeError`, `CommitError`, ... from `twinledger/ledger`); these are about the
 * dev ledger's own files and process.
 */
export class DevLedgerError extends TwinLedgerError {
  constructor(message: string, options: TwinLedgerErrorOptions) {
    super(message, options);
  }
}

/**
 * The ledger folder holds something DevLedger did not write: a changed block, state row, private row, history entry or
 * index entry, or stored bytes not in the form DevLedger writes (a truncated row, a garbled block).
 */
export class LedgerTamperedError extends DevLedgerError {
  readonly directory: string;
  /** The block that was altered, or whose write the altered row contradicts. */
  readonly blockNumber: bigint | undefined;
  /** The state key (or `collection/key`) of an altered state, private or history row. */
  readonly key: string | undefined;

  constructor(directory: string, message: string, info: { blockNumber?: bigint; key?: string; cause?: unknown } = {}) {
    super(`the dev ledger in ${directory} was altered: ${message}`, {
      code: 'ledger.dev.tampered',
      hint:
        'Its files were changed outside DevLedger (an edit, a disk fault, a copy of another ledger). Restore the folder from a ' +
        'backup, or delete it to start an empty ledger; DevLedger does not repair a log.',
      cause: info.cause,
    });
    this.directory = directory;
    this.blockNumber = info.blockNumber;
    this.key = info.key;
  }
}

/** Another DevLedger (in this or another process) has the folder open: the dev ledger has one writer. */
export class LedgerLockedError extends DevLedgerError {
  readonly directory: string;
  /** Process ID of the holder, when known. */
  readonly pid: number | undefined;

  constructor(directory: string, pid: number | undefined, detail?: string) {
    const holder = pid === undefined ? 'another DevLedger' : pid === process.pid ? 'another DevLedger of this process' : `process ${pid}`;
    super(`the dev ledger in ${directory} is open in ${holder}${detail ? ` (${detail})` : ''}`, {
      code: 'ledger.dev.locked',
      hint:
        'DevLedger is single-writer: close the other one, open another directory, or share one DevLedger (use ledger.as(mspId) for ' +
        'other organisations). DevLedger.verify(directory) checks a ledger that another process has open.',
    });
    this.directory = directory;
    this.pid = pid;
  }
}
