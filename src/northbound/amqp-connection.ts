/**
 * The one AMQP connection a northbound client shares between all its links (Hono's router limits
 * connections per host, so links are multiplexed here). Owns connecting, reconnecting with the retry
 * policy, and telling every link owner when to attach its links again.
 */
import rhea, { type Connection, type ConnectionOptions, type EventContext } from 'rhea';
import { raceAbort } from '../core/abort.js';
import { AbortError, NetworkError, TimeoutError, TwinLedgerError } from '../core/errors.js';
import type { ConnectionEvents } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { ReconnectBackoff } from '../core/reconnect-backoff.js';
import { resolveTls } from '../core/tls.js';
import type { ResolvedAmqpOptions } from './amqp-options.js';
import { AmqpAuthenticationError, NorthboundNotConnectedError } from './errors.js';

/** A component that keeps links on the shared connection. */
export interface AmqpLinkOwner {
  /** A (new) connection is open: create the links on it. */
  attach(connection: Connection): void;
  /** The connection was lost; its links are gone. A new `attach` follows when reconnected. */
  detach(error: Error | undefined): void;
  /** The client closed, or gave up reconnecting: fail whatever waits. */
  fail(error: Error): void;
}

/**
 * Link or session errors after which attaching again cannot help (wrong address, no permission, a queue of
 * other settings). Anything else (`amqp:internal-error` while a broker shuts down, forced detaches, resource
 * limits) is retried with the reconnect policy.
 */
const PERMANENT_LINK_CONDITIONS = new Set([
  'amqp:not-found',
  'amqp:unauthorized-access',
  'amqp:precondition-failed',
  'amqp:invalid-field',
  'amqp:not-implemented',
  'amqp:not-allowed',
  'amqp:decode-error',
]);

export function isPermanentLinkError(condition: string | undefined): boolean {
  return condition !== undefined && PERMANENT_LINK_CONDITIONS.has(condition);
}

export type AmqpConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'failed' | 'closed';

interface ConnectionInternals {
  socket?: { destroy(): void };
  _disconnected?: (error?: Error) => void;
}

/**
 * Ends a connection we are done with, right away and for good: drops our listeners (no-op ones keep rhea from
 * printing or throwing), destroys the socket and lets rhea clear its heartbeat/idle timers, which it otherwise
 * does only when it sees the socket end (a destroyed socket never does, and the timers keep the process alive).
 */
export function shutdownConnection(connection: Connection): void {
  connection.removeAllListeners();
  for (const event of ['error', 'disconnected', 'connection_close', 'connection_error', 'protocol_error']) connection.on(event, () => {});
  const internals = connection as unknown as ConnectionInternals;
  internals.socket?.destroy();
  // Deferred: when called from an event rhea dispatches while reading a frame, rhea re-arms its idle timer
  // after the handler returns.
  setImmediate(() => {
    try {
      internals._disconnected?.();
    } catch {
      // nothing left to clean up
    }
  });
}

function conditionOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'condition' in error) {
    const condition = (error as { condition?: unknown }).condition;
    return typeof condition === 'string' ? condition : undefined;
  }
  return undefined;
}

export class AmqpConnectionManager {
  private state: AmqpConnectionState = 'idle';
  private connection: Connection | undefined;
  private readonly owners = new Set<AmqpLinkOwner>();
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly backoff: ReconnectBackoff;
  private readonly relinkTimers = new Set<NodeJS.Timeout>();
  private openWaiters = new Set<{ resolve: (c: Connection) => void; reject: (e: Error) => void }>();
  private lossError: Error | undefined;
  /** Whether a connection was open before: the next `connected` is a reconnect. */
  private openedBefore = false;
  readonly endpoint: string;

  constructor(
    private readonly options: ResolvedAmqpOptions,
    private readonly logger: Logger,
    private readonly emit: <E extends keyof ConnectionEvents>(event: E, ...args: ConnectionEvents[E]) => void,
  ) {
    this.endpoint = `${options.tls ? 'amqps' : 'amqp'}://${options.host}:${options.port}`;
    this.backoff = new ReconnectBackoff(options.reconnect.policy, options.reconnect.stableAfterMs);
  }

  get currentState(): AmqpConnectionState {
    return this.state;
  }

  /** While the connection is lost and being re-established: why it was lost. */
  get downBecause(): Error | undefined {
    if (this.state !== 'reconnecting') return undefined;
    return this.lossError ?? new NetworkError('AMQP', this.endpoint, 'the connection was lost');
  }

  /** The open connection, if there is one right now. */
  get current(): Connection | undefined {
    return this.state === 'open' ? this.connection : undefined;
  }

  add(owner: AmqpLinkOwner): void {
    this.owners.add(owner);
    const connection = this.current;
    if (connection) owner.attach(connection);
  }

  remove(owner: AmqpLinkOwner): void {
    this.owners.delete(owner);
  }

  /**
   * Opens the connection, trying again with the reconnect policy until `timeoutMs` (default `connectTimeoutMs`).
   * Resolves at once when open; joins an ongoing attempt.
   */
  async connect(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'closed') throw new NorthboundNotConnectedError('connect()', 'closed', { transport: 'amqp' });
    if (this.state === 'open' || this.state === 'reconnecting') return;
    if (this.connecting) return this.withSignal(this.connecting, options.signal);
    this.state = 'connecting';
    this.connecting = this.connectLoop(options.timeoutMs ?? this.options.connectTimeoutMs, options.signal).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Waits until the connection is open (connecting first if idle). */
  async whenOpen(signal?: AbortSignal): Promise<Connection> {
    const connection = this.current;
    if (connection) return connection;
    // After a give-up, a new stream or command starts connecting again (after close() connect() refuses); during a
    // first connect, join it, so its failure reaches this caller too.
    if (this.state === 'idle' || this.state === 'closed' || this.state === 'failed' || this.connecting !== undefined) {
      await this.connect({ signal });
      const now = this.current;
      if (now) return now;
    }
    return new Promise<Connection>((resolve, reject) => {
      const waiter = {
        resolve: (c: Connection) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject: (e: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        this.openWaiters.delete(waiter);
        reject(new AbortError('waiting for the AMQP connection', signal?.reason));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.openWaiters.add(waiter);
    });
  }

  /**
   * A link of `owner` was closed by the peer with a transient error while the connection stayed up: attach
   * again after the delay `backoff` (the owner's `linkBackoff()`) gives. Returns false when the policy gives up.
   */
  relink(owner: AmqpLinkOwner, backoff: ReconnectBackoff, error: Error): boolean {
    const delay = backoff.next(error);
    if (delay === undefined) return false;
    const attempt = backoff.attempts;
    this.logger.warn('AMQP link closed by the peer, attaching again', { endpoint: this.endpoint, attempt, delayMs: delay, error });
    const timer = setTimeout(() => {
      this.relinkTimers.delete(timer);
      const connection = this.current;
      // When the connection went down meanwhile, the reconnect attaches every owner anyway.
      if (connection && this.owners.has(owner)) owner.attach(connection);
    }, delay);
    this.relinkTimers.add(timer);
    return true;
  }

  /**
   * The re-attach count of one link owner: like the connection's, it resets only after the link stayed attached
   * `stableAfterMs`, so a link the peer refuses right after every attach meets growing delays.
   */
  linkBackoff(): ReconnectBackoff {
    return new ReconnectBackoff(this.options.reconnect.policy, this.options.reconnect.stableAfterMs);
  }

  async close(): Promise<void> {
    this.backoff.reset();
    for (const timer of this.relinkTimers) clearTimeout(timer);
    this.relinkTimers.clear();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const wasActive = this.state !== 'idle' && this.state !== 'closed';
    this.state = 'closed';
    const closed = new TwinLedgerError('the northbound client was closed', { code: 'northbound.closed' });
    for (const owner of [...this.owners]) owner.fail(closed);
    this.owners.clear();
    this.rejectWaiters(closed);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await this.closeGracefully(connection);
    if (wasActive) this.emit('disconnected', { error: undefined, willReconnect: false });
  }

  private async connectLoop(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt += 1) {
      if (signal?.aborted) throw this.abortConnect(signal);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.failConnect(new TimeoutError(`AMQP connect to ${this.endpoint}`, timeoutMs));
      let connection: Connection;
      try {
        connection = await this.withSignal(this.attempt(Math.min(remaining, this.options.connectTimeoutMs)), signal);
      } catch (error) {
        if (error instanceof AbortError || error instanceof AmqpAuthenticationError) throw this.failConnect(error);
        const delay = this.options.reconnect.policy.nextDelayMs(attempt, error);
        const left = deadline - Date.now();
        if (delay === undefined || left <= 0) {
          throw this.failConnect(left <= 0 ? new TimeoutError(`AMQP connect to ${this.endpoint}`, timeoutMs, error) : (error as Error));
        }
        this.logger.warn('AMQP connect failed, trying again', { endpoint: this.endpoint, attempt, delayMs: delay, error });
        await this.withSignal(new Promise((resolve) => setTimeout(resolve, Math.min(delay, left))), signal);
        if (this.state !== 'connecting')
          throw this.failConnect(new TwinLedgerError('the northbound client was closed', { code: 'northbound.closed' }));
        continue;
      }
      if (this.state !== 'connecting') {
        await this.closeGracefully(connection);
        throw new TwinLedgerError('the northbound client was closed', { code: 'northbound.closed' });
      }
      this.opened(connection);
      return;
    }
  }

  private abortConnect(signal: AbortSignal): Error {
    return this.failConnect(new AbortError(`AMQP connect to ${this.endpoint}`, signal.reason));
  }

  private failConnect(error: unknown): Error {
    if (this.state === 'connecting') this.state = 'idle';
    return error as Error;
  }

  private withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return raceAbort(promise, signal, () => new AbortError(`AMQP connect to ${this.endpoint}`, signal?.reason));
  }

  private connectionOptions(): ConnectionOptions {
    const o = this.options;
    const common = {
      host: o.host,
      port: o.port,
      container_id: o.containerId,
      id: o.containerId,
      reconnect: false,
      // Without it, Nagle's algorithm holds small frames (a command, a disposition) for the peer's delayed ACK.
      tcp_no_delay: true,
      idle_time_out: o.idleTimeoutMs,
      ...(o.virtualHost === undefined ? {} : { hostname: o.virtualHost }),
      ...(o.credentials === undefined ? {} : { username: o.credentials.username, password: o.credentials.password }),
    };
    if (!o.tls) return { ...common, transport: 'tcp' };
    return { ...common, transport: 'tls', ...resolveTls(o.tls) } as ConnectionOptions;
  }

  /** One attempt: resolves with an open connection, or rejects (and cleans up). */
  private attempt(timeoutMs: number): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      const container = rhea.create_container({ id: this.options.containerId });
      let lastError: Error | undefined;
      let settled = false;
      const connection = container.connect(this.connectionOptions());
      const finish = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        connection.removeListener('connection_open', onOpen);
        connection.removeListener('connection_error', onError);
        connection.removeListener('disconnected', onDisconnected);
        if (error) {
          shutdownConnection(connection);
          reject(error);
        } else {
          resolve(connection);
        }
      };
      const onOpen = () => finish(undefined);
      const onError = (context: EventContext) => {
        const error = context.error ?? connection.error;
        lastError = this.translate(error);
      };
      const onDisconnected = (context: EventContext) => {
        finish(lastError ?? this.translate(context.error) ?? new NetworkError('AMQP', this.endpoint, 'connection closed during open'));
      };
      const timer = setTimeout(
        () => finish(new TimeoutError(`AMQP connection attempt to ${this.endpoint}`, timeoutMs, lastError)),
        timeoutMs,
      );
      connection.on('connection_open', onOpen);
      connection.on('connection_error', onError);
      connection.on('disconnected', onDisconnected);
      // rhea re-dispatches unhandled protocol errors as 'error' on the container; never let them crash the process.
      container.on('error', (error: unknown) => this.logger.warn('AMQP protocol error', { endpoint: this.endpoint, error }));
    });
  }

  private translate(error: unknown): Error | undefined {
    if (error === undefined || error === null) return undefined;
    const condition = conditionOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (condition === 'amqp:unauthorized-access' || /authenticat/i.test(message)) {
      return new AmqpAuthenticationError(this.endpoint, message);
    }
    return new NetworkError('AMQP', this.endpoint, condition ? `${condition}: ${message}` : message, error);
  }

  private opened(connection: Connection): void {
    this.connection = connection;
    this.state = 'open';
    this.backoff.connected();
    let lost = false;
    const onLost = (context: EventContext) => {
      if (lost || this.connection !== connection) return;
      lost = true;
      this.lost(connection, this.translate(context.error ?? connection.error));
    };
    connection.on('disconnected', onLost);
    connection.on('connection_close', onLost);
    connection.on('connection_error', (context: EventContext) => {
      this.logger.warn('AMQP connection error', { endpoint: this.endpoint, error: context.error ?? connection.error });
    });
    connection.on('error', (error: unknown) => this.logger.warn('AMQP protocol error', { endpoint: this.endpoint, error }));
    this.logger.info('AMQP connection open', { endpoint: this.endpoint, containerId: this.options.containerId });
    this.emit('connected', { reconnected: this.openedBefore });
    this.openedBefore = true;
    for (const owner of [...this.owners]) {
      if (this.connection !== connection) break;
      owner.attach(connection);
    }
    const waiters = [...this.openWaiters];
    this.openWaiters.clear();
    for (const waiter of waiters) waiter.resolve(connection);
  }

  private lost(connection: Connection, error: Error | undefined): void {
    this.connection = undefined;
    this.lossError = error;
    this.backoff.disconnected();
    // Pending relinks belong to the lost connection; the reconnect attaches every owner afresh.
    for (const timer of this.relinkTimers) clearTimeout(timer);
    this.relinkTimers.clear();
    shutdownConnection(connection);
    if (this.state === 'closed') return;
    this.state = 'reconnecting';
    this.logger.warn('AMQP connection lost', { endpoint: this.endpoint, error });
    const delay = this.reconnectDelay(error);
    this.emit('disconnected', { error: this.lossReason(error), willReconnect: delay !== undefined });
    for (const owner of [...this.owners]) owner.detach(error);
    this.scheduleReconnect(error, delay);
  }

  private reconnectDelay(error: Error | undefined): number | undefined {
    return error instanceof AmqpAuthenticationError ? undefined : this.backoff.next(error);
  }

  private lossReason(error: Error | undefined): Error {
    return error ?? new NetworkError('AMQP', this.endpoint, 'the connection was lost');
  }

  private scheduleReconnect(error: Error | undefined, delay = this.reconnectDelay(error)): void {
    if (this.state !== 'reconnecting') return;
    const attempt = this.backoff.attempts;
    if (delay === undefined) {
      this.giveUp(error);
      return;
    }
    this.emit('reconnecting', { attempt, delayMs: delay, error: this.lossReason(error) });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state !== 'reconnecting') return;
      this.attempt(this.options.connectTimeoutMs).then(
        (connection) => {
          if (this.state !== 'reconnecting') {
            void this.closeGracefully(connection);
            return;
          }
          this.opened(connection);
        },
        (failure: unknown) => {
          this.logger.warn('AMQP reconnect failed', { endpoint: this.endpoint, attempt, error: failure });
          this.scheduleReconnect(failure as Error);
        },
      );
    }, delay);
  }

  private giveUp(error: Error | undefined): void {
    this.state = 'failed';
    const failure =
      error instanceof AmqpAuthenticationError
        ? error
        : new NetworkError('AMQP', this.endpoint, `gave up reconnecting after ${this.backoff.attempts - 1} attempts`, error);
    this.logger.error('AMQP client gave up reconnecting', { endpoint: this.endpoint, error: failure });
    this.emit('error', failure);
    for (const owner of [...this.owners]) owner.fail(failure);
    this.rejectWaiters(failure);
  }

  private rejectWaiters(error: Error): void {
    const waiters = [...this.openWaiters];
    this.openWaiters.clear();
    for (const waiter of waiters) waiter.reject(error);
  }

  private closeGracefully(connection: Connection): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        shutdownConnection(connection);
        resolve();
      };
      const timer = setTimeout(done, 2_000);
      connection.removeAllListeners();
      for (const event of ['error', 'disconnected', 'connection_error', 'protocol_error']) connection.on(event, () => {});
      connection.once('connection_close', done);
      connection.once('disconnected', done);
      try {
        connection.close();
      } catch {
        done();
      }
      if (!connection.is_open() && !connection.is_remote_open()) done();
    });
  }
}
