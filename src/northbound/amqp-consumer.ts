/**
 * One telemetry or event stream: a receiver with manual credit (at most `prefetch` unsettled messages,
 * so a slow loop body holds the broker back instead of filling memory) and settlement after the loop body.
 */
import type { Connection, Delivery, EventContext, Receiver, Session } from 'rhea';
import { TwinLedgerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type AmqpConnectionManager, type AmqpLinkOwner, isPermanentLinkError } from './amqp-connection.js';
import { decodeDownstream } from './amqp-message.js';
import type { AmqpFailureOutcome, TerminusDurability } from './amqp-options.js';
import { countCreditOvershoot } from './amqp-overshoot.js';
import { MalformedMessageError, NorthboundLinkError } from './errors.js';
import type { DeviceNotification, DownstreamKind, DownstreamMessage } from './types.js';
import type { ReconnectBackoff } from '../core/reconnect-backoff.js';

export interface StreamContext {
  manager: AmqpConnectionManager;
  logger: Logger;
  failureOutcome: AmqpFailureOutcome;
  terminusDurability: TerminusDurability;
  /** Reports a malformed message (the client's `error` event). */
  reportError(error: Error): void;
  /** Reports a device notification as its message is handed to the loop. */
  reportNotification(notification: DeviceNotification): void;
}

type Outcome = 'accepted' | 'released' | 'modified' | 'rejected';

/**
 * Applies settlements so that one rhea processing tick never carries two different outcomes for a session.
 * rhea 3.0.x merges a single settled delivery with the next consecutive one into one disposition range
 * without comparing their states (write_dispositions), so "accept a, release b" in the same tick would
 * accept both and lose b. Different outcomes are therefore applied one setImmediate apart.
 */
class Settler {
  private queue: Array<{ delivery: Delivery; outcome: Outcome; error?: { condition: string; description: string } }> = [];
  private coolingDown = false;
  private lastOutcome: Outcome | undefined;
  private idleCallbacks: Array<() => void> = [];

  constructor(private readonly onFailure: (error: unknown) => void) {}

  settle(delivery: Delivery, outcome: Outcome, error?: { condition: string; description: string }): void {
    if (this.coolingDown && (this.queue.length > 0 || outcome !== this.lastOutcome)) {
      this.queue.push({ delivery, outcome, error });
      return;
    }
    this.apply(delivery, outcome, error);
    this.lastOutcome = outcome;
    this.coolDown();
  }

  private coolDown(): void {
    if (this.coolingDown) return;
    this.coolingDown = true;
    setImmediate(() => {
      this.coolingDown = false;
      const first = this.queue[0];
      if (!first) {
        const callbacks = this.idleCallbacks;
        this.idleCallbacks = [];
        for (const callback of callbacks) callback();
        return;
      }
      let count = 0;
      while (count < this.queue.length && this.queue[count]!.outcome === first.outcome) count += 1;
      for (const item of this.queue.splice(0, count)) this.apply(item.delivery, item.outcome, item.error);
      this.lastOutcome = first.outcome;
      this.coolDown();
    });
  }

  /** Runs `callback` once every queued settlement went out (after rhea wrote them). */
  whenIdle(callback: () => void): void {
    this.idleCallbacks.push(callback);
    this.coolDown();
  }

  private apply(delivery: Delivery, outcome: Outcome, error?: { condition: string; description: string }): void {
    try {
      if (outcome === 'accepted') delivery.accept();
      else if (outcome === 'modified') delivery.modified({ delivery_failed: true });
      else if (outcome === 'rejected') delivery.reject(error);
      else delivery.release();
    } catch (failure) {
      this.onFailure(failure);
    }
  }
}

interface Pending {
  delivery: Delivery;
  receiver: Receiver;
  message: DownstreamMessage;
}

type Waiter = { resolve: (result: IteratorResult<DownstreamMessage>) => void; reject: (error: Error) => void };

/** rhea tracks the credit it granted (decremented per transfer) but does not declare the field. */
function creditOf(receiver: Receiver): number {
  const credit = (receiver as unknown as { credit?: unknown }).credit;
  return typeof credit === 'number' ? credit : 0;
}

const DONE: IteratorResult<DownstreamMessage> = { done: true, value: undefined };

function describeError(value: unknown): { condition: string | undefined; description: string } {
  const error = value as { condition?: unknown; description?: unknown; message?: unknown } | undefined;
  const condition = typeof error?.condition === 'string' ? error.condition : undefined;
  const description =
    typeof error?.description === 'string' ? error.description : typeof error?.message === 'string' ? error.message : 'closed by the peer';
  return { condition, description };
}

export class AmqpDownstreamStream implements AsyncIterableIterator<DownstreamMessage>, AmqpLinkOwner {
  private receiver: Receiver | undefined;
  private session: Session | undefined;
  private buffer: Pending[] = [];
  private current: Pending | undefined;
  private waiter: Waiter | undefined;
  private started = false;
  private finished = false;
  private failure: Error | undefined;
  private readonly relinkBackoff: ReconnectBackoff;
  private readonly creditBatch: number;
  private overshoot = 0;
  private readonly onAbort = () => this.stop('aborted');
  private readonly settler = new Settler((error) => this.context.logger.debug('AMQP settle failed', { address: this.address, error }));

  constructor(
    private readonly context: StreamContext,
    private readonly kind: DownstreamKind,
    private readonly tenantId: string,
    private readonly address: string,
    private readonly prefetch: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.relinkBackoff = context.manager.linkBackoff();
    this.creditBatch = Math.max(1, Math.floor(prefetch / 4));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<DownstreamMessage> {
    return this;
  }

  async next(): Promise<IteratorResult<DownstreamMessage>> {
    // Asking for the next message means the body finished with the previous one.
    this.settleCurrent('accepted');
    if (!this.started) await this.start();
    if (this.buffer.length > 0) return { done: false, value: this.take() };
    if (this.failure) {
      const failure = this.failure;
      this.stop('failed');
      throw failure;
    }
    if (this.finished) return DONE;
    return new Promise<IteratorResult<DownstreamMessage>>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Called by `for await` on `break`, `return` and when the body throws: the current message is not acknowledged. */
  async return(): Promise<IteratorResult<DownstreamMessage>> {
    this.stop('returned');
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<DownstreamMessage>> {
    this.stop('thrown');
    throw error;
  }

  private async start(): Promise<void> {
    this.started = true;
    if (this.signal?.aborted) {
      this.finished = true;
      return;
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    try {
      await this.context.manager.whenOpen(this.signal);
    } catch (error) {
      if (this.signal?.aborted) {
        this.stop('aborted');
        return;
      }
      this.stop('failed');
      throw error;
    }
    if (!this.finished) this.context.manager.add(this);
  }

  attach(connection: Connection): void {
    if (this.finished) return;
    // A session of its own: closing it hands every unsettled message back at once (RabbitMQ keeps unsettled
    // messages per session, not per link), and a broker error on this stream cannot take other links down.
    const session = connection.create_session();
    session.begin();
    const receiver = session.open_receiver({
      source: { address: this.address, durable: this.context.terminusDurability },
      credit_window: 0,
      autoaccept: false,
      autosettle: true,
    });
    this.session = session;
    this.receiver = receiver;
    countCreditOvershoot(session, receiver, () => this.onOvershoot());
    receiver.on('receiver_open', () => {
      this.relinkBackoff.connected();
      this.topUp();
    });
    receiver.on('message', (context: EventContext) => this.onMessage(receiver, context));
    const onClosed = (error: unknown) => {
      if (this.receiver !== receiver || this.finished) return;
      const { condition, description } = describeError(error);
      const failure = new NorthboundLinkError(this.address, description, condition);
      this.detach(failure);
      // rhea answers the peer's detach on the next tick; ending the session before that would put the
      // detach on an ended channel (a framing error for the peer).
      setImmediate(() => this.safely(() => session.close()));
      // A broker going down detaches links (e.g. amqp:internal-error "shutdown") before it closes the
      // connection: attach again; the connection's own reconnect takes over if it goes down too.
      if (isPermanentLinkError(condition)) this.fail(failure);
      else if (!this.context.manager.relink(this, this.relinkBackoff, failure)) this.fail(failure);
    };
    receiver.on('receiver_error', () => onClosed(receiver.error));
    receiver.on('receiver_close', () => onClosed(receiver.error));
    session.on('session_error', () => onClosed(session.error));
    session.on('session_close', () => onClosed(session.error));
    this.context.logger.debug('receiver attaching', { address: this.address, kind: this.kind, prefetch: this.prefetch });
  }

  detach(error: Error | undefined): void {
    this.receiver = undefined;
    this.session = undefined;
    // Unsettled messages of the lost link go back to the broker, which delivers them again.
    if (this.buffer.length > 0) {
      this.context.logger.debug('dropping buffered messages of a lost link', { address: this.address, count: this.buffer.length, error });
    }
    this.buffer = [];
  }

  fail(error: Error): void {
    if (this.finished) return;
    if (error instanceof TwinLedgerError && error.code === 'northbound.closed') {
      this.stop('closed');
      return;
    }
    this.failure = error;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      this.stop('failed');
      waiter.reject(error);
    }
  }

  /** Transfers beyond our credit are buffered like any other; `topUp` grants nothing until there is room again. */
  private onOvershoot(): void {
    this.overshoot += 1;
    if (this.overshoot === 1 || this.overshoot % 1000 === 0) {
      this.context.logger.debug(
        'the broker sent messages beyond the granted credit (RabbitMQ 3.x does while flow frames cross transfers)',
        {
          address: this.address,
          transfersBeyondCredit: this.overshoot,
        },
      );
    }
  }

  private onMessage(receiver: Receiver, context: EventContext): void {
    const delivery = context.delivery;
    if (!delivery || !context.message) return;
    if (receiver !== this.receiver || this.finished) {
      this.settler.settle(delivery, 'released');
      return;
    }
    let message: DownstreamMessage;
    try {
      message = decodeDownstream(this.kind, this.tenantId, context.message);
    } catch (error) {
      const malformed =
        error instanceof MalformedMessageError
          ? error
          : new MalformedMessageError(`cannot decode ${this.kind} message: ${(error as Error).message}`, error);
      this.settler.settle(delivery, 'rejected', { condition: 'amqp:decode-error', description: malformed.message });
      this.context.logger.warn('rejected a malformed message', { address: this.address, error: malformed.message });
      this.context.reportError(malformed);
      this.topUp();
      return;
    }
    this.buffer.push({ delivery, receiver, message });
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve({ done: false, value: this.take() });
    }
  }

  private take(): DownstreamMessage {
    const pending = this.buffer.shift()!;
    this.current = pending;
    const notification = pending.message.notification;
    if (notification) this.context.reportNotification(notification);
    return pending.message;
  }

  private settleCurrent(outcome: 'accepted' | AmqpFailureOutcome): void {
    const pending = this.current;
    if (!pending) return;
    this.current = undefined;
    // A message of a lost link cannot be settled any more; the broker has it again already.
    if (pending.receiver === this.receiver) this.settle(pending.delivery, outcome);
    this.topUp();
  }

  private settle(delivery: Delivery, outcome: 'accepted' | AmqpFailureOutcome): void {
    this.settler.settle(delivery, outcome);
  }

  /**
   * Keeps `credit + buffered + in the loop body` at most `prefetch`. Credit goes out in batches of a quarter
   * of the window (one flow frame per message would cost throughput; the batch never exceeds what is missing
   * when the stream is idle, so it cannot stall).
   * Brokers that overshoot the credit (RabbitMQ 3.x may, while flow frames cross transfers) get no more until
   * the buffer is below `prefetch` again.
   */
  private topUp(): void {
    const receiver = this.receiver;
    if (!receiver || this.finished || !receiver.is_open()) return;
    const inBody = this.current && this.current.receiver === receiver ? 1 : 0;
    const credit = creditOf(receiver);
    const missing = this.prefetch - this.buffer.length - inBody - credit;
    if (missing >= this.creditBatch) receiver.add_credit(missing);
  }

  private stop(reason: string): void {
    if (this.finished) return;
    const receiver = this.receiver;
    // Hand back what the loop did not finish before marking the stream finished (settling needs the receiver),
    // but without granting new credit.
    const current = this.current;
    this.current = undefined;
    if (current && current.receiver === receiver) this.settle(current.delivery, this.context.failureOutcome);
    for (const pending of this.buffer) {
      if (pending.receiver === receiver) this.settle(pending.delivery, 'released');
    }
    this.buffer = [];
    this.finished = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.context.manager.remove(this);
    const session = this.session;
    this.receiver = undefined;
    this.session = undefined;
    // Close only after the settlements above were written, so the broker sees them before the detach.
    this.settler.whenIdle(() => {
      if (receiver) this.safely(() => receiver.close());
      if (session) this.safely(() => session.close());
    });
    this.context.logger.debug('stream ended', { address: this.address, reason, transfersBeyondCredit: this.overshoot });
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(DONE);
    }
  }

  private safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.context.logger.debug('AMQP settle/close failed', { address: this.address, error });
    }
  }
}
