import stringify from 'json-stringify-deterministic';

/**
 * Deterministic JSON: object keys sorted recursively, arrays kept in their order, no whitespace. Every
 * endorser must produce the same bytes for the same transaction, so nothing that lands in state, events or
 * results is serialised with plain `JSON.stringify` (whose key order depends on how the object was built).
 * json-stringify-deterministic sorts the keys itself; sort-keys-recursive is not used, because it also
 * sorts arrays (`[10, 9, 1]` became `[1, 10, 9]`), which changed anchored metadata.
 */
export function canonicalJson(value: unknown): string {
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
