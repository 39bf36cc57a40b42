/**
 * The northbound application API of Hono, independent of the messaging network: telemetry and event
 * consumers, device notifications, and command & control. Two transports implement it: AMQP 1.0
 * (`AmqpNorthbound`, rhea) and Kafka (`KafkaNorthbound`, kafkajs).
 */
import type { ConnectionEvents } from '../core/events.js';
import type { CallOptions } from '../core/options.js';

export type DownstreamKind = 'telemetry' | 'event';

/** Scalar values carried as AMQP application properties or Kafka headers. */
export type PropertyValue = string | number | boolean | null;

/** `ttd` empty notification: the device waits for commands until `until` (or forever / no longer). */
export interface DeviceReadyNotification {
  type: 'ready';
  tenantId: string;
  deviceId: string;
  /** Seconds from the message: -1 forever, 0 no longer waiting, > 0 for that long. */
  ttd: number;
  /** When the device stops waiting; `undefined` for "forever" (`ttd` -1). */
  until: Date | undefined;
}

/** The device is no longer connected to a protocol adapter (connection notification or `ttd` 0). */
export interface DeviceDisconnectedNotification {
  type: 'disconnected';
  tenantId: string;
  deviceId: string;
}

/** A `…-dc-notification+json` connection notification other than a disconnect. */
export interface DeviceConnectedNotification {
  type: 'connected';
  tenantId: string;
  deviceId: string;
}

export type DeviceNotification = DeviceReadyNotification | DeviceDisconnectedNotification | DeviceConnectedNotification;

/** One telemetry or event message as Hono delivers it downstream. */
export interface DownstreamMessage {
  kind: DownstreamKind;
  tenantId: string;
  deviceId: string;
  contentType: string | undefined;
  payload: Uint8Array;
  /** The payload as UTF-8 text. */
  text(): string;
  /** The payload parsed as JSON; throws `ValidationError` when it is not JSON. */
  json<T = unknown>(): T;
  creationTime: Date | undefined;
  /** Seconds the device waits for a command (`ttd` property), when present. */
  ttd: number | undefined;
  qos: 0 | 1 | undefined;
  /** The protocol adapter that received it, e.g. `hono-mqtt`. */
  origAdapter: string | undefined;
  /** The address the device used, e.g. `telemetry` or `t/?content-type=...`. */
  origAddress: string | undefined;
  /** Set for empty notifications and connection notifications. */
  notification: DeviceNotification | undefined;
  /** Every application property (AMQP) or header (Kafka), decoded. */
  properties: Readonly<Record<string, PropertyValue>>;
  /**
   * The message's identity in the messaging network, the same when it is delivered again (after a consumer crashed
   * before acknowledging it): Kafka `<topic>/<partition>/<offset>`; AMQP the `message-id` the sender set, undefined
   * when it set none (Hono's AMQP messaging network does not add one).
   */
  sourceId: string | undefined;
}

export interface ConsumeOptions {
  /** Ends the iteration (and detaches the receiver) when it fires. */
  signal?: AbortSignal;
  /**
   * How many unacknowledged messages may be buffered at once (AMQP credit / Kafka fetch bound).
   * Default 32. Bounded so a slow loop body applies back-pressure instead of filling memory.
   */
  prefetch?: number;
}

/** `timeoutMs`: how long to wait for the device's response (one-way: for the network to take the command). Default `commandTimeoutMs`. */
export interface CommandOptions extends CallOptions {
  /** Default `application/json` for objects, `text/plain` for strings, `application/octet-stream` for bytes. */
  contentType?: string;
  /** Extra application properties (AMQP) / headers (Kafka) for the command. */
  properties?: Record<string, PropertyValue>;
}

export type CommandPayload = Uint8Array | string | object | undefined;

/**
 * What `sendCommand` / `sendOneWayCommand` do when called while the client knows its connection to the messaging
 * network is down (lost and not back yet): `'wait'` for it until the command's `timeoutMs`, or `'fail'` at once
 * with `NorthboundNotConnectedError` (nothing is sent).
 */
export type CommandsWhileDisconnected = 'wait' | 'fail';

export interface CommandResponse {
  /** The status the device answered with (2xx success, 4xx/5xx failure reported by the device). */
  status: number;
  contentType: string | undefined;
  payload: Uint8Array;
  text(): string;
  json<T = unknown>(): T;
  correlationId: string;
  properties: Readonly<Record<string, PropertyValue>>;
}

export type NorthboundLifecycleEvent = 'connected' | 'reconnecting' | 'disconnected' | 'error';

/**
 * Events a `Northbound` emits besides its iterables, one object each (see `TypedEmitter`): the connection lifecycle
 * as for device clients, `error` (only when someone listens; otherwise logged), and device notifications.
 */
export interface NorthboundEvents extends ConnectionEvents {
  /** Emitted as a consumed stream meets a `ttd` notification (the message itself is still yielded). */
  deviceReady: [DeviceReadyNotification];
  deviceDisconnected: [DeviceDisconnectedNotification];
}

/**
 * Northbound client of one Hono installation.
 *
 * At-least-once: a message yielded by `telemetry()`/`events()` is acknowledged (AMQP: settled accepted;
 * Kafka: offset committed) only when the loop asks for the next one, i.e. after the loop body finished.
 * If the body throws or breaks out, the message is not acknowledged and will be delivered again (to this
 * or another consumer).
 */
export interface Northbound {
  readonly transport: 'amqp' | 'kafka';
  /** Optional (streams and commands connect on first use); surfaces address, TLS and credential errors early. Default deadline `connectTimeoutMs`. */
  connect(options?: CallOptions): Promise<void>;
  /**
   * Ends every stream (the message in a loop body is not acknowledged), rejects pending commands with `AbortError`
   * and disconnects. Idempotent and final, as for every client of the SDK: afterwards every method fails with
   * `NorthboundNotConnectedError` (`reason` `'closed'`); create a new client.
   */
  close(): Promise<void>;
  telemetry(tenantId: string, options?: ConsumeOptions): AsyncIterable<DownstreamMessage>;
  events(tenantId: string, options?: ConsumeOptions): AsyncIterable<DownstreamMessage>;
  /** Request/response command; resolves with the device's response or rejects with a `CommandError`. */
  sendCommand(
    tenantId: string,
    deviceId: string,
    name: string,
    payload?: CommandPayload,
    options?: CommandOptions,
  ): Promise<CommandResponse>;
  /** One-way command: resolves once the messaging network accepted it for delivery. */
  sendOneWayCommand(tenantId: string, deviceId: string, name: string, payload?: CommandPayload, options?: CommandOptions): Promise<void>;
  on<E extends keyof NorthboundEvents>(event: E, listener: (...args: NorthboundEvents[E]) => void): this;
  once<E extends keyof NorthboundEvents>(event: E, listener: (...args: NorthboundEvents[E]) => void): this;
  off<E extends keyof NorthboundEvents>(event: E, listener: (...args: NorthboundEvents[E]) => void): this;
}
