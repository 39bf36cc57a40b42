/**
 * What a command sees of the world (streams, environment, working directory, a stop signal) and how it answers:
 * text or `--json` on stdout, progress on stderr, errors as one line (the typed error's message and hint; the stack
 * only with `--debug`) and a documented exit code.
 */
import { ValidationError } from '../core/errors.js';

/** Exit codes of `twinledger` (docs/cli.md). */
export const EXIT_CODES = Object.freeze({
  /** Done; every check held. */
  ok: 0,
  /** Done, and a check failed: a proof or an audit did not verify, a device answered a command with a status ≥ 400. */
  checkFailed: 1,
  /** The command line was wrong: an unknown command or option, a malformed argument. Nothing was done. */
  usage: 2,
  /** The operation failed: nothing configured, a service unreachable or refusing, a timeout. */
  failed: 3,
  /** Ctrl-C (SIGINT) or SIGTERM stopped an operation under way. `sandbox` and `watch` end with 0 when stopped so. */
  interrupted: 130,
});

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The world of one `twinledger` run; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Ends long-running commands (`sandbox`, `watch`); the bin wires SIGINT and SIGTERM to it. */
  signal?: AbortSignal;
}

/** The options every command has. */
export interface GlobalOptions {
  json: boolean;
  debug: boolean;
  quiet: boolean;
  dataDir: string;
}

export class Output {
  constructor(
    readonly io: CliIo,
    readonly options: GlobalOptions,
  ) {}

  /** A line of text, unless `--json`. */
  text(line: string): void {
    if (!this.options.json) this.io.stdout.write(`${line}\n`);
  }

  /** The command's result: JSON with `--json` (one document, or one line per streamed item), else `asText`. */
  result(value: unknown, asText: () => string): void {
    this.io.stdout.write(this.options.json ? `${JSON.stringify(value, jsonReplacer)}\n` : `${asText()}\n`);
  }

  /** Progress of a long operation, on stderr (never with `--quiet`). */
  progress(message: string): void {
    if (!this.options.quiet) this.io.stderr.write(`… ${message}\n`);
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** The one line a failure prints, and its exit code. */
export function describeFailure(error: unknown, debug: boolean): { text: string; code: ExitCode } {
  const usage = error instanceof ValidationError;
  const message = error instanceof Error ? `${error.name === 'Error' ? 'error' : error.name}: ${error.message}` : `error: ${String(error)}`;
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return { text: `${message}${stack}\n`, code: usage ? EXIT_CODES.usage : EXIT_CODES.failed };
}
