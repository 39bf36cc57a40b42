// FAULT: the broker is stopped and restarted in the middle of a stream of QoS 1 events. Every event must
// reach a subscriber with a persistent session; duplicates are allowed (QoS 1 is at least once) and counted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MqttClient, connectAsync } from 'mqtt';
import { ExponentialBackoff } from '../../src/core/index.js';
import { type DeviceClient, type DeviceClientEvents, DeviceConnectionLostError, createDeviceClient } from '../../src/device/index.js';
import { type Mosquitto, mosquittoProblem, startMosquitto } from '../support/mosquitto.js';
import { skipUnlessAvailable } from '../support/services.js';

const problem = mosquittoProblem();
const EVENTS = 600;
const STOP_AT = 200;

function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      else setTimeout(check, 20);
    };
    check();
  });
}

describe('device MQTT client survives a broker restart (fault injection)', { skip: skipUnlessAvailable(problem) }, () => {
  let broker: Mosquitto | undefined;
  let subscriber: MqttClient | undefined;
  let device: DeviceClient | undefined;

  before(async () => {
    if (problem !== undefined) throw new Error(problem);
    broker = await startMosquitto();
  });

  after(async () => {
    await device?.close({ timeoutMs: 1000 });
    await subscriber?.endAsync(true);
    await broker?.dispose();
  });

  it('delivers every QoS 1 event (count and content) when the broker is stopped and restarted mid-stream', async (t) => {
    const mosquitto = broker as Mosquitto;
    // The northbound side: a persistent session (clean: false) so mosquitto keeps its queue across the restart.
    subscriber = await connectAsync(mosquitto.url, {
      clientId: 'fault-subscriber',
      clean: false,
      reconnectPeriod: 200,
      protocolVersion: 4,
    });
    await subscriber.subscribeAsync('event/#', { qos: 1 });
    const received: number[] = [];
    const bodies = new Map<number, string>();
    subscriber.on('message', (_topic, payload) => {
      const text = payload.toString('utf8');
      const seq = (JSON.parse(text) as { seq: number }).seq;
      received.push(seq);
      bodies.set(seq, text);
    });

    device = createDeviceClient({
      transport: 'mqtt',
      endpoint: mosquitto.url,
      tenant: 'org.acme',
      authId: 'lamp-1',
      password: 'secret-1',
      offlineQueue: { maxSize: EVENTS },
      reconnect: { policy: new ExponentialBackoff({ maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 500 }) },
    });
    const lifecycle: string[] = [];
    for (const name of ['connected', 'disconnected', 'reconnecting'] as const) {
      device.on(name, (...args: DeviceClientEvents[typeof name]) =>
        lifecycle.push(`${name}:${JSON.stringify(args[0], ['reconnected', 'willReconnect', 'attempt'])}`),
      );
    }
    const losses: Array<Error | undefined> = [];
    device.on('disconnected', ({ error, willReconnect }) => {
      if (willReconnect) losses.push(error);
    });
    await device.connect();

    const sent = new Map<number, string>();
    const results: Promise<void>[] = [];
    let restart: Promise<void> | undefined;
    let maxQueued = 0;
    for (let seq = 0; seq < EVENTS; seq += 1) {
      const body = { seq, reading: Math.round(Math.sin(seq) * 1000) / 10, note: `event-${seq}` };
      sent.set(seq, JSON.stringify(body));
      results.push(device.event(body));
      maxQueued = Math.max(maxQueued, device.queuedMessages);
      if (seq === STOP_AT) {
        restart = (async () => {
          await mosquitto.stop();
          await new Promise((resolve) => setTimeout(resolve, 300));
          await mosquitto.start();
        })();
      }
      if (seq % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await restart;
    const settled = await Promise.allSettled(results);
    const failed = settled.filter((result) => result.status === 'rejected');
    assert.equal(
      failed.length,
      0,
      `publishes failed: ${failed
        .slice(0, 3)
        .map((f) => String((f as PromiseRejectedResult).reason))
        .join('; ')}`,
    );

    await waitFor(
      () => new Set(received).size === EVENTS,
      30_000,
      `all ${EVENTS} events at the subscriber (have ${new Set(received).size})`,
    );
    const duplicates = received.length - new Set(received).size;
    t.diagnostic(`events sent ${EVENTS}, received ${received.length}, distinct ${new Set(received).size}, duplicates ${duplicates}`);
    t.diagnostic(`device lifecycle: ${lifecycle.join(' ')}; at most ${maxQueued} events waited in the offline queue`);
    // The outage really hit the stream: events were published while the broker was down.
    assert.ok(maxQueued > 0, 'no event was published while the broker was down');
    assert.deepEqual(
      [...new Set(received)].sort((a, b) => a - b),
      [...sent.keys()],
    );
    for (const [seq, body] of sent) assert.equal(bodies.get(seq), body, `content of event ${seq}`);
    assert.ok(
      lifecycle.some((entry) => entry.startsWith('disconnected:') && entry.includes('"willReconnect":true')),
      lifecycle.join(' '),
    );
    assert.ok(
      lifecycle.some((entry) => entry.includes('"reconnected":true')),
      lifecycle.join(' '),
    );
    // The broker going away is reported as a lost connection, not as a failed CONNECT.
    t.diagnostic(`reported loss: ${losses.map((error) => error?.message).join('; ')}`);
    assert.ok(losses.length > 0);
    for (const error of losses) {
      assert.ok(error instanceof DeviceConnectionLostError, String(error));
      assert.match(error.message, /^the MQTT connection to mqtt:\/\/.* was lost: /);
    }
  });
});
