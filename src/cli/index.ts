/**
 * The `twinledger` command line (the package's bin): the sandbox, provisioning, a device's messages, watching a
 * tenant, commands, the anchorer's status, proofs, audits and ledger reads. See docs/cli.md.
 */
export { runCli } from './program.js';
export { EXIT_CODES, type CliIo, type ExitCode } from './io.js';
export { CliError } from './errors.js';
