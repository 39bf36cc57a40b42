import stringify from 'json-stringify-deterministic';

/**
 * Deterministic JSON: object keys sorted recursively, arrays kept in their order, no whitespace. Every
 * endorser must produce the same bytes for the same transaction, so nothing that lands in state, events or
 * results is serialised with plain `JSON.stringify` (whose key order depends on how the object was built).
 * json-stringify-deterministic sorts the keys itself; fabric-samples' sort-keys-recursive also sorts arrays
 * (`[10, 9, 1]` became `[1, 10, 9]`), which changed anchored metadata, so it is not used.
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

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Why a parsed JSON value cannot be stored and serialised back unchanged, or undefined when it can. Checks every
 * depth: a `toJSON` key (json-stringify-deterministic calls `value.toJSON()` on any object that has one, so
 * `{"toJSON":1}` crashes it with a TypeError and `{"toJSON":"x"}` too), numbers that are not finite
 * (`JSON.parse("1e999")` is Infinity, which would be stored as `null`) and integers beyond
 * Number.MAX_SAFE_INTEGER (`9007199254740993` parses as `9007199254740992`: the stored value would not be the
 * one that was sent). `path` names the value in the message, e.g. `metaJson.a[2]`.
 */
export function jsonValueProblem(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      return `${path} is not a finite number (it parses as ${value}); keep numbers within ±${Number.MAX_VALUE} or send it as a string`;
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return (
        `${path} is an integer beyond ±${Number.MAX_SAFE_INTEGER} (Number.MAX_SAFE_INTEGER), which would be stored rounded ` +
        `(as ${value}); send it as a string instead`
      );
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const problem = jsonValueProblem(value[i], childPath(path, i));
      if (problem) return problem;
    }
    return undefined;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key === 'toJSON') {
        return `${path} has a "toJSON" key, which the deterministic JSON serialiser would call as a method; rename the key (e.g. "to_json")`;
      }
      const problem = jsonValueProblem(value[key], childPath(path, key));
      if (problem) return problem;
    }
  }
  return undefined;
}
