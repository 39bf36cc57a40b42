// Limits of the sandbox's Hono: a tenant's resource-limits (max-connections refused at CONNECT with "not authorized",
// a used-up data volume answered with 429 over HTTP and on the MQTT error topic), the MQTT adapter's and the AMQP
// network's connection limits, and the MQTT adapter's on-error property (ignore, skip-ack, disconnect).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type mqtt from 'mqtt';
import rhea from 'rhea';
import { Cloud2Edge } from '../../src/c2e/index.js';
import type { Northbound } from '../../src/northbound/index.js';
import { DEFAULT_NORTHBOUND_USER, Sandbox } from '../../src/sandbox/index.js';
import { connectMqtt, refusedWith } from '../support/sandbox.js';

const CROWDED = 'org.crowded';
const METERED = 'org.metered';
const OPEN = 'org.open';
const SINCE = '2020-01-01T00:00:00Z';

describe('sandbox: tenant resource limits, connection limits, on-error', () => {
  let sandbox: Sandbox;
  let c2e: Cloud2Edge;
  let app: Northbound;
  const consuming = new AbortController();
  let consumers: Promise<unknown>;
  let mqttUrl: string;

  const connect = (username: string, password: string) => connectMqtt(mqttUrl, { username, password });
  /** Connects once the adapter has noticed that an earlier connection closed (it counts them until then). */
  const retryConnect = async (username: string, password: string): Promise<mqtt.MqttClient> => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await connect(username, password);
      } catch (error) {
        if (attempt >= 40 || !([3, 5] as unknown[]).includes((error as { code?: number }).code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  before(async () => {
    sandbox = await Sandbox.start({ limits: { mqttMaxConnections: 3, northboundMaxConnections: 2 } });
    mqttUrl = `mqtt://${sandbox.env().MQTT_ADAPTER_IP}:${sandbox.env().MQTT_ADAPTER_PORT_MQTT}`;
    c2e = Cloud2Edge.fromEnv({}, sandbox.env());
    await c2e.registry.tenants.create({ 'resource-limits': { 'max-connections': 1 } }, { tenantId: CROWDED });
    await c2e.registry.tenants.create(
      {
        'resource-limits': { 'data-volume': { 'effective-since': SINCE, 'max-bytes': 100, period: { mode: 'days', 'no-of-days': 30 } } },
      },
      { tenantId: METERED },
    );
    await c2e.registry.tenants.create({}, { tenantId: OPEN });
    for (const tenant of [CROWDED, METERED, OPEN]) {
      for (const name of ['a', 'b']) {
        await c2e.registry.devices.create(tenant, {}, { deviceId: `${tenant}:${name}` });
        await c2e.registry.credentials.setPassword(tenant, `${tenant}:${name}`, name, `${name}-secret`);
      }
    }
    app = c2e.northbound({ transport: 'amqp', credentials: { ...DEFAULT_NORTHBOUND_USER } });
    consumers = Promise.all(
      [METERED, OPEN].map(async (tenant) => {
        for await (const message of app.telemetry(tenant, { signal: consuming.signal })) void message;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  after(async () => {
    consuming.abort();
    await consumers;
    await app?.close();
    await c2e?.close();
    await sandbox?.close();
  });

  it("refuses a tenant's device connection beyond max-connections (CONNACK 5), and admits one again once another left", async () => {
    const first = await connect(`a@${CROWDED}`, 'a-secret');
    await assert.rejects(connect(`b@${CROWDED}`, 'b-secret'), refusedWith(5));
    await first.endAsync();
    const again = await retryConnect(`b@${CROWDED}`, 'b-secret');
    await again.endAsync();
  });

  it("refuses a connection beyond the adapter's limit with CONNACK 3 (server unavailable)", async () => {
    const held = [await connect(`a@${OPEN}`, 'a-secret'), await connect(`b@${OPEN}`, 'b-secret'), await connect(`a@${OPEN}`, 'a-secret')];
    try {
      await assert.rejects(connect(`b@${OPEN}`, 'b-secret'), refusedWith(3));
    } finally {
      await Promise.all(held.map((client) => client.endAsync()));
    }
    await (await retryConnect(`b@${OPEN}`, 'b-secret')).endAsync();
  });

  it('answers 429 once the data volume of the period is used up, over HTTP and on the MQTT error topic; a new device connection is refused then', async () => {
    const reporter = await connect(`b@${METERED}`, 'b-secret');
    const errors: number[] = [];
    reporter.on('message', (_topic, payload) => errors.push((JSON.parse(payload.toString()) as { code: number }).code));
    await reporter.subscribeAsync('error///#');
    try {
      const send = (body: string) =>
        fetch(`${sandbox.env().HTTP_ADAPTER_BASE_URL}/telemetry`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`a@${METERED}:a-secret`).toString('base64')}`,
            'content-type': 'application/json',
            'qos-level': '1',
          },
          body,
        });
      const sixty = JSON.stringify({ value: 'x'.repeat(48) });
      assert.equal(sixty.length, 60);
      assert.equal((await send(sixty)).status, 202);
      const over = await send(sixty);
      assert.equal(over.status, 429);
      assert.match(await over.text(), /data volume/);
      await reporter.publishAsync('telemetry', sixty, { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(errors, [429]);
      assert.equal(reporter.connected, true);
      // What still fits goes through: 40 bytes, which use the volume up to the last byte.
      const forty = JSON.stringify({ value: 'x'.repeat(28) });
      assert.equal(forty.length, 40);
      assert.equal((await send(forty)).status, 202);
      await assert.rejects(connect(`a@${METERED}`, 'a-secret'), refusedWith(5), 'no new connections while the volume is used up');
    } finally {
      await reporter.endAsync();
    }
  });

  it('on-error: ignore acknowledges and keeps the connection, skip-ack keeps it without PUBACK, disconnect closes it after reporting', async () => {
    const oversized = Buffer.alloc(2049, 0x61);
    const client = await connect(`a@${OPEN}`, 'a-secret');
    try {
      await client.publishAsync('t/?on-error=ignore', oversized, { qos: 1 });
      assert.equal(client.connected, true);
      let acknowledged = false;
      client.publish('t/?on-error=skip-ack', oversized, { qos: 1 }, () => {
        acknowledged = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(acknowledged, false, 'no PUBACK for skip-ack');
      assert.equal(client.connected, true);
      await client.publishAsync('t', '{"fine":true}', { qos: 1 });
    } finally {
      client.end(true);
    }

    const reporting = await connect(`b@${OPEN}`, 'b-secret');
    const errors: string[] = [];
    reporting.on('message', (topic) => errors.push(topic));
    await reporting.subscribeAsync('error///#');
    const closed = new Promise<void>((resolve) => reporting.once('close', () => resolve()));
    reporting.publish('telemetry/?on-error=disconnect', oversized, { qos: 1 });
    await closed;
    reporting.end(true);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^error\/\/\/telemetry\/\d+\/413$/);
  });

  it('closes an application connection beyond the messaging network limit with amqp:resource-limit-exceeded', async () => {
    const env = sandbox.env();
    // `app` holds one connection; a second fits, a third does not.
    const open = (): Promise<{ condition?: string; connection: rhea.Connection }> =>
      new Promise((resolve) => {
        const container = rhea.create_container();
        const connection = container.connect({
          host: env.AMQP_NETWORK_IP!,
          port: Number(env.AMQP_NETWORK_PORT_AMQP),
          username: DEFAULT_NORTHBOUND_USER.username,
          password: DEFAULT_NORTHBOUND_USER.password,
          reconnect: false,
        });
        connection.on('connection_open', () => setTimeout(() => resolve({ connection }), 200));
        connection.on('connection_close', (context) => resolve({ condition: context.connection.error?.condition, connection }));
        connection.on('connection_error', (context) => resolve({ condition: context.connection.error?.condition, connection }));
        connection.on('disconnected', () => undefined);
      });
    const second = await open();
    assert.equal(second.condition, undefined);
    const third = await open();
    assert.equal(third.condition, 'amqp:resource-limit-exceeded');
    second.connection.close();
    third.connection.close();
  });
});
