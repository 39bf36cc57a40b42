/**
 * The sandbox's AMQP 1.0 messaging network, as Hono's (Qpid Dispatch Router) looks to a northbound application:
 * receivers attach to `telemetry/{tenant}` and `event/{tenant}`; a message goes to one of them (competing
 * consumers, round-robin over those with credit). Telemetry with QoS 0 goes pre-settled (at most once); telemetry
 * with QoS 1 and every event wait for the consumer's disposition (at least once). With no consumer holding credit the
 * adapter's answer is 503, as Hono's. Applications log in with SASL PLAIN (`consumer@HONO` / `verysecret` by default).
 *
 * Command & control: an application's sender on `command/{tenant}` gets credit; each command (`to` =
 * `command/{tenant}/{device}`) goes to the adapter where that device waits for commands and is accepted, or is
 * released when the device is not connected. Responses go to the application's receiver on the command's `reply-to`
 * (`command_response/{tenant}/{replyId}`), with `correlation-id` and the application properties `status`,
 * `device_id` and `tenant_id`.
 */
import type { AddressInfo } from 'node:net';
import rhea, { type Connection, type Container, type Delivery, type EventContext, type Message, type Sender } from 'rhea';
import type { Logger } from '../core/logger.js';

/** Hono's content type of an empty notification (a device's "ready for commands", with `ttd`). */
export const EMPTY_NOTIFICATION = 'application/vnd.eclipse-hono-empty-notification';

export interface NorthboundUser {
  username: string;
  password: string;
}

/** A downstream message as the adapters hand it over. */
export interface DownstreamMessage {
  tenant: string;
  deviceId: string;
  kind: 'telemetry' | 'event';
  contentType: string;
  payload: Buffer;
  /** QoS 0 (telemetry only) is at most once; 1 waits for the consumer's disposition. */
  qos: 0 | 1;
  origAdapter: string;
  origAddress: string;
  /** Seconds the device waits for a command (`hono-ttd`), when it does. */
  ttd?: number;
}

/** How a publish ended: taken by a consumer, refused by it, or nobody to take it (the adapter answers 503). */
export type PublishOutcome = 'accepted' | 'rejected' | 'no-consumer';

/** What an adapter answers the device for a publish that did not go through (Hono's status codes); undefined when it did. */
export function refusalOf(outcome: PublishOutcome): { status: number; message: string } | undefined {
  if (outcome === 'no-consumer') return { status: 503, message: 'no consumer for the message; try again later' };
  if (outcome === 'rejected') return { status: 400, message: 'the consumer rejected the message' };
  return undefined;
}

/** A command on its way to a device, as an adapter hands it over. */
export interface DeviceCommand {
  tenant: string;
  deviceId: string;
  name: string;
  contentType: string | undefined;
  payload: Buffer;
  /** Set for request/response commands: where the device's response goes. */
  reply?: { correlationId: string; replyTo: string };
}

/** A device's response to a command. */
export interface DeviceCommandResponse {
  tenant: string;
  deviceId: string;
  status: number;
  contentType: string | undefined;
  payload: Buffer;
  correlationId: string;
  replyTo: string;
}

/** Takes a command for a waiting device; false when it cannot (then the next waiter, or `released`). */
export type CommandWaiter = (command: DeviceCommand) => boolean;

/** A consumer inside the sandbox (Ditto's connection of a tenant): takes a message, or answers undefined for "not mine". */
export type LocalConsumer = (message: DownstreamMessage) => Promise<PublishOutcome> | undefined;

export interface RunningMessaging {
  readonly port: number;
  /** Adds a consumer inside the sandbox; it competes with the AMQP consumers of the tenants it takes. */
  addLocalConsumer(consumer: LocalConsumer): void;
  /** Hands a one-way command to the device if it waits for commands now; false otherwise (nothing is queued). */
  commandDevice(command: DeviceCommand): boolean;
  publish(message: DownstreamMessage): Promise<PublishOutcome>;
  /** Registers an adapter's device as ready for commands until the returned function is called. */
  waitForCommands(tenant: string, deviceId: string, waiter: CommandWaiter): () => void;
  /** Sends a device's response to the application that asked; false when no receiver is attached for it. */
  respond(response: DeviceCommandResponse): boolean;
  /**
   * Takes the response to a command sent from inside the sandbox (Ditto's messages): `replyTo` starts with
   * `sandbox/`. Resolves with the response, or undefined after `timeoutMs` (the listener is removed either way).
   */
  localResponse(replyTo: string, correlationId: string, timeoutMs: number): Promise<DeviceCommandResponse | undefined>;
  close(): Promise<void>;
}

export async function startMessaging(options: {
  host: string;
  port: number;
  users: readonly NorthboundUser[];
  /** Application connections held at most; one more is closed with `amqp:resource-limit-exceeded`. */
  maxConnections: number;
  logger: Logger;
}): Promise<RunningMessaging> {
  const { logger } = options;
  const container: Container = rhea.create_container({ id: 'twinledger-sandbox-amqp', autoaccept: false });
  // SASL PLAIN only: an application that cannot log in is refused, as by Cloud2Edge's router.
  (container.sasl_server_mechanisms as { enable_plain(check: (username: string, password: string) => boolean): void }).enable_plain(
    (username, password) => options.users.some((user) => user.username === username && user.password === password),
  );
  const consumers = new Map<string, Sender[]>();
  const waiters = new Map<string, CommandWaiter[]>();
  const localConsumers: LocalConsumer[] = [];
  const localReplies = new Map<string, (response: DeviceCommandResponse) => void>();
  const deviceKey = (tenant: string, deviceId: string) => `${tenant}\n${deviceId}`;
  const connections = new Set<Connection>();
  const pending = new Map<Delivery, (outcome: PublishOutcome) => void>();
  let turn = 0;

  container.on('connection_open', (context: EventContext) => {
    if (connections.size >= options.maxConnections) {
      logger.warn('sandbox messaging: connection limit reached', { maxConnections: options.maxConnections });
      context.connection.close({
        condition: 'amqp:resource-limit-exceeded',
        description: `the messaging network accepts at most ${options.maxConnections} connections; share one connection`,
      });
      return;
    }
    connections.add(context.connection);
  });
  const forget = (context: EventContext) => {
    connections.delete(context.connection);
    for (const [address, senders] of consumers) {
      consumers.set(
        address,
        senders.filter((sender) => sender.connection !== context.connection),
      );
    }
  };
  container.on('connection_close', forget);
  container.on('disconnected', forget);

  container.on('sender_open', (context: EventContext) => {
    const sender = context.sender!;
    const address = sender.source?.address;
    if (typeof address !== 'string' || !/^((telemetry|event)\/[^/]+|command_response\/[^/]+\/[^/]+)$/.test(address)) {
      sender.close({ condition: 'amqp:not-found', description: `no such address: ${String(address)}` });
      return;
    }
    consumers.set(address, [...(consumers.get(address) ?? []), sender]);
    logger.debug('sandbox messaging: consumer attached', { address });
  });
  container.on('sender_close', (context: EventContext) => {
    const sender = context.sender!;
    const address = sender.source?.address;
    if (typeof address === 'string')
      consumers.set(
        address,
        (consumers.get(address) ?? []).filter((entry) => entry !== sender),
      );
  });
  container.on('receiver_open', (context: EventContext) => {
    const receiver = context.receiver!;
    const address = receiver.target?.address;
    if (typeof address !== 'string' || !/^command\/[^/]+$/.test(address)) {
      receiver.close({ condition: 'amqp:not-found', description: `no such address: ${String(address)}` });
      return;
    }
    logger.debug('sandbox messaging: command sender attached', { address });
  });
  container.on('message', (context: EventContext) => {
    const message = context.message!;
    const delivery = context.delivery!;
    const tenant = context.receiver?.target?.address?.slice('command/'.length) ?? '';
    const to = typeof message.to === 'string' ? message.to : '';
    const prefix = `command/${tenant}/`;
    const name = typeof message.subject === 'string' ? message.subject : '';
    if (!to.startsWith(prefix) || name === '') {
      delivery.reject({ condition: 'amqp:invalid-field', description: 'a command needs to = command/{tenant}/{device} and a subject' });
      return;
    }
    const deviceId = to.slice(prefix.length);
    const correlation = message.correlation_id ?? message.message_id;
    const replyTo = typeof message.reply_to === 'string' ? message.reply_to : undefined;
    const command: DeviceCommand = {
      tenant,
      deviceId,
      name,
      contentType: typeof message.content_type === 'string' ? message.content_type : undefined,
      payload: bodyBytes(message.body),
      ...(replyTo !== undefined && correlation !== undefined ? { reply: { correlationId: String(correlation), replyTo } } : {}),
    };
    const ready = waiters.get(deviceKey(tenant, deviceId)) ?? [];
    if (ready.some((waiter) => waiter(command))) delivery.accept();
    else delivery.release({ delivery_failed: true });
  });

  const settle = (outcome: PublishOutcome) => (context: EventContext) => {
    const resolve = context.delivery === undefined ? undefined : pending.get(context.delivery);
    if (resolve === undefined || context.delivery === undefined) return;
    pending.delete(context.delivery);
    resolve(outcome);
  };
  container.on('accepted', settle('accepted'));
  container.on('rejected', settle('rejected'));
  // Released or modified: the consumer gave it back; no other consumer is tried (Hono's adapter answers 503 too).
  container.on('released', settle('no-consumer'));
  container.on('modified', settle('no-consumer'));

  const server = container.listen({ host: options.host, port: options.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('sandbox AMQP messaging network listening', { host: options.host, port });

  return {
    port,
    addLocalConsumer(consumer) {
      localConsumers.push(consumer);
    },
    commandDevice(command) {
      return (waiters.get(deviceKey(command.tenant, command.deviceId)) ?? []).some((waiter) => waiter(command));
    },
    publish(message) {
      const address = `${message.kind}/${message.tenant}`;
      const ready = (consumers.get(address) ?? []).filter((sender) => sender.sendable());
      // Local consumers compete with the AMQP ones in the same round-robin (as Ditto's receivers do on Hono's router).
      const slots = ready.length + localConsumers.length;
      if (slots === 0) return Promise.resolve('no-consumer');
      for (let tried = 0; tried < localConsumers.length; tried += 1) {
        const slot = turn % slots;
        if (slot < ready.length) break;
        turn += 1;
        const taken = localConsumers[slot - ready.length]!(message);
        if (taken !== undefined) return taken;
      }
      if (ready.length === 0) return Promise.resolve('no-consumer');
      const sender = ready[turn++ % ready.length]!;
      const amqp: Message = {
        content_type: message.contentType,
        creation_time: new Date(),
        durable: message.kind === 'event',
        application_properties: {
          device_id: message.deviceId,
          qos: message.qos,
          orig_adapter: message.origAdapter,
          orig_address: message.origAddress,
          ...(message.ttd === undefined ? {} : { ttd: message.ttd }),
        },
        body: rhea.message.data_section(message.payload),
      };
      if (message.kind === 'telemetry' && message.qos === 0) {
        sender.send(amqp).update(true);
        return Promise.resolve('accepted');
      }
      return new Promise<PublishOutcome>((resolve) => pending.set(sender.send(amqp), resolve));
    },
    waitForCommands(tenant, deviceId, waiter) {
      const key = deviceKey(tenant, deviceId);
      waiters.set(key, [...(waiters.get(key) ?? []), waiter]);
      return () => {
        const left = (waiters.get(key) ?? []).filter((entry) => entry !== waiter);
        if (left.length === 0) waiters.delete(key);
        else waiters.set(key, left);
      };
    },
    localResponse(replyTo, correlationId, timeoutMs) {
      return new Promise((resolve) => {
        const key = `${replyTo}\n${correlationId}`;
        const timer = setTimeout(() => {
          localReplies.delete(key);
          resolve(undefined);
        }, timeoutMs);
        localReplies.set(key, (response) => {
          clearTimeout(timer);
          localReplies.delete(key);
          resolve(response);
        });
      });
    },
    respond(response) {
      const local = localReplies.get(`${response.replyTo}\n${response.correlationId}`);
      if (local !== undefined) {
        local(response);
        return true;
      }
      const sender = (consumers.get(response.replyTo) ?? []).find((candidate) => candidate.sendable());
      if (sender === undefined) return false;
      sender.send({
        correlation_id: response.correlationId,
        ...(response.contentType === undefined ? {} : { content_type: response.contentType }),
        application_properties: { status: response.status, device_id: response.deviceId, tenant_id: response.tenant },
        body: rhea.message.data_section(response.payload),
      });
      return true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const resolvePending of pending.values()) resolvePending('no-consumer');
        pending.clear();
        for (const connection of connections) connection.close();
        server.close(() => resolve());
        for (const connection of connections) connection.socket?.destroy?.();
      }),
  };
}

/** A message body as bytes: a Data section, a string, or nothing. */
function bodyBytes(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  const section = body as { typecode?: number; content?: unknown };
  if (section.typecode === 0x75 && Buffer.isBuffer(section.content)) return section.content;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}
