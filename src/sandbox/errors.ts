import { TwinLedgerError } from '../core/errors.js';

/** A sandbox service could not start: its port is taken, the data directory is not usable, ... */
export class SandboxStartError extends TwinLedgerError {
  /** The service that failed, e.g. `device registry`. */
  readonly service: string;

  constructor(service: string, detail: string, hint: string, cause?: unknown) {
    super(`the sandbox's ${service} could not start: ${detail}`, { code: 'sandbox.start', hint, cause });
    this.service = service;
  }
}

/**
 * How a sandbox service refuses a request: the status and the body the emulated service answers with (Hono's
 * `{ "error" }`, Ditto's error JSON). Its handlers throw it; the HTTP layer sends it. It does not reach SDK callers,
 * who see the answer as the real service's (e.g. `NotFoundError` from the registry client).
 */
export class SandboxRefusalError extends TwinLedgerError {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`the sandbox refused the request with ${status}`, { code: 'sandbox.refused' });
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export function refused(status: number, body: unknown, headers: Record<string, string> = {}): SandboxRefusalError {
  return new SandboxRefusalError(status, body, headers);
}
