// The sandbox's Hono HTTP adapter and AMQP 1.0 messaging network, driven by the SDK's own clients, unchanged: a
// device (createDeviceClient over HTTP, through Cloud2Edge.fromEnv(sandbox.env())) sends telemetry and events, an
// application (AmqpNorthbound) receives them with Hono's properties; and the adapter's answers to what goes wrong.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cloud2Edge } from '../../src/c2e/index.js';
import type { DownstreamMessage, Northbound } from '../../src/northbound/index.js';
import { DEFAULT_NORTHBOUND_USER, Sandbox } from '../../src/sandbox/index.js';

const TENANT = 'org.acme';
const LAMP = `${TENANT}:lamp-1`;
const GATEWAY = `${TENANT}:gateway`;
const BEHIND = `${TENANT}:behind`;

describe('sandbox: HTTP adapter and AMQP messaging network', () => {
  let sandbox: Sandbox;
  let c2e: Cloud2Edge;
  let app: Northbound;

  before(async () => {
    sandbox = await Sandbox.start();
    c2e = Cloud2Edge.fromEnv({}, sandbox.env());
    await c2e.registry.tenants.create({}, { tenantId: TENANT });
    await c2e.registry.devices.create(TENANT, {}, { deviceId: LAMP });
    await c2e.registry.credentials.setPassword(TENANT, LAMP, 'lamp-1', 'lamp-password');
    await c2e.registry.devices.create(TENANT, {}, { deviceId: GATEWAY });
    await c2e.registry.credentials.setPassword(TENANT, GATEWAY, 'gateway', 'gateway-password');
    await c2e.registry.devices.create(TENANT, { via: [GATEWAY] }, { deviceId: BEHIND });
    app = c2e.northbound({ transport: 'amqp', credentials: { ...DEFAULT_NORTHBOUND_USER } });
  });

  after(async () => {
    await app?.close();
    await c2e?.close();
    await sandbox?.close();
  });

  it("delivers a device's telemetry and events to the application with Hono's properties, at QoS 0 and 1", async () => {
    // The loops keep consuming (asking for the next message acknowledges the last) until the test is done.
    const received: DownstreamMessage[] = [];
    const controller = new AbortController();
    const consume = (async () => {
      for await (const message of app.telemetry(TENANT, { signal: controller.signal })) received.push(message);
    })();
    const events: DownstreamMessage[] = [];
    const eventController = new AbortController();
    const consumeEvents = (async () => {
      for await (const message of app.events(TENANT, { signal: eventController.signal })) events.push(message);
    })();
    // Wait for the consumers to attach (the adapter answers 503 until someone consumes).
    const device = c2e.device({ transport: 'http', tenant: TENANT, authId: 'lamp-1', password: 'lamp-password' });
    await device.connect();
    try {
      let sent = false;
      for (let attempt = 0; attempt < 50 && !sent; attempt += 1) {
        try {
          await device.telemetry({ temperature: 21.5 }, { qos: 1 });
          sent = true;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      assert.ok(sent, 'the consumer attached');
      await device.telemetry(Buffer.from([1, 2, 3]), { contentType: 'application/octet-stream' });
      await device.event({ door: 'open' });
    } finally {
      await device.close();
    }
    controller.abort();
    eventController.abort();
    await consume;
    await consumeEvents;
    assert.equal(received.length, 2);
    const [first, second] = received as [DownstreamMessage, DownstreamMessage];
    assert.equal(first.deviceId, LAMP);
    assert.equal(first.tenantId, TENANT);
    assert.deepEqual(first.json(), { temperature: 21.5 });
    assert.equal(first.contentType, 'application/json');
    assert.equal(first.qos, 1);
    assert.equal(first.origAdapter, 'hono-http');
    assert.equal(first.origAddress, '/telemetry');
    assert.ok(first.creationTime instanceof Date);
    assert.deepEqual([...second.payload], [1, 2, 3]);
    assert.equal(second.qos, 0);
    assert.equal(events[0]?.deviceId, LAMP);
    assert.deepEqual(events[0]?.json(), { door: 'open' });
  });

  it('a gateway sends for the devices that name it in via, and for no other', async () => {
    const controller = new AbortController();
    const received: DownstreamMessage[] = [];
    const consume = (async () => {
      for await (const message of app.events(TENANT, { signal: controller.signal })) received.push(message);
    })();
    const base = sandbox.env().HTTP_ADAPTER_BASE_URL!;
    const login = `Basic ${Buffer.from('gateway@org.acme:gateway-password').toString('base64')}`;
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 202; attempt += 1) {
      status = (
        await fetch(`${base}/event/${TENANT}/${encodeURIComponent(BEHIND)}`, {
          method: 'PUT',
          headers: { authorization: login, 'content-type': 'application/json' },
          body: '{"via":"gateway"}',
        })
      ).status;
      if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 202);
    controller.abort();
    await consume;
    assert.equal(received[0]?.deviceId, BEHIND);
    assert.equal(received[0]?.origAddress, `/event/${TENANT}/${encodeURIComponent(BEHIND)}`, 'the path as the device sent it');
    const forbidden = await fetch(`${base}/event/${TENANT}/${encodeURIComponent(LAMP)}`, {
      method: 'PUT',
      headers: { authorization: login, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(forbidden.status, 403);
  });

  it("answers as Hono's adapter: 401 without or with wrong credentials, 400, 404, 413, 503 with nobody consuming", async () => {
    const base = sandbox.env().HTTP_ADAPTER_BASE_URL!;
    const login = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const lamp = login('lamp-1@org.acme', 'lamp-password');
    const send = (path: string, headers: Record<string, string>, body: string | Buffer, method = 'POST') =>
      fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(5_000) });
    const json = { 'content-type': 'application/json' };
    const none = await send('/telemetry', json, '{}');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.equal((await send('/telemetry', { ...json, authorization: login('lamp-1@org.acme', 'wrong') }, '{}')).status, 401);
    assert.equal((await send('/telemetry', { ...json, authorization: login('lamp-1@other', 'lamp-password') }, '{}')).status, 401);
    assert.equal((await send('/telemetry', { ...json, authorization: login('no-tenant-part', 'x') }, '{}')).status, 401);
    assert.equal((await send('/telemetry', { authorization: lamp }, Buffer.from('{}'))).status, 400, 'no content type');
    assert.equal((await send('/telemetry', { ...json, authorization: lamp, 'qos-level': '2' }, '{}')).status, 400);
    assert.equal((await send('/telemetry', { ...json, authorization: lamp }, Buffer.alloc(2049, 0x61))).status, 413);
    assert.equal((await send('/nothing', { ...json, authorization: lamp }, '{}')).status, 404);
    assert.equal(
      (await send(`/telemetry/${TENANT}/${encodeURIComponent(`${TENANT}:unknown`)}`, { ...json, authorization: lamp }, '{}', 'PUT')).status,
      404,
    );
    assert.equal(
      (await send('/command/res/0123abcd?hono-cmd-status=200', { authorization: lamp }, Buffer.alloc(0))).status,
      400,
      'an unknown request ID',
    );
    assert.equal((await send('/command/res/0123abcd', { authorization: lamp }, Buffer.alloc(0))).status, 400, 'no hono-cmd-status');
    assert.equal((await send('/command/res/0123abcd?hono-cmd-status=200', {}, Buffer.alloc(0))).status, 401);
    // Nobody consumes telemetry of this tenant now: the adapter cannot hand it over.
    const unconsumed = await send('/telemetry', { ...json, authorization: lamp }, '{}');
    assert.equal(unconsumed.status, 503);
    assert.match(await unconsumed.text(), /no consumer/);
  });

  it('command & control: a command reaches the device waiting with hono-ttd, its response reaches the application; a device not waiting is "not connected"', async () => {
    // Empty notifications (the device's "ready for commands") are events: Ditto consumes them in Cloud2Edge, a consumer here.
    const eventsDone = new AbortController();
    const draining = (async () => {
      for await (const _ of app.events(TENANT, { signal: eventsDone.signal })) void _;
    })();
    const device = c2e.device({
      transport: 'http',
      tenant: TENANT,
      authId: 'lamp-1',
      password: 'lamp-password',
      commandPollSeconds: 5,
    } as never);
    await device.connect();
    const seen: string[] = [];
    const stopCommands = device.onCommand(async (command) => {
      seen.push(`${command.name}:${command.text()}`);
      if (!command.oneWay) await command.respond(200, { switched: command.json<{ on: boolean }>().on });
    });
    try {
      let response;
      for (let attempt = 0; attempt < 40 && response === undefined; attempt += 1) {
        try {
          response = await app.sendCommand(TENANT, LAMP, 'switch', { on: true }, { timeoutMs: 5_000 });
        } catch (error) {
          if (!(error instanceof Error) || error.name !== 'DeviceNotConnectedError') throw error;
          await new Promise((resolve) => setTimeout(resolve, 100)); // the device's poll is not open yet
        }
      }
      assert.ok(response, 'the command was answered');
      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), { switched: true });
      // Between two polls an HTTP device is not connected (as with Hono): the application tries again.
      for (let attempt = 0; attempt < 40; attempt += 1) {
        try {
          await app.sendOneWayCommand(TENANT, LAMP, 'blink', { times: 2 }, { timeoutMs: 5_000 });
          break;
        } catch (error) {
          if (!(error instanceof Error) || error.name !== 'DeviceNotConnectedError') throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(seen, ['switch:{"on":true}', 'blink:{"times":2}']);
    } finally {
      stopCommands();
      await device.close();
    }
    await assert.rejects(
      app.sendCommand(TENANT, `${TENANT}:lamp-nobody`, 'switch', { on: true }, { timeoutMs: 3_000 }),
      (error: unknown) => error instanceof Error && error.name === 'DeviceNotConnectedError',
    );
    eventsDone.abort();
    await draining;
  });

  it('an application with wrong credentials is refused by the messaging network', async () => {
    const wrong = c2e.northbound({
      transport: 'amqp',
      credentials: { username: 'consumer@HONO', password: 'wrong' },
      connectTimeoutMs: 2_000,
    } as never);
    try {
      await assert.rejects(
        (wrong as unknown as { connect(options?: object): Promise<void> }).connect({ timeoutMs: 3_000 }),
        (error: unknown) => error instanceof Error && error.name === 'AmqpAuthenticationError',
      );
    } finally {
      await wrong.close();
    }
  });
});
