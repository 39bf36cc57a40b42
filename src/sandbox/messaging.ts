/**
 * The sandbox's AMQP 1.0 messaging network, as Hono's (Qpid Dispatch Router) looks to a northbound application:
 * receivers attach to `telemetry/{tenant}` and `event/{tenant}`; a message goes to one of them (competing
 * consumers, round-robin over those with credit). Telemetry with QoS 0 goes pre-settled (at most once); telemetry
 * with QoS 1 and every event wait for the consumer's disposition (at least once). With no consumer holding credit the
 * adapter's answer is 503, as Hono's. Applications log in with SASL PLAIN (`consumer@HONO` / `verysecret` by default).
 */
import type { AddressInfo } from 'node:net';
import rhea, { type Connection, type Container, type Delivery, type EventContext, type Message, type Sender } from 'rhea';
import type { Logger } from '../core/logger.js';

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

export interface RunningMessaging {
  readonly port: number;
  publish(message: DownstreamMessage): Promise<PublishOutcome>;
  close(): Promise<void>;
}

export async function startMessaging(options: {
  host: string;
  port: number;
  users: readonly NorthboundUser[];
  logger: Logger;
}): Promise<RunningMessaging> {
  const { logger } = options;
  const container: Container = rhea.create_container({ id: 'twinledger-sandbox-amqp' });
  // SASL PLAIN only: an application that cannot log in is refused, as by Cloud2Edge's router.
  (container.sasl_server_mechanisms as { enable_plain(check: (username: string, password: string) => boolean): void }).enable_plain(
    (username, password) => options.users.some((user) => user.username === username && user.password === password),
  );
  const consumers = new Map<string, Sender[]>();
  const connections = new Set<Connection>();
  const pending = new Map<Delivery, (outcome: PublishOutcome) => void>();
  let turn = 0;

  container.on('connection_open', (context: EventContext) => connections.add(context.connection));
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
    if (typeof address !== 'string' || !/^(telemetry|event)\/[^/]+$/.test(address)) {
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
    publish(message) {
      const address = `${message.kind}/${message.tenant}`;
      const ready = (consumers.get(address) ?? []).filter((sender) => sender.sendable());
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
