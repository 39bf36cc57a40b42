/**
 * Command & control over AMQP 1.0: one command sender and one shared reply receiver per tenant on the
 * client's connection, request/response correlation, the client's own timeout, and outcome mapping
 * (`released` → device not connected, `rejected` → malformed / not allowed).
 */
import { randomUUID } from 'node:crypto';
import rhea, { type Connection, type Delivery, type EventContext, type Message, type Receiver, type Sender, type Session } from 'rhea';
import { AbortError, NetworkError, TimeoutError, TwinLedgerError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type AmqpConnectionManager, type AmqpLinkOwner, isPermanentLinkError } from './amqp-connection.js';
import { decodeCommandResponse } from './amqp-message.js';
import { countCreditOvershoot } from './amqp-overshoot.js';
import { resolveAddress, type ResolvedAmqpOptions } from './amqp-options.js';
import {
  type CommandError,
  CommandFailedError,
  CommandRejectedError,
  CommandTimeoutError,
  type CommandTarget,
  DeviceNotConnectedError,
  MalformedMessageError,
  NoCommandConsumerError,
  NorthboundLinkError,
  NorthboundNotConnectedError,
} from './errors.js';
import type { CommandResponse, PropertyValue } from './types.js';
import type { ReconnectBackoff } from '../core/reconnect-backoff.js';

/** A command ready to send: validated and encoded. */
export interface OutgoingCommand {
  target: CommandTarget;
  body: Buffer;
  contentType: string | undefined;
  properties: Record<string, PropertyValue> | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

export interface CommandContext {
  manager: AmqpConnectionManager;
  options: ResolvedAmqpOptions;
  logger: Logger;
  reportError(error: Error): void;
}

interface PendingResponse {
  target: CommandTarget;
  resolve(response: CommandResponse): void;
  reject(error: Error): void;
}

type OutcomeHandler = (outcome: 'accepted' | 'released' | 'rejected' | 'modified', context: EventContext) => void;

function outcomeDetail(context: EventContext): string | undefined {
  const state = context.delivery?.remote_state as { error?: { condition?: unknown; description?: unknown } } | undefined;
  const error = state?.error;
  if (!error) return undefined;
  const parts = [error.condition, error.description].filter((part): part is string => typeof part === 'string' && part !== '');
  return parts.length > 0 ? parts.join(': ') : undefined;
}

/** Links of one tenant: the command sender, and (once a request/response command was sent) the reply receiver. */
class TenantCommandLinks implements AmqpLinkOwner {
  private session: Session | undefined;
  private sender: Sender | undefined;
  private replyReceiver: Receiver | undefined;
  private replyWanted = false;
  private replyOpen = false;
  private readonly outcomes = new Map<Delivery, { handler: OutcomeHandler; onLost: (error: Error) => void }>();
  private readonly creditWaiters = new Set<() => void>();
  private readonly replyWaiters = new Set<() => void>();
  private failure: Error | undefined;
  private readonly relinkBackoff: ReconnectBackoff;
  readonly commandAddress: string;
  readonly replyAddress: string;

  constructor(
    private readonly parent: AmqpCommandClient,
    readonly tenantId: string,
    replyId: string,
  ) {
    const options = parent.context.options;
    this.relinkBackoff = parent.context.manager.linkBackoff();
    this.commandAddress = resolveAddress(options, 'command', { tenant: tenantId });
    this.replyAddress = resolveAddress(options, 'commandResponse', { tenant: tenantId, replyId });
  }

  attach(connection: Connection): void {
    this.failure = undefined;
    // A session per tenant, so a broker error on one tenant's links does not end the others'.
    const session = connection.create_session();
    session.begin();
    // rhea emits only *_close when the peer detaches or ends without an error; a *_error comes with a *_close.
    session.on('session_error', () => this.peerClosed(session, this.commandAddress, session.error));
    session.on('session_close', () => this.peerClosed(session, this.commandAddress, session.error));
    this.session = session;
    const sender = session.open_sender({
      target: { address: this.commandAddress, durable: this.parent.context.options.terminusDurability },
      autosettle: true,
    });
    this.sender = sender;
    const wake = () => {
      if (this.sender !== sender) return;
      for (const waiter of [...this.creditWaiters]) waiter();
    };
    sender.on('sendable', wake);
    sender.on('sender_flow', wake);
    sender.on('sender_open', wake);
    for (const outcome of ['accepted', 'released', 'rejected', 'modified'] as const) {
      sender.on(outcome, (context: EventContext) => {
        const delivery = context.delivery;
        if (!delivery) return;
        const entry = this.outcomes.get(delivery);
        if (!entry) return;
        this.outcomes.delete(delivery);
        entry.handler(outcome, context);
      });
    }
    sender.on('sender_error', () => this.peerClosed(session, this.commandAddress, sender.error));
    sender.on('sender_close', () => this.peerClosed(session, this.commandAddress, sender.error));
    sender.on('sender_open', () => this.relinkBackoff.connected());
    if (this.replyWanted) this.attachReplyReceiver(session);
  }

  private attachReplyReceiver(session: Session): void {
    this.replyOpen = false;
    const receiver = session.open_receiver({ source: { address: this.replyAddress }, credit_window: 64, autoaccept: true });
    this.replyReceiver = receiver;
    countCreditOvershoot(session, receiver, () =>
      this.parent.context.logger.debug('a command response arrived beyond the granted credit', { address: this.replyAddress }),
    );
    receiver.on('receiver_open', () => {
      if (this.replyReceiver !== receiver) return;
      this.replyOpen = true;
      for (const waiter of [...this.replyWaiters]) waiter();
    });
    receiver.on('message', (context: EventContext) => {
      if (context.message) this.parent.onResponse(context.message);
    });
    receiver.on('receiver_error', () => this.peerClosed(session, this.replyAddress, receiver.error));
    receiver.on('receiver_close', () => this.peerClosed(session, this.replyAddress, receiver.error));
  }

  /** The broker closed one of this tenant's links or its session while the connection stayed up. */
  private peerClosed(session: Session, address: string, error: unknown): void {
    if (this.session !== session) return;
    const detail = error as { condition?: unknown; description?: unknown } | undefined;
    const condition = typeof detail?.condition === 'string' ? detail.condition : undefined;
    const failure = new NorthboundLinkError(
      address,
      typeof detail?.description === 'string' ? detail.description : 'closed by the peer',
      condition,
    );
    this.detach(failure);
    // After rhea answered the peer's detach (next tick): ending the session first would be a framing error.
    setImmediate(() => {
      try {
        session.close();
      } catch {
        // already gone
      }
    });
    if (isPermanentLinkError(condition) || !this.parent.context.manager.relink(this, this.relinkBackoff, failure)) {
      // Fail what waits now; the next command builds this tenant's links afresh.
      this.parent.forgetTenant(this);
      this.fail(failure);
    }
  }

  detach(error: Error | undefined): void {
    this.session = undefined;
    this.sender = undefined;
    this.replyReceiver = undefined;
    this.replyOpen = false;
    const lost = new NetworkError('AMQP', this.parent.context.manager.endpoint, 'connection lost before the command was settled', error);
    const entries = [...this.outcomes.values()];
    this.outcomes.clear();
    for (const entry of entries) entry.onLost(lost);
  }

  fail(error: Error): void {
    this.failure = error;
    this.detach(error);
    for (const waiter of [...this.creditWaiters, ...this.replyWaiters]) waiter();
  }

  /** Attaches the reply receiver (once) and waits until the peer confirmed it. */
  async replyReady(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (!this.replyWanted) {
      this.replyWanted = true;
      if (this.session && this.parent.context.manager.current) this.attachReplyReceiver(this.session);
    }
    return this.waitFor(this.replyWaiters, () => this.replyOpen, deadline, signal);
  }

  /** Waits for credit on the command sender; false when the deadline passed first. */
  async credit(deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    return this.waitFor(this.creditWaiters, () => this.sender !== undefined && this.sender.sendable(), deadline, signal);
  }

  private waitFor(waiters: Set<() => void>, ready: () => boolean, deadline: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.failure) return Promise.reject(this.failure);
    if (ready()) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const finish = (result: boolean | Error) => {
        clearTimeout(timer);
        waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const check = () => {
        if (this.failure) finish(this.failure);
        else if (ready()) finish(true);
      };
      const onAbort = () => finish(new AbortError('command', signal?.reason));
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      waiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
  }

  send(message: Message, handler: OutcomeHandler, onLost: (error: Error) => void): void {
    const sender = this.sender;
    if (!sender) throw new NetworkError('AMQP', this.parent.context.manager.endpoint, 'no command link');
    const delivery = sender.send(message);
    this.outcomes.set(delivery, { handler, onLost });
  }

  forget(handler: OutcomeHandler): void {
    for (const [delivery, entry] of this.outcomes) if (entry.handler === handler) this.outcomes.delete(delivery);
  }
}

export class AmqpCommandClient {
  private readonly tenants = new Map<string, TenantCommandLinks>();
  private readonly pending = new Map<string, PendingResponse>();
  private readonly replyId = randomUUID();

  constructor(readonly context: CommandContext) {}

  private links(tenantId: string): TenantCommandLinks {
    let links = this.tenants.get(tenantId);
    if (!links) {
      links = new TenantCommandLinks(this, tenantId, this.replyId);
      this.tenants.set(tenantId, links);
      this.context.manager.add(links);
    }
    return links;
  }

  forgetTenant(links: TenantCommandLinks): void {
    if (this.tenants.get(links.tenantId) === links) this.tenants.delete(links.tenantId);
    this.context.manager.remove(links);
  }

  /** Forgets every tenant's links (after `close()`): they are re-created on the next command. */
  reset(): void {
    this.tenants.clear();
    const pending = [...this.pending.values()];
    this.pending.clear();
    const closed = new TwinLedgerError('the northbound client was closed', { code: 'northbound.closed' });
    for (const entry of pending) entry.reject(closed);
  }

  /** A response arrived on some tenant's reply receiver. */
  onResponse(message: Message): void {
    let response: CommandResponse;
    try {
      response = decodeCommandResponse(message);
    } catch (error) {
      const malformed = error instanceof MalformedMessageError ? error : new MalformedMessageError(String(error), error);
      this.context.logger.warn('ignored a malformed command response', { error: malformed.message });
      this.context.reportError(malformed);
      return;
    }
    const entry = this.pending.get(response.correlationId);
    if (!entry) {
      this.context.logger.debug('command response without a waiting request (late or duplicate)', {
        correlationId: response.correlationId,
      });
      return;
    }
    this.pending.delete(response.correlationId);
    if (response.status >= 400) entry.reject(new CommandFailedError(entry.target, response));
    else entry.resolve(response);
  }

  async request(command: OutgoingCommand): Promise<CommandResponse> {
    return (await this.runOrAbort(command, true)) as CommandResponse;
  }

  async oneWay(command: OutgoingCommand): Promise<void> {
    await this.runOrAbort(command, false);
  }

  /** A command cut short by `close()` rejects with `AbortError`, like one whose signal fired. */
  private async runOrAbort(command: OutgoingCommand, expectResponse: boolean): Promise<CommandResponse | undefined> {
    try {
      return await this.run(command, expectResponse);
    } catch (error) {
      if (error instanceof TwinLedgerError && error.code === 'northbound.closed')
        throw new AbortError(`command "${command.target.name}"`, error);
      throw error;
    }
  }

  private async run(command: OutgoingCommand, expectResponse: boolean): Promise<CommandResponse | undefined> {
    const { target, timeoutMs, signal } = command;
    const started = Date.now();
    const deadline = started + timeoutMs;
    if (signal?.aborted) throw new AbortError(`command "${target.name}"`, signal.reason);
    const down = this.context.manager.downBecause;
    if (down !== undefined && this.context.options.commandsWhileDisconnected === 'fail') {
      throw new NorthboundNotConnectedError(`command "${target.name}" to ${target.tenantId}/${target.deviceId}`, 'disconnected', {
        transport: 'amqp',
        cause: down,
      });
    }
    const timeoutError = (): CommandError => new CommandTimeoutError(target, timeoutMs);

    if (this.context.manager.current === undefined) {
      // Stop waiting for the connection at the deadline too, so a timed-out command leaves no waiter behind.
      const openWait = new AbortController();
      try {
        await this.withDeadline(
          this.context.manager.whenOpen(signal ? AbortSignal.any([signal, openWait.signal]) : openWait.signal),
          deadline,
          timeoutError,
        );
      } finally {
        openWait.abort();
      }
    }
    const links = this.links(target.tenantId);
    if (expectResponse && !(await links.replyReady(deadline, signal))) throw timeoutError();

    const creditDeadline = Math.min(deadline, started + this.context.options.commandCreditWaitMs);
    if (!(await links.credit(creditDeadline, signal))) {
      if (creditDeadline < deadline) throw new NoCommandConsumerError(target, creditDeadline - started);
      throw timeoutError();
    }

    const id = randomUUID();
    const message: Message = {
      to: resolveAddress(this.context.options, 'commandTo', { tenant: target.tenantId, deviceId: target.deviceId }),
      subject: target.name,
      message_id: id,
      body: rhea.message.data_section(command.body),
      ...(command.contentType === undefined ? {} : { content_type: command.contentType }),
      ...(command.properties === undefined ? {} : { application_properties: { ...command.properties } }),
      ...(expectResponse ? { correlation_id: id, reply_to: links.replyAddress } : {}),
    };

    return new Promise<CommandResponse | undefined>((resolve, reject) => {
      let done = false;
      const finish = (result: CommandResponse | undefined | Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        links.forget(handler);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const onAbort = () => finish(new AbortError(`command "${target.name}"`, signal?.reason));
      const timer = setTimeout(() => finish(timeoutError()), Math.max(0, deadline - Date.now()));
      signal?.addEventListener('abort', onAbort, { once: true });

      const handler: OutcomeHandler = (outcome, context) => {
        const detail = outcomeDetail(context);
        if (outcome === 'released' || outcome === 'modified') finish(new DeviceNotConnectedError(target, detail));
        else if (outcome === 'rejected') finish(new CommandRejectedError(target, detail));
        else if (!expectResponse) finish(undefined);
      };
      // The connection dropped before the outcome arrived: a one-way command's fate is unknown; a request
      // keeps waiting, since its response can still arrive on the re-attached reply link.
      const onLost = (error: Error) => {
        if (!expectResponse) finish(error);
      };
      if (expectResponse) {
        this.pending.set(id, { target, resolve: (response) => finish(response), reject: (error) => finish(error) });
      }
      try {
        links.send(message, handler, onLost);
        this.context.logger.debug('command sent', {
          tenantId: target.tenantId,
          deviceId: target.deviceId,
          name: target.name,
          oneWay: !expectResponse,
        });
      } catch (error) {
        finish(error as Error);
      }
    });
  }

  private async withDeadline<T>(promise: Promise<T>, deadline: number, onTimeout: () => Error): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([promise, timeout]);
    } catch (error) {
      if (error instanceof TimeoutError) throw onTimeout();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
