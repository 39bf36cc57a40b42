/**
 * Hono's Kafka header codec. Hono writes every header value as UTF-8 bytes: strings as they are, anything
 * else JSON-encoded (`qos` 1 → `1`, `response-required` true → `true`). Reading is typed by header name, as
 * Hono's own `KafkaRecordHelper` does: the headers Hono defines as numbers or booleans are parsed as JSON,
 * every other header stays a string (a device property `"007"` must not turn into the number 7).
 */
import type { IHeaders } from 'kafkajs';
import { MalformedMessageError } from './errors.js';
import type { PropertyValue } from './types.js';

export const HEADER = {
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  creationTime: 'creation-time',
  deviceId: 'device_id',
  tenantId: 'tenant_id',
  qos: 'qos',
  ttd: 'ttd',
  ttl: 'ttl',
  origAdapter: 'orig_adapter',
  origAddress: 'orig_address',
  subject: 'subject',
  correlationId: 'correlation-id',
  responseRequired: 'response-required',
  status: 'status',
} as const;

/** Headers Hono defines as JSON numbers (int / long). */
const NUMBER_HEADERS: ReadonlySet<string> = new Set([
  HEADER.creationTime,
  HEADER.qos,
  HEADER.ttd,
  HEADER.ttl,
  HEADER.status,
  'orig-partition',
  'orig-offset',
]);

/** Headers Hono defines as JSON booleans. */
const BOOLEAN_HEADERS: ReadonlySet<string> = new Set([HEADER.responseRequired]);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** Plain decimal integers, the common case of the numeric headers: no JSON parser needed. */
const INTEGER = /^-?(?:0|[1-9]\d{0,14})$/;

/** The header value as Kafka carries it: UTF-8 bytes. Strings as they are, everything else as JSON. */
export function encodeHeaderValue(value: PropertyValue): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

/** Encodes a record of header values; `undefined` entries are left out. */
export function encodeHeaders(values: Readonly<Record<string, PropertyValue | undefined>>): Record<string, Buffer> {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) headers[name] = encodeHeaderValue(value);
  }
  return headers;
}

function headerText(name: string, raw: Buffer | string): string {
  if (typeof raw === 'string') return raw;
  // Buffer#toString is the fast native path; it turns invalid sequences into U+FFFD, so only a value that
  // contains U+FFFD needs the strict (slower) check, which tells a genuine U+FFFD from broken bytes.
  const text = raw.toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  try {
    return strictUtf8.decode(raw);
  } catch (error) {
    throw new MalformedMessageError(`Kafka header "${name}" is not valid UTF-8`, error);
  }
}

/**
 * Decodes one header value, typed by its name. Throws `MalformedMessageError` when a header Hono defines as
 * a number or boolean does not hold one (bad JSON), or when the bytes are not UTF-8.
 */
export function decodeHeaderValue(name: string, raw: Buffer | string): PropertyValue {
  const text = headerText(name, raw);
  if (NUMBER_HEADERS.has(name)) {
    if (INTEGER.test(text)) return Number(text);
    const value = parseJson(name, text);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new MalformedMessageError(`Kafka header "${name}" must be a JSON number, got ${JSON.stringify(text)}`);
    }
    return value;
  }
  if (BOOLEAN_HEADERS.has(name)) {
    const value = parseJson(name, text);
    if (typeof value !== 'boolean') {
      throw new MalformedMessageError(`Kafka header "${name}" must be a JSON boolean, got ${JSON.stringify(text)}`);
    }
    return value;
  }
  return text;
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedMessageError(`Kafka header "${name}" is not valid JSON: ${JSON.stringify(text)}`, error);
  }
}

/**
 * Decodes all headers of a record. A header that occurs more than once counts with its first value (as in
 * Hono). Headers without a value are left out.
 */
export function decodeHeaders(headers: IHeaders | undefined): Record<string, PropertyValue> {
  const properties: Record<string, PropertyValue> = {};
  if (headers === undefined) return properties;
  for (const name in headers) {
    const raw = headers[name];
    const first = Array.isArray(raw) ? raw[0] : raw;
    if (first === undefined || first === null) continue;
    properties[name] = decodeHeaderValue(name, first);
  }
  return properties;
}
