import { ValidationError } from '../core/errors.js';
import type { HttpClient, HttpMethod, HttpResponse, QueryValue } from '../core/http.js';
import { type DittoGetOptions, type DittoHeaderOptions, dittoCallOptions, historyHeaders } from './headers.js';
import type { PutResult, Versioned, WriteResult } from './types.js';

export const MERGE_PATCH = 'application/merge-patch+json';

/** Serialises a request body as JSON, refusing what JSON cannot carry (undefined, NaN, cycles, BigInt). */
export function jsonText(field: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (key, item: unknown) => {
      if (typeof item === 'number' && !Number.isFinite(item)) {
        throw new ValidationError(key === '' ? field : `${field}.${key}`, `${item} is not a JSON number`);
      }
      return item;
    });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(field, `is not serialisable as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (text === undefined) {
    throw new ValidationError(
      field,
      'must be a JSON value (object, array, string, number, boolean or null)',
      'To remove a value use delete().',
    );
  }
  return text;
}

export function requireObject(field: string, value: unknown): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `must be a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
}

function writeResult(response: HttpResponse): WriteResult {
  return { status: response.status, created: response.status === 201, etag: response.etag };
}

/**
 * The request plumbing shared by every Ditto resource: renders Ditto headers, serialises JSON bodies,
 * and maps 201/204/202 answers. Callers validate IDs and build the (encoded) path first.
 */
export class DittoResource {
  constructor(readonly http: HttpClient) {}

  /** A read; `atHistoricalRevision` / `atHistoricalTimestamp` are sent as Ditto's history headers. */
  async getVersioned<T>(path: string, options: DittoGetOptions = {}, query?: Record<string, QueryValue>): Promise<Versioned<T>> {
    const history = options === null || typeof options !== 'object' ? {} : historyHeaders(options);
    const call = Object.keys(history).length === 0 ? options : { ...options, headers: { ...options.headers, ...history } };
    const response = await this.send<T>('GET', path, undefined, call, query);
    return { value: response.data, etag: response.etag };
  }

  async get<T>(path: string, options: DittoGetOptions = {}, query?: Record<string, QueryValue>): Promise<T> {
    return (await this.getVersioned<T>(path, options, query)).value;
  }

  async put<T>(
    path: string,
    field: string,
    value: unknown,
    options: DittoHeaderOptions = {},
    query?: Record<string, QueryValue>,
  ): Promise<PutResult<T>> {
    const response = await this.send<T>('PUT', path, jsonText(field, value), options, query);
    return { ...writeResult(response), value: response.status === 201 ? response.data : undefined };
  }

  /** JSON merge patch (RFC 7396). Applying the same patch twice gives the same result, so it is retried like PUT. */
  async merge(path: string, field: string, value: unknown, options: DittoHeaderOptions = {}): Promise<WriteResult> {
    return writeResult(await this.send('PATCH', path, jsonText(field, value), options, undefined, MERGE_PATCH, true));
  }

  async delete(path: string, options: DittoHeaderOptions = {}): Promise<WriteResult> {
    return writeResult(await this.send('DELETE', path, undefined, options));
  }

  send<T>(
    method: HttpMethod,
    path: string,
    body: string | Buffer | undefined,
    options: DittoHeaderOptions,
    query?: Record<string, QueryValue>,
    contentType = 'application/json',
    idempotent?: boolean,
  ): Promise<HttpResponse<T>> {
    const call = dittoCallOptions(options, this.http.timeoutMs);
    return this.http.request<T>({
      method,
      path,
      ...(query === undefined ? {} : { query }),
      ...(body === undefined ? {} : { body, contentType }),
      ...(idempotent === undefined ? {} : { idempotent }),
      ...call,
    });
  }
}
