/** Errors of the `twinledger` command line. */
import { TwinLedgerError } from '../core/errors.js';

/** A command cannot do its work with what it found (no anchorer data, no such proof file, …). */
export class CliError extends TwinLedgerError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'cli', hint });
  }
}
