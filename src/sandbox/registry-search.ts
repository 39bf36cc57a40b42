/**
 * Hono's registry search: `filterJson` predicates (a JSON Pointer `field`, `op: "eq"`, a boolean, number or string
 * `value`, strings with `*` and `?` wildcards; several must all match), `sortJson` options (field and direction,
 * applied in order), `pageSize` (0..200, default 30) and `pageOffset`, which counts pages: as Hono's MongoDB registry,
 * a page skips `pageOffset × pageSize` objects. No match is a 404, as in Hono.
 */
import { type Json, type JsonObject, isObject, malformed, registryError } from './registry-model.js';
import { wildcard } from './wildcard.js';

interface Filter {
  pointer: string[];
  value: boolean | number | string;
}

interface Sort {
  pointer: string[];
  descending: boolean;
}

export interface SearchQuery {
  filters: Filter[];
  sorts: Sort[];
  pageSize: number;
  pageOffset: number;
}

function pointer(text: unknown, parameter: string): string[] {
  if (typeof text !== 'string' || (text !== '' && !text.startsWith('/'))) {
    throw malformed(`${parameter}: field must be a JSON Pointer such as "/ext/brand"`);
  }
  return text
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parsed(text: string, parameter: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(`${parameter} is not JSON: ${text}`);
  }
  if (!isObject(value)) throw malformed(`${parameter} must be a JSON object`);
  return value;
}

function integer(value: string | null, name: string, fallback: number, max: number): number {
  if (value === null) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) throw malformed(`${name} must be an integer from 0 to ${max}`);
  return Number(value);
}

export function parseSearch(params: URLSearchParams): SearchQuery {
  const filters = params.getAll('filterJson').map((text) => {
    const filter = parsed(text, 'filterJson');
    for (const key of Object.keys(filter))
      if (!['field', 'op', 'value'].includes(key)) throw malformed(`filterJson: unknown property ${key}`);
    if (filter.op !== undefined && filter.op !== 'eq') throw malformed('filterJson: op must be "eq"');
    const value = filter.value;
    if (typeof value !== 'boolean' && typeof value !== 'number' && typeof value !== 'string') {
      throw malformed('filterJson: value must be a boolean, a number or a string');
    }
    return { pointer: pointer(filter.field, 'filterJson'), value };
  });
  const sorts = params.getAll('sortJson').map((text) => {
    const sort = parsed(text, 'sortJson');
    for (const key of Object.keys(sort)) if (!['field', 'direction'].includes(key)) throw malformed(`sortJson: unknown property ${key}`);
    if (sort.direction !== undefined && sort.direction !== 'asc' && sort.direction !== 'desc') {
      throw malformed('sortJson: direction must be "asc" or "desc"');
    }
    return { pointer: pointer(sort.field, 'sortJson'), descending: sort.direction === 'desc' };
  });
  return {
    filters,
    sorts,
    pageSize: integer(params.get('pageSize'), 'pageSize', 30, 200),
    pageOffset: integer(params.get('pageOffset'), 'pageOffset', 0, Number.MAX_SAFE_INTEGER),
  };
}

function at(document: Json, path: readonly string[]): Json | undefined {
  let current: Json | undefined = document;
  for (const token of path) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else return undefined;
  }
  return current;
}

function matches(document: JsonObject, filter: Filter): boolean {
  const value = at(document, filter.pointer);
  if (typeof filter.value === 'string') return typeof value === 'string' && wildcard(filter.value).test(value);
  return value === filter.value;
}

function compare(a: Json | undefined, b: Json | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** One page of the documents (each with its `id`) that match, sorted; 404 when none match. */
export function search(documents: JsonObject[], query: SearchQuery): { total: number; result: JsonObject[] } {
  const found = documents.filter((document) => query.filters.every((filter) => matches(document, filter)));
  if (found.length === 0) throw registryError(404, 'no matching objects found');
  found.sort((a, b) => {
    for (const sort of query.sorts) {
      const order = compare(at(a, sort.pointer), at(b, sort.pointer));
      if (order !== 0) return sort.descending ? -order : order;
    }
    return 0;
  });
  const start = query.pageOffset * query.pageSize;
  return { total: found.length, result: found.slice(start, start + query.pageSize) };
}
