import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AbortError, TimeoutError, ValidationError } from '../core/errors.js';
import { type HttpResponse, readBody } from '../core/http.js';
import { type IdRules, jsonPointerPath, validateMessageSubject } from '../core/ids.js';
import { integerOption } from '../core/options.js';
import { redactUrl } from '../core/redact.js';
import { timerDelay } from '../core/timers.js';
import { type DittoHeaderOptions, dittoHeaders } from './headers.js';
import { featurePath, thingPath } from './paths.js';
import { type DittoResource, jsonText } from './resource.js';
import type { MessageDirection } from '../protocol/index.js';
import type { JsonValue } from './types.js';

// Shared with the Ditto Protocol builders, so both modules export the one declaration.
export type { MessageDirection } from '../protocol/index.js';

/** Strings and bytes are sent as they are; every other value as JSON. */
export type MessagePayload = JsonValue | Uint8Array;

export interface OutgoingMessage {
  thingId: string;
  /** Address a feature's inbox/outbox instead of the thing's. */
  featureId?: string;
  /** `inbox` (default): to the device; `outbox`: on behalf of the device. */
  direction?: MessageDirection;
  /**
   * On Cloud2Edge the subject becomes the Hono command name. May contain `/` (not at either end) and any character
   * but control characters and U+007F–U+00FF (Ditto's rule; the Ditto Protocol builder `liveMessage` applies the same).
   */
  subject: string;
  payload?: MessagePayload;
  /** Default: `text/plain` for strings, `application/octet-stream` for bytes, `application/json` otherwise. */
  contentType?: string;
  /** How long Ditto waits for the device's answer, 0..60 s (default 10). 0 = fire and forget (202). */
  timeoutSeconds?: number;
}

export interface MessageResponse<T = unknown> {
  /** The status the device answered with, or 202 when Ditto did not wait (`timeoutSeconds: 0`). */
  status: number;
  /** True for a fire-and-forget message: Ditto accepted it and no answer is coming. */
  accepted: boolean;
  /** Parsed by content type: JSON → value, `text/*` → string, other types → bytes; no body → undefined. */
  data: T;
  contentType: string | undefined;
  headers: Record<string, string>;
  /** The correlation ID of the exchange (generated unless given in the options). */
  correlationId: string | undefined;
}

export interface ClaimOptions extends DittoHeaderOptions {
  contentType?: string;
  /** 0..600 s, default 60. */
  timeoutSeconds?: number;
}

const MESSAGE_TIMEOUT = { max: 60, default: 10 };
const CLAIM_TIMEOUT = { max: 600, default: 60 };
/** Extra time the SDK waits beyond Ditto's own timeout before giving up itself. */
const DEADLINE_MARGIN_MS = 5_000;

function timeoutSeconds(value: unknown, limits: { max: number; default: number }): number {
  return integerOption('timeoutSeconds', value, { min: 0, max: limits.max }, limits.default);
}

function encodePayload(payload: unknown, contentType: string | undefined): { body?: string | Buffer; contentType?: string } {
  if (contentType !== undefined && (typeof contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+(?:\s*;.*)?$/.test(contentType))) {
    throw new ValidationError(
      'contentType',
      `${JSON.stringify(contentType)} is not a media type`,
      'e.g. "application/json" or "text/plain"',
    );
  }
  if (payload === undefined) return contentType === undefined ? {} : { contentType };
  if (payload instanceof Uint8Array) {
    return {
      body: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      contentType: contentType ?? 'application/octet-stream',
    };
  }
  if (typeof payload === 'string') return { body: payload, contentType: contentType ?? 'text/plain' };
  return { body: jsonText('payload', payload), contentType: contentType ?? 'application/json' };
}

/** Reads the whole body; when `signal` fires first, the stream is destroyed and this rejects. */
function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined || type === '' || /json/.test(type)) {
    const text = raw.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  if (type.startsWith('text/') || /xml|javascript|x-www-form-urlencoded/.test(type)) return raw.toString('utf8');
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * Ditto messages (`/inbox|outbox/messages/{subject}`, `/inbox/claim`). On Cloud2Edge an inbox message
 * becomes a Hono command to the device, and the device's command response becomes the HTTP answer.
 * Messages are never retried: the device might act twice.
 */
export class MessagesApi {
  constructor(
    private readonly resource: DittoResource,
    private readonly rules: IdRules,
  ) {}

  async send<T = unknown>(message: OutgoingMessage, options: DittoHeaderOptions = {}): Promise<MessageResponse<T>> {
    if (typeof message !== 'object' || message === null) throw new ValidationError('message', 'must be an object');
    const direction = message.direction ?? 'inbox';
    if (direction !== 'inbox' && direction !== 'outbox') {
      throw new ValidationError('direction', `must be "inbox" or "outbox", got ${JSON.stringify(direction)}`);
    }
    const base =
      message.featureId === undefined
        ? thingPath(message.thingId, this.rules)
        : featurePath(message.thingId, message.featureId, this.rules);
    const subject = jsonPointerPath(validateMessageSubject(message.subject), 'subject');
    const path = `${base}/${direction}/messages/${subject}`;
    const timeout = timeoutSeconds(message.timeoutSeconds, MESSAGE_TIMEOUT);
    return this.post<T>(path, message.payload, message.contentType, timeout, options);
  }

  /** `POST /things/{thingId}/inbox/claim`: asks whoever handles claims for the thing to grant access. */
  async claim<T = unknown>(thingId: string, payload?: MessagePayload, options: ClaimOptions = {}): Promise<MessageResponse<T>> {
    const path = `${thingPath(thingId, this.rules)}/inbox/claim`;
    const timeout = timeoutSeconds(options.timeoutSeconds, CLAIM_TIMEOUT);
    return this.post<T>(path, payload, options.contentType, timeout, options);
  }

  private async post<T>(
    path: string,
    payload: unknown,
    contentType: string | undefined,
    timeout: number,
    options: DittoHeaderOptions,
  ): Promise<MessageResponse<T>> {
    if (options.dittoTimeout !== undefined) {
      throw new ValidationError('dittoTimeout', 'is not used for messages', 'Set timeoutSeconds on the message instead.');
    }
    const encoded = encodePayload(payload, contentType);
    const correlationId = options.correlationId ?? randomUUID();
    const headers = dittoHeaders({ ...options, correlationId });
    const timeoutMs = options.timeoutMs ?? Math.max(this.resource.http.timeoutMs, timeout * 1000 + DEADLINE_MARGIN_MS);
    // The HTTP layer's deadline ends with the response head of a stream; this one lasts until the body is read,
    // so a device answer whose body stalls still ends with a TimeoutError.
    const what = `POST ${this.resource.http.redactor.redactText(redactUrl(`${this.resource.http.baseUrl}${path}`))}`;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timerDelay(timeoutMs));
    const signal = options.signal === undefined ? deadline.signal : AbortSignal.any([options.signal, deadline.signal]);
    let raw: Buffer;
    let response: HttpResponse<Readable>;
    try {
      response = await this.resource.http.request<Readable>({
        method: 'POST',
        path,
        query: { timeout },
        headers,
        accept: '*/*',
        responseType: 'stream',
        idempotent: false,
        timeoutMs,
        signal,
        ...(encoded.body === undefined ? {} : { body: encoded.body }),
        ...(encoded.contentType === undefined ? {} : { contentType: encoded.contentType }),
      });
      raw = await readBody(response.data, { signal, what });
    } catch (error) {
      if (error instanceof TimeoutError) throw error;
      if (deadline.signal.aborted) throw new TimeoutError(what, timeoutMs, error);
      if (options.signal?.aborted) throw error instanceof AbortError ? error : new AbortError(what, options.signal.reason);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const responseType = response.headers['content-type'];
    return {
      status: response.status,
      accepted: response.status === 202,
      data: decodeBody(raw, responseType) as T,
      contentType: responseType,
      headers: response.headers,
      correlationId: response.headers['correlation-id'] ?? correlationId,
    };
  }
}
