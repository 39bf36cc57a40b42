import { type HttpError, type HttpErrorDetails, PayloadTooLargeError, TwinLedgerError, httpErrorFor } from '../core/errors.js';

/**
 * Errors of the device side. Adapter answers (HTTP status codes, or the JSON reports the MQTT adapter
 * publishes on `error///#`) become the core `HttpError` subclasses (`UnauthorizedError`,
 * `ServiceUnavailableError`, ...) with a hint that names the usual cause, so `instanceof` works the
 * same on both transports.
 */

/** Which kind of device message an operation carried. */
export type MessageKind = 'telemetry' | 'event' | 'command-response';

/** The call does not fit the client's lifecycle: not connected yet, or already closed. */
export class DeviceClientStateError extends TwinLedgerError {
  readonly state: string;

  constructor(state: string, what: string, hint?: string) {
    super(`${what}: the device client is ${state}`, { code: 'device.state', hint });
    this.state = state;
  }
}

/** A QoS 0 message was published while offline and the offline-queue policy for QoS 0 is `fail`. */
export class DeviceOfflineError extends TwinLedgerError {
  readonly kind: MessageKind;

  constructor(kind: MessageKind) {
    super(`${kind} (QoS 0) not sent: the device client is offline`, {
      code: 'device.offline',
      hint: 'QoS 0 is at-most-once and is not queued by default. Use qos: 1 for data that must arrive, or set offlineQueue.qos0 to "drop" or "queue".',
    });
    this.kind = kind;
  }
}

/** The bounded offline queue had no room. */
export class OfflineQueueFullError extends TwinLedgerError {
  readonly maxSize: number;
  readonly kind: MessageKind;
  /** `rejected`: this message was refused; `evicted`: it was the oldest and made room for a newer one. */
  readonly reason: 'rejected' | 'evicted';

  constructor(kind: MessageKind, maxSize: number, reason: 'rejected' | 'evicted') {
    super(
      reason === 'rejected'
        ? `${kind} not queued: the offline queue is full (${maxSize} messages)`
        : `${kind} dropped from the full offline queue (${maxSize} messages) to make room for a newer message`,
      {
        code: 'device.offline-queue-full',
        hint: 'The adapter has been unreachable (or refusing with 503/429) for a while. Raise offlineQueue.maxSize, slow down, or choose offlineQueue.overflow "drop-oldest".',
      },
    );
    this.maxSize = maxSize;
    this.kind = kind;
    this.reason = reason;
  }
}

/** `respond()` was called for a command that is already answered (or being answered). */
export class CommandAlreadyAnsweredError extends TwinLedgerError {
  readonly requestId: string;

  constructor(name: string, requestId: string) {
    super(`command "${name}" (request ${requestId}) has already been answered`, {
      code: 'device.command.answered',
      hint: 'Hono accepts exactly one response per request id; respond once.',
    });
    this.requestId = requestId;
  }
}

/** `respond()` was called for a one-way command: Hono has nowhere to send a response. */
export class OneWayCommandError extends TwinLedgerError {
  constructor(name: string) {
    super(`command "${name}" is one-way and cannot be answered`, {
      code: 'device.command.one-way',
      hint: 'One-way commands carry no request id. For Ditto messages, the sender must wait for a response (timeout > 0) to get a request/response command.',
    });
  }
}

/** The MQTT adapter refused the connection (CONNACK return code) or the connection could not be set up. */
export class DeviceConnectError extends TwinLedgerError {
  /** The MQTT CONNACK return code (3.1.1) or reason code (5), when the adapter sent one (`CONNACK_RETURN_CODES`). */
  readonly returnCode: number | undefined;
  readonly endpoint: string;

  /** `code` defaults to `device.connect.<returnCode>`, or `device.connect` without one (`device.connect.tls` for TLS failures). */
  constructor(endpoint: string, detail: string, options: { returnCode?: number; code?: string; hint?: string; cause?: unknown } = {}) {
    super(`connecting to ${endpoint} failed: ${detail}`, {
      code: options.code ?? (options.returnCode === undefined ? 'device.connect' : `device.connect.${options.returnCode}`),
      hint: options.hint,
      cause: options.cause,
    });
    this.returnCode = options.returnCode;
    this.endpoint = endpoint;
  }
}

/**
 * An established MQTT connection was lost: reset, closed by the adapter, or silent beyond the keepalive. The
 * client reconnects by itself (`reconnecting` event); this is the `error` of `disconnected` and `reconnecting`.
 */
export class DeviceConnectionLostError extends TwinLedgerError {
  readonly endpoint: string;

  constructor(endpoint: string, detail: string, cause?: unknown) {
    super(`the MQTT connection to ${endpoint} was lost: ${detail}`, {
      code: 'device.connection-lost',
      hint: 'The client reconnects with reconnect.policy and then sends queued and unacknowledged QoS 1 messages again. Frequent losses: check the network and keepaliveSeconds; the adapter also closes the connection after a message it refuses when reportErrors is off.',
      cause,
    });
    this.endpoint = endpoint;
  }
}

export interface DevicePayloadTooLargeDetails extends HttpErrorDetails {
  /** The limit the SDK checks against (`maxPayloadBytes`, Hono's default 2048). */
  limitBytes: number;
  /** Size of the payload, when known. */
  sizeBytes?: number;
  /** True when the SDK refused the payload before sending it. */
  local?: boolean;
}

/**
 * A payload over the adapter's limit: refused locally before sending (`local: true`), or answered 413 by
 * the HTTP adapter / reported 413 on the MQTT error topic.
 */
export class DevicePayloadTooLargeError extends PayloadTooLargeError {
  readonly limitBytes: number;
  readonly sizeBytes: number | undefined;
  readonly local: boolean;

  constructor(details: DevicePayloadTooLargeDetails) {
    super(details);
    this.limitBytes = details.limitBytes;
    this.sizeBytes = details.sizeBytes;
    this.local = details.local ?? false;
    if (this.local) {
      const text = `${details.method} ${details.url} not sent: payload of ${details.sizeBytes} bytes exceeds the adapter limit of ${details.limitBytes} bytes`;
      this.message = details.hint ? `${text} (hint: ${details.hint})` : text;
    }
  }
}

/** The JSON the MQTT adapter publishes on the error topic, plus what the topic adds. */
export interface AdapterErrorReport {
  /** HTTP status code of the error. */
  code: number;
  message: string;
  timestamp: string | undefined;
  /** Property-bag `correlation-id`, the packet id of a QoS 1 message, or `-1`. */
  correlationId: string | undefined;
  /** `telemetry`, `event`, `command-response` (or short forms, or `unknown`), from the topic. */
  endpoint: string | undefined;
  /** Set for gateway messages on behalf of another device. */
  deviceId: string | undefined;
}

/** Builds the `HttpError` subclass for a status, keeping 413 as `DevicePayloadTooLargeError`. */
export function deviceHttpError(details: HttpErrorDetails, limitBytes: number, sizeBytes?: number): HttpError {
  if (details.status === 413) return new DevicePayloadTooLargeError({ ...details, limitBytes, sizeBytes });
  return httpErrorFor(details);
}
