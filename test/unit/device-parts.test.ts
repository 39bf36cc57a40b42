// The device module's building blocks: Hono MQTT topics, the bounded offline queue, reconnect backoff,
// endpoints from the Cloud2Edge environment.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExponentialBackoff, ValidationError, configFromEnv } from '../../src/core/index.js';
import { AsyncBuffer } from '../../src/device/command.js';
import { type InflightEntry, InflightList } from '../../src/device/inflight.js';
import { OfflineQueueFullError, deviceEndpointFromConfig } from '../../src/device/index.js';
import { OfflineQueue, type Queueable } from '../../src/device/offline-queue.js';
import { ReconnectBackoff } from '../../src/core/reconnect-backoff.js';
import {
  LONG_TOPICS,
  SHORT_TOPICS,
  commandFilters,
  commandResponseTopic,
  encodePropertyBag,
  errorFilters,
  parseCommandTopic,
  parseErrorTopic,
  publishTopic,
} from '../../src/device/topics.js';

describe('Hono MQTT topics', () => {
  it('builds publish topics for devices and gateways, with property bags', () => {
    assert.equal(publishTopic('telemetry', undefined), 'telemetry');
    assert.equal(publishTopic('t', 'org.acme:sensor-2'), 't//org.acme:sensor-2');
    assert.equal(
      publishTopic('telemetry', undefined, { 'content-type': 'application/json' }),
      'telemetry/?content-type=application%2Fjson',
    );
    assert.equal(publishTopic('event', 'd', { 'hono-ttl': '30', 'a b': 'c&d' }), 'event//d/?hono-ttl=30&a%20b=c%26d');
    assert.equal(encodePropertyBag({}), '');
  });

  it('builds command response topics and subscription filters', () => {
    assert.equal(commandResponseTopic(LONG_TOPICS, 'req-1', 200), 'command///res/req-1/200');
    assert.equal(commandResponseTopic(LONG_TOPICS, 'req-1', 404, 'org.acme:sensor-2'), 'command//org.acme:sensor-2/res/req-1/404');
    assert.equal(commandResponseTopic(SHORT_TOPICS, 'r', 200), 'c///s/r/200');
    assert.deepEqual(commandFilters(LONG_TOPICS, false), ['command///req/#']);
    assert.deepEqual(commandFilters(LONG_TOPICS, true), ['command///req/#', 'command//+/req/#']);
    assert.deepEqual(commandFilters(SHORT_TOPICS, false), ['c///q/#']);
    assert.deepEqual(errorFilters(LONG_TOPICS, true), ['error///#', 'error//+/#']);
  });

  it('parses command topics: request/response, one-way, gateway, short names, names with slashes, property bags', () => {
    assert.deepEqual(parseCommandTopic('command///req/1010f8ab0b53-bd96/setBrightness'), {
      tenant: '',
      deviceId: '',
      requestId: '1010f8ab0b53-bd96',
      name: 'setBrightness',
      properties: {},
    });
    assert.equal(parseCommandTopic('command///req//setBrightness')?.requestId, undefined);
    assert.equal(parseCommandTopic('c//4711/q//setBrightness')?.deviceId, '4711');
    assert.equal(parseCommandTopic('command/DEFAULT_TENANT/4711/req/r/a/b/c')?.name, 'a/b/c');
    assert.deepEqual(parseCommandTopic('command///req/r/switch/?content-type=application%2Fjson')?.properties, {
      'content-type': 'application/json',
    });
    assert.equal(parseCommandTopic('command///req/r/'), undefined);
    assert.equal(parseCommandTopic('command///res/r/200'), undefined);
    assert.equal(parseCommandTopic('telemetry'), undefined);
  });

  it('parses error topics', () => {
    assert.deepEqual(parseErrorTopic('error///telemetry/5/413'), {
      tenant: '',
      deviceId: '',
      endpoint: 'telemetry',
      correlationId: '5',
      status: 413,
    });
    assert.equal(parseErrorTopic('error//org.acme:sensor-2/event/-1/503')?.deviceId, 'org.acme:sensor-2');
    assert.equal(parseErrorTopic('error///telemetry/5'), undefined);
    assert.equal(parseErrorTopic('error///telemetry/5/abc'), undefined);
  });
});

class Item implements Queueable {
  queued = false;
  failure: Error | undefined;
  constructor(
    readonly name: string,
    readonly kind: 'telemetry' | 'event' = 'event',
  ) {}
  fail(error: Error): void {
    this.failure = error;
  }
}

describe('offline queue', () => {
  it('is FIFO and refuses new messages when full (overflow: reject)', () => {
    const queue = new OfflineQueue<Item>({ maxSize: 2, qos0: 'fail', overflow: 'reject' });
    const [a, b, c] = [new Item('a'), new Item('b'), new Item('c')];
    queue.push(a);
    queue.push(b);
    assert.throws(
      () => queue.push(c),
      (error: unknown) => error instanceof OfflineQueueFullError && error.reason === 'rejected' && error.kind === 'event',
    );
    assert.equal(queue.size, 2);
    assert.equal(queue.shift(), a);
    assert.equal(queue.shift(), b);
    assert.equal(queue.shift(), undefined);
  });

  it('evicts the oldest with an OfflineQueueFullError (overflow: drop-oldest)', () => {
    const queue = new OfflineQueue<Item>({ maxSize: 2, qos0: 'fail', overflow: 'drop-oldest' });
    const items = ['a', 'b', 'c'].map((name) => new Item(name));
    for (const item of items) queue.push(item);
    assert.ok(items[0]?.failure instanceof OfflineQueueFullError);
    assert.equal((items[0]?.failure as OfflineQueueFullError).reason, 'evicted');
    assert.deepEqual(
      queue.drain().map((item) => item.name),
      ['b', 'c'],
    );
  });

  it('puts admitted messages back at the front, even beyond the bound, and forgets discarded ones', () => {
    const queue = new OfflineQueue<Item>({ maxSize: 2, qos0: 'fail', overflow: 'reject' });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => new Item(name)) as [Item, Item, Item, Item];
    queue.push(c);
    queue.push(d);
    queue.requeue([a, b]);
    assert.equal(queue.size, 4);
    queue.discard(c);
    assert.equal(queue.size, 3);
    assert.deepEqual(
      queue.drain().map((item) => item.name),
      ['a', 'b', 'd'],
    );
  });

  it('stays correct over many pushes and shifts (compaction)', () => {
    const queue = new OfflineQueue<Item>({ maxSize: 10, qos0: 'fail', overflow: 'reject' });
    const out: string[] = [];
    for (let i = 0; i < 5000; i += 1) {
      queue.push(new Item(String(i)));
      if (i % 2 === 1) {
        out.push((queue.shift() as Item).name);
        out.push((queue.shift() as Item).name);
      }
    }
    assert.equal(out.length, 5000);
    assert.deepEqual(out.slice(0, 4), ['0', '1', '2', '3']);
    assert.equal(out[4999], '4999');
  });

  it('does not keep discarded messages behind a head that never leaves (timeouts while offline)', () => {
    const queue = new OfflineQueue<Item>({ maxSize: 10, qos0: 'fail', overflow: 'reject' });
    const head = new Item('waits forever');
    queue.push(head);
    for (let i = 0; i < 10_000; i += 1) {
      const item = new Item(String(i));
      queue.push(item);
      queue.discard(item); // its deadline passed
    }
    const kept = (queue as unknown as { items: unknown[] }).items.length;
    assert.ok(kept < 200, `the queue still holds ${kept} entries for 1 live message`);
    assert.equal(queue.size, 1);
    assert.equal(queue.shift(), head);
    assert.equal(queue.shift(), undefined);
  });
});

interface Sent extends InflightEntry<Sent> {
  name: string;
}

function sent(name: string, messageId: number): Sent {
  return { name, messageId, newer: undefined, older: undefined, linked: false };
}

describe('in-flight list (QoS 1 messages awaiting PUBACK)', () => {
  it('keeps send order, removes from anywhere, finds by packet id and drains oldest first', () => {
    const list = new InflightList<Sent>();
    const [a, b, c, d] = [sent('a', 1), sent('b', 2), sent('c', 3), sent('d', 4)];
    for (const entry of [a, b, c, d]) list.add(entry);
    assert.equal(list.size, 4);
    list.remove(c); // middle
    list.remove(a); // oldest
    list.remove(a); // twice: no effect
    assert.equal(list.size, 2);
    assert.equal(list.find(4)?.name, 'd');
    assert.equal(list.find(3), undefined, 'a removed message is not found');
    list.add(a); // sent again (e.g. after a retry): now the newest
    list.add(a); // already linked: no duplicate
    assert.deepEqual(
      list.drain().map((entry) => entry.name),
      ['b', 'd', 'a'],
    );
    assert.equal(list.size, 0);
    assert.equal(list.find(2), undefined);
    assert.equal(b.linked || b.newer !== undefined || b.older !== undefined, false, 'drained entries are unlinked');
    list.add(b);
    list.remove(b); // the only entry
    assert.equal(list.size, 0);
    assert.deepEqual(list.drain(), []);
  });

  it('matches a model under a long random sequence of sends and acknowledgements', () => {
    const list = new InflightList<Sent>();
    const model: Sent[] = [];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 5000; step += 1) {
      if (model.length === 0 || random() < 0.55) {
        const entry = sent(`m${step}`, (step % 65535) + 1);
        list.add(entry);
        model.push(entry);
      } else {
        const [entry] = model.splice(Math.floor(random() * model.length), 1);
        list.remove(entry as Sent);
      }
      assert.equal(list.size, model.length);
    }
    const probe = model[Math.floor(model.length / 2)] as Sent;
    assert.equal(list.find(probe.messageId), probe);
    assert.deepEqual(list.drain(), model);
  });
});

describe('reconnect backoff', () => {
  it('asks the policy with the consecutive failure count and resets only after a stable connection', async () => {
    const seen: number[] = [];
    const backoff = new ReconnectBackoff({ nextDelayMs: (attempt) => (seen.push(attempt), attempt * 10) }, 30);
    assert.equal(backoff.next(new Error('x')), 10);
    assert.equal(backoff.next(new Error('x')), 20);
    backoff.connected();
    backoff.disconnected(); // dropped before it was stable
    assert.equal(backoff.next(new Error('x')), 30);
    backoff.connected();
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(backoff.attempts, 0);
    assert.equal(backoff.next(new Error('x')), 10);
    assert.deepEqual(seen, [1, 2, 3, 1]);
    backoff.reset();
  });

  it('reports when the policy gives up', () => {
    const backoff = new ReconnectBackoff(new ExponentialBackoff({ maxAttempts: 2, initialDelayMs: 1, jitter: 'none' }), 1000);
    assert.equal(backoff.next(new Error('x')), 1);
    assert.equal(backoff.next(new Error('x')), undefined);
  });
});

describe('command iterator buffer', () => {
  it('buffers up to its capacity, hands items to waiting consumers and ends cleanly', async () => {
    const leftovers: number[][] = [];
    const buffer = new AsyncBuffer<number>(2, (left) => leftovers.push(left));
    const waiting = buffer.next();
    assert.equal(buffer.offer(1), true);
    assert.deepEqual(await waiting, { value: 1, done: false });
    assert.equal(buffer.offer(2), true);
    assert.equal(buffer.offer(3), true);
    assert.equal(buffer.offer(4), false, 'full');
    assert.deepEqual(await buffer.next(), { value: 2, done: false });
    await buffer.return();
    assert.deepEqual(leftovers, [[3]]);
    assert.deepEqual(await buffer.next(), { value: undefined, done: true });
    assert.equal(buffer.offer(5), false);
  });

  it('ends when its signal aborts', async () => {
    const controller = new AbortController();
    const buffer = new AsyncBuffer<number>(2, () => undefined, controller.signal);
    const pending = buffer.next();
    controller.abort();
    assert.deepEqual(await pending, { value: undefined, done: true });
  });
});

describe('adapter endpoints from the Cloud2Edge environment', () => {
  it('reads HTTP and MQTT adapters, preferring MQTTS when a CA is configured', () => {
    const env = {
      HTTP_ADAPTER_BASE_URL: 'http://192.168.1.10:30080',
      MQTT_ADAPTER_IP: '192.168.1.10',
      MQTT_ADAPTER_PORT_MQTT: '31883',
      MQTT_ADAPTER_PORT_MQTTS: '30883',
    };
    assert.deepEqual(deviceEndpointFromConfig(configFromEnv(env), 'http'), { endpoint: 'http://192.168.1.10:30080', tls: undefined });
    assert.deepEqual(deviceEndpointFromConfig(configFromEnv(env), 'mqtt'), { endpoint: 'mqtt://192.168.1.10:31883', tls: undefined });
    const withCa = configFromEnv({ ...env, TWINLEDGER_CA_FILE: '/etc/c2e/ca.crt', TWINLEDGER_TLS_SERVER_NAME: 'c2e-hono-adapter-mqtt' });
    assert.deepEqual(deviceEndpointFromConfig(withCa, 'mqtt'), {
      endpoint: 'mqtts://192.168.1.10:30883',
      tls: { caFile: '/etc/c2e/ca.crt', serverName: 'c2e-hono-adapter-mqtt' },
    });
    assert.throws(
      () => deviceEndpointFromConfig({}, 'mqtt'),
      (error: unknown) => error instanceof ValidationError && /MQTT_ADAPTER_IP/.test(error.message),
    );
    assert.throws(
      () => deviceEndpointFromConfig({}, 'http'),
      (error: unknown) => error instanceof ValidationError && /HTTP_ADAPTER_BASE_URL/.test(error.message),
    );
  });
});
