// Hono-specific MQTT behaviour that a general broker does not show: error-topic reports that precede the
// PUBACK of the failed message, CONNACK refusals, refused subscriptions, a connection closed on a bad
// message. A small MQTT 3.1.1 server (mqtt-packet, which mqtt.js itself uses) plays the Hono MQTT adapter.
import assert from 'node:assert/strict';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type IConnectPacket, type IPublishPacket, type ISubscribePacket, type Packet, generate, parser } from 'mqtt-packet';
import { ExponentialBackoff, PayloadTooLargeError, ServiceUnavailableError } from '../../src/core/index.js';
import {
  type DeviceClient,
  type DeviceClientOptions,
  DeviceClientStateError,
  DeviceConnectError,
  DeviceConnectionLostError,
  DeviceOfflineError,
  DevicePayloadTooLargeError,
  createDeviceClient,
} from '../../src/device/index.js';
import { settlesWithin, until } from '../support/settle.js';

class AdapterConnection {
  readonly subscriptions: string[] = [];
  /** The link went silent: packets are read and ignored (no PUBACK, no PINGRESP), the socket stays open. */
  silent = false;
  constructor(readonly socket: Socket) {}
  send(packet: Packet): void {
    if (!this.socket.destroyed) this.socket.write(generate(packet));
  }
  /** What Hono does on the error topic for a failed message. */
  report(endpoint: string, correlationId: string | number, code: number, message: string): void {
    const body = { code, message, timestamp: new Date().toISOString(), 'correlation-id': String(correlationId) };
    this.send({
      cmd: 'publish',
      topic: `error///${endpoint}/${correlationId}/${code}`,
      payload: Buffer.from(JSON.stringify(body)),
      qos: 0,
      retain: false,
      dup: false,
    });
  }
  puback(messageId: number | undefined): void {
    this.send({ cmd: 'puback', messageId });
  }
}

class FakeMqttAdapter {
  readonly connects: IConnectPacket[] = [];
  readonly publishes: IPublishPacket[] = [];
  readonly acks: number[] = [];
  readonly connections: AdapterConnection[] = [];
  /** CONNACK return codes for the next connections (then 0). */
  connackCodes: number[] = [];
  refusedFilters: string[] = [];
  onPublish: (connection: AdapterConnection, packet: IPublishPacket) => void = (connection, packet) => {
    if (packet.qos === 1) connection.puback(packet.messageId);
  };
  private server: Server;
  port = 0;

  constructor() {
    this.server = createServer((socket) => this.accept(socket));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get current(): AdapterConnection {
    const connection = this.connections.at(-1);
    if (connection === undefined) throw new Error('no connection');
    return connection;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const connection = new AdapterConnection(socket);
    this.connections.push(connection);
    const incoming = parser({ protocolVersion: 4 });
    socket.on('data', (chunk) => incoming.parse(chunk));
    socket.on('error', () => undefined);
    incoming.on('packet', (packet: Packet) => this.handle(connection, packet));
  }

  private handle(connection: AdapterConnection, packet: Packet): void {
    if (connection.silent) return;
    switch (packet.cmd) {
      case 'connect': {
        this.connects.push(packet);
        const returnCode = this.connackCodes.shift() ?? 0;
        connection.send({ cmd: 'connack', returnCode, sessionPresent: false });
        if (returnCode !== 0) connection.socket.end();
        break;
      }
      case 'subscribe': {
        const subscribe = packet as ISubscribePacket;
        connection.subscriptions.push(...subscribe.subscriptions.map((s) => s.topic));
        const granted = subscribe.subscriptions.map((s) => (this.refusedFilters.includes(s.topic) ? 128 : s.qos));
        connection.send({ cmd: 'suback', messageId: subscribe.messageId, granted });
        break;
      }
      case 'unsubscribe':
        connection.send({ cmd: 'unsuback', messageId: packet.messageId, granted: [] });
        break;
      case 'publish':
        this.publishes.push(packet);
        this.onPublish(connection, packet);
        break;
      case 'puback':
        this.acks.push(packet.messageId ?? -1);
        break;
      case 'pingreq':
        connection.send({ cmd: 'pingresp' });
        break;
      case 'disconnect':
        connection.socket.end();
        break;
      default:
        break;
    }
  }
}

const quick = (maxAttempts = Number.POSITIVE_INFINITY) =>
  new ExponentialBackoff({ maxAttempts, initialDelayMs: 5, maxDelayMs: 30, jitter: 'none' });

describe('device MQTT client against a stand-in Hono MQTT adapter', () => {
  let fake: FakeMqttAdapter;
  const devices: DeviceClient[] = [];
  const device = (overrides: Partial<DeviceClientOptions> = {}): DeviceClient => {
    const client = createDeviceClient({
      transport: 'mqtt',
      endpoint: fake.url,
      tenant: 'org.acme',
      authId: 'lamp-1',
      password: 'secret-1',
      retry: quick(4),
      reconnect: { policy: quick() },
      ...overrides,
    } as DeviceClientOptions);
    devices.push(client);
    return client;
  };

  beforeEach(async () => {
    fake = new FakeMqttAdapter();
    await fake.listen();
  });

  afterEach(async () => {
    for (const client of devices.splice(0)) await client.close({ timeoutMs: 500 });
    await fake.stop();
  });

  it('connects as MQTT 3.1.1 with auth-id@tenant and subscribes to error///# on the same connection', async () => {
    const lamp = device();
    await lamp.connect();
    const connect = fake.connects[0] as IConnectPacket;
    assert.equal(connect.protocolVersion, 4);
    assert.equal(connect.username, 'lamp-1@org.acme');
    assert.equal(String(connect.password), 'secret-1');
    assert.equal(connect.clean, true);
    assert.equal(connect.keepalive, 30);
    assert.match(connect.clientId, /^lamp-1-[0-9a-f]{8}$/);
    assert.deepEqual(fake.current.subscriptions, ['error///#']);

    const quiet = device({ reportErrors: false });
    await quiet.connect();
    assert.deepEqual(fake.current.subscriptions, []);
  });

  it('rejects the QoS 1 publish an error report names (by packet id) with the typed error', async () => {
    fake.onPublish = (connection, packet) => {
      connection.report('telemetry', packet.messageId as number, 413, 'payload too large');
      connection.puback(packet.messageId);
    };
    const lamp = device();
    await lamp.connect();
    await assert.rejects(lamp.telemetry({ big: true }, { qos: 1 }), (error: unknown) => {
      assert.ok(error instanceof DevicePayloadTooLargeError);
      assert.ok(error instanceof PayloadTooLargeError);
      assert.equal(error.local, false);
      assert.equal(error.status, 413);
      assert.match(error.message, /payload too large/);
      assert.match(error.message, /off-chain/);
      return true;
    });
    assert.equal(fake.publishes.length, 1, '413 is final');
  });

  it('retries a message the adapter reported 503 for (no downstream consumer) and succeeds', async () => {
    let failures = 2;
    fake.onPublish = (connection, packet) => {
      if (failures > 0) {
        failures -= 1;
        connection.report('event', packet.messageId as number, 503, 'no consumer');
      }
      connection.puback(packet.messageId);
    };
    const lamp = device();
    await lamp.connect();
    await lamp.event({ alarm: true });
    assert.equal(fake.publishes.length, 3);
    assert.ok(fake.publishes.every((p) => p.payload.toString() === '{"alarm":true}'));
  });

  it('gives up on 503 when the retry policy does', async () => {
    fake.onPublish = (connection, packet) => {
      connection.report('event', packet.messageId as number, 503, 'no consumer');
      connection.puback(packet.messageId);
    };
    const lamp = device({ retry: quick(2) });
    await lamp.connect();
    await assert.rejects(lamp.event('x'), ServiceUnavailableError);
    assert.equal(fake.publishes.length, 2);
  });

  it('PUBACKs a QoS 1 command on receipt, before the application has handled it', async () => {
    const lamp = device();
    let release!: () => void;
    const handled = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handlerStarted = false;
    lamp.onCommand(async (command) => {
      handlerStarted = true;
      await handled;
      await command.respond(200, { done: true });
    });
    await lamp.connect();
    assert.deepEqual(fake.current.subscriptions, ['error///#', 'command///req/#']);
    fake.current.send({
      cmd: 'publish',
      topic: 'command///req/r-1/switch',
      payload: Buffer.from('{}'),
      qos: 1,
      messageId: 7,
      retain: false,
      dup: false,
    });
    await until(() => fake.acks.includes(7), 'the PUBACK of the command');
    assert.equal(handlerStarted, true);
    assert.equal(fake.publishes.length, 0, 'the application has not answered yet');
    release();
    await until(() => fake.publishes.length === 1, 'the command response');
    assert.equal(fake.publishes[0]?.topic, 'command///res/r-1/200/?content-type=application%2Fjson');
  });

  it('ignores a redelivered request/response command (same request id)', async () => {
    const lamp = device();
    const names: string[] = [];
    lamp.onCommand((command) => {
      names.push(command.requestId ?? '-');
    });
    await lamp.connect();
    for (const id of [1, 2]) {
      fake.current.send({
        cmd: 'publish',
        topic: 'command///req/r-dup/switch',
        payload: Buffer.from('{}'),
        qos: 1,
        messageId: id,
        retain: false,
        dup: id === 2,
      });
    }
    fake.current.send({
      cmd: 'publish',
      topic: 'command///req/r-next/switch',
      payload: Buffer.from('{}'),
      qos: 1,
      messageId: 3,
      retain: false,
      dup: false,
    });
    await until(() => names.length === 2 && fake.acks.length === 3, 'two commands');
    assert.deepEqual(names, ['r-dup', 'r-next']);
  });

  it('fails connect() at once on CONNACK 4 (bad username or password), naming the username', async () => {
    fake.connackCodes = [4];
    const lamp = device();
    await assert.rejects(lamp.connect(), (error: unknown) => {
      assert.ok(error instanceof DeviceConnectError);
      assert.equal(error.returnCode, 4);
      assert.match(error.message, /lamp-1@org\.acme/);
      assert.doesNotMatch(error.message, /secret-1/);
      return true;
    });
    assert.equal(fake.connects.length, 1, 'no retry for bad credentials');
  });

  it('retries CONNACK 3 (server unavailable) until the adapter accepts', async () => {
    fake.connackCodes = [3, 3];
    const lamp = device();
    const attempts: number[] = [];
    lamp.on('reconnecting', (event) => attempts.push(event.attempt));
    await lamp.connect();
    assert.equal(fake.connects.length, 3);
    assert.deepEqual(attempts, [1, 2]);
  });

  it('fails connect() when the adapter refuses the gateway subscription', async () => {
    fake.refusedFilters = ['command//+/req/#'];
    const gateway = device({ authId: 'gw-1', gateway: true });
    gateway.onCommand(() => undefined);
    await assert.rejects(
      gateway.connect(),
      (error: unknown) => error instanceof DeviceConnectError && /command\/\/\+\/req\/#/.test(error.message),
    );
  });

  it('sends an unacknowledged QoS 1 message again after the adapter closed the connection', async () => {
    let drop = true;
    fake.onPublish = (connection, packet) => {
      if (drop) {
        drop = false;
        connection.socket.destroy(); // what Hono does on a failed publish without an error subscription
        return;
      }
      connection.puback(packet.messageId);
    };
    const lamp = device();
    await lamp.connect();
    await lamp.telemetry({ n: 1 }, { qos: 1 });
    assert.equal(fake.publishes.length, 2);
    assert.equal(fake.connects.length, 2);
    assert.deepEqual(
      fake.publishes.map((p) => p.payload.toString()),
      ['{"n":1}', '{"n":1}'],
    );
  });

  it('reports a lost connection as lost (reset, closed by the adapter), not as a failed CONNECT', async () => {
    const lamp = device();
    const disconnects: Array<Error | undefined> = [];
    const reconnects: Error[] = [];
    lamp.on('disconnected', ({ error }) => disconnects.push(error));
    lamp.on('reconnecting', ({ error }) => reconnects.push(error));
    await lamp.connect();
    fake.current.socket.resetAndDestroy(); // TCP RST: the client reads ECONNRESET
    await until(() => fake.connects.length === 2 && lamp.state === 'connected', 'the reconnect after the reset');
    fake.current.socket.end(); // closed by the adapter without an error
    await until(() => fake.connects.length === 3 && lamp.state === 'connected', 'the reconnect after the close');
    assert.equal(disconnects.length, 2);
    assert.equal(reconnects.length, 2);
    const [reset, closed] = disconnects as [Error, Error];
    for (const error of [reset, closed, ...reconnects]) {
      assert.ok(error instanceof DeviceConnectionLostError, `${error.name}: ${error.message}`);
      assert.equal(error.code, 'device.connection-lost');
      assert.equal(error.endpoint, fake.url);
      assert.doesNotMatch(error.message, /CONNECT|failed/);
    }
    assert.match(reset.message, new RegExp(`^the MQTT connection to ${fake.url.replaceAll('.', '\\.')} was lost: .*ECONNRESET`));
    assert.equal((reset.cause as NodeJS.ErrnoException).code, 'ECONNRESET');
    assert.match(closed.message, /was lost: the connection was closed/);
    assert.equal(reconnects[0], reset);
  });

  it('sends a QoS 1 message again when the link dies silently (keepalive timeout) instead of failing it', async () => {
    fake.onPublish = (connection, packet) => {
      if (fake.connections.length === 1) {
        connection.silent = true; // no PUBACK, no PINGRESP: mqtt.js gives up on the link after its keepalive
        return;
      }
      connection.puback(packet.messageId);
    };
    const lamp = device({ keepaliveSeconds: 1 });
    await lamp.connect();
    await lamp.event({ n: 1 });
    assert.equal(fake.connects.length, 2);
    assert.deepEqual(
      fake.publishes.map((p) => p.payload.toString()),
      ['{"n":1}', '{"n":1}'],
    );
  });

  it('forgets an error report from an earlier attempt once the message is sent again', async () => {
    let first = true;
    fake.onPublish = (connection, packet) => {
      if (first) {
        first = false;
        connection.report('event', packet.messageId ?? 0, 503, 'no consumer');
        setTimeout(() => connection.socket.destroy(), 50); // lost before the PUBACK
        return;
      }
      connection.puback(packet.messageId);
    };
    const lamp = device();
    await lamp.connect();
    await lamp.event({ n: 1 });
    // Sent again after the reconnect and acknowledged: the stale 503 must not trigger a third send.
    assert.equal(fake.publishes.length, 2);
  });

  it('keeps at most maxInFlight QoS 1 messages unacknowledged; the others follow as PUBACKs arrive', async () => {
    const held: { connection: AdapterConnection; id: number | undefined }[] = [];
    fake.onPublish = (connection, packet) => {
      held.push({ connection, id: packet.messageId });
    };
    const lamp = device({ maxInFlight: 2 });
    await lamp.connect();
    const sends = [1, 2, 3, 4, 5].map((n) => lamp.telemetry({ n }, { qos: 1 }));
    await until(() => held.length === 2, 'the first two publishes');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(held.length, 2, 'no third publish before a PUBACK');
    for (let acked = 0; acked < 5; acked += 1) {
      await until(() => held.length > acked, `publish ${acked + 1}`);
      assert.ok(held.length <= acked + 2, 'never more than two unacknowledged');
      const next = held[acked];
      next?.connection.puback(next.id);
    }
    await Promise.all(sends);
    assert.deepEqual(
      fake.publishes.map((p) => (JSON.parse(p.payload.toString()) as { n: number }).n),
      [1, 2, 3, 4, 5],
    );
  });

  it('settles QoS 0 messages whose write was still waiting for the socket when the link went', async () => {
    fake.onPublish = (connection) => connection.socket.pause(); // the adapter stops reading: the client's socket fills up
    const lamp = device({ maxPayloadBytes: 65_536 });
    await lamp.connect();
    const chunk = new Uint8Array(60_000);
    const sends = Array.from({ length: 400 }, () => lamp.telemetry(chunk, { qos: 0 }));
    await until(() => fake.publishes.length >= 1, 'the first publish');
    await new Promise((resolve) => setTimeout(resolve, 100));
    fake.current.socket.destroy();
    const outcomes = await settlesWithin(Promise.allSettled(sends), 5000, 'QoS 0 sends after the link was lost');
    const offline = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof DeviceOfflineError);
    assert.ok(offline.length > 0, 'some writes were still waiting for the socket (qos0: "fail" rejects them)');
    assert.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof DeviceOfflineError));
  });

  it('close() does not wait for the retry of a message the caller aborted', async () => {
    fake.onPublish = (connection, packet) => {
      connection.report('event', packet.messageId ?? 0, 503, 'no consumer');
      connection.puback(packet.messageId);
    };
    const lamp = device({ retry: new ExponentialBackoff({ maxAttempts: 3, initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' }) });
    await lamp.connect();
    const abort = new AbortController();
    const sent = lamp.event({ n: 1 }, { signal: abort.signal });
    await until(() => fake.publishes.length === 1, 'the first attempt');
    await new Promise((resolve) => setTimeout(resolve, 50)); // the 503 report and the PUBACK: a retry in 60 s
    abort.abort();
    await assert.rejects(sent, { name: 'AbortError' });
    await settlesWithin(lamp.close({ timeoutMs: 30_000 }), 4000, 'close() waiting for a retry nobody wants');
    assert.equal(fake.publishes.length, 1);
  });

  it('close() waits for outstanding acknowledgements, then fails what is left after its deadline', async () => {
    const held: { connection: AdapterConnection; id: number | undefined }[] = [];
    fake.onPublish = (connection, packet) => {
      held.push({ connection, id: packet.messageId });
    };
    const lamp = device();
    await lamp.connect();
    const first = lamp.event('first');
    await until(() => held.length === 1, 'the first publish');
    const closing = lamp.close({ timeoutMs: 5000 });
    held[0]?.connection.puback(held[0].id);
    await first;
    await closing;

    const other = device();
    await other.connect();
    const never = other.event('never acknowledged');
    const failed = assert.rejects(never, DeviceClientStateError);
    await until(() => held.length === 2, 'the second publish');
    await other.close({ timeoutMs: 50 });
    await failed;
  });

  it('honours a per-message deadline and abort signal', async () => {
    fake.onPublish = () => undefined; // never acknowledges
    const lamp = device();
    await lamp.connect();
    await assert.rejects(lamp.event('slow', { timeoutMs: 30 }), /did not complete within 30 ms/);
    const controller = new AbortController();
    const aborted = lamp.event('aborted', { signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, /aborted/);
  });
});
