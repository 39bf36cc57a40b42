// One name per concept across the clients (src/core/options.ts, src/core/events.ts): the shared validators and their
// wording, the typed emitter, the close() rule, Cloud2Edge.device() / northbound() and createNorthbound().
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import nock from 'nock';
import { Cloud2Edge } from '../../src/c2e/index.js';
import { ClientClosedError, ExponentialBackoff, type Logger, ValidationError, configFromEnv, noRetry } from '../../src/core/index.js';
import { TypedEmitter } from '../../src/core/events.js';
import { HttpClient } from '../../src/core/http.js';
import {
  durationMs,
  integerOption,
  positiveInteger,
  resolveReconnect,
  retryPolicyOption,
  validateCallOptions,
} from '../../src/core/options.js';
import { DeviceClientStateError, createDeviceClient } from '../../src/device/index.js';
import { DittoClient } from '../../src/ditto/index.js';
import { TelemetryRelay } from '../../src/ledger/index.js';
import type { Ledger } from '../../src/ledger/index.js';
import { AmqpNorthbound, KafkaNorthbound, NorthboundNotConnectedError, createNorthbound } from '../../src/northbound/index.js';
import { resolveAmqpOptions } from '../../src/northbound/amqp-options.js';
import { resolveKafkaOptions } from '../../src/northbound/kafka-options.js';
import { DeviceRegistry } from '../../src/registry/index.js';

const REGISTRY = 'http://registry.test:28080';
const DITTO = 'http://ditto.test:8080';

function capturingLogger(): Logger & { lines: Array<{ level: string; message: string; fields: unknown }> } {
  const lines: Array<{ level: string; message: string; fields: unknown }> = [];
  const at = (level: string) => (message: string, fields?: unknown) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function validationMessage(fn: () => unknown): { field: string; message: string; hint: string | undefined } {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return { field: error.field, message: error.message, hint: error.hint };
  }
  assert.fail('expected a ValidationError');
}

describe('shared numeric validators', () => {
  it('durationMs: whole milliseconds from 1 (0 where allowed) to 2^31-1, one wording everywhere', () => {
    assert.equal(durationMs('timeoutMs', undefined), undefined);
    assert.equal(durationMs('timeoutMs', undefined, 10_000), 10_000);
    assert.equal(durationMs('timeoutMs', 2 ** 31 - 1), 2 ** 31 - 1);
    assert.equal(durationMs('idleTimeoutMs', 0, 30_000, { allowZero: true }), 0);
    assert.deepEqual(
      validationMessage(() => durationMs('timeoutMs', 0)),
      {
        field: 'timeoutMs',
        message: 'timeoutMs: must be a whole number of milliseconds from 1 to 2147483647, got 0',
        hint: undefined,
      },
    );
    assert.equal(
      validationMessage(() => durationMs('x.timeoutMs', 1.5)).message,
      'x.timeoutMs: must be a whole number of milliseconds from 1 to 2147483647, got 1.5',
    );
    assert.equal(
      validationMessage(() => durationMs('timeoutMs', '100')).message,
      'timeoutMs: must be a whole number of milliseconds from 1 to 2147483647, got "100"',
    );
    assert.equal(
      validationMessage(() => durationMs('idleTimeoutMs', -1, 0, { allowZero: true })).message,
      'idleTimeoutMs: must be a whole number of milliseconds from 0 to 2147483647, got -1',
    );
    const tooLong = validationMessage(() => durationMs('timeoutMs', 2 ** 31));
    assert.match(tooLong.message, /got 2147483648 \(hint: Node fires timers longer than 2\^31-1 ms/);
    assert.equal(
      validationMessage(() => durationMs('timeoutMs', Number.POSITIVE_INFINITY)).message.split(' (hint')[0],
      'timeoutMs: must be a whole number of milliseconds from 1 to 2147483647, got Infinity',
    );
    assert.match(validationMessage(() => durationMs('timeoutMs', Number.NaN)).message, /got NaN$/);
  });

  it('positiveInteger / integerOption: "must be an integer from MIN to MAX, got X", with an optional hint', () => {
    assert.equal(positiveInteger('commitThreshold', undefined, 200), 200);
    assert.equal(positiveInteger('commitThreshold', 5, 200), 5);
    assert.equal(
      validationMessage(() => positiveInteger('offlineQueue.maxSize', 0, 1000)).message,
      `offlineQueue.maxSize: must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got 0`,
    );
    assert.equal(
      validationMessage(() => positiveInteger('keepaliveSeconds', 70_000, 30, 65_535)).message,
      'keepaliveSeconds: must be an integer from 1 to 65535, got 70000',
    );
    assert.equal(
      validationMessage(() => integerOption('port', 'x', { min: 1, max: 65_535 })).message,
      'port: must be an integer from 1 to 65535, got "x"',
    );
    assert.equal(validationMessage(() => integerOption('prefetch', 0, { min: 1, max: 10, hint: 'Try 32.' }, 5)).hint, 'Try 32.');
  });

  it('retry policies, reconnect options and per-call options are checked the same way in every client', () => {
    assert.equal(
      retryPolicyOption('retry', undefined, () => noRetry),
      noRetry,
    );
    assert.equal(
      validationMessage(() => retryPolicyOption('retry', {}, () => noRetry)).message.split(' (hint')[0],
      'retry: must be a RetryPolicy (an object with nextDelayMs(attempt, error))',
    );
    const defaults = { policy: () => noRetry, stableAfterMs: 10_000 };
    assert.deepEqual(resolveReconnect(undefined, defaults), { policy: noRetry, stableAfterMs: 10_000 });
    const policy = new ExponentialBackoff({ maxAttempts: 2 });
    assert.deepEqual(resolveReconnect({ policy, stableAfterMs: 5 }, defaults), { policy, stableAfterMs: 5 });
    assert.equal(
      validationMessage(() => resolveReconnect(3, defaults)).message,
      'reconnect: must be an object { policy, stableAfterMs }, got 3',
    );
    assert.equal(validationMessage(() => resolveReconnect({ stableAfterMs: 0 }, defaults)).field, 'reconnect.stableAfterMs');
    assert.equal(validationMessage(() => resolveReconnect({ policy: 1 }, defaults)).field, 'reconnect.policy');
    assert.equal(validateCallOptions(undefined), undefined);
    assert.equal(validationMessage(() => validateCallOptions({ timeoutMs: 0 })).field, 'options.timeoutMs');
    assert.equal(validationMessage(() => validateCallOptions({ timeoutMs: 0 }, '')).field, 'timeoutMs');
    assert.equal(validationMessage(() => validateCallOptions({ signal: 'stop' })).message, 'options.signal: must be an AbortSignal');
  });

  it('the clients use them: the same field names and wording for the same mistakes', () => {
    const duration = /must be a whole number of milliseconds from 1 to 2147483647, got 0/;
    const cases: Array<[() => unknown, string]> = [
      [() => new DeviceRegistry({ baseUrl: `${REGISTRY}/v1`, timeoutMs: 0 }), 'timeoutMs'],
      [() => new DittoClient({ baseUrl: DITTO, timeoutMs: 0 }), 'timeoutMs'],
      [
        () =>
          createDeviceClient({
            transport: 'http',
            endpoint: 'http://adapter.test',
            tenant: 'org.acme',
            authId: 'lamp-1',
            password: 'pw-123456',
            timeoutMs: 0,
          }),
        'timeoutMs',
      ],
      [() => resolveAmqpOptions({ host: 'h', connectTimeoutMs: 0 }), 'connectTimeoutMs'],
      [() => resolveKafkaOptions({ brokers: ['kafka.test:9094'], connectTimeoutMs: 0 }), 'connectTimeoutMs'],
      [() => resolveAmqpOptions({ host: 'h', reconnect: { stableAfterMs: 0 } }), 'reconnect.stableAfterMs'],
      [() => resolveKafkaOptions({ brokers: ['kafka.test:9094'], reconnect: { stableAfterMs: 0 } }), 'reconnect.stableAfterMs'],
      [
        () =>
          createDeviceClient({
            transport: 'mqtt',
            endpoint: 'mqtt://adapter.test',
            tenant: 'org.acme',
            authId: 'lamp-1',
            password: 'pw-123456',
            reconnect: { stableAfterMs: 0 },
          }),
        'reconnect.stableAfterMs',
      ],
    ];
    for (const [use, field] of cases) {
      const { field: named, message } = validationMessage(use);
      assert.equal(named, field);
      assert.match(message, duration, field);
    }
    const prefetch = /must be an integer from 1 to 10000, got 0/;
    assert.match(validationMessage(() => resolveAmqpOptions({ host: 'h', prefetch: 0 })).message, prefetch);
    assert.match(validationMessage(() => resolveKafkaOptions({ brokers: ['kafka.test:9094'], prefetch: 0 })).message, prefetch);
  });

  it('per-call timeouts beyond the timer limit are refused before any I/O (device, northbound, Ditto)', async () => {
    const device = createDeviceClient({
      transport: 'http',
      endpoint: 'http://adapter.test',
      tenant: 'org.acme',
      authId: 'lamp-1',
      password: 'pw-123456',
    });
    await assert.rejects(
      device.telemetry({ t: 1 }, { timeoutMs: 2 ** 31 }),
      (e: unknown) => e instanceof ValidationError && e.field === 'timeoutMs',
    );
    await assert.rejects(device.connect({ timeoutMs: -1 }), (e: unknown) => e instanceof ValidationError && e.field === 'timeoutMs');
    const kafka = new KafkaNorthbound({ brokers: ['127.0.0.1:1'] });
    await assert.rejects(kafka.connect({ timeoutMs: 2 ** 31 }), (e: unknown) => e instanceof ValidationError && e.field === 'timeoutMs');
    await assert.rejects(kafka.sendOneWayCommand('org.acme', 'org.acme:lamp-1', 'blink', undefined, { timeoutMs: 0 }), ValidationError);
    await kafka.close();
    const ditto = new DittoClient({ baseUrl: DITTO });
    await assert.rejects(
      ditto.things.get('org.acme:lamp-1', { timeoutMs: 2 ** 31 }),
      (e: unknown) => e instanceof ValidationError && e.field === 'options.timeoutMs',
    );
    await ditto.close();
  });
});

interface TestEvents {
  tick: [{ n: number }];
  error: [Error];
  stopped: [];
}

class Ticker extends TypedEmitter<TestEvents> {
  fire<E extends keyof TestEvents & string>(event: E, ...args: TestEvents[E]): void {
    this.emit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  it('hands each listener one object, supports once/off and returns the emitter for chaining', () => {
    const ticker = new Ticker('ticker');
    const seen: number[] = [];
    const onTick = ({ n }: { n: number }) => seen.push(n);
    let once = 0;
    let stopped = 0;
    assert.equal(
      ticker
        .on('tick', onTick)
        .once('tick', () => (once += 1))
        .on('stopped', () => (stopped += 1)),
      ticker,
    );
    ticker.fire('tick', { n: 1 });
    ticker.fire('tick', { n: 2 });
    ticker.off('tick', onTick);
    ticker.fire('tick', { n: 3 });
    ticker.fire('stopped');
    assert.deepEqual(seen, [1, 2]);
    assert.equal(once, 1);
    assert.equal(stopped, 1);
    assert.equal(ticker.listenerCount('tick'), 0);
  });

  it('logs an error nobody listens to instead of throwing, and a listener that throws', () => {
    const logger = capturingLogger();
    const ticker = new Ticker('ticker', logger);
    assert.doesNotThrow(() => ticker.fire('error', new Error('unheard')));
    assert.equal(logger.lines[0]?.level, 'warn');
    assert.equal(logger.lines[0]?.message, 'ticker error (no error listener)');
    const later: number[] = [];
    ticker.on('tick', () => {
      throw new Error('listener bug');
    });
    ticker.on('tick', ({ n }) => later.push(n));
    assert.doesNotThrow(() => ticker.fire('tick', { n: 7 }));
    assert.deepEqual(later, [7], 'the next listener still runs');
    assert.equal(logger.lines[1]?.level, 'error');
    assert.equal(logger.lines[1]?.message, 'a ticker event listener threw');
    const errors: Error[] = [];
    ticker.on('error', (error) => errors.push(error));
    ticker.fire('error', new Error('heard'));
    assert.deepEqual(
      errors.map((e) => e.message),
      ['heard'],
    );
  });
});

describe('close() is final in every client', () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());

  const closedError = (error: unknown) => error instanceof ClientClosedError && error.code === 'client.closed';

  it('HttpClient: later requests and requests in flight fail with ClientClosedError; idempotent', async () => {
    const http = new HttpClient({ baseUrl: REGISTRY, service: 'test' });
    nock(REGISTRY).get('/slow').delay(2_000).reply(200, {});
    const inFlight = http.request({ method: 'GET', path: '/slow' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await http.close();
    await assert.rejects(inFlight, closedError);
    await assert.rejects(
      http.request({ method: 'GET', path: '/other' }),
      (error: unknown) =>
        closedError(error) && /GET http:\/\/registry\.test:28080\/other: the test client is closed/.test((error as Error).message),
    );
    assert.equal(http.closed, true);
    await http.close();
  });

  it('DeviceRegistry: close() releases the connections and refuses calls afterwards, without a request', async () => {
    const registry = new DeviceRegistry({ baseUrl: `${REGISTRY}/v1` });
    const scope = nock(REGISTRY).get('/v1/tenants/org.acme').reply(200, { enabled: true });
    await registry.tenants.get('org.acme');
    scope.done();
    await registry.close();
    await assert.rejects(registry.tenants.get('org.acme'), closedError);
    await assert.rejects(registry.devices.get('org.acme', 'org.acme:lamp-1'), closedError);
    assert.equal(nock.pendingMocks().length, 0);
    await registry.close();
  });

  it('DittoClient: close() closes its own and the devops connections, and an http client it was given', async () => {
    const ditto = new DittoClient({
      baseUrl: DITTO,
      credentials: { type: 'basic', username: 'ditto', password: 'ditto' },
      devopsCredentials: { type: 'basic', username: 'devops', password: 'devops-pw' },
    });
    await ditto.close();
    await assert.rejects(ditto.things.get('org.acme:lamp-1'), closedError);
    await assert.rejects(ditto.connections.status('hono-kafka-connection-for-org_acme'), closedError);
    await assert.rejects(ditto.whoami(), closedError);
    await ditto.close();
    const http = new HttpClient({ baseUrl: DITTO, service: 'ditto' });
    const injected = new DittoClient({ baseUrl: DITTO, http });
    await injected.close();
    assert.equal(http.closed, true);
  });

  it('a Ditto change stream ends with ClientClosedError when the client closes under it', async () => {
    const ditto = new DittoClient({ baseUrl: DITTO, retry: noRetry });
    nock(DITTO).get('/api/2/things').query(true).delay(5_000).reply(200, '', { 'content-type': 'text/event-stream' });
    const iterator = ditto.changes.subscribe({ retry: new ExponentialBackoff({ initialDelayMs: 10 }) })[Symbol.asyncIterator]();
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ditto.close();
    await assert.rejects(next, closedError);
  });

  it('northbound clients: close() is final for both transports', async () => {
    for (const nb of [new AmqpNorthbound({ host: '127.0.0.1', port: 1 }), new KafkaNorthbound({ brokers: ['127.0.0.1:1'] })]) {
      await nb.close();
      const closed = (error: unknown) =>
        error instanceof NorthboundNotConnectedError && error.reason === 'closed' && /close\(\) is final/.test(error.hint ?? '');
      await assert.rejects(nb.connect(), closed, nb.transport);
      assert.throws(() => nb.telemetry('org.acme')[Symbol.asyncIterator](), closed, nb.transport);
      await assert.rejects(nb.sendOneWayCommand('org.acme', 'org.acme:lamp-1', 'blink'), closed, nb.transport);
      await assert.rejects(
        nb.sendCommand('org.acme', 'org.acme:lamp-1', 'switch', { on: true }, { timeoutMs: 1_000 }),
        closed,
        nb.transport,
      );
      await nb.close();
    }
  });

  it('device clients: close() is final', async () => {
    const device = createDeviceClient({
      transport: 'http',
      endpoint: 'http://adapter.test',
      tenant: 'org.acme',
      authId: 'lamp-1',
      password: 'pw-123456',
    });
    await device.connect();
    await device.close();
    await assert.rejects(device.connect(), DeviceClientStateError);
    await assert.rejects(device.telemetry('x'), DeviceClientStateError);
    await device.close();
  });

  it('TelemetryRelay: close() is final; start() afterwards throws ClientClosedError', async () => {
    const ledger = { mspId: 'Org1MSP' } as unknown as Ledger;
    const relay = new TelemetryRelay({
      ledger,
      httpAdapter: { baseUrl: 'http://adapter.test:18080' },
      stateDir: '/nonexistent/relay-state',
    });
    await relay.close();
    await assert.rejects(relay.start(), closedError);
    await relay.close();
  });
});

describe('Cloud2Edge.device() / northbound() / close()', () => {
  const env = {
    REGISTRY_BASE_URL: REGISTRY,
    DITTO_API_BASE_URL: DITTO,
    MQTT_ADAPTER_IP: '192.168.1.10',
    MQTT_ADAPTER_PORT_MQTT: '31883',
    HTTP_ADAPTER_BASE_URL: 'http://192.168.1.10:30080',
    KAFKA_IP: '192.168.1.10',
    AMQP_NETWORK_IP: '192.168.1.11',
    AMQP_NETWORK_PORT_AMQP: '15672',
  };

  it('device(): the adapter from the configuration, the auth-id from the thing ID, explicit options win', async () => {
    const c2e = Cloud2Edge.fromEnv({}, env);
    const mqtt = c2e.device({ transport: 'mqtt', tenant: 'org.acme', thingId: 'org.acme:lamp-1', password: 'pw-123456' });
    assert.equal(mqtt.transport, 'mqtt');
    assert.equal(mqtt.username, 'lamp-1@org.acme', 'authId defaults to the name part of the thing ID, as provisionDevice registers it');
    assert.equal(mqtt.twin.thingId, 'org.acme:lamp-1');
    const http = c2e.device({ transport: 'http', tenant: 'org.acme', authId: 'lamp-2', password: 'pw-123456' });
    assert.equal(http.transport, 'http');
    assert.equal(http.username, 'lamp-2@org.acme');
    assert.notEqual(
      c2e.device({ transport: 'http', tenant: 'org.acme', authId: 'lamp-2', password: 'pw-123456' }),
      http,
      'a new client each call',
    );
    await assert.rejects(http.telemetry('x', { timeoutMs: 0 }), (e: unknown) => e instanceof ValidationError && e.field === 'timeoutMs');
    assert.throws(
      () =>
        Cloud2Edge.fromEnv({}, { REGISTRY_BASE_URL: REGISTRY }).device({
          transport: 'mqtt',
          tenant: 'org.acme',
          authId: 'lamp-1',
          password: 'pw-123456',
        }),
      (e: unknown) => e instanceof ValidationError && e.field === 'mqttAdapter',
    );
    const explicit = Cloud2Edge.fromEnv({}, { REGISTRY_BASE_URL: REGISTRY }).device({
      transport: 'mqtt',
      endpoint: 'mqtt://127.0.0.1:1883',
      tenant: 'org.acme',
      authId: 'lamp-3',
      password: 'pw-123456',
    });
    assert.equal(explicit.username, 'lamp-3@org.acme');
    assert.throws(
      () => c2e.device({ transport: 'mqtt', tenant: 'org.acme', thingId: 'no-namespace', password: 'pw-123456' }),
      ValidationError,
    );
  });

  it('northbound(): Kafka by default, the configured messaging otherwise, addresses from the configuration', async () => {
    const c2e = Cloud2Edge.fromEnv({}, env);
    const kafka = c2e.northbound();
    assert.ok(kafka instanceof KafkaNorthbound);
    const named = c2e.northbound({
      transport: 'kafka',
      groupId: 'lamp-dashboard',
      credentials: { mechanism: 'plain', username: 'ditto-c2e', password: 'verysecret' },
    });
    assert.equal((named as KafkaNorthbound).groupId, 'lamp-dashboard');
    const amqp = c2e.northbound({ transport: 'amqp', credentials: { username: 'consumer@HONO', password: 'verysecret' } });
    assert.ok(amqp instanceof AmqpNorthbound);
    assert.equal(amqp.addressOf('telemetry', 'org.acme'), 'telemetry/org.acme');
    assert.ok(Cloud2Edge.fromEnv({}, { ...env, TWINLEDGER_MESSAGING: 'amqp' }).northbound() instanceof AmqpNorthbound);
    const bare = Cloud2Edge.fromEnv({}, { REGISTRY_BASE_URL: REGISTRY });
    assert.throws(
      () => bare.northbound(),
      (e: unknown) => e instanceof ValidationError && e.field === 'kafka' && /KAFKA_IP/.test(e.hint ?? ''),
    );
    assert.throws(
      () => bare.northbound({ transport: 'amqp' }),
      (e: unknown) => e instanceof ValidationError && e.field === 'amqpNetwork',
    );
    assert.ok(bare.northbound({ transport: 'kafka', brokers: ['10.0.0.1:9094'] }) instanceof KafkaNorthbound);
    assert.throws(
      () => c2e.northbound({ transport: 'mqtt' } as never),
      (e: unknown) => e instanceof ValidationError && e.field === 'transport',
    );
    assert.throws(
      () => c2e.northbound({ transport: 'kafka', credentials: { mechanism: 'gssapi' as 'plain', username: 'u', password: 'p' } }),
      (e: unknown) => e instanceof ValidationError && e.field === 'credentials.mechanism',
    );
    await Promise.all([kafka.close(), named.close(), amqp.close()]);
  });

  it('close() closes the registry and Ditto clients and is final', async () => {
    const c2e = new Cloud2Edge(configFromEnv(env));
    const { registry, ditto } = c2e;
    await c2e.close();
    await assert.rejects(registry.tenants.get('org.acme'), ClientClosedError);
    await assert.rejects(ditto.things.get('org.acme:lamp-1'), ClientClosedError);
    assert.throws(() => c2e.registry, ClientClosedError);
    assert.throws(() => c2e.ditto, ClientClosedError);
    assert.throws(() => c2e.device({ transport: 'mqtt', tenant: 'org.acme', authId: 'lamp-1', password: 'pw-123456' }), ClientClosedError);
    assert.throws(() => c2e.northbound(), ClientClosedError);
    await assert.rejects(c2e.provisionDevice({ tenant: 'org.acme', thingId: 'org.acme:lamp-1' }), ClientClosedError);
    await c2e.close();
  });
});

describe('createNorthbound()', () => {
  it('builds the transport the options name, validating them first', async () => {
    const amqp = createNorthbound({
      transport: 'amqp',
      host: '127.0.0.1',
      credentials: { username: 'consumer@HONO', password: 'verysecret' },
    });
    assert.ok(amqp instanceof AmqpNorthbound);
    assert.equal(amqp.transport, 'amqp');
    const kafka = createNorthbound({ transport: 'kafka', brokers: ['127.0.0.1:9094'], groupId: 'lamp-dashboard' });
    assert.ok(kafka instanceof KafkaNorthbound);
    assert.equal(kafka.transport, 'kafka');
    assert.throws(
      () => createNorthbound({ transport: 'mqtt' } as never),
      (e: unknown) => e instanceof ValidationError && e.field === 'transport' && /"amqp" or "kafka", got "mqtt"/.test(e.message),
    );
    assert.throws(
      () => createNorthbound(null as never),
      (e: unknown) => e instanceof ValidationError && e.field === 'options',
    );
    assert.throws(
      () => createNorthbound({ transport: 'amqp', host: '' }),
      (e: unknown) => e instanceof ValidationError && e.field === 'host',
    );
    assert.throws(
      () => createNorthbound({ transport: 'kafka', brokers: [] }),
      (e: unknown) => e instanceof ValidationError && e.field === 'brokers',
    );
    assert.throws(
      () => createNorthbound({ transport: 'amqp', host: 'h', credentials: { username: 'u' } as never }),
      (e: unknown) => e instanceof ValidationError && e.field === 'credentials.password',
    );
    await Promise.all([amqp.close(), kafka.close()]);
  });
});
