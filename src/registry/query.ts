import { ValidationError } from '../core/errors.js';
import type { QueryValue } from '../core/http.js';
import { integerOption } from '../core/options.js';
import type { DeviceSearchQuery, FilterExpression, RegistrySearchQuery, SortExpression } from './types.js';

/** Largest `pageSize` the spec allows. */
export const REGISTRY_MAX_PAGE_SIZE = 200;

/** RFC 6901: `/`-prefixed segments; `~` only as `~0` or `~1`. */
const JSON_POINTER = /^(?:\/(?:[^~/]|~[01])*)+$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validatePointer(field: string, pointer: unknown): string {
  if (typeof pointer !== 'string' || !JSON_POINTER.test(pointer)) {
    throw new ValidationError(
      field,
      `must be a JSON pointer, got ${JSON.stringify(pointer)}`,
      'Start with "/" and separate levels with "/", e.g. "/enabled" or "/ext/brand" (escape "~" as "~0", "/" as "~1").',
    );
  }
  return pointer;
}

function validateFilter(field: string, filter: unknown): FilterExpression {
  if (!isPlainObject(filter)) throw new ValidationError(field, 'must be an object { field, value, op? }');
  validatePointer(`${field}.field`, filter.field);
  const value = filter.value;
  const valueOk = typeof value === 'boolean' || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
  if (!valueOk) {
    throw new ValidationError(`${field}.value`, 'must be a boolean, a finite number or a string');
  }
  if (filter.op !== undefined && filter.op !== 'eq') {
    throw new ValidationError(`${field}.op`, `${JSON.stringify(filter.op)} is not supported`, 'The registry only knows "eq".');
  }
  for (const key of Object.keys(filter)) {
    if (key !== 'field' && key !== 'value' && key !== 'op') throw new ValidationError(`${field}.${key}`, 'is not a filter property');
  }
  return filter as unknown as FilterExpression;
}

function validateSort(field: string, sort: unknown): SortExpression {
  if (!isPlainObject(sort)) throw new ValidationError(field, 'must be an object { field, direction? }');
  validatePointer(`${field}.field`, sort.field);
  if (sort.direction !== undefined && sort.direction !== 'asc' && sort.direction !== 'desc') {
    throw new ValidationError(`${field}.direction`, `must be "asc" or "desc", got ${JSON.stringify(sort.direction)}`);
  }
  for (const key of Object.keys(sort)) {
    if (key !== 'field' && key !== 'direction') throw new ValidationError(`${field}.${key}`, 'is not a sort property');
  }
  return sort as unknown as SortExpression;
}

function validateInteger(field: string, value: unknown, min: number, max: number): void {
  integerOption(field, value, { min, max });
}

/** Checks a search query; throws `ValidationError` naming the offending field. */
export function validateSearchQuery(query: DeviceSearchQuery | undefined, allowIsGateway: boolean): void {
  if (query === undefined) return;
  if (!isPlainObject(query)) throw new ValidationError('query', 'must be an object');
  if (query.pageSize !== undefined) validateInteger('query.pageSize', query.pageSize, 1, REGISTRY_MAX_PAGE_SIZE);
  if (query.pageOffset !== undefined) validateInteger('query.pageOffset', query.pageOffset, 0, Number.MAX_SAFE_INTEGER);
  if (query.filter !== undefined) {
    if (!Array.isArray(query.filter)) throw new ValidationError('query.filter', 'must be an array of { field, value, op? }');
    query.filter.forEach((filter, index) => validateFilter(`query.filter[${index}]`, filter));
  }
  if (query.sort !== undefined) {
    if (!Array.isArray(query.sort)) throw new ValidationError('query.sort', 'must be an array of { field, direction? }');
    query.sort.forEach((sort, index) => validateSort(`query.sort[${index}]`, sort));
  }
  if (query.isGateway !== undefined) {
    if (!allowIsGateway) throw new ValidationError('query.isGateway', 'only applies to device searches');
    if (typeof query.isGateway !== 'boolean') throw new ValidationError('query.isGateway', 'must be a boolean');
  }
  const known = new Set(['pageSize', 'pageOffset', 'filter', 'sort', ...(allowIsGateway ? ['isGateway'] : [])]);
  for (const key of Object.keys(query)) {
    if (!known.has(key)) throw new ValidationError(`query.${key}`, `is not a search option (known: ${[...known].join(', ')})`);
  }
}

/**
 * The query parameters of `GET /tenants` and `GET /devices/{tenantId}`: one `filterJson` and one
 * `sortJson` parameter per expression, each a JSON object as the spec describes.
 */
export function encodeSearchQuery(query: DeviceSearchQuery | RegistrySearchQuery | undefined): Record<string, QueryValue> {
  const params: Record<string, QueryValue> = {};
  if (query === undefined) return params;
  if (query.pageSize !== undefined) params.pageSize = query.pageSize;
  if (query.pageOffset !== undefined) params.pageOffset = query.pageOffset;
  if (query.filter !== undefined && query.filter.length > 0) {
    params.filterJson = query.filter.map((filter) =>
      JSON.stringify(
        filter.op === undefined
          ? { field: filter.field, value: filter.value }
          : { field: filter.field, value: filter.value, op: filter.op },
      ),
    );
  }
  if (query.sort !== undefined && query.sort.length > 0) {
    params.sortJson = query.sort.map((sort) =>
      JSON.stringify(sort.direction === undefined ? { field: sort.field } : { field: sort.field, direction: sort.direction }),
    );
  }
  if ('isGateway' in query && query.isGateway !== undefined) params.isGateway = query.isGateway;
  return params;
}
