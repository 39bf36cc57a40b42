import stringify from 'json-stringify-deterministic';
import sortKeysRecursive from 'sort-keys-recursive';

/**
 * Deterministic JSON: keys sorted recursively, no whitespace. Every endorser must produce the same
 * bytes for the same transaction, so nothing that lands in state, events or results is serialised
 * with plain `JSON.stringify` (whose key order depends on how the object was built).
 */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    return stringify(sortKeysRecursive(value as Record<string, unknown>));
  }
  return stringify(value);
}

export function canonicalBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

export function parseJsonBytes<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
