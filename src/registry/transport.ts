import {
  AbortError,
  HttpError,
  PreconditionFailedError,
  TimeoutError,
  TwinLedgerError,
  ValidationError,
  httpErrorFor,
} from '../core/errors.js';
import {
  type HttpCallOptions,
  type HintProvider,
  type HttpClient,
  type HttpRequest,
  type HttpResponse,
  validateHeaderValue,
  validateHeaders,
} from '../core/http.js';
import type { IdRules } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { integerOption, validateCallOptions as validateCommonCallOptions } from '../core/options.js';
import { registryHints } from './hints.js';
import { isPlainObject } from './validation.js';

/** Options of calls that may send `If-Match`. */
export interface IfMatchOptions extends HttpCallOptions {
  /** Only act if the resource still has this version (an ETag from get/create/update); else 412. */
  ifMatch?: string;
}

/** Options of read-modify-write helpers. */
export interface ModifyOptions extends HttpCallOptions {
  /** Attempts in total when the resource keeps changing underneath (412). Default 5. */
  maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

/** Checks the generic per-call options. */
export function validateCallOptions(options: unknown): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw new ValidationError('options', 'must be an object');
  validateCommonCallOptions(options);
  const { headers } = options;
  if (headers !== undefined) {
    if (!isPlainObject(headers)) throw new ValidationError('options.headers', 'must be an object of header names to strings');
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') throw new ValidationError(`options.headers.${name}`, 'must be a string');
    }
    validateHeaders(headers as Record<string, string>, 'options.headers');
  }
  if ('ifMatch' in options && options.ifMatch !== undefined) {
    const ifMatch = options.ifMatch;
    if (typeof ifMatch !== 'string' || ifMatch === '') {
      throw new ValidationError('options.ifMatch', 'must be a non-empty ETag string (from get, create or update)');
    }
    validateHeaderValue('options.ifMatch', ifMatch);
  }
  if ('maxAttempts' in options) integerOption('options.maxAttempts', options.maxAttempts, { min: 1, max: 100 });
}

/** The request fields taken from per-call options, with `If-Match` added when given. */
export function requestOptions(options: HttpCallOptions | undefined, ifMatch?: string): HttpCallOptions {
  const out: HttpCallOptions = {};
  if (options?.signal !== undefined) out.signal = options.signal;
  if (options?.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  const headers: Record<string, string> = { ...options?.headers };
  if (ifMatch !== undefined) headers['if-match'] = ifMatch;
  if (Object.keys(headers).length > 0) out.headers = headers;
  return out;
}

/**
 * The registry's view of the HTTP client: sends requests and makes sure every `HttpError` carries the
 * registry's hint, also when the `HttpClient` was injected without the hint provider.
 */
export class RegistryTransport {
  readonly hints: HintProvider;

  constructor(
    readonly http: HttpClient,
    readonly rules: IdRules,
  ) {
    this.hints = registryHints(http.redactor);
  }

  get logger(): Logger {
    return this.http.logger;
  }

  /** Registers values that must never show up in errors or logs. */
  addSecrets(values: Iterable<string>): void {
    for (const value of values) this.http.redactor.addSecret(value);
  }

  async send<T>(request: HttpRequest): Promise<HttpResponse<T>> {
    try {
      return await this.http.request<T>(request);
    } catch (error) {
      throw this.withHint(error, request);
    }
  }

  private withHint(error: unknown, request: HttpRequest): unknown {
    if (!(error instanceof HttpError) || error.hint !== undefined) return error;
    const hint = this.hints(error.status, error.upstreamCode, request);
    if (hint === undefined) return error;
    return httpErrorFor({
      status: error.status,
      method: error.method,
      url: error.url,
      upstreamCode: error.upstreamCode,
      upstreamMessage: error.upstreamMessage,
      hint,
      etag: error.etag,
      retryAfterMs: error.retryAfterMs,
      body: error.body,
    });
  }
}

/**
 * One deadline and one signal for an operation made of several requests (read-modify-write): each
 * request gets the time that is left.
 */
export class Deadline {
  private readonly end: number;
  readonly totalMs: number;

  constructor(
    private readonly what: string,
    private readonly options: HttpCallOptions | undefined,
    defaultTimeoutMs: number,
  ) {
    this.totalMs = options?.timeoutMs ?? defaultTimeoutMs;
    this.end = Date.now() + this.totalMs;
  }

  /** Per-request options with the remaining time; throws when the deadline passed or the signal fired. */
  next(ifMatch?: string): HttpCallOptions {
    const signal = this.options?.signal;
    if (signal?.aborted) throw new AbortError(this.what, signal.reason);
    const remaining = this.end - Date.now();
    if (remaining <= 0) throw new TimeoutError(this.what, this.totalMs);
    return { ...requestOptions(this.options, ifMatch), timeoutMs: remaining };
  }
}

/**
 * Runs `attempt` until it does not fail with 412 (someone else wrote in between), at most `maxAttempts`
 * times; the last 412 is thrown when they are used up.
 */
export async function retryOnConflict<T>(
  maxAttempts: number,
  logger: Logger,
  what: string,
  attempt: (attemptNumber: number) => Promise<T>,
): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!(error instanceof PreconditionFailedError) || n >= maxAttempts) throw error;
      logger.debug('resource changed concurrently, re-reading', { operation: what, attempt: n, maxAttempts });
    }
  }
}

/** The `{ id }` of a 201 response, else the last segment of `Location`, else the requested ID. */
export function createdId(response: HttpResponse<unknown>, requestedId: string | undefined): string {
  const data = response.data;
  if (isPlainObject(data) && typeof data.id === 'string' && data.id !== '') return data.id;
  const location = response.headers.location;
  if (location !== undefined) {
    const last = location
      .replace(/[?#].*$/, '')
      .replace(/\/+$/, '')
      .split('/')
      .pop();
    if (last) {
      try {
        return decodeURIComponent(last);
      } catch {
        return last;
      }
    }
  }
  if (requestedId !== undefined) return requestedId;
  throw new TwinLedgerError('the registry answered 201 without the ID of the created object', {
    code: 'registry.unexpected-response',
  });
}

/** A deep copy of JSON data, so callbacks cannot change what the client holds. */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
