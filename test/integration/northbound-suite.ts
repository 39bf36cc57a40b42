/**
 * The transport-neutral northbound suite. Each transport's test file calls `northboundSuite(setup)` inside its
 * own `describe`; `setup` starts the broker and returns a `NorthboundTestEnv`. Scenarios that a test network
 * cannot express are skipped at run time through `env.capabilities` (see NorthboundCapabilities).
 *
 * Every test uses a tenant of its own, so streams and queues never see another test's messages.
 */
import { after, before, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/errors.js';
import {
  CommandFailedError,
  CommandTimeoutError,
  DeviceNotConnectedError,
  MalformedMessageError,
  NoCommandConsumerError,
} from '../../src/northbound/errors.js';
import { CONNECTION_NOTIFICATION_CONTENT_TYPE, EMPTY_NOTIFICATION_CONTENT_TYPE } from '../../src/northbound/decode.js';
import type { DeviceDisconnectedNotification, DeviceReadyNotification, DownstreamMessage, Northbound } from '../../src/northbound/types.js';
import type { NorthboundCapabilities, NorthboundTestEnv } from '../support/northbound-env.js';

const WAIT_MS = 30_000;
let tenantCounter = 0;

function newTenant(): string {
  tenantCounter += 1;
  return `tl-${Date.now().toString(36)}-${process.pid}-${tenantCounter}`;
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs = WAIT_MS, describeState?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}${describeState ? `: ${describeState()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface BackgroundConsumer {
  received: DownstreamMessage[];
  /** Resolves with the loop's error, or undefined when it ended normally. */
  ended: Promise<unknown>;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a `for await` loop in the background; `body` may block or throw to simulate a slow or failing consumer. */
function consume(
  open: (signal: AbortSignal) => AsyncIterable<DownstreamMessage>,
  body?: (message: DownstreamMessage, index: number) => Promise<void> | void,
): BackgroundConsumer {
  const controller = new AbortController();
  const received: DownstreamMessage[] = [];
  const ended = (async () => {
    try {
      for await (const message of open(controller.signal)) {
        received.push(message);
        await body?.(message, received.length - 1);
      }
      return undefined;
    } catch (error) {
      return error;
    }
  })();
  return {
    received,
    ended,
    waitFor: (count, timeoutMs = WAIT_MS) =>
      waitUntil(
        `${count} message(s)`,
        () => received.length >= count,
        timeoutMs,
        () => `got ${received.length}: ${received.map((m) => m.text()).join(', ')}`,
      ),
    async stop() {
      controller.abort();
      await ended;
    },
  };
}

function payloadsOf(messages: DownstreamMessage[]): string[] {
  return messages.map((message) => message.text());
}

export function northboundSuite(setup: () => Promise<NorthboundTestEnv>): void {
  let env: NorthboundTestEnv;
  const clients: Northbound[] = [];
  const stoppers: Array<() => Promise<void>> = [];

  const client = (): Northbound => {
    const northbound = env.createNorthbound();
    clients.push(northbound);
    return northbound;
  };
  const capable = (t: TestContext, flag: keyof NorthboundCapabilities, why: string): boolean => {
    if (env.capabilities?.[flag] === false) {
      t.skip(`${env.name} test network cannot express this: ${why}`);
      return false;
    }
    return true;
  };

  before(async () => {
    env = await setup();
  });

  after(async () => {
    for (const stop of stoppers.splice(0)) await stop().catch(() => {});
    for (const northbound of clients.splice(0)) await northbound.close().catch(() => {});
    await env?.teardown();
  });

  it('consumes telemetry with every property decoded', async () => {
    const tenant = newTenant();
    const nb = client();
    await env.publishDownstream('telemetry', tenant, {
      deviceId: 'org.acme:lamp-1',
      payload: Buffer.from(JSON.stringify({ temp: 21.5 })),
      contentType: 'application/json',
      qos: 0,
      properties: { orig_adapter: 'hono-http', orig_address: 'telemetry', custom: 'x', count: 7 },
    });
    const consumer = consume((signal) => nb.telemetry(tenant, { signal }));
    stoppers.push(consumer.stop);
    await consumer.waitFor(1);
    await consumer.stop();
    const message = consumer.received[0]!;
    assert.equal(message.kind, 'telemetry');
    assert.equal(message.tenantId, tenant);
    assert.equal(message.deviceId, 'org.acme:lamp-1');
    assert.equal(message.contentType, 'application/json');
    assert.deepEqual(message.json(), { temp: 21.5 });
    assert.equal(message.text(), '{"temp":21.5}');
    assert.equal(message.qos, 0);
    assert.equal(message.origAdapter, 'hono-http');
    assert.equal(message.origAddress, 'telemetry');
    assert.equal(message.properties.custom, 'x');
    assert.equal(String(message.properties.count), '7');
    assert.ok(message.creationTime instanceof Date, 'creationTime is a Date');
    assert.ok(Math.abs(message.creationTime.getTime() - Date.now()) < 5 * 60_000, 'creationTime is about now');
    assert.equal(message.ttd, undefined);
    assert.equal(message.notification, undefined);
  });

  it('consumes events with binary payloads byte for byte', async () => {
    const tenant = newTenant();
    const nb = client();
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]);
    await env.publishDownstream('event', tenant, { deviceId: 'dev-1', payload: bytes, contentType: 'application/octet-stream', qos: 1 });
    await env.publishDownstream('event', tenant, { deviceId: 'dev-2', payload: Buffer.from('second'), contentType: 'text/plain', qos: 1 });
    const consumer = consume((signal) => nb.events(tenant, { signal }));
    stoppers.push(consumer.stop);
    await consumer.waitFor(2);
    await consumer.stop();
    const [first, second] = consumer.received;
    assert.equal(first!.kind, 'event');
    assert.equal(first!.deviceId, 'dev-1');
    assert.deepEqual(Buffer.from(first!.payload), bytes);
    assert.equal(first!.qos, 1);
    assert.equal(second!.deviceId, 'dev-2');
    assert.equal(second!.text(), 'second');
    assert.throws(() => second!.json(), ValidationError);
  });

  it('at-least-once: an event whose loop body throws is delivered again to the next consumer', async () => {
    const tenant = newTenant();
    await env.publishDownstream('event', tenant, { deviceId: 'dev-1', payload: Buffer.from('must-not-be-lost'), qos: 1 });
    const first = client();
    await assert.rejects(
      (async () => {
        for await (const message of first.events(tenant)) {
          assert.equal(message.text(), 'must-not-be-lost');
          throw new Error('processing failed');
        }
      })(),
      /processing failed/,
    );
    const second = client();
    const consumer = consume((signal) => second.events(tenant, { signal }));
    stoppers.push(consumer.stop);
    await consumer.waitFor(1);
    await consumer.stop();
    assert.equal(consumer.received[0]!.text(), 'must-not-be-lost');
  });

  it('at-least-once: messages whose body finished are not delivered again; a break leaves the last one unacknowledged', async () => {
    const tenant = newTenant();
    for (const text of ['a', 'b', 'c'])
      await env.publishDownstream('event', tenant, { deviceId: 'dev-1', payload: Buffer.from(text), qos: 1 });
    const nb = client();
    const seen: string[] = [];
    for await (const message of nb.events(tenant)) {
      seen.push(message.text());
      if (seen.length === 2) break; // 'a' acknowledged (the loop asked for 'b'); 'b' not
    }
    assert.deepEqual(seen, ['a', 'b']);
    const consumer = consume((signal) => client().events(tenant, { signal }));
    stoppers.push(consumer.stop);
    await consumer.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await consumer.stop();
    assert.deepEqual(payloadsOf(consumer.received).sort(), ['b', 'c']);
  });

  it('back-pressure: a stalled consumer holds at most `prefetch` messages, the rest go to another consumer', async (t) => {
    if (!capable(t, 'competingConsumers', 'consumers of one stream get whole partitions, not single messages')) return;
    const tenant = newTenant();
    const total = 10;
    for (let i = 0; i < total; i += 1)
      await env.publishDownstream('event', tenant, { deviceId: 'dev-1', payload: Buffer.from(`m${i}`), qos: 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = consume(
      (signal) => client().events(tenant, { signal, prefetch: 2 }),
      async () => {
        await gate;
        throw new Error('stalled consumer gives up');
      },
    );
    stoppers.push(slow.stop);
    await slow.waitFor(1);
    const fast = consume((signal) => client().events(tenant, { signal, prefetch: 32 }));
    stoppers.push(fast.stop);
    // The stalled consumer holds one message in its body and one in its buffer: the other gets the other 8.
    await fast.waitFor(total - 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(fast.received.length < total, `the stalled consumer still holds its messages (fast got ${fast.received.length})`);
    release();
    assert.match(String(await slow.ended), /stalled consumer gives up/);
    await fast.waitFor(total);
    await fast.stop();
    const all = new Set(payloadsOf(fast.received));
    assert.equal(all.size, total, `every message arrived: ${[...all].join(',')}`);
  });

  it('turns ttd and connection notifications into deviceReady / deviceDisconnected events', async () => {
    const tenant = newTenant();
    const nb = client();
    const ready: DeviceReadyNotification[] = [];
    const gone: DeviceDisconnectedNotification[] = [];
    nb.on('deviceReady', (n) => ready.push(n));
    nb.on('deviceDisconnected', (n) => gone.push(n));
    const empty = Buffer.alloc(0);
    await env.publishDownstream('event', tenant, {
      deviceId: 'dev-ttd',
      payload: empty,
      contentType: EMPTY_NOTIFICATION_CONTENT_TYPE,
      properties: { ttd: 30 },
    });
    await env.publishDownstream('event', tenant, {
      deviceId: 'dev-forever',
      payload: empty,
      contentType: EMPTY_NOTIFICATION_CONTENT_TYPE,
      properties: { ttd: -1 },
    });
    await env.publishDownstream('event', tenant, {
      deviceId: 'dev-stop',
      payload: empty,
      contentType: EMPTY_NOTIFICATION_CONTENT_TYPE,
      properties: { ttd: 0 },
    });
    await env.publishDownstream('event', tenant, {
      deviceId: 'dev-dc',
      payload: Buffer.from(JSON.stringify({ cause: 'disconnected', 'remote-id': 'mqtt-client-1', source: 'hono-mqtt' })),
      contentType: CONNECTION_NOTIFICATION_CONTENT_TYPE,
    });
    await env.publishDownstream('event', tenant, {
      deviceId: 'dev-c',
      payload: Buffer.from(JSON.stringify({ cause: 'connected', 'remote-id': 'mqtt-client-2', source: 'hono-mqtt' })),
      contentType: CONNECTION_NOTIFICATION_CONTENT_TYPE,
    });
    const consumer = consume((signal) => nb.events(tenant, { signal }));
    stoppers.push(consumer.stop);
    await consumer.waitFor(5);
    await consumer.stop();
    const byDevice = new Map(consumer.received.map((m) => [m.deviceId, m]));
    const ttdMessage = byDevice.get('dev-ttd')!;
    assert.equal(ttdMessage.ttd, 30);
    assert.equal(ttdMessage.notification?.type, 'ready');
    const readyTtd = ready.find((n) => n.deviceId === 'dev-ttd');
    assert.ok(readyTtd, 'deviceReady for dev-ttd');
    assert.equal(readyTtd.tenantId, tenant);
    assert.equal(readyTtd.ttd, 30);
    assert.ok(readyTtd.until instanceof Date);
    assert.equal(readyTtd.until.getTime(), ttdMessage.creationTime!.getTime() + 30_000);
    const forever = ready.find((n) => n.deviceId === 'dev-forever');
    assert.ok(forever, 'deviceReady for dev-forever');
    assert.equal(forever.until, undefined);
    assert.deepEqual(gone.map((n) => n.deviceId).sort(), ['dev-dc', 'dev-stop']);
    assert.equal(byDevice.get('dev-c')!.notification?.type, 'connected');
    assert.equal(byDevice.get('dev-dc')!.notification?.type, 'disconnected');
  });

  it('rejects malformed messages with MalformedMessageError events and keeps consuming', async () => {
    const tenant = newTenant();
    const nb = client();
    const errors: Error[] = [];
    nb.on('error', (error) => errors.push(error));
    await env.publishDownstream('telemetry', tenant, { deviceId: 'dev-1', payload: Buffer.from('no device'), omitDeviceId: true });
    await env.publishDownstream('telemetry', tenant, {
      deviceId: 'dev-1',
      payload: Buffer.from('{not json'),
      contentType: CONNECTION_NOTIFICATION_CONTENT_TYPE,
    });
    await env.publishDownstream('telemetry', tenant, { deviceId: 'dev-1', payload: Buffer.from('ok'), contentType: 'text/plain' });
    const consumer = consume((signal) => nb.telemetry(tenant, { signal }));
    stoppers.push(consumer.stop);
    await consumer.waitFor(1);
    await waitUntil('2 error events', () => errors.length >= 2);
    await consumer.stop();
    assert.deepEqual(payloadsOf(consumer.received), ['ok']);
    assert.equal(errors.length, 2);
    for (const error of errors) assert.ok(error instanceof MalformedMessageError, `${error.name}: ${error.message}`);
    assert.match(errors.map((e) => e.message).join('\n'), /device_id/);
  });

  it('sends a request/response command and returns the device response', async () => {
    const tenant = newTenant();
    const peer = await env.startCommandPeer(tenant, (command) =>
      command.name === 'switch'
        ? { status: 200, payload: Buffer.from(JSON.stringify({ on: true, by: command.deviceId })), contentType: 'application/json' }
        : { status: 404, payload: Buffer.from(JSON.stringify({ error: 'unknown command' })), contentType: 'application/json' },
    );
    stoppers.push(peer.stop);
    const nb = client();
    const response = await nb.sendCommand(tenant, 'org.acme:lamp-1', 'switch', { on: true }, { timeoutMs: 15_000 });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { on: true, by: 'org.acme:lamp-1' });
    assert.equal(response.contentType, 'application/json');
    assert.equal(typeof response.correlationId, 'string');
    const received = peer.received[0]!;
    assert.equal(received.name, 'switch');
    assert.equal(received.deviceId, 'org.acme:lamp-1');
    assert.equal(received.oneWay, false);
    assert.equal(received.contentType, 'application/json');
    assert.deepEqual(JSON.parse(received.payload.toString('utf8')), { on: true });
    assert.equal(received.correlationId, response.correlationId);

    const failed = await nb
      .sendCommand(tenant, 'org.acme:lamp-1', 'explode', 'now', { timeoutMs: 15_000 })
      .catch((error: unknown) => error);
    assert.ok(failed instanceof CommandFailedError, `got ${String(failed)}`);
    assert.equal(failed.status, 404);
    assert.deepEqual(failed.response.json(), { error: 'unknown command' });
    assert.equal(peer.received[1]!.contentType, 'text/plain');
  });

  it('sends one-way commands', async () => {
    const tenant = newTenant();
    const peer = await env.startCommandPeer(tenant, () => ({ status: 500 }));
    stoppers.push(peer.stop);
    const nb = client();
    await nb.sendOneWayCommand(tenant, 'dev-1', 'blink', Buffer.from([1, 2, 3]), { timeoutMs: 15_000 });
    await waitUntil('the one-way command at the device', () => peer.received.length >= 1);
    const received = peer.received[0]!;
    assert.equal(received.name, 'blink');
    assert.equal(received.oneWay, true);
    assert.equal(received.contentType, 'application/octet-stream');
    assert.deepEqual([...received.payload], [1, 2, 3]);
  });

  it('times out a command the device does not answer', async () => {
    const tenant = newTenant();
    const peer = await env.startCommandPeer(tenant, () => 'no-answer');
    stoppers.push(peer.stop);
    const nb = client();
    const started = Date.now();
    const error = await nb.sendCommand(tenant, 'dev-1', 'slow', undefined, { timeoutMs: 1_500 }).catch((e: unknown) => e);
    assert.ok(error instanceof CommandTimeoutError, `got ${String(error)}`);
    assert.equal(error.timeoutMs, 1_500);
    assert.ok(Date.now() - started >= 1_400, 'waited for the timeout');
    await waitUntil('the command at the device', () => peer.received.length >= 1);
  });

  it('reports a device that is not connected', async (t) => {
    if (!capable(t, 'deviceNotConnected', 'a plain broker queues commands for absent devices')) return;
    const tenant = newTenant();
    const nb = client();
    const error = await nb.sendCommand(tenant, 'absent-device', 'switch', { on: true }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    assert.ok(error instanceof DeviceNotConnectedError || error instanceof NoCommandConsumerError, `got ${String(error)}`);
  });

  it('keeps consuming across a broker restart without losing events', { timeout: 240_000 }, async (t) => {
    if (!capable(t, 'brokerRestart', 'restartBroker() is not supported')) return;
    const tenant = newTenant();
    const nb = client();
    for (const text of ['e1', 'e2', 'e3'])
      await env.publishDownstream('event', tenant, { deviceId: 'dev-1', payload: Buffer.from(text), qos: 1 });
    let restart: Promise<void> | undefined;
    const consumer = consume(
      (signal) => nb.events(tenant, { signal }),
      async (message) => {
        // The broker goes down while 'e2' is in the loop body: its acknowledgement cannot arrive, so it comes again.
        if (message.text() === 'e2' && !restart) {
          restart = env.restartBroker();
          await restart;
        }
      },
    );
    stoppers.push(consumer.stop);
    await waitUntil('the restart to begin', () => restart !== undefined, 60_000);
    await restart;
    for (const text of ['e4', 'e5'])
      await env.publishDownstream('event', tenant, { deviceId: 'dev-1', payload: Buffer.from(text), qos: 1 });
    const expected = ['e1', 'e2', 'e3', 'e4', 'e5'];
    await waitUntil(
      'every event after the restart',
      () => expected.every((text) => payloadsOf(consumer.received).includes(text)),
      120_000,
      () => payloadsOf(consumer.received).join(','),
    );
    await consumer.stop();
    assert.equal(await consumer.ended, undefined);
  });

  it('validates tenant and device IDs before any I/O', async () => {
    const nb = env.createNorthbound();
    let connected = false;
    nb.on('connected', () => {
      connected = true;
    });
    try {
      await assert.rejects(async () => {
        for await (const _ of nb.telemetry('bad tenant/../x')) break;
      }, ValidationError);
      await assert.rejects(async () => {
        for await (const _ of nb.events('')) break;
      }, ValidationError);
      await assert.rejects(() => nb.sendCommand('bad tenant', 'dev-1', 'switch'), ValidationError);
      await assert.rejects(() => nb.sendCommand('org.acme', 'bad device/1', 'switch'), ValidationError);
      await assert.rejects(() => nb.sendOneWayCommand('org.acme', 'dev-1', ''), ValidationError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(connected, false, 'no connection was opened');
    } finally {
      await nb.close();
    }
  });
}
