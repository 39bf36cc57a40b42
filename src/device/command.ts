import { ValidationError } from '../core/errors.js';
import type { JsonValue } from '../protocol/index.js';
import { CommandAlreadyAnsweredError, OneWayCommandError } from './errors.js';
import { type EncodedPayload, checkStatus, encodePayload } from './payload.js';
import type { DeviceCommand, DevicePayload, DeviceTransport, RespondOptions } from './types.js';

/** Sends a command response for the transport the command came in on. */
export type ResponseSender = (
  command: IncomingCommand,
  status: number,
  body: EncodedPayload | undefined,
  options: RespondOptions,
) => Promise<void>;

export interface IncomingCommandInit {
  name: string;
  requestId: string | undefined;
  deviceId: string | undefined;
  contentType: string | undefined;
  payload: Buffer;
  properties: Record<string, string>;
  transport: DeviceTransport;
}

export class IncomingCommand implements DeviceCommand {
  readonly name: string;
  readonly requestId: string | undefined;
  readonly oneWay: boolean;
  readonly deviceId: string | undefined;
  readonly contentType: string | undefined;
  readonly payload: Buffer;
  readonly properties: Readonly<Record<string, string>>;
  readonly transport: DeviceTransport;
  readonly receivedAt = new Date();
  private progress: 'open' | 'responding' | 'answered' = 'open';
  /** A response was tried; it may have reached Hono even though the call failed (timeout, abort, network). */
  responseAttempted = false;

  constructor(
    init: IncomingCommandInit,
    private readonly sender: ResponseSender,
  ) {
    this.name = init.name;
    this.requestId = init.requestId;
    this.oneWay = init.requestId === undefined;
    this.deviceId = init.deviceId;
    this.contentType = init.contentType;
    this.payload = init.payload;
    this.properties = Object.freeze({ ...init.properties });
    this.transport = init.transport;
  }

  get answered(): boolean {
    return this.progress === 'answered';
  }

  text(): string {
    return this.payload.toString('utf8');
  }

  json<T = JsonValue>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch (error) {
      throw new ValidationError(
        'payload',
        `command "${this.name}" does not carry JSON (${this.payload.length} bytes, content type ${this.contentType ?? 'not given'}): ${(error as Error).message}`,
        'Use payload (bytes) or text() for non-JSON commands.',
      );
    }
  }

  async respond(status: number, body?: DevicePayload, options: RespondOptions = {}): Promise<void> {
    if (this.requestId === undefined) throw new OneWayCommandError(this.name);
    if (this.progress !== 'open') throw new CommandAlreadyAnsweredError(this.name, this.requestId);
    checkStatus('status', status);
    const encoded = body === undefined ? undefined : encodePayload(body, options.contentType, 'body');
    this.progress = 'responding';
    this.responseAttempted = true;
    try {
      await this.sender(this, status, encoded, options);
      this.progress = 'answered';
    } catch (error) {
      // Nothing reached Hono (or we cannot tell): let the app try again.
      this.progress = 'open';
      throw error;
    }
  }
}

/**
 * An async iterator over a bounded buffer. `offer` returns false when the buffer is full or the iterator
 * has ended; the consumer's `return()` (a `break` out of `for await`) or the signal ends it.
 */
export class AsyncBuffer<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((result: IteratorResult<T>) => void)[] = [];
  private ended = false;

  constructor(
    private readonly capacity: number,
    private readonly onEnd: (leftover: T[]) => void,
    signal?: AbortSignal,
  ) {
    if (signal?.aborted) this.end();
    else signal?.addEventListener('abort', () => this.end(), { once: true });
  }

  get closed(): boolean {
    return this.ended;
  }

  offer(item: T): boolean {
    if (this.ended) return false;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter({ value: undefined, done: true });
    this.onEnd(this.items.splice(0));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

interface Sink<T> {
  deliver(item: T): boolean;
  end(): void;
}

export interface RouterHooks<M> {
  /** Called whenever the number of consumers changes (subscribe / unsubscribe, start / stop polling). */
  consumersChanged(count: number): void;
  /** The command as a Ditto live message, or undefined when it is not one. */
  asMessage(command: IncomingCommand): M | undefined;
  dropped(command: IncomingCommand, reason: string): void;
  handlerFailed(error: unknown, command: IncomingCommand): void;
  capacity: number;
}

/**
 * Hands each command to exactly one consumer: to the first twin-message consumer when it is a Ditto live
 * message and one is registered, otherwise to the first command consumer; with no consumer it is dropped
 * (and reported), because nothing would answer it.
 */
const HANDLER_FAILED = { error: 'the device failed to handle the command' };

export class CommandRouter<
  M extends { readonly command: DeviceCommand; respond(status: number, value?: { error: string }): Promise<void> },
> {
  private readonly commandSinks: Sink<DeviceCommand>[] = [];
  private readonly messageSinks: Sink<M>[] = [];

  constructor(private readonly hooks: RouterHooks<M>) {}

  get consumers(): number {
    return this.commandSinks.length + this.messageSinks.length;
  }

  dispatch(command: IncomingCommand): void {
    if (this.messageSinks.length > 0) {
      const message = this.hooks.asMessage(command);
      if (message !== undefined) {
        if (!this.messageSinks[0]?.deliver(message)) this.hooks.dropped(command, 'the twin message buffer is full');
        return;
      }
    }
    const sink = this.commandSinks[0];
    if (sink === undefined) {
      this.hooks.dropped(command, 'no command consumer is registered');
      return;
    }
    if (!sink.deliver(command)) this.hooks.dropped(command, 'the command buffer is full');
  }

  commands(signal?: AbortSignal): AsyncIterableIterator<DeviceCommand> {
    return this.iterator(this.commandSinks, (item) => item, signal);
  }

  onCommand(handler: (command: DeviceCommand) => void | Promise<void>): () => void {
    return this.handler(
      this.commandSinks,
      handler,
      (item) => item,
      (item) => item.respond(500, HANDLER_FAILED),
    );
  }

  messages(signal?: AbortSignal): AsyncIterableIterator<M> {
    return this.iterator(this.messageSinks, (item) => item.command, signal);
  }

  onMessage(handler: (message: M) => void | Promise<void>): () => void {
    // A Ditto message is answered with a Ditto Protocol response (correlation-id, status): Ditto reads nothing else.
    return this.handler(
      this.messageSinks,
      handler,
      (item) => item.command,
      (item) => item.respond(500, HANDLER_FAILED),
    );
  }

  /** Ends every iterator and unregisters every handler (on close). */
  endAll(): void {
    for (const sink of [...this.commandSinks, ...this.messageSinks]) sink.end();
  }

  private iterator<T>(sinks: Sink<T>[], commandOf: (item: T) => DeviceCommand, signal?: AbortSignal): AsyncIterableIterator<T> {
    const sink: Sink<T> = {
      deliver: (item) => buffer.offer(item),
      end: () => buffer.end(),
    };
    const buffer = new AsyncBuffer<T>(
      this.hooks.capacity,
      (leftover) => {
        this.remove(sinks, sink);
        for (const item of leftover) this.hooks.dropped(commandOf(item) as IncomingCommand, 'the iterator ended before taking it');
      },
      signal,
    );
    if (!buffer.closed) this.add(sinks, sink);
    return buffer;
  }

  private handler<T>(
    sinks: Sink<T>[],
    handler: (item: T) => void | Promise<void>,
    commandOf: (item: T) => DeviceCommand,
    answerFailure: (item: T) => Promise<void>,
  ): () => void {
    if (typeof handler !== 'function') throw new ValidationError('handler', 'must be a function');
    let active = true;
    const sink: Sink<T> = {
      deliver: (item) => {
        void Promise.resolve()
          .then(() => handler(item))
          .catch((error: unknown) => {
            const command = commandOf(item) as IncomingCommand;
            this.hooks.handlerFailed(error, command);
            // Not after a response attempt of the handler's own: that one may have arrived, and a 500 would contradict it.
            if (!command.oneWay && !command.answered && !command.responseAttempted) answerFailure(item).catch(() => undefined);
          });
        return true;
      },
      end: () => off(),
    };
    const off = (): void => {
      if (!active) return;
      active = false;
      this.remove(sinks, sink);
    };
    this.add(sinks, sink);
    return off;
  }

  private add<T>(sinks: Sink<T>[], sink: Sink<T>): void {
    sinks.push(sink);
    this.hooks.consumersChanged(this.consumers);
  }

  private remove<T>(sinks: Sink<T>[], sink: Sink<T>): void {
    const index = sinks.indexOf(sink);
    if (index < 0) return;
    sinks.splice(index, 1);
    this.hooks.consumersChanged(this.consumers);
  }
}
