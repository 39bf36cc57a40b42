/**
 * Error classes shared by every TwinLedger module.
 *
 * Every error thrown by the SDK is a `TwinLedgerError`; HTTP failures are `HttpError`s whose subclass
 * follows the status code, so callers can branch with `instanceof` instead of parsing messages.
 * Messages and fields never carry credentials: URLs are stripped of user info and secret query
 * parameters before they are stored here.
 */

export interface TwinLedgerErrorOptions {
  /** A short machine-readable code, e.g. `validation`, `timeout`, `things:thing.notfound`. Every error has one. */
  code: string;
  /** What the caller can do about it. */
  hint?: string;
  cause?: unknown;
}

export class TwinLedgerError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  /** The hint is appended to the message, so logs that print only `message` still say what to do. */
  constructor(message: string, options: TwinLedgerErrorOptions) {
    super(
      options.hint ? `${message} (hint: ${options.hint})` : message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = options.code;
    this.hint = options.hint;
  }
}

/** Bad input detected before anything was sent. */
export class ValidationError extends TwinLedgerError {
  /** Which argument or field was wrong, e.g. `deviceId` or `credentials[0].auth-id`. */
  readonly field: string;

  constructor(field: string, message: string, hint?: string) {
    super(`${field}: ${message}`, { code: 'validation', hint });
    this.field = field;
  }
}

/** The SDK's own deadline (per-call `timeoutMs`) passed before the server answered. */
export class TimeoutError extends TwinLedgerError {
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number, cause?: unknown) {
    super(`${what} did not complete within ${timeoutMs} ms`, {
      code: 'timeout',
      hint: 'Raise timeoutMs for this call or check that the server is reachable.',
      cause,
    });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's `AbortSignal` fired. */
export class AbortError extends TwinLedgerError {
  constructor(what: string, cause?: unknown) {
    super(`${what} was aborted`, { code: 'aborted', cause });
  }
}

/** The client was closed: `close()` is final (see `Closeable` in options.ts), so calls after it, and calls it cut short, fail with this. */
export class ClientClosedError extends TwinLedgerError {
  constructor(client: string, what: string) {
    super(`${what}: the ${client} client is closed`, { code: 'client.closed', hint: 'close() is final: create a new client.' });
  }
}

/** No HTTP response at all: connection refused, reset, DNS failure, TLS failure. */
export class NetworkError extends TwinLedgerError {
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, detail: string, cause?: unknown) {
    super(`${method} ${url} failed: ${detail}`, {
      code: 'network',
      hint: 'Check the base URL, that the service is running, and the TLS settings (CA, client certificate).',
      cause,
    });
    this.method = method;
    this.url = url;
  }
}

export interface HttpErrorDetails {
  status: number;
  method: string;
  /** The request URL with user info and secret query parameters removed. */
  url: string;
  /** The upstream error code: Ditto's `error` (e.g. `things:thing.notfound`) or Hono's `error` text. */
  upstreamCode?: string | undefined;
  /** The upstream human-readable message or description. */
  upstreamMessage?: string | undefined;
  hint?: string | undefined;
  /** Resource version reported by the server (ETag), when present. */
  etag?: string | undefined;
  /** Milliseconds from a `Retry-After` header, when present. */
  retryAfterMs?: number | undefined;
  /** The parsed error body (already free of secrets: servers do not echo them). */
  body?: unknown;
}

/** The server answered with a status outside 2xx. */
export class HttpError extends TwinLedgerError {
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly upstreamCode: string | undefined;
  readonly upstreamMessage: string | undefined;
  readonly etag: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly body: unknown;

  constructor(details: HttpErrorDetails) {
    const upstream = [details.upstreamCode, details.upstreamMessage].filter(Boolean).join(': ');
    super(`${details.method} ${details.url} answered ${details.status}${upstream ? ` (${upstream})` : ''}`, {
      code: details.upstreamCode ?? `http.${details.status}`,
      hint: details.hint,
    });
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
    this.upstreamCode = details.upstreamCode;
    this.upstreamMessage = details.upstreamMessage;
    this.etag = details.etag;
    this.retryAfterMs = details.retryAfterMs;
    this.body = details.body;
  }
}

export class BadRequestError extends HttpError {}
export class UnauthorizedError extends HttpError {}
export class ForbiddenError extends HttpError {}
export class NotFoundError extends HttpError {}
/** 408 from the server: e.g. Ditto's `command.timeout` when no device answered a message in time. */
export class RequestTimeoutError extends HttpError {}
/** 409: the resource already exists (Hono) or conflicts with its current state. */
export class ConflictError extends HttpError {}
/** 412: `If-Match` / `If-None-Match` did not hold; someone else changed the resource. */
export class PreconditionFailedError extends HttpError {}
export class PayloadTooLargeError extends HttpError {}
export class TooManyRequestsError extends HttpError {}
/** 424: Ditto could not get a requested acknowledgement. */
export class FailedDependencyError extends HttpError {}
export class ServiceUnavailableError extends HttpError {}

const classByStatus: Record<number, new (details: HttpErrorDetails) => HttpError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  408: RequestTimeoutError,
  409: ConflictError,
  412: PreconditionFailedError,
  413: PayloadTooLargeError,
  424: FailedDependencyError,
  429: TooManyRequestsError,
  503: ServiceUnavailableError,
};

/** Builds the subclass of `HttpError` that matches the status code. */
export function httpErrorFor(details: HttpErrorDetails): HttpError {
  const ErrorClass = classByStatus[details.status] ?? HttpError;
  return new ErrorClass(details);
}

/** Something other than an `Error` was thrown or rejected (by a callback or a library); `value` is what it was. */
export class ThrownValueError extends TwinLedgerError {
  readonly value: unknown;

  constructor(value: unknown) {
    super(String(value), { code: 'thrown-value' });
    this.value = value;
  }
}

/** `error` itself when it is an `Error`, else a `ThrownValueError` that keeps it. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new ThrownValueError(error);
}

export function isTwinLedgerError(error: unknown): error is TwinLedgerError {
  return error instanceof TwinLedgerError;
}
