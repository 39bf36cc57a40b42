import { ValidationError } from '../core/errors.js';

/**
 * Client-side checks of ledger arguments, the same rules the chaincode applies, so that bad input is
 * reported before a transaction is endorsed.
 */

const KEY = /^[A-Za-z0-9][A-Za-z0-9._~:@/+=-]*$/;
const HEX64 = /^[0-9a-f]{64}$/;
const CID_V0 = /^Qm[1-9A-HJ-NP-Za-km-z]{44}$/;
const CID_V1_BASE32 = /^b[a-z2-7]{10,}$/;
/** The chaincode's limit; longer strings are not content CIDs (an identity multihash would carry data). */
const MAX_CID_LENGTH = 128;
const GENESIS_ROOT = '0'.repeat(64);

export function requireKey(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, 'must be a non-empty string');
  if (value.length > 256) throw new ValidationError(field, `is ${value.length} characters long; at most 256 are allowed`);
  if (!KEY.test(value)) {
    throw new ValidationError(
      field,
      `${JSON.stringify(value)} is not a valid key`,
      'Use letters, digits and . _ ~ : @ / + = -, starting with a letter or digit.',
    );
  }
  return value;
}

export function requireSha256(field: string, value: unknown): string {
  if (typeof value !== 'string' || !HEX64.test(value)) {
    throw new ValidationError(
      field,
      'must be a SHA-256 digest: 64 lower-case hex characters',
      'Use crypto.createHash("sha256").update(bytes).digest("hex").',
    );
  }
  return value;
}

export function optionalCid(field: string, value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value === 'string' && value.length > MAX_CID_LENGTH) {
    throw new ValidationError(field, `is ${value.length} characters long; a CID has at most ${MAX_CID_LENGTH}`);
  }
  if (typeof value !== 'string' || !(CID_V0.test(value) || CID_V1_BASE32.test(value))) {
    throw new ValidationError(field, `${JSON.stringify(value)} is not a CIDv0 ("Qm…", 46 characters) or a base32 CIDv1 ("b…")`);
  }
  return value;
}

export function optionalMeta(field: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, 'must be a plain JSON object');
  const problem = jsonProblem(value, field);
  if (problem !== undefined)
    throw new ValidationError(problem.path, problem.message, 'The chaincode stores meta exactly; use strings for big or special numbers.');
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text, 'utf8') > 8192) throw new ValidationError(field, 'is larger than 8 KiB as JSON');
  return text;
}

/** `root` of a batch: a SHA-256 that is neither the genesis value (64 zeros) nor the previous root. */
export function requireBatchRoot(field: string, value: unknown, prevRoot: string): string {
  const root = requireSha256(field, value);
  if (root === GENESIS_ROOT) throw new ValidationError(field, 'is the genesis root (64 zeros), which marks a stream with no batch');
  if (root === prevRoot)
    throw new ValidationError(
      field,
      'equals prevRoot: a batch must change the head',
      'Anchor each batch once; a retry of the same batch uses the same batchId.',
    );
  return root;
}

/**
 * What JSON.stringify would change or the chaincode refuses: `toJSON` keys, numbers that are not finite (they
 * become null) and integers beyond 2^53 (they would be stored rounded).
 */
function jsonProblem(value: unknown, path: string, seen = new WeakSet<object>()): { path: string; message: string } | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { path, message: `is ${String(value)}, which JSON cannot carry` };
    if (Number.isInteger(value) && !Number.isSafeInteger(value))
      return { path, message: `is ${value}, beyond 2^53: it would be stored rounded` };
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (seen.has(value)) return { path, message: 'refers back to itself; JSON cannot carry a cycle' };
  seen.add(value);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = jsonProblem(value[index], `${path}[${index}]`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === 'toJSON') return { path: `${path}.toJSON`, message: 'is a key the JSON canonicaliser would call as a function; rename it' };
    const found = jsonProblem(item, `${path}.${key}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function requireTreeSize(field: string, value: unknown): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(field, `must be a positive integer, got ${String(value)}`);
  }
  return String(value);
}

export function optionalTtd(field: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 60) {
    throw new ValidationError(field, `must be an integer from 1 to 60 seconds, got ${String(value)}`);
  }
  return String(value);
}

export function optionalSalt(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(?:[0-9a-f]{2}){16,64}$/.test(value)) {
    throw new ValidationError(field, 'must be 32 to 128 lower-case hex characters (16 to 64 bytes)');
  }
  return value;
}
