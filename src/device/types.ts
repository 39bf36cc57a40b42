import type { ConnectionEvents } from '../core/events.js';
import type { IdRules } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { CallOptions, ReconnectOptions } from '../core/options.js';
import type { Redactor } from '../core/redact.js';
import type { RetryPolicy } from '../core/retry.js';
import type { TlsOptions } from '../core/tls.js';
import type { DittoEnvelope, DittoProtocolHeaders, JsonObject, JsonValue } from '../protocol/index.js';
import type { MessageKind } from './errors.js';

export type DeviceTransport = 'http' | 'mqtt';

/**
 * What a device sends. Bytes (`Uint8Array`, `Buffer`) go out as they are (default content type
 * `application/octet-stream`), a string as UTF-8 text (`text/plain; charset=utf-8`), any other JSON
 * value as JSON (`application/json`). To send a JSON string value, pass `JSON.stringify(value)` with
 * `contentType: 'application/json'`.
 */
export type DevicePayload = Uint8Array | JsonValue;

/** Hono property-bag values (MQTT only; sent URL-encoded at the end of the topic). */
export type PropertyBag = Record<string, string | number | boolean>;

/**
 * Per message. `timeoutMs` has no default: a queued QoS 1 message waits for the connection as long as the offline
 * queue holds it; `timeoutMs` and `signal` give up waiting (a message already sent may still arrive).
 */
export interface MessageOptions extends CallOptions {
  /** Media type of the payload. Default: derived from the payload (see `DevicePayload`). */
  contentType?: string;
  /** Gateway mode: send on behalf of this device (its ID, which on Cloud2Edge is its thing ID). */
  deviceId?: string;
  /**
   * MQTT only: Hono property bag appended to the topic (`telemetry/?seqNo=5`). The HTTP adapter has no
   * property bag; passing one with the HTTP transport is a `ValidationError` instead of a silent loss.
   */
  properties?: PropertyBag;
  /**
   * HTTP only: keep the request open up to this many seconds (1-60) for a command (`hono-ttd`); a command
   * in the answer goes to your command consumers. The MQTT transport receives commands through its
   * subscription and ignores this.
   */
  ttdSeconds?: number;
}

export interface TelemetryOptions extends MessageOptions {
  /** 0 = at most once (default), 1 = at least once (acknowledged, queued while offline). */
  qos?: 0 | 1;
}

export interface EventOptions extends MessageOptions {
  /** Time-to-live of the event downstream, in seconds (`hono-ttl`). */
  ttlSeconds?: number;
}

export interface ReadyOptions extends CallOptions {
  /** Gateway mode: announce readiness for this device. */
  deviceId?: string;
  /** HTTP: how long the request waits for a command (`hono-ttd`, 1-60 s). Default: `commandPollSeconds`. */
  ttdSeconds?: number;
}

export interface RespondOptions extends CallOptions {
  /** Media type of the response body. Default: derived from the body. */
  contentType?: string;
}

/** A command from a northbound application (or Ditto), as received from Hono. */
export interface DeviceCommand {
  readonly name: string;
  /** Hono's request id; undefined for one-way commands. */
  readonly requestId: string | undefined;
  readonly oneWay: boolean;
  /** Gateway mode: the device the command is for; undefined when it is for this device. */
  readonly deviceId: string | undefined;
  /** Media type (HTTP: `content-type` header; MQTT: only if the topic carries one in a property bag). */
  readonly contentType: string | undefined;
  readonly payload: Buffer;
  /** Property bag from the MQTT topic, if any. */
  readonly properties: Readonly<Record<string, string>>;
  readonly transport: DeviceTransport;
  readonly receivedAt: Date;
  /** True once a response was sent successfully. */
  readonly answered: boolean;
  /** The payload as UTF-8 text. */
  text(): string;
  /** The payload parsed as JSON; throws `ValidationError` (field `payload`) when it is not JSON. */
  json<T = JsonValue>(): T;
  /**
   * Answers a request/response command: status 200-599 and an optional body. Throws `OneWayCommandError`
   * for one-way commands and `CommandAlreadyAnsweredError` on a second call, before any I/O.
   */
  respond(status: number, body?: DevicePayload, options?: RespondOptions): Promise<void>;
}

/** A Ditto live message (`POST /things/{id}/inbox/messages/{subject}`) delivered as a Hono command. */
export interface TwinMessage {
  readonly subject: string;
  /** The thing the message is addressed to. */
  readonly thingId: string;
  /** Set when the message went to a feature's inbox. */
  readonly featureId: string | undefined;
  readonly value: JsonValue | undefined;
  /** Ditto's `correlation-id`; the response carries it back. */
  readonly correlationId: string | undefined;
  readonly contentType: string | undefined;
  readonly headers: Readonly<DittoProtocolHeaders>;
  readonly envelope: Readonly<DittoEnvelope>;
  /** The Hono command the message came in. */
  readonly command: DeviceCommand;
  /** True when the sender does not wait (Ditto `timeout=0` or `response-required: false`). */
  readonly oneWay: boolean;
  readonly answered: boolean;
  /**
   * Answers with a Ditto Protocol message response (same topic, the other mailbox, Ditto's
   * `correlation-id`, `status`), sent as Hono command response for Hono's request id with the same status.
   */
  respond(status: number, value?: JsonValue, options?: TwinRespondOptions): Promise<void>;
}

export interface TwinRespondOptions extends CallOptions {
  /** Content type of `value` inside the Ditto response. Default: text/plain for strings, application/json otherwise. */
  contentType?: string;
  /** Further Ditto headers for the response. */
  headers?: Record<string, JsonValue>;
}

export interface TwinUpdateOptions extends CallOptions {
  /** Gateway mode: update the twin of this device; its device ID is the thing ID. */
  deviceId?: string;
  /** `telemetry` (default) or `event` (always at least once). */
  channel?: 'telemetry' | 'event';
  /** QoS of telemetry. Default 1: a twin update is state, not a sample to lose. */
  qos?: 0 | 1;
  /** Ask Ditto for a response (it arrives as a one-way command). Default false. */
  responseRequired?: boolean;
  correlationId?: string;
  /** Further Ditto headers, e.g. `requested-acks`, `condition`. */
  headers?: Record<string, JsonValue>;
}

export interface DeviceTwin {
  /** The thing this device updates (its own device ID on Cloud2Edge); undefined when not configured. */
  readonly thingId: string | undefined;
  /** Sets `/features/{featureId}/properties/{path}`. */
  updateProperty(featureId: string, path: string, value: JsonValue, options?: TwinUpdateOptions): Promise<void>;
  /** Merges into `/features/{featureId}/properties/{path}` (JSON merge patch; null deletes). */
  mergeProperty(featureId: string, path: string, value: JsonValue, options?: TwinUpdateOptions): Promise<void>;
  /** Creates or replaces a feature. */
  updateFeature(featureId: string, feature: JsonObject, options?: TwinUpdateOptions): Promise<void>;
  /** Merges into a feature (JSON merge patch). */
  mergeFeature(featureId: string, patch: JsonObject, options?: TwinUpdateOptions): Promise<void>;
  /** Replaces all attributes. */
  updateAttributes(attributes: JsonObject, options?: TwinUpdateOptions): Promise<void>;
  /** Sets `/attributes/{path}`. */
  updateAttribute(path: string, value: JsonValue, options?: TwinUpdateOptions): Promise<void>;
  /** Sends any Ditto Protocol envelope as telemetry or event. */
  send(envelope: DittoEnvelope, options?: TwinUpdateOptions): Promise<void>;
  /** Ditto live messages addressed to the twin, as they arrive. Registers a consumer until the iterator ends. */
  messages(options?: { signal?: AbortSignal }): AsyncIterableIterator<TwinMessage>;
  /** Handler form of `messages()`; returns a function that unregisters it. */
  onMessage(handler: (message: TwinMessage) => void | Promise<void>): () => void;
}

export type DeviceClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed';

export interface DroppedEvent {
  kind: MessageKind | 'command';
  reason: string;
}

/** Typed lifecycle events (see `TypedEmitter`). `error` is emitted only when someone listens; otherwise it is logged. */
export interface DeviceClientEvents extends ConnectionEvents {
  /** Non-fatal problems not tied to a call: unmatched adapter error reports, handler failures, dropped commands. */
  error: [Error];
  /** A message or command was dropped by policy (`offlineQueue.qos0: 'drop'`, full command buffer, no consumer). */
  dropped: [DroppedEvent];
}

export interface OfflineQueueOptions {
  /** Most messages waiting for the adapter (offline, or retrying after 503/429). Default 1000. */
  maxSize?: number;
  /**
   * QoS 0 telemetry while offline: `fail` (default; rejects with `DeviceOfflineError`), `drop` (resolves and
   * emits `dropped`) or `queue` (like QoS 1). Events, QoS 1 telemetry and command responses are always queued.
   */
  qos0?: 'fail' | 'drop' | 'queue';
  /** When full: `reject` (default) the new message, or `drop-oldest` (the oldest fails). Both with `OfflineQueueFullError`. */
  overflow?: 'reject' | 'drop-oldest';
}

export interface DeviceClientCommonOptions {
  /** Hono tenant ID. */
  tenant: string;
  /** Auth-id of the device's hashed-password credential; the device logs in as `authId@tenant`. */
  authId?: string;
  password?: string;
  /**
   * This device's thing ID (= its Hono device ID on Cloud2Edge, `namespace:name`). Needed by `device.twin`
   * only; the SDK does not guess it, because a wrong thing ID makes Ditto drop the update.
   */
  thingId?: string;
  /** Gateway mode: also subscribe to commands and errors of the devices this gateway acts for. Default false. */
  gateway?: boolean;
  /** CA (file or PEM), client certificate + key for X.509 device authentication, `serverName` override. */
  tls?: TlsOptions;
  /** Deadline of `connect()` and of single requests. Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Retries of messages the adapter answered 503 or 429 (and of command responses after network errors).
   * Default `new ExponentialBackoff({ maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 10_000 })`.
   */
  retry?: RetryPolicy;
  /**
   * MQTT reconnects, and the HTTP sender's retries while the adapter is unreachable. Default `policy`: exponential
   * backoff with full jitter from 1 s to 60 s that never gives up (`new ExponentialBackoff({ maxAttempts: Infinity,
   * initialDelayMs: 1000, maxDelayMs: 60_000 })`); default `stableAfterMs` 10 000.
   */
  reconnect?: ReconnectOptions;
  offlineQueue?: OfflineQueueOptions;
  /** Payloads above this size are refused before sending. Default 2048 (Hono's adapter default). */
  maxPayloadBytes?: number;
  /** Commands buffered per iterator that the app has not taken yet; further ones are dropped. Default 100. */
  commandBufferSize?: number;
  logger?: Logger;
  /** Share one with the rest of the SDK so secrets given anywhere are masked everywhere. */
  redactor?: Redactor;
  idRules?: Partial<IdRules>;
}

export interface HttpDeviceClientOptions extends DeviceClientCommonOptions {
  transport: 'http';
  /**
   * Hono HTTP adapter base URL, e.g. `http://192.168.1.10:30080` or `https://...:30443`. A URL with user info
   * (`user:password@`) is refused: the device logs in with `authId` and `password`.
   */
  endpoint: string;
  /** `hono-ttd` of the command poll that runs while a command consumer exists (1-60 s). Default 30. */
  commandPollSeconds?: number;
}

export interface MqttEndpoint {
  /** Host name or IP address only (no scheme, port or `user:password@`). */
  host: string;
  port: number;
  /** TLS (mqtts). Default: true when `tls` options are given. */
  secure?: boolean;
}

export interface MqttDeviceClientOptions extends DeviceClientCommonOptions {
  transport: 'mqtt';
  /**
   * `mqtt://host:1883`, `mqtts://host:8883`, or `{ host, port, secure }`. A URL with user info (`user:password@`)
   * is refused: the device logs in with `authId` and `password`.
   */
  endpoint: string | MqttEndpoint;
  /** 4 = MQTT 3.1.1 (default; all Hono 2.6 supports) or 5. */
  protocolVersion?: 4 | 5;
  /** Default: `<authId or "device">-<random>`. */
  clientId?: string;
  /** Default 30. */
  keepaliveSeconds?: number;
  /** Default true (Hono keeps no session state anyway). */
  cleanSession?: boolean;
  /** QoS of the command subscription. Default 1. */
  commandQos?: 0 | 1;
  /** Use `t`, `e`, `c`, `q`, `s` instead of `telemetry`, `event`, `command`, `req`, `res`. Default false. */
  shortTopics?: boolean;
  /**
   * Subscribe `error///#` so the adapter reports failures instead of closing the connection. Default true;
   * reports for QoS 1 messages reject the matching publish with a typed error.
   */
  reportErrors?: boolean;
  /**
   * QoS 1 messages sent and not yet acknowledged, at most; more wait in the offline queue (and count against
   * its `maxSize`) until PUBACKs free room. Default and maximum 65 535, the number of MQTT packet ids: beyond it
   * a packet id would be in use twice.
   */
  maxInFlight?: number;
}

export type DeviceClientOptions = HttpDeviceClientOptions | MqttDeviceClientOptions;

/** A device connected to Hono over HTTP or MQTT. */
export interface DeviceClient {
  readonly transport: DeviceTransport;
  readonly state: DeviceClientState;
  readonly tenant: string;
  /** `authId@tenant`, or undefined for X.509 authentication. */
  readonly username: string | undefined;
  /** Messages waiting in the offline queue. */
  readonly queuedMessages: number;
  readonly twin: DeviceTwin;
  /** MQTT: connects (retrying per the reconnect policy until `timeoutMs`, default the client's). HTTP: marks the client ready. */
  connect(options?: CallOptions): Promise<void>;
  /**
   * Stops polling and reconnecting, waits up to `timeoutMs` (default 5000) for queued and unacknowledged
   * messages, then disconnects; what is still pending fails with `DeviceClientStateError`. Idempotent and final,
   * as for every client of the SDK: afterwards every method throws `DeviceClientStateError`; create a new client.
   */
  close(options?: CallOptions): Promise<void>;
  telemetry(payload: DevicePayload, options?: TelemetryOptions): Promise<void>;
  /** Events are always at least once (acknowledged, queued while offline). */
  event(payload: DevicePayload, options?: EventOptions): Promise<void>;
  /**
   * "Ready for commands": HTTP sends the empty notification with `hono-ttd` (a command in the answer goes to
   * your consumers); MQTT publishes the empty notification event (the MQTT adapter itself announces
   * `ttd = -1` while the client is subscribed for commands).
   */
  notifyReady(options?: ReadyOptions): Promise<void>;
  /** Commands as they arrive. Registering the first consumer subscribes (MQTT) or starts the poll (HTTP). */
  commands(options?: { signal?: AbortSignal }): AsyncIterableIterator<DeviceCommand>;
  /** Handler form; returns a function that unregisters it. A throwing handler answers 500 if it had not answered. */
  onCommand(handler: (command: DeviceCommand) => void | Promise<void>): () => void;
  on<E extends keyof DeviceClientEvents>(event: E, listener: (...args: DeviceClientEvents[E]) => void): this;
  once<E extends keyof DeviceClientEvents>(event: E, listener: (...args: DeviceClientEvents[E]) => void): this;
  off<E extends keyof DeviceClientEvents>(event: E, listener: (...args: DeviceClientEvents[E]) => void): this;
}
