import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { AbortError, ClientClosedError, HttpError, NetworkError, TimeoutError, ValidationError, asError, httpErrorFor } from './errors.js';
import { checkedHttpBaseUrl } from './endpoint.js';
import { encodeComponent } from './ids.js';
import { type Logger, silentLogger } from './logger.js';
import type { CallOptions } from './options.js';
import { Redactor, redactUrl } from './redact.js';
import { ExponentialBackoff, type RetryPolicy, parseRetryAfter, sleep } from './retry.js';
import { timerDelay } from './timers.js';
import { type TlsOptions, resolveTls } from './tls.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Credentials = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

/**
 * Per-call options of the HTTP clients (`DittoClient`, `DeviceRegistry`): `signal` and `timeoutMs` (default: the
 * client's `timeoutMs`) as everywhere, plus request headers. `HttpClient` itself counts a `timeoutMs` above 2^31-1 ms
 * (Node's timer limit) as 2^31-1 ms; the clients refuse one with a `ValidationError`.
 */
export interface HttpCallOptions extends CallOptions {
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | undefined | null | readonly string[];

export interface HttpRequest extends HttpCallOptions {
  method: HttpMethod;
  /** Path below the base URL, segments already encoded. */
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON-serialised unless it is a string or bytes. `undefined` sends no body. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  /**
   * Whether repeating the request is safe. Defaults to true for GET, HEAD, PUT and DELETE.
   * Only idempotent requests are retried. A conditional write (any method but GET and HEAD with an
   * `If-Match` or `If-None-Match` header) is never retried, whatever this says: when the first attempt
   * was applied but its response lost, the repeat would fail with 412 although the write succeeded.
   */
  idempotent?: boolean;
  /** `json` (default): parse JSON bodies, leave other text as string; `stream`: hand back the body stream. */
  responseType?: 'json' | 'text' | 'stream';
}

export interface HttpResponse<T = unknown> {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  data: T;
  /** The `ETag` header, when present (Hono: opaque version; Ditto: `"rev:N"`). */
  etag: string | undefined;
}

/** A resource and its version: the `ETag` the server sent with it (Hono: opaque; Ditto: `"rev:N"`). */
export interface Versioned<T> {
  value: T;
  etag: string | undefined;
}

/** Turns a failed response into a hint for the caller; return undefined for none. */
export type HintProvider = (status: number, upstreamCode: string | undefined, request: HttpRequest) => string | undefined;

export interface HttpClientOptions {
  /**
   * e.g. `http://registry:28443/v1` or `https://ditto.example.com`. No user info (`user:password@`), query or
   * fragment: credentials go into `credentials` (see `checkedEndpointUrl`). Stored normalised, without trailing slashes.
   */
  baseUrl: string;
  /** A name for log lines and messages: `hono-registry`, `ditto`, ... */
  service: string;
  credentials?: Credentials;
  /** Default per-call deadline. Default 10 000 ms. */
  timeoutMs?: number;
  /** Default: exponential backoff with full jitter, 4 attempts. */
  retry?: RetryPolicy;
  tls?: TlsOptions;
  logger?: Logger;
  /** Shared with the rest of the SDK so that secrets given anywhere are masked everywhere. */
  redactor?: Redactor;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  hints?: HintProvider;
}

const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 503]);
const SAFE: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD']);
const CONDITIONS: ReadonlySet<string> = new Set(['if-match', 'if-none-match']);

/**
 * A write that only applies when the resource is (or is not) in a given version. Repeating it after a
 * lost response is not safe: the first attempt changed the version, so the repeat answers 412.
 */
function isConditionalWrite(method: HttpMethod, headers: Record<string, string> | undefined): boolean {
  if (SAFE.has(method) || headers === undefined) return false;
  return Object.keys(headers).some((name) => CONDITIONS.has(name.toLowerCase()));
}

// RFC 9110: a field name is a token (§5.1); a field value holds HTAB, SP, VCHAR and obs-text only (§5.5). Node's http
// module throws a TypeError for anything else, and axios strips CR, LF and NUL before that, so a value with a line
// break would reach the server changed (or as an injected header) instead of failing.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE_FORBIDDEN = /[^\t\x20-\x7E\x80-\xFF]/;
const NAMED_CHARACTERS: Readonly<Record<string, string>> = {
  '\r': 'a carriage return (CR)',
  '\n': 'a line feed (LF)',
  '\0': 'a NUL character',
};

/**
 * Returns `value` when an HTTP header carries it unchanged; otherwise throws a `ValidationError` for `field`
 * that says which character is wrong and where, without repeating the value (headers carry credentials).
 */
export function validateHeaderValue(field: string, value: string): string {
  const bad = HEADER_VALUE_FORBIDDEN.exec(value);
  if (bad === null) return value;
  const code = bad[0].charCodeAt(0);
  const character = NAMED_CHARACTERS[bad[0]] ?? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  throw new ValidationError(
    field,
    `contains ${character} at index ${bad.index}, which an HTTP header value cannot carry`,
    code > 0xff
      ? 'Header values are Latin-1 text; encode other text first (e.g. percent-encoding or Base64) or send it in the body.'
      : 'Remove line breaks and control characters: in a header they would end it or start another one.',
  );
}

/** Checks the names and values of `headers` before anything is sent; `field` prefixes the field names in errors. */
export function validateHeaders(headers: Readonly<Record<string, string>> | undefined, field = 'headers'): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME.test(name)) {
      throw new ValidationError(
        `${field}[${JSON.stringify(name)}]`,
        'is not an HTTP header name',
        'Header names are tokens: letters, digits and !#$%&\'*+-.^_`|~, e.g. "x-request-id".',
      );
    }
    // Plain JavaScript callers may pass undefined (axios leaves such headers out) or numbers.
    const raw: unknown = value;
    if (raw !== undefined && raw !== null) validateHeaderValue(`${field}.${name}`, String(raw));
  }
}

function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [String(value)];
    for (const item of values) parts.push(`${encodeComponent('query', key)}=${encodeComponent(`query.${key}`, item)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function flattenHeaders(headers: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function parseBody(raw: Buffer, contentType: string | undefined, responseType: 'json' | 'text'): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  if (responseType === 'text') return text;
  if (contentType === undefined || /json/i.test(contentType)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function upstreamError(body: unknown): { code?: string; message?: string } {
  if (typeof body === 'string') return body.trim() === '' ? {} : { message: body.slice(0, 500) };
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const code = typeof record.error === 'string' ? record.error : undefined;
  const message = [record.message, record.description].filter((part) => typeof part === 'string').join(' ');
  return { code, message: message === '' ? undefined : message };
}

/**
 * The one HTTP layer of the SDK (axios underneath): deadlines and `AbortSignal` per call, retries of
 * idempotent requests on 429/503 and network failures (never of conditional writes with `If-Match` /
 * `If-None-Match`), TLS with verification always on, typed errors, and log lines without secrets.
 * It keeps connections alive: `close()` releases them (final, like every client's `close()`).
 */
export class HttpClient {
  readonly baseUrl: string;
  readonly service: string;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  readonly redactor: Redactor;
  private readonly axios: AxiosInstance;
  private readonly defaultHeaders: Record<string, string>;
  private readonly hints: HintProvider | undefined;
  private readonly agents: readonly [http.Agent, https.Agent];
  /** Aborted by `close()`: ends requests and response streams in flight. */
  private readonly lifetime = new AbortController();

  constructor(options: HttpClientOptions) {
    this.baseUrl = checkedHttpBaseUrl('baseUrl', options.baseUrl, {
      example: 'http://registry:28080/v1',
      credentialsIn: 'the `credentials` option',
    });
    this.service = options.service;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = options.retry ?? new ExponentialBackoff();
    this.logger = options.logger ?? silentLogger;
    this.redactor = options.redactor ?? new Redactor();
    this.hints = options.hints;
    this.defaultHeaders = { ...options.headers };
    const credentials = options.credentials;
    if (credentials?.type === 'basic') {
      this.redactor.addSecret(credentials.password);
      const token = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
      this.redactor.addSecret(token);
      this.defaultHeaders.authorization = `Basic ${token}`;
    } else if (credentials?.type === 'bearer') {
      this.redactor.addSecret(credentials.token);
      this.defaultHeaders.authorization = `Bearer ${credentials.token}`;
    }
    const tls = resolveTls(options.tls);
    this.agents = [new http.Agent({ keepAlive: true }), new https.Agent({ keepAlive: true, ...tls })];
    this.axios = axios.create({
      httpAgent: this.agents[0],
      httpsAgent: this.agents[1],
      validateStatus: () => true,
      maxRedirects: 0,
      decompress: true,
      proxy: false,
      transitional: { clarifyTimeoutError: true },
    });
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.lifetime.signal.aborted;
  }

  /**
   * Ends requests and response streams in flight (they fail with `ClientClosedError`) and closes the kept-alive
   * connections. Final: later requests fail with `ClientClosedError`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.lifetime.abort();
    for (const agent of this.agents) agent.destroy();
  }

  /** Sends a request and returns the response for 2xx; throws a typed error otherwise. */
  async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
    validateHeaders({ ...this.defaultHeaders, ...request.headers });
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const url = `${this.baseUrl}${request.path}${encodeQuery(request.query)}`;
    const safeUrl = this.redactor.redactText(redactUrl(url));
    const what = `${request.method} ${safeUrl}`;
    if (this.closed) throw new ClientClosedError(this.service, what);
    const idempotent =
      !isConditionalWrite(request.method, { ...this.defaultHeaders, ...request.headers }) &&
      (request.idempotent ?? IDEMPOTENT.has(request.method));
    const deadline = new AbortController();
    // Clamped: Node fires timers beyond 2^31-1 ms after 1 ms, which would time every call out at once.
    const timer = setTimeout(() => deadline.abort(new TimeoutError(what, timeoutMs)), timerDelay(timeoutMs));
    const signal = AbortSignal.any(
      request.signal ? [request.signal, deadline.signal, this.lifetime.signal] : [deadline.signal, this.lifetime.signal],
    );
    try {
      for (let attempt = 1; ; attempt += 1) {
        try {
          // For a stream the deadline covers the response head only; the body lives until `signal` aborts.
          return await this.attempt<T>(request, url, safeUrl, signal, attempt);
        } catch (error) {
          const failure = this.classify(error, request, what, timeoutMs, deadline.signal);
          const retryable =
            idempotent && (failure instanceof NetworkError || (failure instanceof HttpError && RETRYABLE_STATUS.has(failure.status)));
          const delay = retryable ? this.retry.nextDelayMs(attempt, failure) : undefined;
          if (delay === undefined) throw failure;
          this.logger.warn('retrying request', {
            service: this.service,
            method: request.method,
            url: safeUrl,
            attempt,
            delayMs: delay,
            reason: failure.message,
          });
          try {
            await sleep(delay, signal);
          } catch {
            throw this.classify(signal.reason, request, what, timeoutMs, deadline.signal, failure);
          }
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async attempt<T>(
    request: HttpRequest,
    url: string,
    safeUrl: string,
    signal: AbortSignal,
    attempt: number,
  ): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...this.defaultHeaders, ...request.headers };
    headers.accept = request.accept ?? headers.accept ?? 'application/json';
    let data: unknown = request.body;
    if (request.body !== undefined && typeof request.body !== 'string' && !Buffer.isBuffer(request.body)) {
      data = JSON.stringify(request.body);
      headers['content-type'] = request.contentType ?? 'application/json';
    } else if (request.body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/octet-stream';
    }
    const started = performance.now();
    const wantsStream = request.responseType === 'stream';
    const response = await this.axios.request<Buffer | Readable>({
      method: request.method,
      url,
      headers,
      data,
      signal,
      responseType: wantsStream ? 'stream' : 'arraybuffer',
      transformResponse: [(raw: unknown) => raw],
    });
    const status = response.status;
    const responseHeaders = flattenHeaders(response.headers);
    this.logger.debug('http response', {
      service: this.service,
      method: request.method,
      url: safeUrl,
      status,
      attempt,
      durationMs: Math.round(performance.now() - started),
    });
    if (wantsStream && status >= 200 && status < 300) {
      return { status, headers: responseHeaders, data: response.data as T, etag: responseHeaders.etag };
    }
    const raw = wantsStream ? await readBody(response.data as Readable) : Buffer.from(response.data as Buffer);
    const body = parseBody(raw, responseHeaders['content-type'], request.responseType === 'text' ? 'text' : 'json');
    if (status >= 200 && status < 300) {
      return { status, headers: responseHeaders, data: body as T, etag: responseHeaders.etag };
    }
    const upstream = upstreamError(body);
    throw httpErrorFor({
      status,
      method: request.method,
      url: safeUrl,
      upstreamCode: upstream.code === undefined ? undefined : this.redactor.redactText(upstream.code),
      upstreamMessage: upstream.message === undefined ? undefined : this.redactor.redactText(upstream.message),
      hint: this.hints?.(status, upstream.code, request),
      etag: responseHeaders.etag,
      retryAfterMs: parseRetryAfter(responseHeaders['retry-after']),
      body: this.redactor.redact(body),
    });
  }

  private classify(error: unknown, request: HttpRequest, what: string, timeoutMs: number, deadline: AbortSignal, previous?: Error): Error {
    if (error instanceof HttpError || error instanceof TimeoutError || error instanceof AbortError) return error;
    if (this.closed) return new ClientClosedError(this.service, what);
    if (deadline.aborted) return new TimeoutError(what, timeoutMs, previous);
    if (request.signal?.aborted) return new AbortError(what, request.signal.reason);
    if (axios.isAxiosError(error)) {
      const detail = this.redactor.redactText(error.code ? `${error.code} ${error.message}` : error.message);
      return new NetworkError(request.method, what.slice(request.method.length + 1), detail);
    }
    return asError(error);
  }
}

/**
 * Reads a streamed response body whole. The request's deadline ends with the response head, so a caller that
 * must not hang on a stalled body passes `signal` (its own deadline or abort; ends the read with an `AbortError`) or
 * `timeoutMs` (ends the read with a `TimeoutError`), both naming `what`. No stream (an empty answer): an empty buffer.
 */
export async function readBody(
  stream: Readable | undefined | null,
  options: { signal?: AbortSignal; timeoutMs?: number; what?: string } = {},
): Promise<Buffer> {
  if (stream === undefined || stream === null || typeof (stream as { on?: unknown }).on !== 'function') return Buffer.alloc(0);
  const { signal, timeoutMs } = options;
  const what = options.what ?? 'reading the response body';
  const stop = () => stream.destroy(new AbortError(what, signal?.reason));
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => stream.destroy(new TimeoutError(what, timeoutMs)), timerDelay(timeoutMs));
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}
