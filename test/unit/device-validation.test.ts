// Bad input is refused with typed errors before any I/O: options, IDs, payloads, statuses, double answers.
import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../../src/core/index.js';
import { IncomingCommand } from '../../src/device/command.js';
import {
  CommandAlreadyAnsweredError,
  type DeviceClient,
  type DeviceClientOptions,
  DeviceClientStateError,
  OneWayCommandError,
  createDeviceClient,
} from '../../src/device/index.js';

function rejectsField(promise: Promise<unknown>, field: string | RegExp): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
    if (typeof field === 'string') assert.equal(error.field, field);
    else assert.match(error.field, field);
    return true;
  });
}

function throwsField(fn: () => unknown, field: string | RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
    if (typeof field === 'string') assert.equal(error.field, field);
    else assert.match(error.field, field);
    return true;
  });
}

const base = { tenant: 'org.acme', authId: 'lamp-1', password: 'secret-1' };

describe('device client options are validated when the client is created', () => {
  it('requires a transport, a matching endpoint and credentials', () => {
    throwsField(() => createDeviceClient(undefined as unknown as DeviceClientOptions), 'options');
    throwsField(() => createDeviceClient({ ...base, endpoint: 'http://x' } as unknown as DeviceClientOptions), 'transport');
    throwsField(
      () => createDeviceClient({ ...base, transport: 'amqp', endpoint: 'http://x' } as unknown as DeviceClientOptions),
      'transport',
    );
    throwsField(() => createDeviceClient({ ...base, transport: 'http', endpoint: 'mqtt://x:1883' }), 'endpoint');
    throwsField(() => createDeviceClient({ ...base, transport: 'mqtt', endpoint: 'http://x:8080' }), 'endpoint');
    throwsField(() => createDeviceClient({ ...base, transport: 'mqtt', endpoint: 'not a url' }), 'endpoint');
    throwsField(() => createDeviceClient({ ...base, transport: 'mqtt', endpoint: { host: 'x', port: 70_000 } }), 'endpoint.port');
    throwsField(() => createDeviceClient({ ...base, transport: 'http', endpoint: 'http://lamp-1:pw@x' }), 'endpoint');
    throwsField(() => createDeviceClient({ transport: 'http', endpoint: 'http://x', tenant: 'org.acme' }), 'authId');
    throwsField(() => createDeviceClient({ transport: 'http', endpoint: 'http://x', tenant: 'org.acme', authId: 'lamp-1' }), 'password');
  });

  it('checks tenant, auth-id and thing ID against the Cloud2Edge ID rules', () => {
    throwsField(() => createDeviceClient({ ...base, transport: 'http', endpoint: 'http://x', tenant: 'org acme' }), 'tenant');
    assert.throws(
      () => createDeviceClient({ ...base, transport: 'http', endpoint: 'http://x', authId: 'lamp-1@org.acme' }),
      (error: unknown) =>
        error instanceof ValidationError && error.field === 'authId' && /may contain neither "@" nor ":"/.test(error.message),
    );
    throwsField(() => createDeviceClient({ ...base, transport: 'http', endpoint: 'http://x', authId: 'org.acme:lamp-1' }), 'authId');
    throwsField(() => createDeviceClient({ ...base, transport: 'http', endpoint: 'http://x', thingId: 'lamp-1' }), 'thingId');
  });

  it('checks numbers and policies', () => {
    const http = { ...base, transport: 'http' as const, endpoint: 'http://x' };
    throwsField(() => createDeviceClient({ ...http, timeoutMs: 0 }), 'timeoutMs');
    throwsField(() => createDeviceClient({ ...http, timeoutMs: 2 ** 31 }), 'timeoutMs'); // Node would fire it at once
    throwsField(() => createDeviceClient({ ...http, commandPollSeconds: 61 }), 'commandPollSeconds');
    throwsField(() => createDeviceClient({ ...http, offlineQueue: { maxSize: -1 } }), 'offlineQueue.maxSize');
    throwsField(() => createDeviceClient({ ...http, offlineQueue: { qos0: 'keep' as 'drop' } }), 'offlineQueue.qos0');
    throwsField(() => createDeviceClient({ ...http, maxPayloadBytes: 1.5 }), 'maxPayloadBytes');
    throwsField(() => createDeviceClient({ ...http, retry: {} as never }), 'retry');
    const mqtt = { ...base, transport: 'mqtt' as const, endpoint: 'mqtt://x' };
    throwsField(() => createDeviceClient({ ...mqtt, protocolVersion: 3 as 4 }), 'protocolVersion');
    throwsField(() => createDeviceClient({ ...mqtt, commandQos: 2 as 1 }), 'commandQos');
    throwsField(() => createDeviceClient({ ...mqtt, maxInFlight: 0 }), 'maxInFlight');
    throwsField(() => createDeviceClient({ ...mqtt, maxInFlight: 65_536 }), 'maxInFlight');
    throwsField(
      () => createDeviceClient({ ...mqtt, tls: { certFile: '/nonexistent/client.crt', keyFile: '/nonexistent/client.key' } }),
      'tls.certFile',
    );
  });
});

describe('device client calls are validated before any I/O', () => {
  let server: Server;
  let requests = 0;
  let device: DeviceClient;

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      requests += 1;
      req.resume();
      res.writeHead(202);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    device = createDeviceClient({ ...base, transport: 'http', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  });

  after(async () => {
    await device.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('refuses to send before connect()', async () => {
    await assert.rejects(
      device.telemetry('x'),
      (error: unknown) => error instanceof DeviceClientStateError && /connect\(\) first/.test(error.message),
    );
    await device.connect();
  });

  it('refuses payloads that are not JSON', async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await rejectsField(device.telemetry(undefined as never), 'payload');
    await rejectsField(device.telemetry((() => 1) as never), 'payload');
    await rejectsField(device.telemetry(10n as never), 'payload');
    await rejectsField(device.telemetry(Number.NaN), 'payload');
    await rejectsField(device.telemetry({ at: new Date() } as never), 'payload.at');
    await rejectsField(device.telemetry({ nested: [1, Symbol('x')] } as never), 'payload.nested[1]');
    await rejectsField(device.telemetry(cycle as never), /payload/);
    // A JSON content type with text or bytes that do not parse.
    await rejectsField(device.telemetry('{"open": ', { contentType: 'application/json' }), 'payload');
    await rejectsField(device.event(Buffer.from('nope'), { contentType: 'application/vnd.eclipse.ditto+json' }), 'payload');
    await rejectsField(device.telemetry('x', { contentType: 'not a type' }), 'contentType');
    assert.equal(requests, 0);
  });

  it('refuses invalid QoS, IDs, seconds and property bags', async () => {
    await rejectsField(device.telemetry('x', { qos: 2 as 1 }), 'qos');
    await rejectsField(device.telemetry('x', { deviceId: 'bad device' }), 'deviceId');
    await rejectsField(device.telemetry('x', { ttdSeconds: 61 }), 'ttdSeconds');
    await rejectsField(device.event('x', { ttlSeconds: 0 }), 'ttlSeconds');
    await rejectsField(device.notifyReady({ ttdSeconds: 0 }), 'ttdSeconds');
    await rejectsField(device.telemetry('x', { properties: { a: { b: 1 } as never } }), 'properties.a');
    assert.equal(requests, 0);
  });

  it('refuses twin updates without a thing ID or with values that are not JSON', async () => {
    await rejectsField(device.twin.updateProperty('lamp', 'on', true), 'thingId');
    const lamp = createDeviceClient({ ...base, transport: 'http', endpoint: 'http://127.0.0.1:1', thingId: 'org.acme:lamp-1' });
    await lamp.connect();
    await rejectsField(lamp.twin.updateProperty('lamp', 'on', undefined as never), 'value');
    await rejectsField(lamp.twin.updateProperty('lamp/x', 'on', true), 'featureId');
    await rejectsField(lamp.twin.updateProperty('lamp', '', true), 'path');
    await rejectsField(lamp.twin.updateFeature('lamp', [] as never), 'feature');
    await rejectsField(lamp.twin.updateAttributes('x' as never), 'attributes');
    await rejectsField(lamp.twin.updateAttribute('a//b', 1), 'path');
    await rejectsField(lamp.twin.mergeProperty('lamp', 'on', Number.POSITIVE_INFINITY), 'value');
    await rejectsField(lamp.twin.send({ topic: 'nonsense', headers: {}, path: '/' }), 'topic');
    await rejectsField(lamp.twin.updateProperty('lamp', 'on', true, { deviceId: 'not-a-thing-id' }), 'deviceId');
    await rejectsField(lamp.twin.updateProperty('lamp', 'on', true, { channel: 'command' as 'event' }), 'channel');
    await lamp.close();
    assert.equal(requests, 0);
  });
});

describe('command responses are validated before any I/O', () => {
  const sent: number[] = [];
  const command = (requestId: string | undefined, payload = '{"on":true}') =>
    new IncomingCommand(
      {
        name: 'switch',
        requestId,
        deviceId: undefined,
        contentType: undefined,
        payload: Buffer.from(payload),
        properties: {},
        transport: 'mqtt',
      },
      async (_command, status) => {
        sent.push(status);
      },
    );

  it('accepts only integer statuses from 200 to 599', async () => {
    const cmd = command('req-1');
    for (const status of [199, 600, 200.5, Number.NaN, '200', undefined]) {
      await rejectsField(cmd.respond(status as number), 'status');
    }
    await rejectsField(cmd.respond(200, (() => 1) as never), 'body');
    await rejectsField(cmd.respond(200, '{', { contentType: 'application/json' }), 'body');
    assert.deepEqual(sent, []);
    await cmd.respond(599);
    assert.deepEqual(sent, [599]);
  });

  it('refuses a second answer and answers to one-way commands', async () => {
    const cmd = command('req-2');
    await cmd.respond(200);
    await assert.rejects(cmd.respond(200), CommandAlreadyAnsweredError);
    const concurrent = command('req-3');
    const first = concurrent.respond(200);
    await assert.rejects(concurrent.respond(201), CommandAlreadyAnsweredError);
    await first;
    await assert.rejects(command(undefined).respond(200), OneWayCommandError);
  });

  it('json() fails with a ValidationError when the payload is not JSON', () => {
    assert.deepEqual(command('r').json(), { on: true });
    throwsField(() => command('r', 'on').json(), 'payload');
    assert.equal(command('r', 'on').text(), 'on');
  });
});
