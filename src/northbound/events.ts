import { EventEmitter } from 'node:events';
import type { Logger } from '../core/logger.js';
import type { DeviceNotification, NorthboundEvents } from './types.js';

type Listener<E extends keyof NorthboundEvents> = (...args: NorthboundEvents[E]) => void;

/**
 * The typed events of a `Northbound`, shared by both transports. `error` is emitted only when someone
 * listens: an unheard malformed message must not throw out of a consumer and crash the process.
 */
export class NorthboundEmitter {
  private readonly emitter = new EventEmitter();

  constructor(private readonly logger: Logger) {}

  on<E extends keyof NorthboundEvents>(event: E, listener: Listener<E>): void {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
  }

  off<E extends keyof NorthboundEvents>(event: E, listener: Listener<E>): void {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
  }

  once<E extends keyof NorthboundEvents>(event: E, listener: Listener<E>): void {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
  }

  emit<E extends keyof NorthboundEvents>(event: E, ...args: NorthboundEvents[E]): void {
    if (event === 'error' && this.emitter.listenerCount('error') === 0) {
      const error = args[0];
      this.logger.warn('northbound error (no error listener)', { error: error instanceof Error ? error.message : error });
      return;
    }
    this.emitter.emit(event, ...args);
  }

  /** `deviceReady` / `deviceDisconnected` for the notifications a consumed stream meets. */
  notify(notification: DeviceNotification): void {
    if (notification.type === 'ready') this.emit('deviceReady', notification);
    else if (notification.type === 'disconnected') this.emit('deviceDisconnected', notification);
  }
}

/** `on` / `off` / `once` of a `Northbound`, delegated to its `NorthboundEmitter` (the same for both transports). */
export abstract class NorthboundEventSource {
  protected abstract readonly emitter: NorthboundEmitter;

  on<E extends keyof NorthboundEvents>(event: E, listener: Listener<E>): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<E extends keyof NorthboundEvents>(event: E, listener: Listener<E>): this {
    this.emitter.off(event, listener);
    return this;
  }

  once<E extends keyof NorthboundEvents>(event: E, listener: Listener<E>): this {
    this.emitter.once(event, listener);
    return this;
  }
}
