import { cidProblem } from './cid';
import { ContractError, invalid } from './errors';
import { isPlainObject, jsonValueProblem } from './json';

/** Hono's default tenant ID pattern. */
export const TENANT_PATTERN = /^[a-zA-Z0-9-_.]+$/;
/** Device IDs as Cloud2Edge configures Hono (device ID = Ditto thing ID, hence `:`). */
export const DEVICE_PATTERN = /^[a-zA-Z0-9-_.:]+$/;
/** Hono auth-ids: devices log in as `auth-id@tenant`, so neither `@` nor `:`. */
export const AUTH_ID_PATTERN = /^[a-zA-Z0-9-_=.]+$/;
/** Ditto thing IDs: `namespace:name`, namespace empty or Java-package style, name without `/` or control characters. */
// eslint-disable-next-line no-control-regex
export const THING_PATTERN = /^(?:|[a-zA-Z]\w*(?:\.[a-zA-Z]\w*)*):[^\x00-\x1F\x7F-\uFFFF/]+$/;
/** Keys of the hash registry and anchored records, stream and batch IDs. */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~:@/+=-]*$/;

export const MAX_ID_LENGTH = 256;
export const MAX_META_BYTES = 8 * 1024;
export const MAX_COMMAND_BYTES = 64 * 1024;
export const MAX_PASSWORD_LENGTH = 512;
/** The `prevRoot` of a stream's first batch. */
export const GENESIS_ROOT = '0'.repeat(64);

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

function requireText(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string');
  return value;
}

function requirePattern(field: string, value: unknown, pattern: RegExp, what: string): string {
  const text = requireText(field, value);
  if (text.length > MAX_ID_LENGTH) {
    throw invalid(field, `is ${text.length} characters long; at most ${MAX_ID_LENGTH} are allowed`);
  }
  if (!pattern.test(text)) throw invalid(field, `${show(text)} is not a valid ${what} (pattern ${pattern.source})`);
  return text;
}

export function tenantId(value: unknown, field = 'tenant'): string {
  return requirePattern(field, value, TENANT_PATTERN, 'Hono tenant ID');
}

export function deviceId(value: unknown, field = 'deviceId'): string {
  return requirePattern(field, value, DEVICE_PATTERN, 'Hono device ID');
}

export function thingId(value: unknown, field = 'thingId'): string {
  return requirePattern(field, value, THING_PATTERN, 'Ditto thing ID ("namespace:name", e.g. "org.acme:lamp-1")');
}

export function authId(value: unknown, field = 'authId'): string {
  const text = requireText(field, value);
  if (text.includes('@') || text.includes(':')) {
    throw invalid(field, `${show(text)} contains "@" or ":"; devices log in as "<auth-id>@<tenant>"`);
  }
  return requirePattern(field, text, AUTH_ID_PATTERN, 'Hono auth-id');
}

export function key(value: unknown, field = 'key'): string {
  return requirePattern(field, value, KEY_PATTERN, 'key (letters, digits and . _ ~ : @ / + = -, starting with a letter or digit)');
}

/** A SHA-256 digest: exactly 64 lower-case hex characters. */
export function sha256Hex(value: unknown, field = 'sha256'): string {
  const text = requireText(field, value);
  if (text.length !== 64) throw invalid(field, `must be 64 hex characters (a SHA-256 digest), got ${text.length} characters`);
  if (/[A-F]/.test(text) && /^[0-9a-fA-F]+$/.test(text)) throw invalid(field, 'must be lower-case hex');
  if (!/^[0-9a-f]{64}$/.test(text)) throw invalid(field, `must be hexadecimal (0-9, a-f), got ${show(text)}`);
  return text;
}

/** An optional CID: `''` means none. */
export function optionalCid(value: unknown, field = 'cid'): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  const problem = cidProblem(value);
  if (problem) throw invalid(field, `${show(value)} ${problem}`);
  return value;
}

/**
 * A JSON object given as text; `''` means `{}`. At most MAX_META_BYTES; no `toJSON` key, non-finite number or
 * unsafe integer at any depth (see jsonValueProblem), so what is anchored is exactly what was sent.
 */
export function metaObject(value: unknown, field = 'metaJson'): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'string') throw invalid(field, 'must be a JSON object as a string');
  if (Buffer.byteLength(value, 'utf8') > MAX_META_BYTES) {
    throw invalid(field, `is ${Buffer.byteLength(value, 'utf8')} bytes; at most ${MAX_META_BYTES} are allowed`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw invalid(field, `is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw invalid(field, 'must be a JSON object ({...}), not an array or a primitive');
  const problem = jsonValueProblem(parsed, field);
  if (problem) throw new ContractError('INVALID_ARGUMENT', problem);
  return parsed;
}

/** A positive safe integer given as decimal text. */
export function positiveInteger(value: unknown, field: string): number {
  const text = requireText(field, value);
  if (!/^[1-9][0-9]*$/.test(text)) throw invalid(field, `must be a positive decimal integer, got ${show(text)}`);
  const number = Number(text);
  if (!Number.isSafeInteger(number)) throw invalid(field, `must be at most ${Number.MAX_SAFE_INTEGER}`);
  return number;
}

/** Hono's `hono-ttd`: seconds a device waits for a command, 1 to 60; `''` means none. */
export function optionalTtd(value: unknown, field = 'ttd'): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !/^[0-9]{1,2}$/.test(value)) {
    throw invalid(field, `must be an integer number of seconds from 1 to 60, or empty for none`);
  }
  const ttd = Number(value);
  if (ttd < 1 || ttd > 60) throw invalid(field, `must be from 1 to 60 seconds (Hono's maximum), got ${ttd}`);
  return ttd;
}
