import { AbortError, TwinLedgerError, ValidationError } from '../core/errors.js';
import type { HttpCallOptions, HttpClient, HttpResponse } from '../core/http.js';
import { type IdRules, requireText } from '../core/ids.js';
import { integerOption } from '../core/options.js';
import { dittoCallOptions } from './headers.js';
import { API_PREFIX, fieldsQuery } from './paths.js';
import { type RqlExpression, type RqlSortOption, type SortField, sortOption } from './rql.js';
import type { Thing } from './types.js';

/** Ditto's largest page (`size(200)`). */
export const MAX_SEARCH_PAGE_SIZE = 200;

/**
 * Above this many characters of query string, `method: 'auto'` sends the search as a form POST instead
 * (Ditto's gateway answers 414 for URIs over 8k; proxies often allow less).
 */
export const SEARCH_POST_THRESHOLD = 4000;

export interface ThingSearchQuery {
  /** An expression built with the `rql` helpers, or a hand-written RQL string (sent as is, not escaped). */
  filter?: RqlExpression | string;
  /** `sortOption([...])` or the fields directly. Ditto's default is `+thingId`. */
  sort?: RqlSortOption | readonly SortField[];
  /** Page size, 1..200. Ditto's default is 25. */
  size?: number;
  /** The cursor of the previous page. Ditto requires the same filter and sort as the query that produced it. */
  cursor?: string;
  /** Field selector, e.g. `thingId,attributes(location)` or `['thingId', 'attributes/location']`. */
  fields?: string | readonly string[];
  /** Restricts the search to these namespaces (faster on large installations). */
  namespaces?: readonly string[];
}

export interface ThingCountQuery {
  filter?: RqlExpression | string;
  namespaces?: readonly string[];
}

export interface SearchCallOptions extends HttpCallOptions {
  /** `auto` (default): GET, or a form POST when the query string gets long. */
  method?: 'auto' | 'GET' | 'POST';
  correlationId?: string;
  /** Ditto's server-side `timeout` (number = seconds, or `42s`, `500ms`, `1m`; at most 60 s). */
  dittoTimeout?: string | number;
}

export interface SearchPage<T = Thing> {
  items: T[];
  /** Present when there are more results; pass it as `cursor` to get the next page. */
  cursor?: string;
}

type Params = Record<string, string>;

// A cursor is read by Ditto as an unquoted RQL word: no comma, parenthesis, quote, backslash or blank.
const CURSOR_FORBIDDEN = /[,()"\\\s]/;

/** Checks a `filter` parameter (an RQL expression or hand-written RQL string). */
export function filterQuery(filter: RqlExpression | string | undefined): string | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter !== 'string' || filter.trim() === '') {
    throw new ValidationError(
      'filter',
      'must be a non-empty RQL expression',
      'Build it with rql.eq(), rql.and(), ... (the rql namespace of twinledger/ditto).',
    );
  }
  requireText('filter', filter, 'RQL filter');
  return filter;
}

/** Checks a namespace list and renders it comma-separated (for the `namespaces` parameter). */
export function namespacesQuery(namespaces: readonly string[] | undefined, rules: IdRules): string | undefined {
  if (namespaces === undefined) return undefined;
  if (!Array.isArray(namespaces) || namespaces.length === 0) {
    throw new ValidationError('namespaces', 'must be a non-empty array of namespaces', 'Leave it out to search all namespaces.');
  }
  namespaces.forEach((namespace, index) => {
    // A namespace is valid when `<namespace>:x` is a valid entity ID under the configured rules.
    if (typeof namespace !== 'string' || namespace === '' || namespace.includes(':') || !rules.entity.test(`${namespace}:x`)) {
      throw new ValidationError(
        `namespaces[${index}]`,
        `${JSON.stringify(namespace)} is not a valid namespace`,
        'Namespaces are segments starting with a letter, separated by "." or "-", e.g. "org.acme".',
      );
    }
  });
  return namespaces.join(',');
}

function sortParam(sort: ThingSearchQuery['sort']): string | undefined {
  if (sort === undefined) return undefined;
  if (typeof sort === 'string') {
    if (!/^sort\(.+\)$/.test(sort)) {
      throw new ValidationError('sort', `${JSON.stringify(sort)} is not a sort option`, 'Use sortOption([{ field: "thingId" }]).');
    }
    return sort;
  }
  return sortOption(sort as readonly SortField[]);
}

function sizeParam(size: number | undefined): string | undefined {
  if (size === undefined) return undefined;
  integerOption('size', size, { min: 1, max: MAX_SEARCH_PAGE_SIZE });
  return `size(${size})`;
}

function cursorParam(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  if (typeof cursor !== 'string' || cursor === '' || CURSOR_FORBIDDEN.test(cursor)) {
    throw new ValidationError(
      'cursor',
      `${JSON.stringify(cursor)} is not a search cursor`,
      'Pass the cursor of the previous page unchanged.',
    );
  }
  requireText('cursor', cursor, 'search cursor');
  return `cursor(${cursor})`;
}

function searchParams(query: ThingSearchQuery, rules: IdRules): Params {
  if (typeof query !== 'object' || query === null) throw new ValidationError('query', 'must be an object');
  const params: Params = {};
  const filter = filterQuery(query.filter);
  const namespaces = namespacesQuery(query.namespaces, rules);
  const fields = fieldsQuery(query.fields);
  const option = [sortParam(query.sort), sizeParam(query.size), cursorParam(query.cursor)].filter(
    (part): part is string => part !== undefined,
  );
  if (filter !== undefined) params.filter = filter;
  if (namespaces !== undefined) params.namespaces = namespaces;
  if (fields !== undefined) params.fields = fields;
  if (option.length > 0) params.option = option.join(',');
  return params;
}

function countParams(query: ThingCountQuery, rules: IdRules): Params {
  if (typeof query !== 'object' || query === null) throw new ValidationError('query', 'must be an object');
  const params: Params = {};
  const filter = filterQuery(query.filter);
  const namespaces = namespacesQuery(query.namespaces, rules);
  if (filter !== undefined) params.filter = filter;
  if (namespaces !== undefined) params.namespaces = namespaces;
  return params;
}

function searchMethod(options: SearchCallOptions): 'auto' | 'GET' | 'POST' {
  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'GET' && method !== 'POST') {
    throw new ValidationError('method', `must be "auto", "GET" or "POST", got ${JSON.stringify(method)}`);
  }
  return method;
}

function unexpected(what: string, data: unknown): TwinLedgerError {
  const shown = JSON.stringify(data) ?? String(data);
  return new TwinLedgerError(`Ditto answered ${what} with an unexpected body: ${shown.slice(0, 200)}`, {
    code: 'ditto.unexpected-response',
  });
}

function toPage<T>(data: unknown): SearchPage<T> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw unexpected('a search', data);
  const body = data as { items?: unknown; cursor?: unknown };
  if (body.items !== undefined && !Array.isArray(body.items)) throw unexpected('a search', data);
  const page: SearchPage<T> = { items: (body.items ?? []) as T[] };
  if (typeof body.cursor === 'string' && body.cursor !== '') page.cursor = body.cursor;
  return page;
}

function toCount(data: unknown): number {
  const count = typeof data === 'string' && /^\d+$/.test(data.trim()) ? Number(data) : data;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw unexpected('a count', data);
  return count;
}

/**
 * Ditto's thing search (`/api/2/search/things`). The index is eventually consistent: writes show up
 * after a moment (usually well under 2 s).
 */
export class SearchApi {
  constructor(
    private readonly http: HttpClient,
    private readonly rules: IdRules,
  ) {}

  /** One page of things matching the query. */
  async query<T = Thing>(query: ThingSearchQuery = {}, options: SearchCallOptions = {}): Promise<SearchPage<T>> {
    const params = searchParams(query, this.rules);
    return toPage<T>((await this.send(`${API_PREFIX}/search/things`, params, options)).data);
  }

  /** How many things match. */
  async count(query: ThingCountQuery = {}, options: SearchCallOptions = {}): Promise<number> {
    const params = countParams(query, this.rules);
    return toCount((await this.send(`${API_PREFIX}/search/things/count`, params, options)).data);
  }

  /**
   * Every matching thing, page by page (following cursors; `size` defaults to 200 here). Each page is
   * its own request with its own deadline. The iteration ends quietly when `options.signal` aborts.
   * The query is validated before this returns.
   */
  all<T = Thing>(query: ThingSearchQuery = {}, options: SearchCallOptions = {}): AsyncIterable<T> {
    const first: ThingSearchQuery = { ...query, size: query?.size ?? MAX_SEARCH_PAGE_SIZE };
    searchParams(first, this.rules);
    searchMethod(options);
    return { [Symbol.asyncIterator]: () => this.pages<T>(first, options) };
  }

  private async *pages<T>(first: ThingSearchQuery, options: SearchCallOptions): AsyncGenerator<T, void, undefined> {
    const signal = options.signal;
    let cursor = first.cursor;
    for (;;) {
      if (signal?.aborted) return;
      let page: SearchPage<T>;
      try {
        page = await this.query<T>({ ...first, cursor }, options);
      } catch (error) {
        if (signal?.aborted && error instanceof AbortError) return;
        throw error;
      }
      for (const item of page.items) {
        if (signal?.aborted) return;
        yield item;
      }
      if (page.cursor === undefined) return;
      if (page.cursor === cursor) {
        throw new TwinLedgerError('Ditto returned the same search cursor twice; stopping to avoid an endless loop', {
          code: 'ditto.search.cursor-loop',
        });
      }
      cursor = page.cursor;
    }
  }

  private send(path: string, params: Params, options: SearchCallOptions): Promise<HttpResponse> {
    const method = searchMethod(options);
    const call = dittoCallOptions(
      {
        headers: options.headers,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        correlationId: options.correlationId,
        dittoTimeout: options.dittoTimeout,
      },
      this.http.timeoutMs,
    );
    const form = new URLSearchParams(params).toString();
    if (method === 'POST' || (method === 'auto' && form.length > SEARCH_POST_THRESHOLD)) {
      // Searching does not change anything, so the POST form is as safe to repeat as the GET.
      return this.http.request({
        ...call,
        method: 'POST',
        path,
        body: form,
        contentType: 'application/x-www-form-urlencoded',
        idempotent: true,
      });
    }
    return this.http.request({ ...call, method: 'GET', path, query: params });
  }
}
