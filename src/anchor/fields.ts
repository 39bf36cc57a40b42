/**
 * Checks for the plain-JSON fields of envelopes and proofs. Each throws `errorClass` (a `ValidationError` or a
 * subclass, e.g. `MalformedAnchorProofError` while reading a proof) naming the field.
 */
import { ValidationError } from '../core/errors.js';
import { describe } from '../merkle/hash.js';
import type { CID } from 'multiformats/cid';
import { cidText, parseCid } from '../offchain/cid.js';

export type FieldErrorClass = typeof ValidationError;

/** A plain object (what JSON.parse makes), not an array, null or a class instance. */
export function plainObject(value: unknown, field: string, errorClass: FieldErrorClass): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) return value as Record<string, unknown>;
  }
  throw new errorClass(field, `must be a plain JSON object, got ${describe(value)}`);
}

/** Refuses missing required fields and any field not listed; names the first one. */
export function exactFields(
  object: Record<string, unknown>,
  field: string,
  required: readonly string[],
  optional: readonly string[],
  errorClass: FieldErrorClass,
): void {
  for (const name of required) {
    if (object[name] === undefined) throw new errorClass(`${field}.${name}`, 'is missing');
  }
  for (const name of Object.keys(object)) {
    if (!required.includes(name) && !optional.includes(name)) {
      throw new errorClass(`${field}.${name}`, `is not a field of ${field} (fields: ${[...required, ...optional].join(', ')})`);
    }
  }
}

// With the `u` flag a string is read by code point, so only a surrogate without its partner is in category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/** A non-empty string with a UTF-8 encoding (no lone surrogate, which encoders would silently replace). */
export function text(value: unknown, field: string, errorClass: FieldErrorClass): string {
  if (typeof value !== 'string' || value.length === 0) throw new errorClass(field, `must be a non-empty string, got ${describe(value)}`);
  if (LONE_SURROGATE.test(value))
    throw new errorClass(field, 'holds a lone surrogate (half of a UTF-16 pair), which has no UTF-8 encoding');
  return value;
}

/** Lower-case hex of exactly `bytes` bytes. */
export function hex(value: unknown, field: string, bytes: number, errorClass: FieldErrorClass): string {
  if (typeof value === 'string' && value.length === 2 * bytes && /^[0-9a-f]*$/.test(value)) return value;
  throw new errorClass(field, `must be ${2 * bytes} lower-case hex digits (${bytes} bytes), got ${describe(value)}`);
}

/** A non-negative (`min` 0) or positive (`min` 1) safe integer. */
export function safeInteger(value: unknown, field: string, min: 0 | 1, errorClass: FieldErrorClass): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  throw new errorClass(field, `must be a ${min === 0 ? 'non-negative' : 'positive'} safe integer, got ${describe(value)}`);
}

/** The chaincode's rule for ledger keys, stream and batch IDs (chaincode/src/validate.ts `KEY_PATTERN`). */
const LEDGER_KEY = /^[A-Za-z0-9][A-Za-z0-9._~:@/+=-]*$/;
const MAX_LEDGER_KEY_LENGTH = 256;

export function ledgerKey(value: unknown, field: string, errorClass: FieldErrorClass): string {
  if (typeof value === 'string' && value.length <= MAX_LEDGER_KEY_LENGTH && LEDGER_KEY.test(value)) return value;
  throw new errorClass(
    field,
    `must be a ledger key: at most ${MAX_LEDGER_KEY_LENGTH} letters, digits and . _ ~ : @ / + = -, starting with a letter or digit; got ${describe(value)}`,
  );
}

const IDENTITY_MULTIHASH = 0x00;

/**
 * A payload CID in its canonical text (`Qm…` for CIDv0, base32 `b…` for CIDv1, as the stores return it), so that
 * one payload has one spelling in envelopes and proofs. Never the identity multihash: it embeds the bytes instead of
 * hashing them, and the chaincode refuses it.
 */
export function payloadCid(value: unknown, field: string, errorClass: FieldErrorClass): string {
  let cid: CID;
  try {
    cid = parseCid(field, value);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    // parseCid names the field itself: keep its explanation, in this caller's error class.
    const detail = error.message.startsWith(`${field}: `) ? error.message.slice(field.length + 2) : error.message;
    throw new errorClass(field, detail);
  }
  if (cid.multihash.code === IDENTITY_MULTIHASH)
    throw new errorClass(field, 'is an identity CID (the bytes themselves, not a hash of them)');
  const canonical = cidText(cid);
  if (canonical !== value) throw new errorClass(field, `must be the CID in its canonical text ${canonical}, got ${describe(value)}`);
  return canonical;
}

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** ISO 8601 UTC with milliseconds, a real date: `2026-12-07T10:00:00.000Z`. */
export function utcMillis(value: unknown, field: string, errorClass: FieldErrorClass): string {
  if (typeof value === 'string' && ISO_MILLIS.test(value)) {
    const time = Date.parse(value);
    if (Number.isFinite(time) && new Date(time).toISOString() === value) return value;
  }
  throw new errorClass(field, `must be an ISO 8601 UTC time with milliseconds, e.g. 2026-12-07T10:00:00.000Z; got ${describe(value)}`);
}

const RFC3339_UTC = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?Z$/;

/** RFC 3339 UTC with up to nanoseconds, a real date: how the chaincode writes transaction timestamps. */
export function ledgerTime(value: unknown, field: string, errorClass: FieldErrorClass): string {
  const seconds = typeof value === 'string' ? RFC3339_UTC.exec(value)?.[1] : undefined;
  if (seconds !== undefined) {
    const time = Date.parse(`${seconds}Z`);
    if (Number.isFinite(time) && new Date(time).toISOString().slice(0, 19) === seconds) return value as string;
  }
  throw new errorClass(field, `must be an RFC 3339 UTC time, e.g. 2026-12-07T10:00:00.123456789Z; got ${describe(value)}`);
}

/** A transaction ID: printable ASCII without spaces (Fabric's are 64 hex digits). */
export function transactionId(value: unknown, field: string, errorClass: FieldErrorClass): string {
  if (typeof value === 'string' && /^[\x21-\x7e]{1,256}$/.test(value)) return value;
  throw new errorClass(field, `must be a transaction ID (1 to 256 printable ASCII characters, no spaces), got ${describe(value)}`);
}

/** A block number as decimal text. */
export function blockNumber(value: unknown, field: string, errorClass: FieldErrorClass): string {
  if (typeof value === 'string' && /^(0|[1-9]\d{0,19})$/.test(value)) return value;
  throw new errorClass(field, `must be a block number as decimal text, e.g. "42"; got ${describe(value)}`);
}
