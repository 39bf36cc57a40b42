import { DITTO_PROTOCOL_CONTENT_TYPE } from '../protocol/index.js';
import { AbortError, TimeoutError, TwinLedgerError } from '../core/errors.js';
import { TypedEmitter } from '../core/events.js';
import { type CallOptions, validateCallOptions } from '../core/options.js';
import { MAX_TTD_SECONDS, type ResolvedDeviceOptions } from './options.js';
import { CommandRouter, type IncomingCommand, type ResponseSender } from './command.js';
import { DeviceClientStateError, DevicePayloadTooLargeError, type MessageKind } from './errors.js';
import { deviceHint } from './hints.js';
import {
  EMPTY_NOTIFICATION_CONTENT_TYPE,
  type EncodedPayload,
  checkDeviceId,
  checkProperties,
  checkQos,
  checkSeconds,
  encodePayload,
} from './payload.js';
import { Twin, type TwinMessageImpl, twinMessageOf } from './twin.js';
import type {
  DeviceClient,
  DeviceClientEvents,
  DeviceClientState,
  DeviceCommand,
  DevicePayload,
  DeviceTransport,
  DeviceTwin,
  EventOptions,
  MessageOptions,
  ReadyOptions,
  TelemetryOptions,
} from './types.js';

/** A telemetry or event message, validated and encoded, ready for a transport. */
export interface OutgoingMessage {
  kind: 'telemetry' | 'event';
  qos: 0 | 1;
  bytes: Buffer;
  contentType: string | undefined;
  deviceId: string | undefined;
  properties: Record<string, string> | undefined;
  ttlSeconds: number | undefined;
  ttdSeconds: number | undefined;
  /** The empty "ready for commands" notification. */
  emptyNotification: boolean;
}

const NO_OPTIONS: MessageOptions = Object.freeze({});
const EMPTY = Buffer.alloc(0);

/** Lifecycle, validation, events, command routing and twin helpers shared by both transports. */
export abstract class BaseDeviceClient extends TypedEmitter<DeviceClientEvents> implements DeviceClient {
  abstract readonly transport: DeviceTransport;
  readonly twin: DeviceTwin;
  protected readonly router: CommandRouter<TwinMessageImpl>;
  private current: DeviceClientState = 'idle';

  protected constructor(protected readonly options: ResolvedDeviceOptions) {
    super('device client', options.logger);
    this.router = new CommandRouter<TwinMessageImpl>({
      capacity: options.commandBufferSize,
      consumersChanged: (count) => this.consumersChanged(count),
      asMessage: (command) => twinMessageOf(command, options.rules),
      dropped: (command, reason) => this.commandDropped(command, reason),
      handlerFailed: (error, command) =>
        this.report(
          new TwinLedgerError(
            `the handler for command "${command.name}" failed: ${error instanceof Error ? error.message : String(error)}`,
            {
              code: 'device.command.handler',
              cause: error,
            },
          ),
        ),
    });
    this.twin = new Twin(
      options.thingId,
      options.rules,
      (envelope, channel, qos, deviceId, twinOptions) => {
        const bytes = Buffer.from(JSON.stringify(envelope), 'utf8');
        return this.publish(
          {
            kind: channel,
            qos: channel === 'event' ? 1 : qos,
            bytes,
            contentType: DITTO_PROTOCOL_CONTENT_TYPE,
            deviceId,
            properties: undefined,
            ttlSeconds: undefined,
            ttdSeconds: undefined,
            emptyNotification: false,
          },
          twinOptions,
        );
      },
      this.router,
    );
  }

  get state(): DeviceClientState {
    return this.current;
  }

  get tenant(): string {
    return this.options.tenant;
  }

  get username(): string | undefined {
    return this.options.username;
  }

  abstract get queuedMessages(): number;
  abstract connect(options?: CallOptions): Promise<void>;
  abstract close(options?: CallOptions): Promise<void>;

  /** Sends (or queues) one message; resolves when the adapter accepted it (QoS 1, events) or it was written (QoS 0). */
  protected abstract send(message: OutgoingMessage, options: CallOptions): Promise<void>;
  /** Bytes without options; transports may override this with a leaner path. */
  protected sendBytes(kind: 'telemetry' | 'event', bytes: Buffer, qos: 0 | 1): Promise<void> {
    return this.publish(
      {
        kind,
        qos,
        bytes,
        contentType: undefined,
        deviceId: undefined,
        properties: undefined,
        ttlSeconds: undefined,
        ttdSeconds: undefined,
        emptyNotification: false,
      },
      NO_OPTIONS,
    );
  }

  /** Sends a command response; `command.requestId` is set. */
  protected abstract sendResponse: ResponseSender;
  /** The number of command / twin-message consumers changed. */
  protected abstract consumersChanged(count: number): void;

  telemetry(payload: DevicePayload, options: TelemetryOptions = NO_OPTIONS): Promise<void> {
    // Hot path (bytes, at most a QoS): nothing to encode or validate beyond what sendBytes checks.
    if (
      payload instanceof Uint8Array &&
      (options.qos === undefined || options.qos === 0 || options.qos === 1) &&
      options.contentType === undefined &&
      options.deviceId === undefined &&
      options.properties === undefined &&
      options.ttdSeconds === undefined &&
      options.signal === undefined &&
      options.timeoutMs === undefined
    ) {
      const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      return this.sendBytes('telemetry', bytes, options.qos ?? 0);
    }
    try {
      return this.publish(this.message('telemetry', payload, options, checkQos('qos', options.qos, 0)), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  event(payload: DevicePayload, options: EventOptions = NO_OPTIONS): Promise<void> {
    try {
      const message = this.message('event', payload, options, 1);
      message.ttlSeconds = checkSeconds('ttlSeconds', options.ttlSeconds, Number.MAX_SAFE_INTEGER);
      return this.publish(message, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  notifyReady(options: ReadyOptions = {}): Promise<void> {
    try {
      const ttd = checkSeconds('ttdSeconds', options.ttdSeconds, MAX_TTD_SECONDS);
      return this.publish(
        {
          kind: 'event',
          qos: 1,
          bytes: EMPTY,
          contentType: EMPTY_NOTIFICATION_CONTENT_TYPE,
          deviceId: checkDeviceId('deviceId', options.deviceId, this.options.rules),
          properties: undefined,
          ttlSeconds: undefined,
          ttdSeconds: ttd ?? (this.options.transport === 'http' ? this.options.commandPollSeconds : undefined),
          emptyNotification: true,
        },
        options,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  commands(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<DeviceCommand> {
    this.assertOpen('commands()');
    return this.router.commands(options.signal);
  }

  onCommand(handler: (command: DeviceCommand) => void | Promise<void>): () => void {
    this.assertOpen('onCommand()');
    return this.router.onCommand(handler);
  }

  /** Reports a non-fatal problem: `error` event when someone listens, a log line otherwise. */
  protected report(error: Error): void {
    this.emit('error', error);
  }

  protected setState(state: DeviceClientState): void {
    if (this.current === state) return;
    this.options.logger.debug('device client state', { transport: this.transport, from: this.current, to: state });
    this.current = state;
  }

  /** Throws unless messages may be sent now or queued: after `connect()`, before `close()`. */
  protected assertUsable(what: string): void {
    const state = this.current;
    if (state === 'idle') throw new DeviceClientStateError('not connected', what, 'Call connect() first.');
    if (state === 'closed') throw new DeviceClientStateError('closed', what, 'Create a new client after close().');
  }

  private assertOpen(what: string): void {
    if (this.current === 'closed') throw new DeviceClientStateError('closed', what, 'Create a new client after close().');
  }

  /** Refuses payloads over `maxPayloadBytes` before they are sent. */
  protected checkSize(kind: MessageKind, method: string, target: string, bytes: number, onBehalfOf: string | undefined): void {
    const limit = this.options.maxPayloadBytes;
    if (bytes <= limit) return;
    throw new DevicePayloadTooLargeError({
      status: 413,
      method,
      url: target,
      limitBytes: limit,
      sizeBytes: bytes,
      local: true,
      hint: deviceHint(413, { username: this.options.username, onBehalfOf, kind, limitBytes: limit }),
    });
  }

  protected commandDropped(command: IncomingCommand, reason: string): void {
    // One-way commands nobody consumes are routine on Cloud2Edge (Ditto forwards twin events to the device);
    // a dropped request/response command leaves a sender waiting, which deserves a warning.
    const level = command.oneWay ? 'debug' : 'warn';
    this.options.logger[level]('command dropped', { name: command.name, requestId: command.requestId, reason });
    this.emit('dropped', { kind: 'command', reason: `command "${command.name}": ${reason}` });
  }

  private readonly idleWaiters = new Set<() => void>();

  /** Waits until `drained()` holds, re-checking on every `notifyIdle()`; honours a deadline and a signal. */
  protected waitUntilIdle(drained: () => boolean, what: string, options: CallOptions, defaultTimeoutMs: number): Promise<void> {
    return this.waitUntil(
      drained,
      (wake) => {
        this.idleWaiters.add(wake);
        return () => this.idleWaiters.delete(wake);
      },
      what,
      options,
      defaultTimeoutMs,
    );
  }

  /** Wakes `waitUntilIdle` callers so they re-check their condition. */
  protected notifyIdle(): void {
    if (this.idleWaiters.size === 0) return;
    for (const wake of [...this.idleWaiters]) wake();
  }

  /** Waits, honouring a deadline and a signal; used while waiting for the queue to drain. */
  protected async waitUntil(
    done: () => boolean,
    subscribe: (wake: () => void) => () => void,
    what: string,
    options: CallOptions,
    defaultTimeoutMs: number,
  ): Promise<void> {
    if (done()) return;
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => finish(new AbortError(what, options.signal?.reason));
      const timer = setTimeout(() => finish(new TimeoutError(what, timeoutMs)), timeoutMs);
      const unsubscribe = subscribe(() => {
        if (done()) finish();
      });
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private publish(message: OutgoingMessage, options: CallOptions): Promise<void> {
    try {
      validateCallOptions(options, '');
      this.assertUsable(message.kind);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.send(message, options);
  }

  private message(kind: 'telemetry' | 'event', payload: DevicePayload, options: MessageOptions, qos: 0 | 1): OutgoingMessage {
    const encoded: EncodedPayload = encodePayload(payload, options.contentType);
    const properties = options.properties === undefined ? undefined : checkProperties('properties', options.properties);
    return {
      kind,
      qos,
      bytes: encoded.bytes,
      contentType: encoded.contentType,
      deviceId: options.deviceId === undefined ? undefined : checkDeviceId('deviceId', options.deviceId, this.options.rules),
      properties,
      ttlSeconds: undefined,
      ttdSeconds: options.ttdSeconds === undefined ? undefined : checkSeconds('ttdSeconds', options.ttdSeconds, MAX_TTD_SECONDS),
      emptyNotification: false,
    };
  }
}
