/**
 * `AmqpNorthbound`: Hono's northbound application API over AMQP 1.0 (rhea), for Cloud2Edge installed with
 * the AMQP messaging profile (Qpid Dispatch Router) or any broker reachable through the address mapping.
 */
import type { TwinLedgerConfig } from '../core/config.js';
import { type ConnectionEvents, TypedEmitter } from '../core/events.js';
import { type CallOptions, durationMs, validateCallOptions } from '../core/options.js';
import { idRules as mergeIdRules, type IdRules, validateDeviceId, validateTenantId } from '../core/ids.js';
import { type Logger, redactingLogger, silentLogger } from '../core/logger.js';
import { Redactor } from '../core/redact.js';
import { AmqpCommandClient, type OutgoingCommand } from './amqp-commands.js';
import { AmqpConnectionManager, type AmqpConnectionState } from './amqp-connection.js';
import { AmqpDownstreamStream, type StreamContext } from './amqp-consumer.js';
import { type AmqpNorthboundOptions, resolveAddress, resolveAmqpOptions, type ResolvedAmqpOptions } from './amqp-options.js';
import { encodeCommandPayload, validateCommandName, validatePrefetch } from './decode.js';
import { NorthboundNotConnectedError } from './errors.js';
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
} from './types.js';

export class AmqpNorthbound extends TypedEmitter<NorthboundEvents> implements Northbound {
  readonly transport = 'amqp' as const;
  /** The options with every default applied (private: they hold the password). */
  private readonly options: Readonly<ResolvedAmqpOptions>;
  private readonly logger: Logger;
  private readonly rules: IdRules;
  private readonly manager: AmqpConnectionManager;
  private readonly commands: AmqpCommandClient;
  private readonly streamContext: StreamContext;
  private closed = false;

  /** Validates the options (throws `ValidationError`); does not connect. */
  constructor(options: AmqpNorthboundOptions) {
    const resolved = resolveAmqpOptions(options);
    const redactor = options.redactor ?? new Redactor();
    redactor.addSecret(resolved.credentials?.password);
    const logger = redactingLogger(options.logger ?? silentLogger, redactor);
    super('northbound', logger);
    this.options = resolved;
    this.logger = logger;
    this.rules = mergeIdRules(options.idRules);
    this.manager = new AmqpConnectionManager(
      this.options,
      this.logger,
      <E extends keyof ConnectionEvents>(event: E, ...args: ConnectionEvents[E]) => this.emit(event, ...(args as NorthboundEvents[E])),
    );
    const reportError = (error: Error) => this.emit('error', error);
    this.streamContext = {
      manager: this.manager,
      logger: this.logger,
      failureOutcome: this.options.failureOutcome,
      terminusDurability: this.options.terminusDurability,
      reportError,
      reportNotification: (notification) => this.notify(notification),
    };
    this.commands = new AmqpCommandClient({ manager: this.manager, options: this.options, logger: this.logger, reportError });
  }

  /**
   * Options from TwinLedger's configuration (`configFromEnv()`: `AMQP_NETWORK_IP` / `AMQP_NETWORK_PORT_AMQP(S)`,
   * `TWINLEDGER_CA_FILE`, ...). The TLS port is used when the configuration has TLS settings and a TLS port.
   */
  static optionsFromConfig(config: TwinLedgerConfig, overrides: Partial<AmqpNorthboundOptions> = {}): AmqpNorthboundOptions {
    const network = config.amqpNetwork;
    const useTls = overrides.tls !== undefined ? Boolean(overrides.tls) : config.tls !== undefined && network?.tlsPort !== undefined;
    const base: AmqpNorthboundOptions = {
      host: network?.host ?? '',
      ...(network ? { port: useTls && network.tlsPort !== undefined ? network.tlsPort : network.port } : {}),
      ...(useTls && config.tls ? { tls: config.tls } : {}),
      ...(config.logger ? { logger: config.logger } : {}),
      ...(config.idRules ? { idRules: config.idRules } : {}),
    };
    return { ...base, ...overrides } as AmqpNorthboundOptions;
  }

  /** `connecting` → `open`; `reconnecting` after a loss; `failed` when the reconnect policy gave up; `closed`. */
  get state(): AmqpConnectionState {
    return this.manager.currentState;
  }

  /**
   * Opens the one shared connection. Tries again with the reconnect policy until `timeoutMs` (default
   * `connectTimeoutMs`); rejects with `TimeoutError`, `NetworkError`, `AmqpAuthenticationError` or `AbortError`.
   * Streams and commands connect on first use too, so calling this is optional but surfaces errors early.
   */
  async connect(options: CallOptions = {}): Promise<void> {
    validateCallOptions(options, '');
    await this.manager.connect({ signal: options.signal, timeoutMs: options.timeoutMs });
  }

  /**
   * Closes every link and the connection. Running streams end (their current message is not acknowledged),
   * pending commands reject with `AbortError`. Idempotent and final: afterwards every method fails with
   * `NorthboundNotConnectedError` (`reason` `'closed'`).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.commands.reset();
    await this.manager.close();
  }

  telemetry(tenantId: string, options: ConsumeOptions = {}): AsyncIterable<DownstreamMessage> {
    return this.stream('telemetry', tenantId, options);
  }

  events(tenantId: string, options: ConsumeOptions = {}): AsyncIterable<DownstreamMessage> {
    return this.stream('event', tenantId, options);
  }

  /** The address a stream of this tenant consumes from (after the address mapping). */
  addressOf(kind: DownstreamKind, tenantId: string): string {
    validateTenantId(tenantId, this.rules);
    return resolveAddress(this.options, kind === 'telemetry' ? 'telemetry' : 'event', { tenant: tenantId });
  }

  private stream(kind: DownstreamKind, tenantId: string, options: ConsumeOptions): AsyncIterable<DownstreamMessage> {
    const address = this.addressOf(kind, tenantId);
    const prefetch = validatePrefetch(options.prefetch, 'options.prefetch', this.options.prefetch);
    const context = this.streamContext;
    const signal = options.signal;
    // Every `for await` gets its own receiver; nothing is attached before the loop asks for a message.
    return {
      [Symbol.asyncIterator]: () => {
        if (this.closed) throw new NorthboundNotConnectedError(`${kind} of ${tenantId}`, 'closed', { transport: 'amqp' });
        return new AmqpDownstreamStream(context, kind, tenantId, address, prefetch, signal);
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
    return this.commands.request(this.prepare(tenantId, deviceId, name, payload, options));
  }

  async sendOneWayCommand(
    tenantId: string,
    deviceId: string,
    name: string,
    payload?: CommandPayload,
    options: CommandOptions = {},
  ): Promise<void> {
    await this.commands.oneWay(this.prepare(tenantId, deviceId, name, payload, options));
  }

  private prepare(tenantId: string, deviceId: string, name: string, payload: CommandPayload, options: CommandOptions): OutgoingCommand {
    validateTenantId(tenantId, this.rules);
    validateDeviceId(deviceId, this.rules);
    validateCommandName(name);
    const timeoutMs = durationMs('timeoutMs', options.timeoutMs, this.options.commandTimeoutMs);
    if (this.closed) throw new NorthboundNotConnectedError(`command "${name}" to ${tenantId}/${deviceId}`, 'closed', { transport: 'amqp' });
    const { body, contentType } = encodeCommandPayload(payload, options.contentType);
    return { target: { tenantId, deviceId, name }, body, contentType, properties: options.properties, timeoutMs, signal: options.signal };
  }

  /** `deviceReady` / `deviceDisconnected` for the notifications a consumed stream meets. */
  private notify(notification: DeviceNotification): void {
    if (notification.type === 'ready') this.emit('deviceReady', notification);
    else if (notification.type === 'disconnected') this.emit('deviceDisconnected', notification);
  }
}
