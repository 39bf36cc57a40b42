/**
 * Hono's northbound application API over Kafka (Cloud2Edge's default messaging network), on kafkajs.
 *
 * - `telemetry(tenant)` / `events(tenant)`: a consumer per iteration on `hono.<kind>.<tenant>` in the group
 *   `<groupId>.<kind>.<tenant>`; offsets are committed only after the loop body finished (at-least-once).
 * - `sendCommand` / `sendOneWayCommand`: records on `hono.command.<tenant>` (key = device ID); responses come
 *   from `hono.command_response.<tenant>` through one shared consumer per tenant, matched by `correlation-id`.
 */
import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, Partitioners, type Producer } from 'kafkajs';
import type { TwinLedgerConfig } from '../core/config.js';
import { AbortError, TimeoutError, ValidationError } from '../core/errors.js';
import { TypedEmitter } from '../core/events.js';
import { type IdRules, idRules, validateDeviceId, validateTenantId } from '../core/ids.js';
import { type CallOptions, durationMs, validateCallOptions } from '../core/options.js';
import { encodeCommandPayload, validateCommandName, validatePrefetch } from './decode.js';
import { CommandError, type CommandTarget, CommandTimeoutError, KafkaConnectError, NorthboundNotConnectedError } from './errors.js';
import { CommandResponseConsumer, type PendingCommand, type ResponseHost } from './kafka-commands.js';
import { encodeHeaders, HEADER } from './kafka-headers.js';
import { type KafkaNorthboundOptions, resolveKafkaOptions, type ResolvedKafkaOptions } from './kafka-options.js';
import { KafkaReachability } from './kafka-reachability.js';
import { KafkaDownstreamStream, type StreamHost } from './kafka-stream.js';
import { honoTopic } from './kafka-topics.js';
import type {
  CommandOptions,
  CommandPayload,
  CommandResponse,
  ConsumeOptions,
  DeviceNotification,
  DownstreamKind,
  DownstreamMessage,
  Northbound,
  NorthboundEvents,
  PropertyValue,
} from './types.js';

export type { KafkaCredentials, KafkaNorthboundOptions } from './kafka-options.js';

/** Kafka topic names are at most 249 characters; `hono.command_response.` is the longest prefix. */
const MAX_TENANT_LENGTH = 249 - 'hono.command_response.'.length;
/** Headers `sendCommand` sets itself; `properties` may not override them. */
const RESERVED_COMMAND_HEADERS = new Set<string>([
  HEADER.deviceId,
  HEADER.subject,
  HEADER.contentType,
  HEADER.correlationId,
  HEADER.responseRequired,
]);

export interface KafkaNorthboundClientOptions extends KafkaNorthboundOptions {
  /** ID patterns for tenant and device IDs (defaults: Cloud2Edge's). */
  idRules?: Partial<IdRules>;
}

type State = 'new' | 'connecting' | 'connected' | 'closing' | 'closed';

export class KafkaNorthbound extends TypedEmitter<NorthboundEvents> implements Northbound {
  readonly transport = 'kafka' as const;
  /** The consumer group base actually used (the generated one when none was given). */
  readonly groupId: string;
  private readonly options: ResolvedKafkaOptions;
  private readonly rules: IdRules;
  private readonly kafka: Kafka;
  private state: State = 'new';
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> = Promise.resolve();
  private readonly streams = new Set<KafkaDownstreamStream>();
  private readonly responseConsumers = new Map<string, Promise<CommandResponseConsumer>>();
  private readonly pending = new Map<string, PendingCommand>();
  private readonly streamHost: StreamHost;
  private readonly responseHost: ResponseHost;
  private readonly reachability = new KafkaReachability();
  private probing = false;

  constructor(options: KafkaNorthboundClientOptions) {
    const resolved = resolveKafkaOptions(options);
    super('northbound', resolved.logger);
    this.options = resolved;
    this.rules = idRules(options.idRules);
    this.groupId = this.options.groupId;
    this.kafka = new Kafka(this.options.kafka);
    this.streamHost = this.createStreamHost();
    this.responseHost = this.createResponseHost();
  }

  private createStreamHost(): StreamHost {
    return {
      kafka: this.kafka,
      options: this.options,
      malformed: (error) => this.emit('error', error),
      notification: (notification) => {
        this.notify(notification);
      },
      consumerLost: (error, willReconnect) => {
        this.reachability.failed(error);
        this.emit('disconnected', { error, willReconnect });
      },
      reconnecting: (event) => this.emit('reconnecting', event),
      consumerRecovered: () => this.emit('connected', { reconnected: true }),
      commitsFailing: (error) => this.emit('error', error),
      watch: (consumer) => this.reachability.watch(consumer),
      ended: (stream) => {
        this.streams.delete(stream);
      },
    };
  }

  private createResponseHost(): ResponseHost {
    return {
      kafka: this.kafka,
      options: this.options,
      admin: () => {
        if (this.admin === undefined) throw notConnected('command', this.closed);
        return this.admin;
      },
      malformed: (error) => this.emit('error', error),
      watch: (consumer) => this.reachability.watch(consumer),
      crashed: (error) => void this.reachability.failed(error),
      responseConsumerLost: (consumer, error) => {
        // The entry may still be starting, and its start may fail (close() meanwhile): nothing to clean up then.
        void this.responseConsumers
          .get(consumer.tenantId)
          ?.then((current) => {
            if (current !== consumer) return;
            this.responseConsumers.delete(consumer.tenantId);
            void consumer.close(true);
            this.emit('error', error);
          })
          .catch(() => undefined);
      },
    };
  }

  /**
   * Options from TwinLedger's configuration (`configFromEnv()`: `KAFKA_IP` / `KAFKA_PORT_TCP_KAFKA`,
   * `TWINLEDGER_CA_FILE`, `TWINLEDGER_TLS_SERVER_NAME`, the logger and ID rules); `overrides` win. SASL is not
   * part of the configuration: pass `credentials` (Cloud2Edge: `{ mechanism: 'plain', username: 'ditto-c2e', password: 'verysecret' }`) in `overrides`.
   */
  static optionsFromConfig(config: TwinLedgerConfig, overrides: Partial<KafkaNorthboundClientOptions> = {}): KafkaNorthboundClientOptions {
    const base: KafkaNorthboundClientOptions = {
      brokers: config.kafka?.bootstrapServers ?? [],
      ...(config.tls ? { tls: config.tls } : {}),
      ...(config.logger ? { logger: config.logger } : {}),
      ...(config.idRules ? { idRules: config.idRules } : {}),
    };
    return { ...base, ...overrides };
  }

  /**
   * Connects the producer and the admin client, which checks address, SASL and TLS. Optional: streams and
   * commands connect on first use, but calling it surfaces configuration errors early. Rejects with
   * `KafkaConnectError`, `TimeoutError` (default `connectTimeoutMs`) or `AbortError`.
   */
  connect(options: CallOptions = {}): Promise<void> {
    try {
      validateCallOptions(options, '');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.closed) return Promise.reject(notConnected('connect', true));
    if (this.state === 'connected') return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? this.options.connectTimeoutMs;
    this.connecting ??= this.doConnect(timeoutMs, options.signal).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    this.state = 'connecting';
    const producer = this.kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
    const admin = this.kafka.admin();
    try {
      await withDeadline(Promise.all([producer.connect(), admin.connect()]), timeoutMs, signal, 'connecting to Kafka');
    } catch (error) {
      await Promise.all([producer.disconnect().catch(() => undefined), admin.disconnect().catch(() => undefined)]);
      if (this.state === 'connecting') this.state = 'new';
      if (error instanceof TimeoutError || error instanceof AbortError) throw error;
      throw new KafkaConnectError(this.options.brokers, error);
    }
    if (this.closed) {
      await Promise.all([producer.disconnect().catch(() => undefined), admin.disconnect().catch(() => undefined)]);
      throw notConnected('connect', true);
    }
    this.producer = producer;
    this.admin = admin;
    this.reachability.watch(producer);
    this.reachability.watch(admin);
    this.reachability.reachable();
    this.state = 'connected';
    this.options.logger.info('connected to Kafka', { brokers: this.options.brokers, groupId: this.groupId });
    this.emit('connected', { reconnected: false });
  }

  /** True from `close()` on: closing is final. */
  private get closed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /**
   * Ends every stream (committing what was processed; the message a loop body is working on stays
   * unacknowledged), rejects pending commands with `AbortError`, and disconnects. Idempotent and final: afterwards
   * every method fails with `NorthboundNotConnectedError` (`reason` `'closed'`).
   */
  async close(): Promise<void> {
    if (this.closed) return this.closing;
    const wasConnected = this.state === 'connected';
    this.state = 'closing';
    this.closing = this.doClose(wasConnected);
    return this.closing;
  }

  private async doClose(wasConnected: boolean): Promise<void> {
    await this.connecting?.catch(() => undefined);
    await Promise.all([...this.streams].map((stream) => stream.shutdown()));
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      const what = `command "${pending.target.name}" to ${pending.target.tenantId}/${pending.target.deviceId}`;
      pending.reject(new AbortError(what, new NorthboundNotConnectedError(what, 'closed', { transport: 'kafka' })));
    }
    const consumers = await Promise.all([...this.responseConsumers.values()].map((p) => p.catch(() => undefined)));
    this.responseConsumers.clear();
    await Promise.all(consumers.map((consumer) => consumer?.close(true)));
    await Promise.all([this.producer?.disconnect().catch(() => undefined), this.admin?.disconnect().catch(() => undefined)]);
    this.producer = undefined;
    this.admin = undefined;
    this.reachability.reachable();
    this.state = 'closed';
    if (wasConnected) this.emit('disconnected', { error: undefined, willReconnect: false });
  }

  telemetry(tenantId: string, options: ConsumeOptions = {}): AsyncIterable<DownstreamMessage> {
    return this.downstream('telemetry', tenantId, options);
  }

  events(tenantId: string, options: ConsumeOptions = {}): AsyncIterable<DownstreamMessage> {
    return this.downstream('event', tenantId, options);
  }

  private downstream(kind: DownstreamKind, tenantId: string, options: ConsumeOptions): AsyncIterable<DownstreamMessage> {
    const tenant = this.validTenant(tenantId);
    const prefetch = validatePrefetch(options.prefetch, 'options.prefetch', this.options.prefetch);
    return {
      [Symbol.asyncIterator]: () => {
        if (this.closed) throw notConnected(`${kind} of ${tenant}`, true);
        const stream = new KafkaDownstreamStream(this.streamHost, kind, tenant, prefetch, options.signal);
        this.streams.add(stream);
        return stream;
      },
    };
  }

  async sendCommand(
    tenantId: string,
    deviceId: string,
    name: string,
    payload?: CommandPayload,
    options: CommandOptions = {},
  ): Promise<CommandResponse> {
    const { target, body, contentType, extra } = this.validCommand(tenantId, deviceId, name, payload, options);
    const timeoutMs = durationMs('timeoutMs', options.timeoutMs, this.options.commandTimeoutMs);
    if (options.signal?.aborted) throw commandAborted(target, options.signal);
    this.refuseWhileDown(`command "${name}" to ${target.tenantId}/${target.deviceId}`);
    const correlationId = randomUUID();
    return new Promise<CommandResponse>((resolve, reject) => {
      const signal = options.signal;
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(correlationId);
      };
      const onAbort = () => {
        finish();
        reject(commandAborted(target, signal));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new CommandTimeoutError(target, timeoutMs));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const pending: PendingCommand = {
        target,
        resolve: (response) => {
          finish();
          resolve(response);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      this.pending.set(correlationId, pending);
      const headers = encodeHeaders({
        ...extra,
        [HEADER.deviceId]: target.deviceId,
        [HEADER.subject]: name,
        [HEADER.contentType]: contentType,
        [HEADER.correlationId]: correlationId,
        [HEADER.responseRequired]: true,
      });
      void (async () => {
        const producer = await this.connectedProducer(`command "${name}"`);
        await this.responseConsumer(target.tenantId);
        if (!this.pending.has(correlationId)) return;
        await producer.send({
          topic: honoTopic('command', target.tenantId),
          acks: -1,
          messages: [{ key: target.deviceId, value: body, headers }],
        });
      })().catch((error: unknown) => {
        this.reachability.failed(error);
        if (this.pending.get(correlationId) !== pending) return;
        pending.reject(error instanceof NorthboundNotConnectedError ? error : sendFailed(target, error));
      });
    });
  }

  async sendOneWayCommand(
    tenantId: string,
    deviceId: string,
    name: string,
    payload?: CommandPayload,
    options: CommandOptions = {},
  ): Promise<void> {
    const { target, body, contentType, extra } = this.validCommand(tenantId, deviceId, name, payload, options);
    const timeoutMs = durationMs('timeoutMs', options.timeoutMs, this.options.commandTimeoutMs);
    const headers = encodeHeaders({
      ...extra,
      [HEADER.deviceId]: target.deviceId,
      [HEADER.subject]: name,
      [HEADER.contentType]: contentType,
    });
    const what = `one-way command "${name}" to ${target.tenantId}/${target.deviceId}`;
    this.refuseWhileDown(what);
    try {
      await withDeadline(
        this.connectedProducer(what).then((producer) =>
          producer.send({
            topic: honoTopic('command', target.tenantId),
            acks: -1,
            messages: [{ key: target.deviceId, value: body, headers }],
          }),
        ),
        timeoutMs,
        options.signal,
        what,
      );
    } catch (error) {
      this.reachability.failed(error);
      if (error instanceof TimeoutError || error instanceof AbortError || error instanceof NorthboundNotConnectedError) throw error;
      throw sendFailed(target, error);
    }
  }

  /** `commandsWhileDisconnected: 'fail'`: refuses a command at once while Kafka is known to be unreachable. */
  private refuseWhileDown(what: string): void {
    const reason = this.reachability.downBecause;
    if (reason === undefined || this.options.commandsWhileDisconnected !== 'fail') return;
    this.probe();
    throw new NorthboundNotConnectedError(what, 'disconnected', { transport: 'kafka', cause: reason });
  }

  /**
   * With commands refused and no stream running, nothing else would find out that Kafka is back: one metadata
   * request (or, before the first successful connect, one connect) at a time does.
   */
  private probe(): void {
    if (this.probing) return;
    this.probing = true;
    const admin = this.admin;
    (admin === undefined ? this.connect() : admin.describeCluster())
      .then(
        () => this.reachability.reachable(),
        (error: unknown) => void this.reachability.failed(error),
      )
      .finally(() => {
        this.probing = false;
      });
  }

  private validTenant(tenantId: string): string {
    const tenant = validateTenantId(tenantId, this.rules);
    if (tenant.length > MAX_TENANT_LENGTH) {
      throw new ValidationError(
        'tenantId',
        `is ${tenant.length} characters long; Kafka topic names allow at most ${MAX_TENANT_LENGTH} for a tenant`,
      );
    }
    return tenant;
  }

  private validCommand(tenantId: string, deviceId: string, name: string, payload: CommandPayload, options: CommandOptions) {
    const tenant = this.validTenant(tenantId);
    const device = validateDeviceId(deviceId, this.rules);
    const command = validateCommandName(name);
    const extra: Record<string, PropertyValue> = {};
    for (const [key, value] of Object.entries(options.properties ?? {})) {
      if (RESERVED_COMMAND_HEADERS.has(key)) {
        throw new ValidationError(
          `properties.${key}`,
          'is set by the client itself',
          'Use the contentType option for the content type; leave the other Hono headers out.',
        );
      }
      if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
        throw new ValidationError(`properties.${key}`, `must be a string, number, boolean or null, got ${typeof value}`);
      }
      extra[key] = value;
    }
    const { body, contentType } = encodeCommandPayload(payload, options.contentType);
    const target: CommandTarget = { tenantId: tenant, deviceId: device, name: command };
    return { target, body, contentType, extra };
  }

  /** The producer, connecting first when needed (commands connect on first use). */
  private async connectedProducer(what: string): Promise<Producer> {
    if (this.closed) throw notConnected(what, true);
    if (this.state !== 'connected') await this.connect();
    if (this.producer === undefined) throw notConnected(what, this.closed);
    return this.producer;
  }

  private responseConsumer(tenantId: string): Promise<CommandResponseConsumer> {
    let consumer = this.responseConsumers.get(tenantId);
    if (consumer === undefined) {
      const created = new CommandResponseConsumer(this.responseHost, tenantId, this.pending);
      consumer = created.start().then(
        () => created,
        async (error: unknown) => {
          this.responseConsumers.delete(tenantId);
          await created.close(true);
          throw error;
        },
      );
      this.responseConsumers.set(tenantId, consumer);
    }
    return consumer;
  }

  /** `deviceReady` / `deviceDisconnected` for the notifications a consumed stream meets. */
  private notify(notification: DeviceNotification): void {
    if (notification.type === 'ready') this.emit('deviceReady', notification);
    else if (notification.type === 'disconnected') this.emit('deviceDisconnected', notification);
  }
}

function notConnected(what: string, closed: boolean): NorthboundNotConnectedError {
  return new NorthboundNotConnectedError(what, closed ? 'closed' : 'not-connected', { transport: 'kafka' });
}

function commandAborted(target: CommandTarget, signal: AbortSignal | undefined): AbortError {
  return new AbortError(`command "${target.name}" to ${target.tenantId}/${target.deviceId}`, signal?.reason);
}

function sendFailed(target: CommandTarget, cause: unknown): CommandError {
  return new CommandError(
    target,
    `could not be written to Kafka: ${cause instanceof Error ? cause.message : String(cause)}`,
    'command.send-failed',
    'Check that the brokers are reachable and that the user may write hono.command.<tenant> and read hono.command_response.<tenant>.',
    cause,
  );
}

/** Races `work` against a deadline and an abort signal. */
function withDeadline<T>(work: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal?.aborted) return Promise.reject(new AbortError(what, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(what, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TimeoutError(what, timeoutMs));
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
