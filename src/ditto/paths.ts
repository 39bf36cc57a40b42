import { ValidationError } from '../core/errors.js';
import {
  type IdRules,
  jsonPointerPath,
  pathSegment,
  requireText,
  validateFeatureId,
  validatePolicyId,
  validateThingId,
} from '../core/ids.js';

/** Prefix of Ditto's HTTP API v2; the client's base URL stops before it. */
export const API_PREFIX = '/api/2';

export function thingPath(thingId: string, rules: IdRules, field = 'thingId'): string {
  return `${API_PREFIX}/things/${pathSegment(validateThingId(thingId, rules, field), field)}`;
}

export function featurePath(thingId: string, featureId: string, rules: IdRules): string {
  return `${thingPath(thingId, rules)}/features/${pathSegment(validateFeatureId(featureId, rules), 'featureId')}`;
}

export function policyPath(policyId: string, rules: IdRules, field = 'policyId'): string {
  return `${API_PREFIX}/policies/${pathSegment(validatePolicyId(policyId, rules, field), field)}`;
}

/**
 * Appends a JSON pointer (`a/b/c`, leading and trailing `/` optional) to `base`, each segment encoded.
 * `undefined`, `''` and `'/'` address `base` itself. `key` checks each segment further (e.g. Ditto's key rule).
 */
export function withPointer(
  base: string,
  path: string | undefined,
  field = 'path',
  key?: (segment: string, field: string) => void,
): string {
  if (path === undefined) return base;
  if (typeof path !== 'string') throw new ValidationError(field, `must be a string, got ${String(path)}`);
  const pointer = jsonPointerPath(path, field, key);
  return pointer === '' ? base : `${base}/${pointer}`;
}

/** For segments Ditto takes without a character rule of its own (subject IDs, policy resource paths). */
export function noControlCharacters(segment: string, field: string, hint?: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1F\x7F]/.test(segment)) throw new ValidationError(field, 'contains control characters', hint);
}

/**
 * A required single path segment such as a policy subject ID: no control characters, and (as every path segment)
 * not empty, not a lone surrogate, not `.` or `..`.
 */
export function requiredSegment(field: string, value: unknown, hint?: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ValidationError(field, `must be a non-empty string, got ${JSON.stringify(value)}`, hint);
  }
  noControlCharacters(value, field, hint);
  return pathSegment(value, field);
}

/** `fields` selector: a comma-separated string or a list of field paths. */
export function fieldsQuery(fields: string | readonly string[] | undefined): string | undefined {
  if (fields === undefined) return undefined;
  const list = typeof fields === 'string' ? [fields] : fields;
  if (!Array.isArray(list) || list.length === 0 || list.some((item) => typeof item !== 'string' || item.trim() === '')) {
    throw new ValidationError(
      'fields',
      'must be a non-empty string or a list of non-empty field paths',
      'e.g. ["thingId", "attributes/location"]',
    );
  }
  list.forEach((item, index) => requireText(typeof fields === 'string' ? 'fields' : `fields[${index}]`, item, 'field path'));
  return list.join(',');
}
