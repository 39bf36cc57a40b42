import { NotFoundError, TwinLedgerError, ValidationError } from '../core/errors.js';
import type { HttpCallOptions } from '../core/http.js';
import type { RegistrySearchQuery, SearchResult } from './types.js';
import { isPlainObject } from './validation.js';

export interface RegistrySearchOptions extends HttpCallOptions {
  /**
   * Hono's MongoDB registry answers 404 when nothing matches (and when the tenant does not exist — it
   * cannot tell them apart). Default `true`: return an empty result; `false`: throw `NotFoundError`.
   */
  emptyOnNotFound?: boolean;
}

/** Page size `all()` uses unless the query sets one. */
export const REGISTRY_DEFAULT_PAGE_SIZE = 100;

export function validateSearchOptions(options: RegistrySearchOptions | undefined): void {
  if (options?.emptyOnNotFound !== undefined && typeof options.emptyOnNotFound !== 'boolean') {
    throw new ValidationError('options.emptyOnNotFound', 'must be a boolean');
  }
}

export function toSearchResult<T>(data: unknown): SearchResult<T> {
  if (!isPlainObject(data) || (data.result !== undefined && !Array.isArray(data.result))) {
    throw new TwinLedgerError('the registry answered a search with something other than { total, result }', {
      code: 'registry.unexpected-response',
    });
  }
  const result = (data.result ?? []) as T[];
  const total = typeof data.total === 'number' ? data.total : result.length;
  return { total, result };
}

/** Runs a search, turning Hono's "nothing found" 404 into an empty result unless told otherwise. */
export async function searchOrEmpty<T>(
  options: RegistrySearchOptions | undefined,
  run: () => Promise<SearchResult<T>>,
): Promise<SearchResult<T>> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof NotFoundError && options?.emptyOnNotFound !== false) return { total: 0, result: [] };
    throw error;
  }
}

/**
 * Walks all pages of a search. `pageOffset` counts pages (Hono skips `pageOffset × pageSize` objects);
 * stops at a short page or once `total` objects were covered.
 */
export async function* allPages<T, Q extends RegistrySearchQuery>(
  query: Q | undefined,
  fetchPage: (query: Q) => Promise<SearchResult<T>>,
): AsyncGenerator<T, void, undefined> {
  const pageSize = query?.pageSize ?? REGISTRY_DEFAULT_PAGE_SIZE;
  for (let page = query?.pageOffset ?? 0; ; page += 1) {
    const { total, result } = await fetchPage({ ...(query as Q), pageSize, pageOffset: page });
    yield* result;
    if (result.length < pageSize || (page + 1) * pageSize >= total) return;
  }
}
