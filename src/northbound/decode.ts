/**
 * Transport-neutral decoding of Hono's downstream messages and command responses. The AMQP and the Kafka
 * transports both turn what they received into `DownstreamMessage` / `CommandResponse` through this module,
 * so notifications, content types and `ttd` mean the same on both.
 */
import { ValidationError } from '../core/errors.js';
import { integerOption } from '../core/options.js';
import { MalformedMessageError } from './errors.js';
import type {
  CommandPayload,
  CommandResponse,
  CommandsWhileDisconnected,
  DeviceNotification,
  DownstreamKind,
  DownstreamMessage,
  PropertyValue,
} from './types.js';

/** `ttd` notification without payload (Hono "empty notification"). */
export const EMPTY_NOTIFICATION_CONTENT_TYPE = 'application/vnd.eclipse-hono-empty-notification';
/** Connection event: JSON body `{"cause": "connected"|"disconnected", "remote-id", "source", "data"?}`. */
export const CONNECTION_NOTIFICATION_CONTENT_TYPE = 'application/vnd.eclipse-hono-dc-notification+json';
/** Kafka: Hono could not deliver a command; JSON body `{"error": "..."}`. */
export const DELIVERY_FAILURE_NOTIFICATION_CONTENT_TYPE = 'application/vnd.eclipse-hono-delivery-failure-notification+json';

/** `ttd` value: the device waits for commands until further notice. */
export const TTD_FOREVER = -1;
/** `ttd` value: the device no longer waits for commands. */
export const TTD_GONE = 0;

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** The payload as UTF-8 text (invalid sequences become U+FFFD). */
export function decodeText(payload: Uint8Array): string {
  return utf8.decode(payload);
}

/** Parses the payload as JSON; `ValidationError` naming `field` when it is not JSON. */
export function parseJsonPayload<T = unknown>(payload: Uint8Array, field = 'payload'): T {
  const text = decodeText(payload);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ValidationError(
      field,
      `is not JSON: ${(error as Error).message}`,
      'Use text() or the raw payload bytes for non-JSON content types.',
    );
  }
}

/**
 * A property or header value as a number: numbers as they are, numeric strings parsed (Kafka headers are
 * strings). `undefined` when absent or not numeric.
 */
export function numberProperty(value: PropertyValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** A property or header value as a string; numbers and booleans are printed. */
export function stringProperty(value: PropertyValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

/**
 * Normalises one raw AMQP application property / Kafka header value to a `PropertyValue`.
 * Bytes are decoded as UTF-8, `bigint`s become numbers (or strings when not exact), dates become ms.
 */
export function toPropertyValue(value: unknown): PropertyValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return value;
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'object':
      if (value instanceof Uint8Array) return decodeText(value);
      if (value instanceof Date) return value.getTime();
      return undefined;
    default:
      return undefined;
  }
}

/** Creation time from a `Date`, epoch milliseconds (number or numeric string), or an ISO string. */
export function parseCreationTime(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint') {
    const date = new Date(Number(value));
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const asNumber = Number(value);
    const date = Number.isFinite(asNumber) ? new Date(asNumber) : new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/** `until` for a `ttd`: `undefined` for -1 (forever); otherwise `from + ttd` seconds. */
export function ttdUntil(ttd: number, from: Date = new Date()): Date | undefined {
  if (ttd < 0) return undefined;
  return new Date(from.getTime() + ttd * 1000);
}

interface ConnectionEventBody {
  cause?: unknown;
  'remote-id'?: unknown;
  source?: unknown;
}

/**
 * The device notification a message carries, if any.
 *
 * - Connection notification (`…-dc-notification+json`): `connected` / `disconnected` from the body's `cause`
 *   (Hono's older docs spell it `connect` / `disconnect`; both are accepted). Needs `payload`; a body that is
 *   not such a JSON object throws `MalformedMessageError`.
 * - A `ttd` property (on an empty notification or any other telemetry/event message): `ttd` 0 →
 *   `disconnected` (the device stopped waiting for commands), -1 or > 0 → `ready` with `until` computed from
 *   `creationTime` (or now).
 * - Anything else: `undefined`.
 *
 * @param kind where the message came from; connection notifications are events, but a transport that maps
 *   them elsewhere still gets them decoded.
 */
export function parseNotification(
  kind: DownstreamKind,
  tenantId: string,
  deviceId: string,
  contentType: string | undefined,
  properties: Readonly<Record<string, PropertyValue>>,
  creationTime: Date | undefined,
  payload?: Uint8Array,
): DeviceNotification | undefined {
  void kind;
  if (sameContentType(contentType, CONNECTION_NOTIFICATION_CONTENT_TYPE)) {
    const cause = connectionCause(payload);
    return cause === 'connected' ? { type: 'connected', tenantId, deviceId } : { type: 'disconnected', tenantId, deviceId };
  }
  const rawTtd = properties.ttd;
  if (rawTtd === undefined || rawTtd === null) {
    if (sameContentType(contentType, EMPTY_NOTIFICATION_CONTENT_TYPE)) {
      throw new MalformedMessageError(`empty notification from ${tenantId}/${deviceId} has no ttd property`);
    }
    return undefined;
  }
  const ttd = numberProperty(rawTtd);
  if (ttd === undefined || !Number.isInteger(ttd) || ttd < TTD_FOREVER) {
    throw new MalformedMessageError(
      `message from ${tenantId}/${deviceId} has an invalid ttd ${JSON.stringify(rawTtd)} (expected -1, 0 or seconds > 0)`,
    );
  }
  if (ttd === TTD_GONE) return { type: 'disconnected', tenantId, deviceId };
  return { type: 'ready', tenantId, deviceId, ttd, until: ttdUntil(ttd, creationTime ?? new Date()) };
}

function connectionCause(payload: Uint8Array | undefined): 'connected' | 'disconnected' {
  let body: ConnectionEventBody;
  try {
    body = JSON.parse(decodeText(payload ?? new Uint8Array())) as ConnectionEventBody;
  } catch (error) {
    throw new MalformedMessageError('connection notification body is not JSON', error);
  }
  const cause = typeof body === 'object' && body !== null ? body.cause : undefined;
  if (cause === 'connected' || cause === 'connect') return 'connected';
  if (cause === 'disconnected' || cause === 'disconnect') return 'disconnected';
  throw new MalformedMessageError(`connection notification has cause ${JSON.stringify(cause)}, expected "connected" or "disconnected"`);
}

/** Compares media types without parameters and case (`application/json; charset=utf-8` = `application/json`). */
export function sameContentType(actual: string | undefined, expected: string): boolean {
  if (actual === undefined) return false;
  return actual.split(';')[0]!.trim().toLowerCase() === expected;
}

export interface DownstreamInput {
  kind: DownstreamKind;
  tenantId: string;
  /** From the `device_id` property / header (Kafka: or the record key). Missing → `MalformedMessageError`. */
  deviceId: PropertyValue | undefined;
  contentType: string | undefined;
  payload: Uint8Array;
  /** Raw creation time (AMQP `Date`, Kafka ms header); parsed with `parseCreationTime`. */
  creationTime: unknown;
  /** Application properties / headers, already normalised (see `toPropertyValue`). */
  properties: Readonly<Record<string, PropertyValue>>;
  /** See `DownstreamMessage.sourceId`. */
  sourceId: string | undefined;
}

/**
 * Builds a `DownstreamMessage`. Throws `MalformedMessageError` when `device_id` is missing, `qos` or `ttd`
 * is invalid, or a connection notification's body is unreadable; the transport then rejects/skips the
 * message and keeps consuming.
 */
export function downstreamMessage(input: DownstreamInput): DownstreamMessage {
  const { kind, tenantId, payload, properties } = input;
  const deviceId = stringProperty(input.deviceId);
  if (deviceId === undefined || deviceId === '') {
    throw new MalformedMessageError(`${kind} message for tenant ${tenantId} has no device_id`);
  }
  const creationTime = parseCreationTime(input.creationTime);
  const contentType = input.contentType === '' ? undefined : input.contentType;
  const rawQos = properties.qos;
  let qos: 0 | 1 | undefined;
  if (rawQos !== undefined && rawQos !== null) {
    const parsed = numberProperty(rawQos);
    if (parsed !== 0 && parsed !== 1) {
      throw new MalformedMessageError(`${kind} message from ${tenantId}/${deviceId} has an invalid qos ${JSON.stringify(rawQos)}`);
    }
    qos = parsed;
  }
  const notification = parseNotification(kind, tenantId, deviceId, contentType, properties, creationTime, payload);
  const ttd = numberProperty(properties.ttd ?? undefined);
  return {
    kind,
    tenantId,
    deviceId,
    contentType,
    payload,
    text: () => decodeText(payload),
    json: <T = unknown>() => parseJsonPayload<T>(payload),
    creationTime,
    ttd,
    qos,
    origAdapter: stringProperty(properties.orig_adapter),
    origAddress: stringProperty(properties.orig_address),
    notification,
    properties,
    sourceId: input.sourceId,
  };
}

export interface CommandResponseInput {
  status: PropertyValue | undefined;
  contentType: string | undefined;
  payload: Uint8Array;
  correlationId: string;
  properties: Readonly<Record<string, PropertyValue>>;
}

/** Builds a `CommandResponse`; a missing or non-integer `status` throws `MalformedMessageError`. */
export function commandResponse(input: CommandResponseInput): CommandResponse {
  const status = numberProperty(input.status);
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new MalformedMessageError(
      `command response ${input.correlationId} has an invalid status ${JSON.stringify(input.status ?? null)}`,
    );
  }
  const { payload } = input;
  return {
    status,
    contentType: input.contentType === '' ? undefined : input.contentType,
    payload,
    text: () => decodeText(payload),
    json: <T = unknown>() => parseJsonPayload<T>(payload),
    correlationId: input.correlationId,
    properties: input.properties,
  };
}

/**
 * Encodes a command payload: bytes as they are (`application/octet-stream`), strings as UTF-8
 * (`text/plain`), anything else as JSON (`application/json`); `undefined` → empty body, no content type.
 * An explicit `contentType` wins.
 */
export function encodeCommandPayload(payload: CommandPayload, contentType?: string): { body: Buffer; contentType: string | undefined } {
  if (payload === undefined) return { body: Buffer.alloc(0), contentType };
  if (payload instanceof Uint8Array) {
    return {
      body: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      contentType: contentType ?? 'application/octet-stream',
    };
  }
  if (typeof payload === 'string') return { body: Buffer.from(utf8Encoder.encode(payload)), contentType: contentType ?? 'text/plain' };
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new ValidationError('payload', `cannot be serialised as JSON: ${(error as Error).message}`);
  }
  if (json === undefined) throw new ValidationError('payload', 'cannot be serialised as JSON');
  return { body: Buffer.from(json, 'utf8'), contentType: contentType ?? 'application/json' };
}

/** Validates a command name (AMQP `subject` / Kafka `subject` header) before any I/O. */
export function validateCommandName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ValidationError(
      field,
      `must be a non-empty string, got ${JSON.stringify(name ?? null)}`,
      'Pass the command name, e.g. "switch".',
    );
  }
  return name;
}

/** The most unacknowledged messages a stream may buffer (`prefetch`). */
export const MAX_PREFETCH = 10_000;

/** Validates `prefetch` of both transports: an integer from 1 to `MAX_PREFETCH`; `undefined` gives `fallback`. */
export function validatePrefetch(value: unknown, field: string, fallback: number): number {
  return integerOption(
    field,
    value,
    { min: 1, max: MAX_PREFETCH, hint: 'It bounds how many unacknowledged messages are buffered; 32 is a good start.' },
    fallback,
  );
}

/** Validates the `commandsWhileDisconnected` option of both transports; default `'wait'`. */
export function validateCommandsWhileDisconnected(value: unknown, field = 'commandsWhileDisconnected'): CommandsWhileDisconnected {
  if (value === undefined) return 'wait';
  if (value !== 'wait' && value !== 'fail') throw new ValidationError(field, `must be "wait" or "fail", got ${JSON.stringify(value)}`);
  return value;
}
