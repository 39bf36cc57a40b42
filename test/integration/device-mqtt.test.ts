// The MQTT device client against a real mosquitto broker. A plain mqtt.js client plays Hono's MQTT
// adapter: it reads what the device publishes and publishes commands and error reports to it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MqttClient, connectAsync } from 'mqtt';
import { ExponentialBackoff, PayloadTooLargeError, ServiceUnavailableError } from '../../src/core/index.js';
import {
  CommandAlreadyAnsweredError,
  type DeviceClient,
  type DeviceClientOptions,
  DeviceClientStateError,
  type DeviceCommand,
  DeviceConnectError,
  DeviceOfflineError,
  DevicePayloadTooLargeError,
  OneWayCommandError,
  type TwinMessage,
  createDeviceClient,
} from '../../src/device/index.js';
import { createTestPki } from '../support/certs.js';
import { type Mosquitto, mosquittoProblem, startMosquitto } from '../support/mosquitto.js';
import { skipUnlessAvailable } from '../support/services.js';

const problem = mosquittoProblem();

interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
}

/** What the fake adapter received, with waiting for the next matching message. */
class Inbox {
  readonly messages: Received[] = [];
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const message = { topic, payload: Buffer.from(payload), qos: packet.qos };
      const index = this.waiters.findIndex((waiter) => waiter.match(message));
      if (index >= 0) this.waiters.splice(index, 1)[0]?.resolve(message);
      else this.messages.push(message);
    });
  }

  next(match: (m: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    const index = this.messages.findIndex(match);
    if (index >= 0) return Promise.resolve(this.messages.splice(index, 1)[0] as Received);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: Received) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching message within ${timeoutMs} ms; have: ${this.messages.map((m) => m.topic).join(', ')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  topic(prefix: string, timeoutMs?: number): Promise<Received> {
    return this.next((m) => m.topic.startsWith(prefix), timeoutMs);
  }
}

function bag(topic: string): Record<string, string> {
  const at = topic.indexOf('/?');
  return at < 0 ? {} : Object.fromEntries(new URLSearchParams(topic.slice(at + 2)));
}

function once<T>(device: DeviceClient, event: 'connected' | 'disconnected' | 'reconnecting' | 'error', timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event within ${timeoutMs} ms`)), timeoutMs);
    device.once(event, (value: unknown) => {
      clearTimeout(timer);
      resolve(value as T);
    });
  });
}

const fast = () => new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 300 });

describe('device MQTT client against mosquitto', { skip: skipUnlessAvailable(problem) }, () => {
  let broker: Mosquitto;
  let adapter: MqttClient;
  let inbox: Inbox;
  const devices: DeviceClient[] = [];

  const device = (overrides: Partial<DeviceClientOptions> = {}): DeviceClient => {
    const client = createDeviceClient({
      transport: 'mqtt',
      endpoint: broker.url,
      tenant: 'org.acme',
      authId: 'lamp-1',
      password: 'secret-1',
      thingId: 'org.acme:lamp-1',
      reconnect: { policy: fast() },
      ...overrides,
    } as DeviceClientOptions);
    devices.push(client);
    return client;
  };

  before(async () => {
    if (problem !== undefined) throw new Error(problem);
    broker = await startMosquitto();
    // A persistent session, so that a broker restart does not lose the fake adapter's subscriptions.
    adapter = await connectAsync(broker.url, { clientId: 'fake-hono-adapter', clean: false, reconnectPeriod: 100 });
    inbox = new Inbox(adapter);
    await adapter.subscribeAsync(['telemetry/#', 't/#', 'event/#', 'e/#', 'command/+/+/res/#', 'c/+/+/s/#'], { qos: 1 });
  });

  after(async () => {
    for (const client of devices) await client.close({ timeoutMs: 1000 });
    await adapter?.endAsync(true);
    await broker?.dispose();
  });

  it('connects, publishes telemetry with QoS 0 and 1, events, property bags and gateway topics', async () => {
    const lamp = device();
    const connected = once<{ reconnected: boolean }>(lamp, 'connected');
    await lamp.connect();
    assert.deepEqual(await connected, { reconnected: false });
    assert.equal(lamp.state, 'connected');
    assert.equal(lamp.username, 'lamp-1@org.acme');

    await lamp.telemetry(Buffer.from([1, 2, 3]));
    const raw = await inbox.topic('telemetry');
    assert.equal(raw.topic, 'telemetry');
    assert.deepEqual([...raw.payload], [1, 2, 3]);
    assert.equal(raw.qos, 0);

    await lamp.telemetry({ temperature: 21.5 }, { qos: 1 });
    const json = await inbox.topic('telemetry');
    assert.equal(json.topic, 'telemetry/?content-type=application%2Fjson');
    assert.deepEqual(JSON.parse(json.payload.toString()), { temperature: 21.5 });
    assert.equal(json.qos, 1);

    await lamp.telemetry(Buffer.from('x'), { properties: { seqNo: 10034, importance: 'high' }, contentType: 'application/octet-stream' });
    const withBag = await inbox.topic('telemetry');
    assert.deepEqual(bag(withBag.topic), { seqNo: '10034', importance: 'high', 'content-type': 'application/octet-stream' });

    await lamp.event('door opened', { ttlSeconds: 30 });
    const event = await inbox.topic('event');
    assert.equal(event.qos, 1, 'events are always QoS 1');
    assert.deepEqual(bag(event.topic), { 'content-type': 'text/plain; charset=utf-8', 'hono-ttl': '30' });
    assert.equal(event.payload.toString(), 'door opened');

    await lamp.telemetry({ v: 1 }, { deviceId: 'org.acme:sensor-2', qos: 1 });
    const gateway = await inbox.topic('telemetry//');
    assert.equal(gateway.topic, 'telemetry//org.acme:sensor-2/?content-type=application%2Fjson');

    await lamp.event(Buffer.from('e'), { deviceId: 'org.acme:sensor-2' });
    assert.equal((await inbox.topic('event//')).topic, 'event//org.acme:sensor-2');

    await lamp.notifyReady();
    const ready = await inbox.topic('event');
    assert.equal(ready.payload.length, 0);
    assert.deepEqual(bag(ready.topic), { 'content-type': 'application/vnd.eclipse-hono-empty-notification' });
  });

  it('uses the short topic names when asked', async () => {
    const lamp = device({ shortTopics: true });
    await lamp.connect();
    await lamp.telemetry(Buffer.from('s'));
    assert.equal((await inbox.topic('t')).topic, 't');
    await lamp.event(Buffer.from('s'));
    assert.equal((await inbox.topic('e')).topic, 'e');
  });

  it('updates the twin with Ditto Protocol telemetry (response-required: false, QoS 1)', async () => {
    const lamp = device();
    await lamp.connect();
    await lamp.twin.updateProperty('temperature', 'value', 21.5);
    const message = await inbox.topic('telemetry');
    assert.equal(message.qos, 1);
    assert.deepEqual(bag(message.topic), { 'content-type': 'application/vnd.eclipse.ditto+json' });
    const envelope = JSON.parse(message.payload.toString()) as Record<string, unknown>;
    assert.equal(envelope.topic, 'org.acme/lamp-1/things/twin/commands/modify');
    assert.equal(envelope.path, '/features/temperature/properties/value');
    assert.equal(envelope.value, 21.5);
    assert.equal((envelope.headers as Record<string, unknown>)['response-required'], false);

    await lamp.twin.mergeFeature('lamp', { properties: { on: true } }, { channel: 'event' });
    const merge = await inbox.topic('event');
    const mergeEnvelope = JSON.parse(merge.payload.toString()) as Record<string, unknown>;
    assert.equal(mergeEnvelope.topic, 'org.acme/lamp-1/things/twin/commands/merge');
    assert.equal(mergeEnvelope.path, '/features/lamp');

    await lamp.twin.updateAttribute('location/room', 'hall', { deviceId: 'org.acme:sensor-2' });
    const forOther = await inbox.topic('telemetry//');
    assert.ok(forOther.topic.startsWith('telemetry//org.acme:sensor-2/?'));
    assert.equal((JSON.parse(forOther.payload.toString()) as { topic: string }).topic, 'org.acme/sensor-2/things/twin/commands/modify');
  });

  it('receives a request/response command and answers it on command///res/{reqId}/{status}', async () => {
    const lamp = device();
    const commands = lamp.commands();
    await lamp.connect(); // subscribes, because a consumer exists
    await adapter.publishAsync('command///req/req-1/switch', JSON.stringify({ on: true }), { qos: 1 });
    const { value: command } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    assert.equal(command.name, 'switch');
    assert.equal(command.requestId, 'req-1');
    assert.equal(command.oneWay, false);
    assert.equal(command.deviceId, undefined);
    assert.deepEqual(command.json(), { on: true });
    await command.respond(200, { on: true, brightness: 80 });
    assert.equal(command.answered, true);
    const response = await inbox.topic('command///res/');
    assert.equal(response.topic, 'command///res/req-1/200/?content-type=application%2Fjson');
    assert.deepEqual(JSON.parse(response.payload.toString()), { on: true, brightness: 80 });

    await assert.rejects(command.respond(200), CommandAlreadyAnsweredError);

    await adapter.publishAsync('command///req//beep', 'twice', { qos: 0 });
    const { value: oneWay } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    assert.equal(oneWay.name, 'beep');
    assert.equal(oneWay.oneWay, true);
    assert.equal(oneWay.text(), 'twice');
    await assert.rejects(oneWay.respond(200), OneWayCommandError);
    await commands.return?.();
  });

  it('subscribes when the first consumer registers on a live connection, and answers from a handler', async () => {
    const lamp = device();
    await lamp.connect();
    const seen: string[] = [];
    const off = lamp.onCommand(async (command) => {
      seen.push(command.name);
      if (!command.oneWay) await command.respond(204);
    });
    // The subscription is asynchronous: repeat a one-way ping until it arrives.
    for (let i = 0; i < 100 && !seen.includes('ping'); i += 1) {
      await adapter.publishAsync('command///req//ping', '', { qos: 0 });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(seen.includes('ping'));
    await adapter.publishAsync('command///req/req-h/reset', '', { qos: 1 });
    const response = await inbox.topic('command///res/req-h/');
    assert.equal(response.topic, 'command///res/req-h/204');
    off();
  });

  it('routes gateway commands and answers them on command//{device}/res/...', async () => {
    const gateway = device({ authId: 'gw-1', gateway: true, thingId: undefined });
    const commands = gateway.commands();
    await gateway.connect();
    await adapter.publishAsync('command//org.acme:sensor-2/req/req-2/setInterval', JSON.stringify(30), { qos: 1 });
    const { value: command } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    assert.equal(command.deviceId, 'org.acme:sensor-2');
    assert.equal(command.json(), 30);
    await command.respond(200, 'ok');
    const response = await inbox.topic('command//org.acme:sensor-2/res/');
    assert.equal(response.topic, 'command//org.acme:sensor-2/res/req-2/200/?content-type=text%2Fplain%3B%20charset%3Dutf-8');
    await commands.return?.();
  });

  it('answers a Ditto live message with a Ditto response carrying both request id and correlation-id', async () => {
    const lamp = device();
    const messages = lamp.twin.messages();
    await lamp.connect();
    const envelope = {
      topic: 'org.acme/lamp-1/things/live/messages/switch',
      headers: { 'correlation-id': 'ditto-corr-7', 'content-type': 'application/json', 'response-required': true },
      path: '/inbox/messages/switch',
      value: { on: true },
    };
    await adapter.publishAsync('command///req/hono-req-7/switch', JSON.stringify(envelope), { qos: 1 });
    const { value: message } = (await messages.next()) as IteratorYieldResult<TwinMessage>;
    assert.equal(message.subject, 'switch');
    assert.equal(message.thingId, 'org.acme:lamp-1');
    assert.equal(message.correlationId, 'ditto-corr-7');
    assert.deepEqual(message.value, { on: true });
    await message.respond(200, { on: true });
    const response = await inbox.topic('command///res/hono-req-7/');
    assert.equal(response.topic, 'command///res/hono-req-7/200/?content-type=application%2Fvnd.eclipse.ditto%2Bjson');
    const body = JSON.parse(response.payload.toString()) as Record<string, unknown>;
    assert.equal(body.topic, 'org.acme/lamp-1/things/live/messages/switch');
    assert.equal(body.path, '/outbox/messages/switch');
    assert.equal(body.status, 200);
    assert.deepEqual(body.value, { on: true });
    assert.equal((body.headers as Record<string, unknown>)['correlation-id'], 'ditto-corr-7');
    await assert.rejects(message.respond(200), CommandAlreadyAnsweredError);
    await messages.return?.();
  });

  it('turns error-topic reports into typed error events', async () => {
    const lamp = device();
    await lamp.connect();
    const tooLarge = once<Error>(lamp, 'error');
    const report = { code: 413, message: 'payload too large', timestamp: '2024-05-01T10:00:00Z', 'correlation-id': '-1' };
    await adapter.publishAsync('error///telemetry/-1/413', JSON.stringify(report), { qos: 0 });
    const error = await tooLarge;
    assert.ok(error instanceof DevicePayloadTooLargeError);
    assert.ok(error instanceof PayloadTooLargeError);
    assert.match(error.message, /2048 bytes/);
    assert.match(error.message, /off-chain/);

    const unavailable = once<Error>(lamp, 'error');
    await adapter.publishAsync('error///event/-1/503', JSON.stringify({ ...report, code: 503, message: 'no consumer' }), { qos: 0 });
    const noConsumer = await unavailable;
    assert.ok(noConsumer instanceof ServiceUnavailableError);
    assert.match(noConsumer.message, /Ditto connection/);
  });

  it('refuses oversized payloads before sending them', async () => {
    const lamp = device();
    await lamp.connect();
    await assert.rejects(lamp.telemetry(Buffer.alloc(3000)), (error: unknown) => {
      assert.ok(error instanceof DevicePayloadTooLargeError);
      assert.equal(error.local, true);
      assert.equal(error.limitBytes, 2048);
      assert.equal(error.sizeBytes, 3000);
      assert.match(error.message, /not sent/);
      return true;
    });
  });

  it('reconnects after a broker restart, re-subscribes, and sends what was queued while offline', async () => {
    const lamp = device();
    const commands = lamp.commands();
    await lamp.connect();
    const disconnected = once<{ willReconnect: boolean }>(lamp, 'disconnected');
    await broker.stop();
    assert.deepEqual({ willReconnect: (await disconnected).willReconnect }, { willReconnect: true });
    assert.notEqual(lamp.state, 'connected');

    await assert.rejects(lamp.telemetry(Buffer.from('lost')), DeviceOfflineError);
    const queued = lamp.event({ while: 'offline' });
    assert.equal(lamp.queuedMessages, 1);

    const reconnected = once<{ reconnected: boolean }>(lamp, 'connected', 20_000);
    await broker.start();
    assert.deepEqual(await reconnected, { reconnected: true });
    await queued;
    const event = await inbox.next((m) => m.topic.startsWith('event') && m.payload.toString().includes('offline'), 20_000);
    assert.deepEqual(JSON.parse(event.payload.toString()), { while: 'offline' });

    // Commands still arrive: the client subscribed again on the new connection.
    await adapter.publishAsync('command///req/after-restart/ping', '', { qos: 1 });
    const { value: command } = (await commands.next()) as IteratorYieldResult<DeviceCommand>;
    assert.equal(command.requestId, 'after-restart');
    await commands.return?.();
  });

  it('has an explicit lifecycle: nothing before connect(), nothing after close()', async () => {
    const lamp = device();
    assert.equal(lamp.state, 'idle');
    await assert.rejects(lamp.telemetry('x'), DeviceClientStateError);
    await lamp.connect();
    const commands = lamp.commands();
    const disconnected = once<{ willReconnect: boolean }>(lamp, 'disconnected');
    await lamp.close();
    assert.equal((await disconnected).willReconnect, false);
    assert.equal(lamp.state, 'closed');
    assert.deepEqual(await commands.next(), { value: undefined, done: true });
    await assert.rejects(lamp.telemetry('x'), DeviceClientStateError);
    await assert.rejects(lamp.connect(), DeviceClientStateError);
    await lamp.close(); // idempotent
  });

  it('speaks MQTT 5 when asked', async () => {
    const lamp = device({ protocolVersion: 5 });
    await lamp.connect();
    await lamp.telemetry({ v5: true }, { qos: 1 });
    assert.deepEqual(JSON.parse((await inbox.topic('telemetry')).payload.toString()), { v5: true });
  });
});

describe('device MQTT client: refused connections and TLS against mosquitto', { skip: skipUnlessAvailable(problem) }, () => {
  const brokers: Mosquitto[] = [];
  const devices: DeviceClient[] = [];
  let pki: ReturnType<typeof createTestPki>;

  before(() => {
    if (problem !== undefined) throw new Error(problem);
    pki = createTestPki('c2e-hono-adapter-mqtt-vertx');
  });

  after(async () => {
    for (const client of devices) await client.close({ timeoutMs: 1000 });
    for (const broker of brokers) await broker.dispose();
  });

  it('fails connect() at once with the CONNACK return code and a hint when the adapter refuses', async () => {
    const broker = await startMosquitto({ anonymous: false });
    brokers.push(broker);
    const lamp = createDeviceClient({
      transport: 'mqtt',
      endpoint: broker.url,
      tenant: 'org.acme',
      authId: 'lamp-1',
      password: 'wrong-password',
      reconnect: { policy: fast() },
    });
    devices.push(lamp);
    await assert.rejects(lamp.connect({ timeoutMs: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof DeviceConnectError);
      assert.equal(error.returnCode, 5);
      assert.match(error.message, /not authorized|disabled/i);
      assert.doesNotMatch(error.message, /wrong-password/);
      return true;
    });
    assert.equal(lamp.state, 'disconnected');
  });

  it('connects over TLS with a CA file, the hostname override and an X.509 client certificate', async () => {
    const broker = await startMosquitto({
      tls: { caFile: pki.caFile, certFile: join(pki.dir, 'server.crt'), keyFile: join(pki.dir, 'server.key'), requireCertificate: true },
    });
    brokers.push(broker);
    const endpoint = { host: '127.0.0.1', port: broker.tlsPort as number };
    const lamp = createDeviceClient({
      transport: 'mqtt',
      endpoint,
      tenant: 'org.acme',
      thingId: 'org.acme:lamp-1',
      tls: { caFile: pki.caFile, serverName: pki.serverName, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile },
    });
    devices.push(lamp);
    assert.equal(lamp.username, undefined, 'X.509 authentication sends no username');
    await lamp.connect();
    await lamp.telemetry('over tls', { qos: 1 });

    const wrongName = createDeviceClient({
      transport: 'mqtt',
      endpoint,
      tenant: 'org.acme',
      tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile },
      reconnect: { policy: fast() },
    });
    devices.push(wrongName);
    await assert.rejects(wrongName.connect({ timeoutMs: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof DeviceConnectError, String(error));
      assert.match(error.message, /TLS/);
      assert.match(error.message, /serverName/);
      return true;
    });
  });
});
