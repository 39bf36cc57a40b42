/**
 * Hono's MQTT protocol adapter (MQTT 3.1.1) on an embedded broker (aedes): devices log in as `auth-id@tenant` with
 * the registry's password, or on the TLS port with a client certificate that a tenant's trusted CA issued; they publish telemetry (`telemetry`/`t`, QoS 0 or 1) and events (`event`/`e`, QoS 1), for
 * themselves or, as a gateway, for the devices that name them in `via` (`t//{device}`), with an optional property bag
 * (`t/?content-type=…`); they subscribe to `command///req/#` (gateways also `command//+/req/#` or one device) and
 * `error///#`, and answer commands on `command///res/{reqId}/{status}`. A publish is acknowledged once the messaging
 * network took it. A publish the adapter refuses is reported on the error topic when the device subscribed to it, and
 * otherwise closes the connection, as Hono does. Devices see nothing of each other: any other topic is refused.
 */
import { type Server, createServer } from 'node:net';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import { asError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { SandboxRefusalError } from './errors.js';
import type { CommandRequests } from './command-requests.js';
import { listenOn } from './http.js';
import { type DeviceCommand, EMPTY_NOTIFICATION, type RunningMessaging, refusalOf } from './messaging.js';
import type { RegistryStore } from './registry-store.js';
import type { TenantLimits } from './tenant-limits.js';

export interface MqttAdapterOptions {
  host: string;
  port: number;
  /** The TLS port's server certificate and key (PEM); no TLS port without them. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  tlsPort?: number;
  maxPayloadBytes: number;
  /** Device connections the adapter holds at most (beyond: CONNACK 3, server unavailable, as Hono's). */
  maxConnections: number;
  logger: Logger;
}

export interface RunningMqttAdapter {
  readonly port: number;
  /** The TLS port (MQTTS), when the adapter has a server certificate. */
  readonly tlsPort: number | undefined;
  close(): Promise<void>;
}

interface Session {
  tenant: string;
  deviceId: string;
  /** Stops each command subscription's registration with the messaging network. */
  commandSubscriptions: Map<string, () => void>;
  reportsErrors: boolean;
}

/** A refusal of a publish: the status Hono reports on the error topic, and why. */
class PublishRefusal {
  constructor(
    readonly status: number,
    readonly message: string,
  ) {}
}

const ENDPOINTS: Record<string, 'telemetry' | 'event'> = { telemetry: 'telemetry', t: 'telemetry', event: 'event', e: 'event' };

function propertyBag(level: string | undefined): Record<string, string> {
  if (level === undefined || !level.startsWith('?')) return {};
  return Object.fromEntries(new URLSearchParams(level.slice(1)));
}

type OnError = 'default' | 'disconnect' | 'ignore' | 'skip-ack';

/** The `on-error` property of a publish topic's property bag (an unknown value counts as `default`). */
function onErrorOf(topic: string): OnError {
  const value = propertyBag(topic.split('/').find((level) => level.startsWith('?')))['on-error'];
  return value === 'disconnect' || value === 'ignore' || value === 'skip-ack' ? value : 'default';
}

export async function startMqttAdapter(
  registry: RegistryStore,
  messaging: RunningMessaging,
  requests: CommandRequests,
  limits: TenantLimits,
  options: MqttAdapterOptions,
): Promise<RunningMqttAdapter> {
  const { logger } = options;
  const sessions = new WeakMap<Client, Session>();
  let connected = 0;

  /** Counts the payload against the tenant's data volume: 429 when the period's volume is used up. */
  const charge = (tenant: string, payload: Buffer) => {
    const overLimit = limits.charge(tenant, payload.byteLength);
    if (overLimit !== undefined) throw new PublishRefusal(429, overLimit.message);
  };

  /** The device a session may act for: itself, or a device behind it (`via`). */
  const actingFor = (session: Session, tenantLevel: string, deviceLevel: string): { tenant: string; deviceId: string } => {
    const tenant = tenantLevel === '' ? session.tenant : tenantLevel;
    if (tenant !== session.tenant) throw new PublishRefusal(403, 'a device may not act for another tenant');
    const deviceId = deviceLevel === '' ? session.deviceId : deviceLevel;
    if (deviceId !== session.deviceId) {
      const behind = registry.device(tenant, deviceId);
      if (behind === undefined || behind.enabled === false) throw new PublishRefusal(404, `device ${deviceId} is unknown or disabled`);
      if (!(Array.isArray(behind.via) && behind.via.includes(session.deviceId))) {
        throw new PublishRefusal(403, `${session.deviceId} is not a gateway of ${deviceId}`);
      }
    }
    return { tenant, deviceId };
  };

  const downstream = async (session: Session, packet: PublishPacket, levels: string[]) => {
    const kind = ENDPOINTS[levels[0]!]!;
    const bagAt = levels.findIndex((level) => level.startsWith('?'));
    const address = bagAt < 0 ? levels : levels.slice(0, bagAt);
    if (address.length !== 1 && address.length !== 3) throw new PublishRefusal(400, `malformed topic ${packet.topic}`);
    const target = address.length === 3 ? actingFor(session, address[1]!, address[2]!) : session;
    if (kind === 'event' && packet.qos !== 1) throw new PublishRefusal(400, 'events must be published with QoS 1');
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (payload.byteLength > options.maxPayloadBytes) throw new PublishRefusal(413, `the payload exceeds ${options.maxPayloadBytes} bytes`);
    charge(target.tenant, payload);
    const bag = propertyBag(bagAt < 0 ? undefined : levels[bagAt]);
    const contentType = bag['content-type'] ?? 'application/octet-stream';
    const outcome = await messaging.publish({
      tenant: target.tenant,
      deviceId: target.deviceId,
      kind,
      contentType,
      payload,
      qos: packet.qos === 0 ? 0 : 1,
      origAdapter: 'hono-mqtt',
      origAddress: packet.topic,
    });
    const refusal = refusalOf(outcome);
    if (refusal !== undefined) throw new PublishRefusal(refusal.status, refusal.message);
  };

  const commandResponse = (session: Session, packet: PublishPacket, all: string[]) => {
    // command/{tenant}/{device}/res/{reqId}/{status}[/?property-bag]
    const bag = all.length === 7 ? propertyBag(all[6]) : {};
    const levels = all.length === 7 && all[6]!.startsWith('?') ? all.slice(0, 6) : all;
    if (levels.length !== 6) throw new PublishRefusal(400, `malformed topic ${packet.topic}`);
    const target = actingFor(session, levels[1]!, levels[2]!);
    const status = levels[5]!;
    if (!/^[1-5]\d\d$/.test(status)) throw new PublishRefusal(400, 'the status level must be an HTTP status code');
    const open = requests.find(levels[4]!, target.tenant, target.deviceId);
    if (open === undefined) throw new PublishRefusal(400, 'no command with this request ID is waiting for a response from this device');
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    charge(target.tenant, payload);
    const delivered = messaging.respond({
      tenant: open.tenant,
      deviceId: open.deviceId,
      status: Number(status),
      contentType: bag['content-type'],
      payload,
      correlationId: open.correlationId,
      replyTo: open.replyTo,
    });
    if (!delivered) throw new PublishRefusal(503, 'the application that sent the command no longer listens for its response');
    requests.close(levels[4]!);
  };

  /**
   * Hono's error handling: with an `error///#` subscription the refusal is reported there; then the `on-error`
   * property of the topic decides — `disconnect` closes the connection, `skip-ack` keeps it but sends no PUBACK,
   * `ignore` (and, with an error subscription, `default`) keeps it and acknowledges; without an error subscription
   * `default` closes it.
   */
  const reportOrClose = (
    client: Client,
    session: Session,
    packet: PublishPacket,
    refusal: PublishRefusal,
    callback: (error?: Error | null) => void,
  ) => {
    logger.debug('sandbox MQTT adapter refused a publish', { topic: packet.topic, status: refusal.status, reason: refusal.message });
    const mode = onErrorOf(packet.topic);
    const closes = mode === 'disconnect' || (mode === 'default' && !session.reportsErrors);
    const finish = () => {
      if (closes) {
        callback(new SandboxRefusalError(refusal.status, refusal.message)); // aedes closes the connection
        return;
      }
      // aedes acknowledges a QoS 1 publish it lets through; as QoS 0 it goes on without a PUBACK (and no device may subscribe to it).
      if (mode === 'skip-ack') packet.qos = 0;
      callback(null);
    };
    if (!session.reportsErrors) {
      finish();
      return;
    }
    const levels = packet.topic.split('/');
    const endpoint = ENDPOINTS[levels[0]!] ?? (levels[0] === 'command' || levels[0] === 'c' ? 'command-response' : 'unknown');
    const correlationId = packet.qos === 0 || packet.messageId === undefined ? '-1' : String(packet.messageId);
    client.publish(
      {
        cmd: 'publish',
        topic: `error///${endpoint}/${correlationId}/${refusal.status}`,
        payload: Buffer.from(
          JSON.stringify({
            code: refusal.status,
            message: refusal.message,
            timestamp: new Date().toISOString(),
            'correlation-id': correlationId,
          }),
        ),
        qos: 0,
        retain: false,
        dup: false,
      },
      finish,
    );
  };

  /**
   * Who connects, as Hono's adapter decides it: a client certificate on the TLS port first (the tenant whose trusted
   * CA issued it, the device whose x509-cert credential has its subject DN), then `auth-id@tenant` and the password.
   * A number is the CONNACK return code of a refusal.
   */
  const identify = async (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<{ tenant: string; deviceId: string } | 4 | 5> => {
    const certificate = client.conn instanceof TLSSocket ? client.conn.getPeerX509Certificate() : undefined;
    if (certificate !== undefined) {
      const byCertificate = registry.authenticateCertificate(certificate);
      if (byCertificate !== undefined) return { tenant: byCertificate.tenantId, deviceId: byCertificate.deviceId };
    }
    const login = username ?? '';
    const at = login.lastIndexOf('@');
    if (at <= 0 || password === undefined) return 5;
    const tenant = login.slice(at + 1);
    const found = await registry.authenticate(tenant, login.slice(0, at), password.toString('utf8'));
    return found === undefined ? 4 : { tenant, deviceId: found.deviceId };
  };

  const broker = await Aedes.createBroker({
    id: 'twinledger-sandbox-mqtt',
    authenticate: (client, username, password, done) => {
      const refuse = (returnCode: 4 | 5) => done(Object.assign(new SandboxRefusalError(401, 'not authorized'), { returnCode }), false);
      identify(client, username, password).then(
        (found) => {
          if (typeof found === 'number') {
            refuse(found);
            return;
          }
          if (connected >= options.maxConnections) {
            logger.warn('sandbox MQTT adapter: connection limit reached', { maxConnections: options.maxConnections });
            done(Object.assign(new SandboxRefusalError(503, "the adapter's connection limit is reached"), { returnCode: 3 }), false);
            return;
          }
          const admitted = limits.connect(found.tenant);
          if ('limit' in admitted) {
            logger.debug('sandbox MQTT adapter: tenant limit', { tenant: found.tenant, reason: admitted.message });
            refuse(5);
            return;
          }
          connected += 1;
          let counted = true;
          client.conn.once('close', () => {
            if (!counted) return;
            counted = false;
            connected -= 1;
            admitted.release();
          });
          sessions.set(client, { ...found, commandSubscriptions: new Map(), reportsErrors: false });
          done(null, true);
        },
        () => refuse(4),
      );
    },
    authorizePublish: (client, packet, callback) => {
      const session = client === null ? undefined : sessions.get(client);
      if (client === null || session === undefined) {
        callback(new SandboxRefusalError(401, 'not authenticated'));
        return;
      }
      const levels = packet.topic.split('/');
      const work =
        ENDPOINTS[levels[0]!] !== undefined
          ? downstream(session, packet, levels)
          : (levels[0] === 'command' || levels[0] === 'c') && (levels[3] === 'res' || levels[3] === 's')
            ? Promise.resolve().then(() => commandResponse(session, packet, levels))
            : Promise.reject(new PublishRefusal(403, `devices may not publish to ${packet.topic}`));
      work.then(
        () => callback(null),
        (error: unknown) => {
          if (error instanceof PublishRefusal) reportOrClose(client, session, packet, error, callback);
          else {
            logger.error('sandbox MQTT adapter: a publish failed', { topic: packet.topic, error });
            callback(asError(error));
          }
        },
      );
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const session = sessions.get(client);
      const granted = session === undefined ? undefined : subscribe(session, client, subscription);
      // A refused filter gets the failure return code (0x80) in SUBACK; the connection stays.
      callback(null, granted ?? null);
    },
  });

  /** Grants `command…/req/#` and `error…/#` filters (registering the device for commands); refuses any other. */
  const subscribe = (session: Session, client: Client, subscription: Subscription): Subscription | undefined => {
    const levels = subscription.topic.split('/');
    if ((levels[0] === 'error' || levels[0] === 'e') && levels.length === 4 && levels[3] === '#' && levels[1] === '') {
      session.reportsErrors = true;
      return subscription;
    }
    if (!(
      (levels[0] === 'command' || levels[0] === 'c') &&
      levels.length === 5 &&
      (levels[3] === 'req' || levels[3] === 'q') &&
      levels[4] === '#'
    )) {
      return undefined;
    }
    if (levels[1] !== '' && levels[1] !== session.tenant) return undefined;
    const deviceLevel = levels[2]!;
    const targets =
      deviceLevel === '' ? [session.deviceId] : deviceLevel === '+' ? registry.devicesVia(session.tenant, session.deviceId) : [deviceLevel];
    if (deviceLevel !== '' && deviceLevel !== '+' && !registry.devicesVia(session.tenant, session.deviceId).includes(deviceLevel))
      return undefined;
    session.commandSubscriptions.get(subscription.topic)?.();
    for (const deviceId of targets) notifyReady(session.tenant, deviceId, subscription.topic, -1);
    const stops = targets.map((deviceId) =>
      messaging.waitForCommands(session.tenant, deviceId, (command) =>
        deliverCommand(client, command, levels, subscription.qos, deviceId !== session.deviceId),
      ),
    );
    session.commandSubscriptions.set(subscription.topic, () => {
      stops.forEach((stop) => stop());
      for (const deviceId of targets) notifyReady(session.tenant, deviceId, subscription.topic, 0);
    });
    return subscription;
  };

  /**
   * Hono's "ready for commands" notification: an empty-notification event with `ttd` -1 when a device subscribes for
   * commands, 0 when it unsubscribes or disconnects. Sent like any event; nobody consuming is no error here.
   */
  const notifyReady = (tenant: string, deviceId: string, topic: string, ttd: number) => {
    void messaging
      .publish({
        tenant,
        deviceId,
        kind: 'event',
        contentType: EMPTY_NOTIFICATION,
        payload: Buffer.alloc(0),
        qos: 1,
        origAdapter: 'hono-mqtt',
        origAddress: topic,
        ttd,
      })
      .catch((error: unknown) => logger.debug('sandbox MQTT adapter: a ttd notification failed', { deviceId, error }));
  };

  const deliverCommand = (client: Client, command: DeviceCommand, levels: string[], qos: number, gateway: boolean): boolean => {
    if (client.closed || !client.connected) return false;
    const reqId = requests.add(command) ?? '';
    client.publish(
      {
        cmd: 'publish',
        topic: `${levels[0]}/${gateway ? `/${command.deviceId}` : '/'}/${levels[3]}/${reqId}/${command.name}`,
        payload: command.payload,
        qos: qos === 0 ? 0 : 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
    return true;
  };

  const forget = (client: Client) => {
    const session = sessions.get(client);
    if (session === undefined) return;
    for (const stop of session.commandSubscriptions.values()) stop();
    session.commandSubscriptions.clear();
  };
  broker.on('clientDisconnect', forget);
  broker.on('clientError', (client) => forget(client));
  broker.on('unsubscribe', (topics, client) => {
    const session = sessions.get(client);
    for (const topic of topics) {
      session?.commandSubscriptions.get(topic)?.();
      session?.commandSubscriptions.delete(topic);
    }
  });

  const server: Server = createServer(broker.handle);
  const port = await listenOn(server, options.host, options.port);
  // The TLS port asks for a client certificate but lets the device in without one (it may log in with a password);
  // a certificate is checked against the tenants' trust anchors at CONNECT, not by the TLS handshake.
  const tlsServer =
    options.tls === undefined
      ? undefined
      : createTlsServer({ cert: options.tls.cert, key: options.tls.key, requestCert: true, rejectUnauthorized: false }, broker.handle);
  let tlsPort: number | undefined;
  if (tlsServer !== undefined) {
    try {
      tlsPort = await listenOn(tlsServer, options.host, options.tlsPort ?? 0);
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      broker.close();
      throw error;
    }
  }
  logger.info('sandbox MQTT adapter listening', { host: options.host, port, tlsPort });
  return {
    port,
    tlsPort,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => (tlsServer ? tlsServer.close(() => resolve()) : resolve())));
      }),
  };
}
