// The sandbox's Hono MQTT adapter (aedes), driven by the SDK's own MQTT device client through
// Cloud2Edge.fromEnv(sandbox.env()): telemetry and events reach AmqpNorthbound, a gateway publishes for a device
// behind it, commands and responses go both ways; refusals arrive on the error topic, or close the connection of a
// device that did not subscribe to it; wrong passwords are refused at CONNECT; devices cannot reach each other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cloud2Edge } from '../../src/c2e/index.js';
import type { DownstreamMessage, Northbound } from '../../src/northbound/index.js';
import { DEFAULT_NORTHBOUND_USER, Sandbox } from '../../src/sandbox/index.js';
import { connectMqtt } from '../support/sandbox.js';

const TENANT = 'org.acme';
const LAMP = `${TENANT}:lamp-1`;
const GATEWAY = `${TENANT}:gateway`;
const BEHIND = `${TENANT}:behind`;

async function retrying<T>(what: () => Promise<T>, retryOn: string): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await what();
    } catch (error) {
      if (attempt >= 40 || !(error instanceof Error) || error.name !== retryOn) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('sandbox: MQTT adapter', () => {
  let sandbox: Sandbox;
  let c2e: Cloud2Edge;
  let app: Northbound;
  const telemetry: DownstreamMessage[] = [];
  const events: DownstreamMessage[] = [];
  const consuming = new AbortController();
  let consumers: Promise<unknown>;

  before(async () => {
    sandbox = await Sandbox.start();
    c2e = Cloud2Edge.fromEnv({}, sandbox.env());
    await c2e.registry.tenants.create({}, { tenantId: TENANT });
    for (const [deviceId, authId, via] of [
      [LAMP, 'lamp-1', undefined],
      [GATEWAY, 'gateway', undefined],
      [BEHIND, undefined, [GATEWAY]],
    ] as const) {
      await c2e.registry.devices.create(TENANT, via === undefined ? {} : { via: [...via] }, { deviceId });
      if (authId !== undefined) await c2e.registry.credentials.setPassword(TENANT, deviceId, authId, `${authId}-password`);
    }
    app = c2e.northbound({ transport: 'amqp', credentials: { ...DEFAULT_NORTHBOUND_USER } });
    consumers = Promise.all([
      (async () => {
        for await (const message of app.telemetry(TENANT, { signal: consuming.signal })) telemetry.push(message);
      })(),
      (async () => {
        for await (const message of app.events(TENANT, { signal: consuming.signal })) events.push(message);
      })(),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  after(async () => {
    consuming.abort();
    await consumers;
    await app?.close();
    await c2e?.close();
    await sandbox?.close();
  });

  it('carries telemetry and events to the application, and commands with their responses back, through the SDK clients', async () => {
    const device = c2e.device({ transport: 'mqtt', tenant: TENANT, authId: 'lamp-1', password: 'lamp-1-password' });
    await device.connect();
    const stop = device.onCommand(async (command) => {
      if (!command.oneWay) await command.respond(200, { on: command.json<{ on: boolean }>().on });
    });
    try {
      await device.telemetry({ temperature: 22 }, { qos: 1 });
      await device.event({ door: 'closed' });
      const response = await retrying(
        () => app.sendCommand(TENANT, LAMP, 'switch', { on: true }, { timeoutMs: 5_000 }),
        'DeviceNotConnectedError',
      );
      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), { on: true });
    } finally {
      stop();
      await device.close();
    }
    const sent = telemetry.find((message) => message.deviceId === LAMP);
    assert.deepEqual(sent?.json(), { temperature: 22 });
    assert.equal(sent?.origAdapter, 'hono-mqtt');
    assert.equal(sent?.qos, 1);
    assert.deepEqual(events.find((message) => message.deviceId === LAMP && message.notification === undefined)?.json(), { door: 'closed' });
    // Hono's notifications: ready for commands (ttd -1) at the subscription, no longer (ttd 0) at the disconnect.
    for (let attempt = 0; attempt < 50 && !events.some((message) => message.notification?.type === 'disconnected'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const notifications = events.filter((message) => message.deviceId === LAMP && message.notification !== undefined);
    assert.deepEqual(
      notifications.map((message) => [message.notification?.type, message.ttd]),
      [
        ['ready', -1],
        ['disconnected', 0],
      ],
    );
    await assert.rejects(
      app.sendCommand(TENANT, LAMP, 'switch', { on: false }, { timeoutMs: 3_000 }),
      (error: unknown) => error instanceof Error && error.name === 'DeviceNotConnectedError',
      'a disconnected device gets no commands',
    );
  });

  it('a gateway publishes for and gets commands of the devices behind it', async () => {
    const gateway = c2e.device({
      transport: 'mqtt',
      tenant: TENANT,
      authId: 'gateway',
      password: 'gateway-password',
      gateway: true,
    } as never);
    await gateway.connect();
    const received: string[] = [];
    const stop = gateway.onCommand(async (command) => {
      received.push(`${command.deviceId}:${command.name}`);
      if (!command.oneWay) await command.respond(200);
    });
    try {
      await gateway.telemetry({ behind: true }, { qos: 1, deviceId: BEHIND } as never);
      const response = await retrying(() => app.sendCommand(TENANT, BEHIND, 'ping', {}, { timeoutMs: 5_000 }), 'DeviceNotConnectedError');
      assert.equal(response.status, 200);
    } finally {
      stop();
      await gateway.close();
    }
    assert.deepEqual(telemetry.find((message) => message.deviceId === BEHIND)?.json(), { behind: true });
    assert.deepEqual(received, [`${BEHIND}:ping`]);
  });

  it('refuses wrong passwords at CONNECT, reports refused publishes on the error topic or closes the connection, isolates devices', async () => {
    const url = `mqtt://${sandbox.env().MQTT_ADAPTER_IP}:${sandbox.env().MQTT_ADAPTER_PORT_MQTT}`;
    const connect = (username: string, password: string) => connectMqtt(url, { username, password });
    await assert.rejects(connect('lamp-1@org.acme', 'wrong'), (error: unknown) => (error as { code?: number }).code === 4);
    await assert.rejects(connect('lamp-1', 'lamp-1-password'), (error: unknown) => [4, 5].includes((error as { code?: number }).code ?? 0));

    // With the error topic subscribed: an event at QoS 0 is reported there and the connection stays.
    const reporting = await connect('lamp-1@org.acme', 'lamp-1-password');
    try {
      const errors: Array<{ topic: string; body: { code: number } }> = [];
      reporting.on('message', (topic, payload) => errors.push({ topic, body: JSON.parse(payload.toString()) as { code: number } }));
      await reporting.subscribeAsync('error///#');
      // Other devices' topics cannot be subscribed to.
      // (SUBACK failure code 0x80, which mqtt.js reports as an error; the connection stays.)
      await assert.rejects(reporting.subscribeAsync('telemetry/#'), /Subscribe error/);
      await assert.rejects(reporting.subscribeAsync('command/org.acme/org.acme:gateway/req/#'), /Subscribe error/);
      await reporting.publishAsync('event', '{"qos":"zero"}', { qos: 0 });
      await reporting.publishAsync('t', Buffer.alloc(2049, 0x61), { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(
        errors.map((error) => [error.topic.split('/')[3], error.body.code]),
        [
          ['event', 400],
          ['telemetry', 413],
        ],
      );
      assert.equal(reporting.connected, true);
    } finally {
      await reporting.endAsync();
    }

    // Without it: the adapter closes the connection.
    const silent = await connect('lamp-1@org.acme', 'lamp-1-password');
    const closed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    silent.publish('event', '{}', { qos: 0 });
    await closed;
    silent.end(true);
  });
});
