import { ValidationError } from '../core/errors.js';
import { type IdRules, validateDeviceId } from '../core/ids.js';
import { positiveInteger } from '../core/options.js';
import type { JsonValue } from '../protocol/index.js';
import type { PropertyBag } from './types.js';

export const JSON_CONTENT_TYPE = 'application/json';
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const BINARY_CONTENT_TYPE = 'application/octet-stream';
export const EMPTY_NOTIFICATION_CONTENT_TYPE = 'application/vnd.eclipse-hono-empty-notification';

export interface EncodedPayload {
  bytes: Buffer;
  /** Explicit, or derived from the payload; undefined for bytes without an explicit type. */
  contentType: string | undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1F\x7F]/;
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json(\s*;.*)?$/i;

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Throws unless `value` is plain JSON (no undefined, functions, symbols, NaN/Infinity, BigInt, cycles, class instances). */
export function assertJson(field: string, value: unknown, seen: Set<object> = new Set()): asserts value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(field, `${value} is not a JSON number`);
    return;
  }
  if (typeof value !== 'object') {
    throw new ValidationError(
      field,
      `is not JSON: got ${typeof value}`,
      'Send objects, arrays, strings, finite numbers, booleans or null; or bytes.',
    );
  }
  if (seen.has(value)) throw new ValidationError(field, 'is not JSON: it contains a cycle');
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) assertJson(`${field}[${i}]`, value[i], seen);
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new ValidationError(
        field,
        `is not JSON: got an instance of ${value.constructor?.name ?? 'a class'}`,
        'Convert it to a plain object first (e.g. dates to ISO strings).',
      );
    }
    for (const key of Object.keys(value)) assertJson(`${field}.${key}`, (value as Record<string, unknown>)[key], seen);
  }
  seen.delete(value);
}

export function checkContentType(field: string, contentType: unknown): string {
  if (typeof contentType !== 'string' || contentType === '' || CONTROL.test(contentType) || !MEDIA_TYPE.test(contentType)) {
    throw new ValidationError(field, `must be a media type like "application/json", got ${show(contentType)}`);
  }
  return contentType;
}

export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_MEDIA_TYPE.test(contentType);
}

/**
 * Bytes and content type of a payload (see `DevicePayload`). With an explicit JSON content type, string
 * and byte payloads must parse as JSON.
 */
export function encodePayload(payload: unknown, contentType: string | undefined, field = 'payload'): EncodedPayload {
  const explicit = contentType === undefined ? undefined : checkContentType('contentType', contentType);
  let bytes: Buffer;
  let derived: string | undefined;
  if (payload instanceof Uint8Array) {
    bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    derived = undefined;
  } else if (typeof payload === 'string') {
    bytes = Buffer.from(payload, 'utf8');
    derived = TEXT_CONTENT_TYPE;
  } else {
    if (payload === undefined) {
      throw new ValidationError(field, 'is missing', 'Send bytes, a string or a JSON value; for "ready for commands" use notifyReady().');
    }
    assertJson(field, payload);
    bytes = Buffer.from(JSON.stringify(payload), 'utf8');
    derived = JSON_CONTENT_TYPE;
  }
  if (explicit !== undefined && derived !== JSON_CONTENT_TYPE && isJsonContentType(explicit)) {
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new ValidationError(field, `is not valid JSON but the content type is ${explicit}: ${(error as Error).message}`);
    }
  }
  return { bytes, contentType: explicit ?? derived };
}

export function checkQos(field: string, qos: unknown, fallback: 0 | 1): 0 | 1 {
  if (qos === undefined) return fallback;
  if (qos !== 0 && qos !== 1) {
    throw new ValidationError(
      field,
      `must be 0 or 1, got ${show(qos)}`,
      'Hono adapters support QoS 0 (at most once) and 1 (at least once).',
    );
  }
  return qos;
}

export function checkSeconds(field: string, value: unknown, max: number): number | undefined {
  return positiveInteger(field, value, undefined, max);
}

export function checkDeviceId(field: string, deviceId: unknown, rules: IdRules): string | undefined {
  if (deviceId === undefined) return undefined;
  return validateDeviceId(deviceId, rules, field);
}

/** Validates a property bag and stringifies its values. */
export function checkProperties(field: string, properties: unknown): Record<string, string> | undefined {
  if (properties === undefined) return undefined;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    throw new ValidationError(field, 'must be an object of names to strings, numbers or booleans');
  }
  const out: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(properties as PropertyBag)) {
    if (name === '' || CONTROL.test(name)) throw new ValidationError(field, `${show(name)} is not a property name`);
    if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' && typeof value !== 'boolean') {
      throw new ValidationError(`${field}.${name}`, `must be a string, finite number or boolean, got ${show(value)}`);
    }
    out[name] = String(value);
    count += 1;
  }
  return count === 0 ? undefined : out;
}

/** Status of a command response: Hono accepts 200-599. */
export function checkStatus(field: string, status: unknown): number {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new ValidationError(
      field,
      `must be an integer HTTP status from 200 to 599, got ${show(status)}`,
      'e.g. 200 for success, 400 for a bad command, 500 for a failure on the device.',
    );
  }
  return status;
}
