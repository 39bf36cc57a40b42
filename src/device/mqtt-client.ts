import { type IClientOptions, type IClientPublishOptions, type MqttClient, connect as mqttConnect } from 'mqtt';
import { AbortError, type HttpError, NetworkError, TimeoutError, TwinLedgerError, asError } from '../core/errors.js';
import { validateCallOptions } from '../core/options.js';
import { sleep } from '../core/retry.js';
import { resolveTls } from '../core/tls.js';
import { BaseDeviceClient, type OutgoingMessage } from './base-client.js';
import { IncomingCommand, type ResponseSender } from './command.js';
import {
  type AdapterErrorReport,
  DeviceClientStateError,
  DeviceConnectError,
  DeviceConnectionLostError,
  DeviceOfflineError,
  type MessageKind,
  deviceHttpError,
} from './errors.js';
import { connackHint, deviceHint } from './hints.js';
import { CONNACK_REASON_CODES as MQTT5, CONNACK_RETURN_CODES as MQTT311, SUBACK_FAILURE } from './mqtt-codes.js';
import { OfflineQueue, type Queueable } from './offline-queue.js';
import type { ResolvedMqttOptions } from './options.js';
import { ReconnectBackoff } from '../core/reconnect-backoff.js';
import {
  LONG_TOPICS,
  SHORT_TOPICS,
  type TopicNames,
  commandFilters,
  commandResponseTopic,
  errorFilters,
  parseCommandTopic,
  parseErrorTopic,
  publishTopic,
} from './topics.js';
import type { CallOptions } from '../core/options.js';
import { type InflightEntry, InflightList } from './inflight.js';
import { PendingSend } from './pending-send.js';

const QOS0: IClientPublishOptions = { qos: 0 };
const QOS1: IClientPublishOptions = { qos: 1 };
const EMPTY = Buffer.alloc(0);
const NO_OPTIONS: CallOptions = Object.freeze({});
const RECENT_REQUESTS = 256;
/** TLS failures that no retry fixes: fail `connect()` at once with a hint instead. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME/;
/** Refusals that no retry fixes (protocol version, client ID, credentials, authorization; a refused subscription). */
const FATAL_RETURN_CODES: ReadonlySet<number> = new Set([
  MQTT311.UNACCEPTABLE_PROTOCOL_VERSION,
  MQTT311.IDENTIFIER_REJECTED,
  MQTT311.BAD_USERNAME_OR_PASSWORD,
  MQTT311.NOT_AUTHORIZED,
  MQTT5.UNSUPPORTED_PROTOCOL_VERSION,
  MQTT5.CLIENT_IDENTIFIER_NOT_VALID,
  MQTT5.BAD_USERNAME_OR_PASSWORD,
  MQTT5.NOT_AUTHORIZED,
  SUBACK_FAILURE,
]);

/** One message on its way: queued, in flight, or waiting for a retry. */
class Pending extends PendingSend implements Queueable, InflightEntry<Pending> {
  messageId = 0;
  /** Set while the message waits for a retry after 503/429. */
  retryTimer: NodeJS.Timeout | undefined;
  newer: Pending | undefined;
  older: Pending | undefined;
  linked = false;
  adapterError: HttpError | undefined;

  constructor(
    kind: MessageKind,
    readonly topic: string,
    readonly payload: Buffer,
    readonly qos: 0 | 1,
    /** Gateway: the device the message is for. */
    readonly onBehalfOf: string | undefined,
  ) {
    super(kind);
  }
}

/** One MQTT connection (a fresh mqtt.js client per attempt, so no state leaks across reconnects). */
interface Connection {
  client: MqttClient;
  established: boolean;
  lost: boolean;
  lossScheduled: boolean;
  lastError: Error | undefined;
  /** QoS 0 messages handed to mqtt.js whose write has not completed (it may wait for 'drain'). */
  qos0InTransit: InflightList<Pending>;
}

/**
 * Hono MQTT adapter client. Reconnects with the reconnect policy, re-subscribes after each reconnect,
 * keeps unacknowledged QoS 1 messages and events in the bounded offline queue and sends them again on the
 * next connection, and maps the adapter's error-topic reports onto the publish they belong to.
 */
export class MqttDeviceClient extends BaseDeviceClient {
  readonly transport = 'mqtt' as const;
  private readonly mqtt: ResolvedMqttOptions;
  private readonly names: TopicNames;
  private readonly queue: OfflineQueue<Pending>;
  private readonly backoff: ReconnectBackoff;
  /** Sent QoS 1 messages waiting for their PUBACK, in send order (packet id 0: mqtt.js did not assign one yet). */
  private readonly inflight = new InflightList<Pending>();
  /** Messages waiting for a retry after 503/429 (each holds its `retryTimer`). */
  private readonly retrying = new Set<Pending>();
  private readonly recentRequests = new Set<string>();
  private readonly topicCache = new Map<string, string>();
  private readonly telemetryTopic: string;
  private readonly eventTopic: string;
  private connection: Connection | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private everConnected = false;
  private commandsSubscribed = false;
  private flushScheduled = false;

  constructor(options: ResolvedMqttOptions) {
    super(options);
    this.mqtt = options;
    this.names = options.shortTopics ? SHORT_TOPICS : LONG_TOPICS;
    this.telemetryTopic = this.names.telemetry;
    this.eventTopic = this.names.event;
    this.queue = new OfflineQueue<Pending>(options.offlineQueue);
    this.backoff = new ReconnectBackoff(options.reconnect.policy, options.reconnect.stableAfterMs);
    // Fail on unreadable certificate files now, not on the first connection attempt.
    resolveTls(options.tls);
  }

  get queuedMessages(): number {
    return this.queue.size;
  }

  connect(options: CallOptions = {}): Promise<void> {
    try {
      validateCallOptions(options, '');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.state === 'closed')
      return Promise.reject(new DeviceClientStateError('closed', 'connect()', 'Create a new client after close().'));
    if (this.connection?.established) return Promise.resolve();
    if (this.connecting === undefined) {
      this.connecting = this.connectLoop(options).finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  async close(options: CallOptions = {}): Promise<void> {
    validateCallOptions(options, '');
    if (this.state === 'closed') return;
    // Connected or about to be (again): give queued and unacknowledged messages until the deadline.
    const mayDrain = this.connection?.established === true || this.state === 'reconnecting' || this.state === 'connecting';
    try {
      if (mayDrain) {
        await this.waitUntilIdle(
          () =>
            this.queue.size === 0 &&
            this.inflight.size === 0 &&
            this.retrying.size === 0 &&
            (this.connection?.qos0InTransit.size ?? 0) === 0,
          'close(): waiting for unacknowledged messages',
          options,
          5000,
        );
      }
    } catch {
      // Deadline passed or aborted: close anyway, and fail what is left below.
    }
    this.setState('closed');
    this.clearReconnectTimer();
    for (const pending of this.retrying) clearTimeout(pending.retryTimer);
    const unacked = this.inflight.size > 0;
    this.backoff.reset();
    this.router.endAll();
    const closed = new DeviceClientStateError('closed', 'message not sent', 'close() was called before the adapter acknowledged it.');
    const connection = this.connection;
    const unwritten = connection?.qos0InTransit.drain() ?? [];
    for (const pending of [...this.queue.drain(), ...this.inflight.drain(), ...this.retrying.values(), ...unwritten]) pending.fail(closed);
    this.retrying.clear();
    this.connection = undefined;
    if (connection !== undefined) await this.endClient(connection, !connection.established || unacked);
    this.emit('disconnected', { error: undefined, willReconnect: false });
  }

  protected send(message: OutgoingMessage, options: CallOptions): Promise<void> {
    let topic: string;
    let pending: Pending;
    try {
      topic = this.topicFor(message);
      this.checkSize(message.kind, 'PUBLISH', topic, message.bytes.length, message.deviceId);
      pending = new Pending(message.kind, topic, message.bytes, message.qos, message.deviceId);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.submit(pending, options);
  }

  protected override sendBytes(kind: 'telemetry' | 'event', bytes: Buffer, qos: 0 | 1): Promise<void> {
    const state = this.state;
    // Anything unusual (wrong state, too large) takes the general path, which throws the typed error.
    if (state === 'idle' || state === 'closed' || bytes.length > this.options.maxPayloadBytes) return super.sendBytes(kind, bytes, qos);
    return this.submit(new Pending(kind, kind === 'event' ? this.eventTopic : this.telemetryTopic, bytes, qos, undefined), NO_OPTIONS);
  }

  protected sendResponse: ResponseSender = (command, status, body, options) => {
    try {
      this.assertUsable('command response');
      const base = commandResponseTopic(this.names, command.requestId as string, status, command.deviceId);
      const topic = body?.contentType === undefined ? base : publishTopic(base, undefined, { 'content-type': body.contentType });
      const payload = body?.bytes ?? EMPTY;
      this.checkSize('command-response', 'PUBLISH', topic, payload.length, command.deviceId);
      return this.submit(new Pending('command-response', topic, payload, 1, command.deviceId), options);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  protected consumersChanged(count: number): void {
    const connection = this.connection;
    if (connection === undefined || !connection.established) return;
    if (count > 0 && !this.commandsSubscribed) {
      this.commandsSubscribed = true;
      this.subscribe(connection, commandFilters(this.names, this.mqtt.gateway), this.mqtt.commandQos).catch((error: unknown) => {
        this.commandsSubscribed = false;
        this.report(asError(error));
      });
    } else if (count === 0 && this.commandsSubscribed) {
      this.commandsSubscribed = false;
      connection.client.unsubscribe(commandFilters(this.names, this.mqtt.gateway), (error) => {
        if (error) this.options.logger.debug('unsubscribing from commands failed', { error });
      });
    }
  }

  // ---- publishing ---------------------------------------------------------------------------------

  private topicFor(message: OutgoingMessage): string {
    const endpoint = message.kind === 'event' ? this.names.event : this.names.telemetry;
    let properties = message.properties;
    if (message.contentType !== undefined || message.ttlSeconds !== undefined) {
      properties = { ...properties };
      if (message.contentType !== undefined) properties['content-type'] = message.contentType;
      if (message.ttlSeconds !== undefined) properties['hono-ttl'] = String(message.ttlSeconds);
    }
    if (properties === undefined) {
      const key = message.deviceId === undefined ? endpoint : `${endpoint}//${message.deviceId}`;
      let topic = this.topicCache.get(key);
      if (topic === undefined) {
        topic = publishTopic(endpoint, message.deviceId);
        if (this.topicCache.size < 1024) this.topicCache.set(key, topic);
      }
      return topic;
    }
    return publishTopic(endpoint, message.deviceId, properties);
  }

  private submit(pending: Pending, options: CallOptions): Promise<void> {
    if (this.connection?.established && this.queue.size === 0 && (pending.qos === 0 || this.inflight.size < this.mqtt.maxInFlight)) {
      this.transmit(this.connection, pending);
    } else if (pending.qos === 0 && this.connection?.established !== true && this.options.offlineQueue.qos0 !== 'queue') {
      return this.offlineQos0(pending);
    } else {
      try {
        this.queue.push(pending);
      } catch (error) {
        return Promise.reject(error);
      }
      this.scheduleFlush();
    }
    if (options.signal !== undefined || options.timeoutMs !== undefined) this.watch(pending, options);
    return pending.promise;
  }

  private offlineQos0(pending: Pending): Promise<void> {
    if (this.options.offlineQueue.qos0 === 'drop') {
      this.emit('dropped', { kind: pending.kind, reason: 'offline (QoS 0)' });
      pending.succeed();
      return pending.promise;
    }
    pending.fail(new DeviceOfflineError(pending.kind));
    return pending.promise;
  }

  /** Abort and deadline for one message. A message already sent may still arrive. */
  private watch(pending: Pending, options: CallOptions): void {
    pending.watch(options, `${pending.kind} to ${pending.topic}`, (error) => {
      this.queue.discard(pending);
      this.cancelRetry(pending);
      pending.fail(error);
      this.notifyIdle();
    });
  }

  private transmit(connection: Connection, pending: Pending): void {
    const client = connection.client;
    pending.adapterError = undefined; // a report from an earlier attempt does not concern this one
    if (pending.qos === 0) {
      connection.qos0InTransit.add(pending);
      client.publish(pending.topic, pending.payload, QOS0, (error) => this.qos0Done(connection, pending, error));
      return;
    }
    // Linked before publishing: a callback that mqtt.js runs synchronously finds the message in the list.
    this.inflight.add(pending);
    const before = client.getLastMessageId();
    client.publish(pending.topic, pending.payload, QOS1, (error) => this.acked(connection, pending, error));
    const id = client.getLastMessageId();
    pending.messageId = id !== before ? id : 0;
  }

  private qos0Done(connection: Connection, pending: Pending, error: Error | null | undefined): void {
    // Not in the list any more: the lost connection or close() settled it already.
    if (!connection.qos0InTransit.remove(pending)) return;
    if (!error) {
      pending.succeed();
    } else if (connection.lost || !connection.client.connected) {
      if (this.options.offlineQueue.qos0 === 'queue' && !pending.settled) {
        this.queue.requeue([pending]);
        this.scheduleFlush();
      } else {
        void this.offlineQos0(pending);
      }
    } else {
      pending.fail(
        new TwinLedgerError(`${pending.kind} to ${pending.topic} failed: ${error.message}`, { code: 'device.publish', cause: error }),
      );
    }
    this.notifyIdle();
  }

  private acked(connection: Connection, pending: Pending, error: Error | null | undefined): void {
    // After a lost connection its callbacks are stale: the message was put back in the queue already.
    if (connection !== this.connection || connection.lost) return;
    if (error && !isRefusal(error)) {
      // mqtt.js drops the link itself on a keepalive timeout or protocol error and first fails every
      // unacknowledged publish with "Connection closed". Nothing refused the message: it stays in flight,
      // and the lost connection puts it back in the queue to be sent again.
      this.scheduleConnectionLost(connection);
      return;
    }
    this.inflight.remove(pending);
    if (!pending.settled) {
      if (error) {
        pending.fail(
          new TwinLedgerError(`${pending.kind} to ${pending.topic} failed: ${error.message}`, { code: 'device.publish', cause: error }),
        );
      } else if (pending.adapterError !== undefined) {
        this.retryOrFail(pending, pending.adapterError);
      } else {
        pending.succeed();
      }
    }
    if (this.queue.size > 0) this.scheduleFlush(); // room in the in-flight window
    this.notifyIdle();
  }

  private cancelRetry(pending: Pending): void {
    if (pending.retryTimer === undefined) return;
    clearTimeout(pending.retryTimer);
    pending.retryTimer = undefined;
    this.retrying.delete(pending);
  }

  /** Handles the loss after mqtt.js has finished failing its callbacks, even if no 'close' event follows. */
  private scheduleConnectionLost(connection: Connection): void {
    if (connection.lossScheduled) return;
    connection.lossScheduled = true;
    setImmediate(() => this.connectionLost(connection));
  }

  /** 503 (no consumer / no credit) and 429 (message limit) are worth another try; the rest is final. */
  private retryOrFail(pending: Pending, error: HttpError): void {
    const retryable = error.status === 503 || error.status === 429;
    const delay = retryable ? this.options.retry.nextDelayMs((pending.retries += 1), error) : undefined;
    if (delay === undefined) {
      pending.fail(error);
      return;
    }
    this.options.logger.warn('retrying message after adapter error', {
      topic: pending.topic,
      status: error.status,
      attempt: pending.retries,
      delayMs: delay,
    });
    pending.retryTimer = setTimeout(() => {
      pending.retryTimer = undefined;
      this.retrying.delete(pending);
      this.queue.requeue([pending]);
      this.scheduleFlush();
    }, delay);
    this.retrying.add(pending);
  }

  /** Sends what waits in the queue once the current call stack is done, if connected. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.connection?.established !== true) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      const connection = this.connection;
      if (connection?.established) this.flush(connection);
    });
  }

  private flush(connection: Connection): void {
    while (this.connection === connection && connection.established && !connection.lost) {
      const next = this.queue.peek();
      if (next === undefined || (next.qos === 1 && !next.settled && this.inflight.size >= this.mqtt.maxInFlight)) break;
      const pending = this.queue.shift() as Pending;
      if (pending.settled) continue;
      this.transmit(connection, pending);
    }
    this.notifyIdle();
  }

  // ---- connection -----------------------------------------------------------------------------------

  private async connectLoop(options: CallOptions): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = options.signal === undefined ? deadline.signal : AbortSignal.any([options.signal, deadline.signal]);
    this.clearReconnectTimer();
    this.backoff.reset();
    this.setState('connecting');
    let lastError: Error | undefined;
    try {
      for (;;) {
        try {
          await this.open(signal);
          return;
        } catch (error) {
          lastError = asError(error);
          if (this.state === 'closed') throw new DeviceClientStateError('closed', 'connect()', 'close() was called while connecting.');
          if (signal.aborted || this.isFatal(lastError)) throw lastError;
          const delay = this.backoff.next(lastError);
          if (delay === undefined) throw lastError;
          this.emit('reconnecting', { attempt: this.backoff.attempts, delayMs: delay, error: lastError });
          await sleep(delay, signal);
        }
      }
    } catch (error) {
      if (this.state !== 'closed') this.setState('disconnected');
      if (deadline.signal.aborted) throw new TimeoutError(`connect() to ${this.mqtt.url}`, timeoutMs, lastError);
      if (options.signal?.aborted) throw new AbortError(`connect() to ${this.mqtt.url}`, options.signal.reason);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Auth and TLS failures do not heal by retrying right away: `connect()` reports them at once. */
  private isFatal(error: Error): boolean {
    if (error instanceof DeviceConnectError) {
      if (error.returnCode !== undefined && FATAL_RETURN_CODES.has(error.returnCode)) return true;
      return error.code === 'device.connect.tls';
    }
    return false;
  }

  /** One connection attempt: CONNECT, CONNACK, subscriptions. Resolves once ready to publish. */
  private open(signal?: AbortSignal): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new DeviceClientStateError('closed', 'connect()'));
    const client = mqttConnect(this.clientOptions());
    const connection: Connection = {
      client,
      established: false,
      lost: false,
      lossScheduled: false,
      lastError: undefined,
      qos0InTransit: new InflightList<Pending>(),
    };
    this.connection = connection;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const fail = (error: Error) => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        connection.lost = true;
        if (this.connection === connection) this.connection = undefined;
        void this.endClient(connection, true);
        reject(error);
      };
      const onAbort = () => fail(asError(signal?.reason ?? new AbortError('connect()')));
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      client.on('error', (error) => {
        if (!connection.established) {
          connection.lastError = this.connectError(error);
          fail(connection.lastError);
          return;
        }
        connection.lastError = this.lostError(error);
        this.options.logger.warn('mqtt connection error', { error: connection.lastError });
      });
      client.on('close', () => {
        if (!connection.established)
          fail(connection.lastError ?? new DeviceConnectError(this.mqtt.url, 'the connection closed before the adapter accepted it'));
        else this.connectionLost(connection);
      });
      client.on('message', (topic, payload) => this.onMessage(topic, payload));
      client.once('connect', () => {
        this.subscribeAll(connection).then(
          () => {
            if (done) return;
            if (this.connection !== connection || this.state === 'closed') {
              fail(new DeviceClientStateError(this.state === 'closed' ? 'closed' : 'reconnecting', 'a superseded connection attempt'));
              return;
            }
            done = true;
            signal?.removeEventListener('abort', onAbort);
            this.established(connection);
            resolve();
          },
          (error: unknown) => fail(asError(error)),
        );
      });
    });
  }

  private clientOptions(): IClientOptions {
    const m = this.mqtt;
    const options: IClientOptions = {
      protocol: m.secure ? 'mqtts' : 'mqtt',
      host: m.host,
      port: m.port,
      protocolVersion: m.protocolVersion,
      clientId: m.clientId,
      clean: m.cleanSession,
      keepalive: m.keepaliveSeconds,
      connectTimeout: m.timeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
    };
    if (m.username !== undefined) {
      options.username = m.username;
      options.password = m.password;
    }
    if (m.secure) Object.assign(options, resolveTls(m.tls));
    return options;
  }

  private async subscribeAll(connection: Connection): Promise<void> {
    const subscriptions: Promise<void>[] = [];
    if (this.mqtt.reportErrors) subscriptions.push(this.subscribe(connection, errorFilters(this.names, this.mqtt.gateway), 0));
    this.commandsSubscribed = this.router.consumers > 0;
    if (this.commandsSubscribed)
      subscriptions.push(this.subscribe(connection, commandFilters(this.names, this.mqtt.gateway), this.mqtt.commandQos));
    await Promise.all(subscriptions);
  }

  private subscribe(connection: Connection, filters: string[], qos: 0 | 1): Promise<void> {
    return new Promise((resolve, reject) => {
      connection.client.subscribe(filters, { qos }, (error, granted) => {
        // mqtt.js reports a SUBACK failure (0x80) as an error that carries the SUBACK packet.
        const suback = (error as { packet?: { granted?: unknown[] } } | null)?.packet?.granted;
        const refused = Array.isArray(suback)
          ? filters.filter(
              (_filter, index) =>
                suback[index] === SUBACK_FAILURE || (suback[index] as { qos?: number } | undefined)?.qos === SUBACK_FAILURE,
            )
          : (granted ?? []).filter((grant) => grant.qos === SUBACK_FAILURE).map((grant) => grant.topic);
        if (error && refused.length === 0) {
          reject(new DeviceConnectError(this.mqtt.url, `subscribing to ${filters.join(', ')} failed: ${error.message}`, { cause: error }));
          return;
        }
        if (refused.length > 0) {
          reject(
            new DeviceConnectError(this.mqtt.url, `the adapter refused the subscription to ${refused.join(', ')}`, {
              returnCode: SUBACK_FAILURE,
              hint: this.mqtt.gateway
                ? 'Only gateways may subscribe with "+" for other devices; set gateway: false for a plain device.'
                : undefined,
            }),
          );
          return;
        }
        resolve();
      });
    });
  }

  private established(connection: Connection): void {
    connection.established = true;
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.backoff.connected();
    this.setState('connected');
    this.options.logger.info('connected to the MQTT adapter', { url: this.mqtt.url, clientId: this.mqtt.clientId, reconnected });
    this.emit('connected', { reconnected });
    this.flush(connection);
  }

  private connectionLost(connection: Connection): void {
    if (connection.lost) return;
    connection.lost = true;
    this.settleUnwrittenQos0(connection);
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.commandsSubscribed = false;
    this.backoff.disconnected();
    // Unacknowledged QoS 1 messages go back to the front, oldest first; they are sent again (at least once).
    const unacked = this.inflight.drain().filter((pending) => !pending.settled);
    this.queue.requeue(unacked);
    void this.endClient(connection, true);
    if (this.state === 'closed') return;
    const error = connection.lastError ?? new DeviceConnectionLostError(this.mqtt.url, 'the connection was closed');
    this.options.logger.warn('lost the MQTT connection', { url: this.mqtt.url, error, requeued: unacked.length });
    this.scheduleReconnect(error, true);
  }

  /**
   * QoS 0 messages whose write had not completed when the link went (mqtt.js waits for 'drain', which never
   * comes after a lost socket): settled by the `qos0` offline policy, as if they had been sent while offline.
   */
  private settleUnwrittenQos0(connection: Connection): void {
    const unwritten = connection.qos0InTransit.drain().filter((pending) => !pending.settled);
    if (unwritten.length === 0) return;
    if (this.options.offlineQueue.qos0 === 'queue' && this.state !== 'closed') this.queue.requeue(unwritten);
    else for (const pending of unwritten) void this.offlineQos0(pending);
  }

  private scheduleReconnect(error: Error, justLost: boolean): void {
    const delay = this.backoff.next(error);
    if (delay === undefined) {
      this.setState('disconnected');
      this.emit('disconnected', { error, willReconnect: false });
      return;
    }
    this.setState('reconnecting');
    if (justLost) this.emit('disconnected', { error, willReconnect: true });
    this.emit('reconnecting', { attempt: this.backoff.attempts, delayMs: delay, error });
    this.clearReconnectTimer();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === 'closed' || this.connecting !== undefined) return;
      this.open().catch((failure: unknown) => {
        if (this.state === 'closed' || this.connecting !== undefined) return;
        const reason = asError(failure);
        if (reason instanceof DeviceConnectError && reason.returnCode !== undefined) this.report(reason);
        this.scheduleReconnect(reason, false);
      });
    }, delay);
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  /** Ends an mqtt.js client: gracefully (DISCONNECT) when asked and possible within 1 s, otherwise by force. */
  private endClient(connection: Connection, force: boolean): Promise<void> {
    connection.lost = true;
    const client = connection.client;
    client.removeAllListeners('message');
    // Errors while tearing down are of no interest, but an 'error' event without a listener would throw.
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => client.end(true, {}, () => resolve()), 1000);
      client.end(force, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** An error of an established connection: what happened to it, not a failed CONNECT. */
  private lostError(error: Error): DeviceConnectionLostError {
    const code = (error as { code?: unknown }).code;
    const text = typeof code === 'string' && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
    return new DeviceConnectionLostError(this.mqtt.url, this.options.redactor.redactText(text), error);
  }

  private connectError(error: Error): Error {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') {
      return new DeviceConnectError(this.mqtt.url, `the adapter refused the connection (return code ${code}: ${error.message})`, {
        returnCode: code,
        hint: connackHint(code, this.mqtt.username),
        cause: error,
      });
    }
    const text = typeof code === 'string' ? `${code} ${error.message}` : error.message;
    if (typeof code === 'string' && TLS_CODES.test(code)) {
      return new DeviceConnectError(this.mqtt.url, `TLS: ${this.options.redactor.redactText(text)}`, {
        code: 'device.connect.tls',
        hint: 'Give the CA that signed the adapter certificate (tls.caFile) and, for Cloud2Edge example certificates, tls.serverName.',
        cause: error,
      });
    }
    return new NetworkError('CONNECT', this.mqtt.url, this.options.redactor.redactText(text), error);
  }

  // ---- incoming -------------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer): void {
    const first = topic.charCodeAt(0);
    if (first === 0x65 /* e */ && topic.startsWith('error/')) {
      this.onAdapterError(topic, payload);
      return;
    }
    if (first === 0x63 /* c */) {
      const parsed = parseCommandTopic(topic);
      if (parsed !== undefined) {
        if (parsed.requestId !== undefined) {
          const key = `${parsed.deviceId}/${parsed.requestId}`;
          if (this.recentRequests.has(key)) {
            this.options.logger.debug('duplicate command ignored', { topic });
            return;
          }
          this.recentRequests.add(key);
          if (this.recentRequests.size > RECENT_REQUESTS) {
            const oldest = this.recentRequests.values().next().value;
            if (oldest !== undefined) this.recentRequests.delete(oldest);
          }
        }
        const command = new IncomingCommand(
          {
            name: parsed.name,
            requestId: parsed.requestId,
            deviceId: parsed.deviceId === '' ? undefined : parsed.deviceId,
            contentType: parsed.properties['content-type'],
            payload,
            properties: parsed.properties,
            transport: 'mqtt',
          },
          this.sendResponse,
        );
        this.router.dispatch(command);
        return;
      }
    }
    this.options.logger.debug('ignoring message on an unexpected topic', { topic });
  }

  private onAdapterError(topic: string, payload: Buffer): void {
    const parsed = parseErrorTopic(topic);
    let body: Record<string, unknown> = {};
    try {
      const json: unknown = JSON.parse(payload.toString('utf8'));
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) body = json as Record<string, unknown>;
    } catch {
      // Keep what the topic says.
    }
    const status = typeof body.code === 'number' ? body.code : (parsed?.status ?? 500);
    const correlationId = typeof body['correlation-id'] === 'string' ? body['correlation-id'] : parsed?.correlationId;
    const report: AdapterErrorReport = {
      code: status,
      message: typeof body.message === 'string' ? this.options.redactor.redactText(body.message) : '',
      timestamp: typeof body.timestamp === 'string' ? body.timestamp : undefined,
      correlationId,
      endpoint: parsed?.endpoint,
      deviceId: parsed?.deviceId === '' ? undefined : parsed?.deviceId,
    };
    const id = correlationId === undefined ? Number.NaN : Number(correlationId);
    const pending = Number.isInteger(id) && id > 0 ? this.inflight.find(id) : undefined;
    const kind: MessageKind = pending?.kind ?? endpointKind(report.endpoint);
    const error = deviceHttpError(
      {
        status,
        method: 'PUBLISH',
        url: pending?.topic ?? report.endpoint ?? 'unknown',
        upstreamMessage: report.message === '' ? undefined : report.message,
        hint: deviceHint(status, {
          username: this.mqtt.username,
          onBehalfOf: report.deviceId,
          kind,
          limitBytes: this.options.maxPayloadBytes,
        }),
        body: report,
      },
      this.options.maxPayloadBytes,
      pending?.payload.length,
    );
    if (pending !== undefined && !pending.settled) {
      // The PUBACK follows the report on the same connection; the publish settles with this error then.
      pending.adapterError = error;
      return;
    }
    this.options.logger.warn('the adapter reported an error', { report });
    this.report(error);
  }
}

function endpointKind(endpoint: string | undefined): MessageKind {
  if (endpoint === 'event' || endpoint === 'e') return 'event';
  if (endpoint === 'command-response' || endpoint === 'c-s') return 'command-response';
  return 'telemetry';
}

/** An MQTT 5 PUBACK reason code ≥ 0x80 (mqtt.js: an error with a numeric `code`); other publish errors are the link's. */
function isRefusal(error: Error): boolean {
  return typeof (error as { code?: unknown }).code === 'number';
}
