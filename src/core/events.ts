/**
 * The one typed event emitter of the SDK (device clients, both northbound transports, the telemetry relay) and the
 * connection lifecycle events they share.
 *
 * - A listener gets exactly one argument: a plain object (`{ attempt, delayMs, error }`, a notification, a
 *   delivery), or the `Error` for `error`; an event with nothing to tell (`started`, `stopped`) gets none.
 *   (Replaced: the northbound's positional `reconnecting(attempt, delayMs)` and `disconnected(reason)`.)
 * - `on`, `once` and `off` return the emitter, typed per event.
 * - `error` reaches listeners only when there are some; otherwise it is logged as a warning, because an unheard
 *   `error` of Node's `EventEmitter` would throw out of a socket callback and end the process.
 * - A listener that throws is logged and does not disturb the client, nor the other listeners.
 */
import { EventEmitter } from 'node:events';
import { type Logger, silentLogger } from './logger.js';

/** Event name → the listener's arguments: none, or one. */
export type EventMap<T> = { [E in keyof T]: [] | [unknown] };

export type TypedListener<Args extends unknown[]> = (...args: Args) => void;

/** A connection (re-)established. */
export interface ConnectedEvent {
  /** False for the first connection, true after a loss. */
  reconnected: boolean;
}

/** The next connection attempt is scheduled. */
export interface ReconnectingEvent {
  /** Consecutive failed attempts so far (reset after a connection stayed up `reconnect.stableAfterMs`). */
  attempt: number;
  delayMs: number;
  /** Why: the loss, or the failure of the previous attempt. */
  error: Error;
}

/** A connection ended. */
export interface DisconnectedEvent {
  /** `undefined` after `close()`. */
  error: Error | undefined;
  /** False after `close()` or when the reconnect policy gave up. */
  willReconnect: boolean;
}

/** The lifecycle events every client that keeps a connection emits. */
export interface ConnectionEvents {
  connected: [ConnectedEvent];
  reconnecting: [ReconnectingEvent];
  disconnected: [DisconnectedEvent];
  error: [Error];
}

/**
 * Typed `on` / `once` / `off` over Node's `EventEmitter`, with the rules above. Extend it and call `emit` from the
 * subclass; `source` names the emitter in log lines (`northbound`, `device client`, ...).
 */
export class TypedEmitter<Events extends EventMap<Events>> {
  private readonly eventEmitter = new EventEmitter();

  constructor(
    private readonly eventSource: string,
    private readonly eventLogger: Logger = silentLogger,
  ) {}

  on<E extends keyof Events & string>(event: E, listener: TypedListener<Events[E]>): this {
    this.eventEmitter.on(event, listener as TypedListener<unknown[]>);
    return this;
  }

  once<E extends keyof Events & string>(event: E, listener: TypedListener<Events[E]>): this {
    this.eventEmitter.once(event, listener as TypedListener<unknown[]>);
    return this;
  }

  off<E extends keyof Events & string>(event: E, listener: TypedListener<Events[E]>): this {
    this.eventEmitter.off(event, listener as TypedListener<unknown[]>);
    return this;
  }

  listenerCount<E extends keyof Events & string>(event: E): number {
    return this.eventEmitter.listenerCount(event);
  }

  protected emit<E extends keyof Events & string>(event: E, ...args: Events[E]): void {
    if (event === 'error' && this.eventEmitter.listenerCount('error') === 0) {
      this.eventLogger.warn(`${this.eventSource} error (no error listener)`, { error: args[0] });
      return;
    }
    for (const listener of this.eventEmitter.rawListeners(event) as Array<TypedListener<unknown[]>>) {
      try {
        // rawListeners keeps `once` wrappers, which remove themselves when called.
        listener.apply(this, args);
      } catch (error) {
        this.eventLogger.error(`a ${this.eventSource} event listener threw`, { event, error });
      }
    }
  }
}
