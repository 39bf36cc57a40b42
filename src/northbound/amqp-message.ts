/**
 * Conversion between rhea's message objects and the transport-neutral types: downstream messages,
 * command messages and command responses.
 */
import type { Message } from 'rhea';
import { MalformedMessageError } from './errors.js';
import { commandResponse, downstreamMessage, toPropertyValue } from './decode.js';
import type { CommandResponse, DownstreamKind, DownstreamMessage, PropertyValue } from './types.js';

const DATA_SECTION = 0x75;

interface SectionLike {
  typecode: number;
  content: unknown;
  multiple?: boolean;
}

function isSection(value: unknown): value is SectionLike {
  return typeof value === 'object' && value !== null && 'typecode' in value && 'content' in value;
}

function asBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  return undefined;
}

/**
 * The payload of a message: one or more Data sections (concatenated), or an AMQP value that is a string or
 * binary (some Hono components send connection events that way), or nothing. Anything else is malformed.
 */
export function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (isSection(body)) {
    if (body.typecode !== DATA_SECTION) {
      throw new MalformedMessageError(`body is an AMQP section of type 0x${body.typecode.toString(16)}, expected a Data section`);
    }
    if (body.multiple && Array.isArray(body.content)) {
      const parts = body.content.map(asBytes);
      if (parts.some((part) => part === undefined)) throw new MalformedMessageError('body has a Data section without binary content');
      return Buffer.concat(parts as Uint8Array[]);
    }
    const bytes = asBytes(body.content);
    if (bytes === undefined) throw new MalformedMessageError('body has a Data section without binary content');
    return bytes;
  }
  const bytes = asBytes(body);
  if (bytes !== undefined) return bytes;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  throw new MalformedMessageError(`body is an AMQP value of type ${Array.isArray(body) ? 'list' : typeof body}, expected a Data section`);
}

/** Application properties, normalised; values of unsupported types (maps, lists) are left out. */
export function applicationProperties(message: Message): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {};
  const raw = message.application_properties;
  if (raw === undefined || raw === null || typeof raw !== 'object') return out;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const converted = toPropertyValue(value);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

function contentTypeOf(message: Message): string | undefined {
  const value: unknown = message.content_type;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Decodes a downstream message; throws `MalformedMessageError` when it cannot be decoded. */
export function decodeDownstream(kind: DownstreamKind, tenantId: string, message: Message): DownstreamMessage {
  const properties = applicationProperties(message);
  return downstreamMessage({
    kind,
    tenantId,
    deviceId: properties.device_id,
    contentType: contentTypeOf(message),
    payload: bodyBytes(message.body),
    creationTime: message.creation_time,
    properties,
    sourceId: idString(message.message_id),
  });
}

/** A message or correlation ID as a string (rhea gives UUIDs as Buffers, ulongs as numbers). */
export function idString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return undefined;
}

/** Decodes a command response; throws `MalformedMessageError` without a correlation ID or status. */
export function decodeCommandResponse(message: Message): CommandResponse {
  const correlationId = idString(message.correlation_id);
  if (correlationId === undefined) throw new MalformedMessageError('command response has no correlation-id');
  const properties = applicationProperties(message);
  return commandResponse({
    status: properties.status,
    contentType: contentTypeOf(message),
    payload: bodyBytes(message.body),
    correlationId,
    properties,
  });
}
