/**
 * Kafka northbound against a real single-node Kafka (KRaft, started by the test from the jars that
 * scripts/fetch-kafka.sh caches). Runs the shared northbound suite plus the Kafka specifics: offset commits
 * after processing, resuming without loss or gaps, bad headers, delivery failures, the exact records written,
 * SASL_SSL the way Cloud2Edge's Kafka speaks it, back-pressure with a stalled loop body.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../../src/core/logger.js';
import { AbortError, TimeoutError } from '../../src/core/errors.js';
import {
  CommandFailedError,
  CommandRejectedError,
  CommandTimeoutError,
  DeviceNotConnectedError,
  MalformedMessageError,
  NorthboundNotConnectedError,
} from '../../src/northbound/errors.js';
import type { KafkaNorthbound, KafkaNorthboundClientOptions } from '../../src/northbound/kafka.js';
import { KafkaCommitError, KafkaConnectError } from '../../src/northbound/errors.js';
import type { KafkaDownstreamStream } from '../../src/northbound/kafka-stream.js';
import { subscribeCreatingTopic } from '../../src/northbound/kafka-topics.js';
import type { CommandResponse } from '../../src/northbound/types.js';
import {
  C2E_PLAIN_USER,
  C2E_SCRAM_USER,
  createKafkaTestEnv,
  kafkaAvailability,
  type KafkaBroker,
  type KafkaTestEnv,
  startKafka,
  testConsumer,
} from '../support/kafka.js';
import { skipUnlessAvailable } from '../support/services.js';
import { northboundSuite } from './northbound-suite.js';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await delay(25);
  }
}

const available = await kafkaAvailability();

describe('northbound over Kafka (single KRaft node)', { skip: skipUnlessAvailable(available.problem), timeout: 600_000 }, () => {
  let broker: KafkaBroker | undefined;

  before(async () => {
    if (available.problem) throw new Error(available.problem);
    broker = await startKafka({ secure: true });
  });

  after(async () => {
    await broker?.destroy();
  });

  describe('shared northbound suite', () => {
    northboundSuite(async () => createKafkaTestEnv(broker!, { ownsBroker: false }));
  });

  describe('Kafka specifics', () => {
    let env: KafkaTestEnv;
    const clients: KafkaNorthbound[] = [];
    const cleanups: Array<() => Promise<unknown>> = [];
    let counter = 0;
    const newTenant = () => `tl-kafka-${Date.now().toString(36)}-${process.pid}-${(counter += 1)}`;
    const client = (overrides: Partial<KafkaNorthboundClientOptions> = {}) => {
      const nb = env.createKafkaNorthbound(overrides);
      clients.push(nb);
      return nb;
    };
    const publishEvents = async (tenant: string, texts: string[]) => {
      for (const text of texts)
        await env.publishDownstream('event', tenant, { deviceId: 'dev-1', payload: Buffer.from(text), contentType: 'text/plain', qos: 1 });
    };
    const committed = async (groupId: string, topic: string): Promise<number> => {
      const [entry] = await env.admin.fetchOffsets({ groupId, topics: [topic] });
      return Number(entry?.partitions[0]?.offset ?? -1);
    };
    /** Polls the group's committed offset until it is `expected`; fails with the last value seen. */
    const committedReaches = async (groupId: string, topic: string, expected: number, timeoutMs: number): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      let last = -1;
      while (Date.now() < deadline) {
        last = await committed(groupId, topic).catch(() => -1);
        if (last === expected) return last;
        await delay(200);
      }
      return assert.fail(`the committed offset of ${groupId} stayed at ${last}; ${expected} records were processed`);
    };
    /**
     * Consumes `tenant`'s events in the background; the loop body of record number `gateAt` waits for `release()`,
     * so the records behind it wait in the stream's buffer. The loop ends when the stream does.
     */
    const gatedLoop = (nb: KafkaNorthbound, tenant: string, gateAt: number) => {
      const controller = new AbortController();
      const stream = nb.events(tenant, { prefetch: 16, signal: controller.signal })[Symbol.asyncIterator]() as KafkaDownstreamStream;
      const processed: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const loop = (async () => {
        for (;;) {
          const next = await stream.next(); // asking for the next record acknowledges the previous one
          if (next.done) return;
          processed.push(next.value.text());
          if (processed.length === gateAt) await gate;
        }
      })();
      cleanups.push(async () => {
        release();
        controller.abort();
        await loop;
      });
      return { stream, processed, release, loop };
    };
    /** A raw kafkajs consumer on a topic, recording every record (plays a Hono component that reads it). */
    const rawReader = async (topic: string) => {
      const tenant = /^hono\.command\.(.+)$/.exec(topic)?.[1];
      if (tenant !== undefined) env.devicePresent(tenant);
      const records: KafkaMessage[] = [];
      const { consumer, stop } = testConsumer(env.kafka, 'reader', 200);
      cleanups.push(stop);
      await consumer.connect();
      await subscribeCreatingTopic(consumer, topic, true);
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.run({ eachMessage: async ({ message }) => void records.push(message) });
      await joined;
      return records;
    };

    before(async () => {
      env = await createKafkaTestEnv(broker!, { ownsBroker: false });
    });
    after(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
      for (const nb of clients.splice(0)) await nb.close().catch(() => undefined);
      await env?.teardown();
    });

    it('commits an offset only after the loop body finished with that record', async () => {
      const tenant = newTenant();
      await publishEvents(tenant, ['r0', 'r1', 'r2', 'r3', 'r4']);
      const nb = client({ commitIntervalMs: 100 });
      const group = `${env.groupId}.event.${tenant}`;
      const topic = `hono.event.${tenant}`;
      const seenWhileProcessing: number[] = [];
      for await (const message of nb.events(tenant)) {
        if (message.text() === 'r2') {
          await delay(600);
          seenWhileProcessing.push(await committed(group, topic));
        }
        if (message.text() === 'r4') break;
      }
      // While r2 (offset 2) was in the body, only r0 and r1 were committed: the committed offset is 2.
      assert.deepEqual(seenWhileProcessing, [2]);
      // The loop broke out of r4: r0–r3 are committed, r4 is not.
      assert.equal(await committed(group, topic), 4);
    });

    it('a restarted consumer resumes exactly at the first unacknowledged record: no loss, no gaps, no repeats', async () => {
      const tenant = newTenant();
      const texts = Array.from({ length: 20 }, (_, i) => `m${i}`);
      await publishEvents(tenant, texts);
      const first = client();
      const seen: string[] = [];
      for await (const message of first.events(tenant)) {
        seen.push(message.text());
        if (seen.length === 8) break; // m0–m6 done, m7 in the body when the loop breaks
      }
      await first.close();
      const more = Array.from({ length: 5 }, (_, i) => `m${20 + i}`);
      await publishEvents(tenant, more);
      const second = client();
      const resumed: string[] = [];
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      for await (const message of second.events(tenant, { signal: controller.signal })) {
        resumed.push(message.text());
        if (resumed.length === 18) setTimeout(() => controller.abort(), 500); // wait a little for anything extra
      }
      clearTimeout(timer);
      assert.deepEqual(seen, texts.slice(0, 8));
      assert.deepEqual(resumed, [...texts.slice(7), ...more]);
    });

    it('skips records with bad headers as MalformedMessageError, keeps consuming and commits past them', async () => {
      const tenant = newTenant();
      const topic = `hono.telemetry.${tenant}`;
      const good = { 'content-type': Buffer.from('text/plain'), device_id: Buffer.from('dev-1') };
      await env.producer.send({
        topic,
        messages: [
          { key: 'dev-1', value: 'bad qos', headers: { ...good, qos: Buffer.from('one') } },
          { key: 'dev-1', value: 'bad creation-time', headers: { ...good, 'creation-time': Buffer.from('{') } },
          { key: 'dev-1', value: 'bad utf-8', headers: { ...good, device_id: Buffer.from([0x64, 0xff, 0xfe]) } },
          { key: 'dev-1', value: 'bad ttd', headers: { ...good, ttd: Buffer.from('-5') } },
          { key: 'dev-1', value: 'fine', headers: { ...good, 'creation-time': Buffer.from(String(Date.now())) } },
        ],
      });
      const nb = client();
      const errors: Error[] = [];
      nb.on('error', (error) => errors.push(error));
      const controller = new AbortController();
      const received: string[] = [];
      for await (const message of nb.telemetry(tenant, { signal: controller.signal })) {
        received.push(message.text());
        setTimeout(() => controller.abort(), 300);
      }
      assert.deepEqual(received, ['fine']);
      assert.equal(errors.length, 4, errors.map((e) => e.message).join('\n'));
      for (const error of errors) assert.ok(error instanceof MalformedMessageError, `${error.name}: ${error.message}`);
      const text = errors.map((e) => e.message).join('\n');
      for (const header of ['qos', 'creation-time', 'device_id', 'ttd']) assert.match(text, new RegExp(header));
      assert.equal(await committed(`${env.groupId}.telemetry.${tenant}`, topic), 5);
    });

    it('writes command records the way Hono reads them (key, headers, JSON-encoded non-strings)', async () => {
      const tenant = newTenant();
      const records = await rawReader(`hono.command.${tenant}`);
      const nb = client();
      await nb.sendOneWayCommand(tenant, 'org.acme:lamp-1', 'blink', 'twice', { properties: { 'x-trace': 'abc', priority: 2 } });
      const timedOut = await nb
        .sendCommand(tenant, 'org.acme:lamp-1', 'switch', { on: true }, { timeoutMs: 1_000 })
        .catch((e: unknown) => e);
      assert.ok(timedOut instanceof CommandTimeoutError, String(timedOut));
      await waitUntil(() => records.length >= 2);
      const headers = (record: KafkaMessage) =>
        Object.fromEntries(Object.entries(record.headers ?? {}).map(([name, value]) => [name, String(value)]));
      const [oneWay, request] = records as [KafkaMessage, KafkaMessage];
      assert.equal(oneWay.key?.toString(), 'org.acme:lamp-1');
      assert.equal(oneWay.value?.toString(), 'twice');
      assert.deepEqual(headers(oneWay), {
        device_id: 'org.acme:lamp-1',
        subject: 'blink',
        'content-type': 'text/plain',
        'x-trace': 'abc',
        priority: '2',
      });
      assert.equal(request.key?.toString(), 'org.acme:lamp-1');
      assert.deepEqual(JSON.parse(request.value!.toString()), { on: true });
      const requestHeaders = headers(request);
      assert.match(requestHeaders['correlation-id'] ?? '', /^[0-9a-f-]{36}$/);
      assert.deepEqual(requestHeaders, {
        device_id: 'org.acme:lamp-1',
        subject: 'switch',
        'content-type': 'application/json',
        'correlation-id': requestHeaders['correlation-id'],
        'response-required': 'true',
      });
    });

    it('maps delivery-failure notifications (4xx rejected, 5xx not connected) and device errors', async () => {
      const tenant = newTenant();
      const requests = await rawReader(`hono.command.${tenant}`);
      const answered = new Set<string>();
      const responder = setInterval(() => {
        for (const record of requests) {
          const header = (name: string) => record.headers?.[name]?.toString();
          const correlationId = header('correlation-id');
          if (correlationId === undefined || answered.has(correlationId)) continue;
          answered.add(correlationId);
          const failure = 'application/vnd.eclipse-hono-delivery-failure-notification+json';
          const answer: Record<string, { status: string; contentType?: string; body: string }> = {
            big: { status: '400', contentType: failure, body: JSON.stringify({ error: 'command payload too large' }) },
            offline: { status: '503', contentType: failure, body: JSON.stringify({ error: 'device is not connected' }) },
            boom: { status: '500', contentType: 'text/plain', body: 'device broke' },
            ok: { status: '200', contentType: 'application/json', body: '{"done":true}' },
            garbled: { status: 'two hundred', body: '' },
          };
          const reply = answer[header('subject') ?? '']!;
          void env.producer.send({
            topic: `hono.command_response.${tenant}`,
            messages: [
              // A response for a command nobody waits for is ignored.
              { key: 'dev-1', value: 'stray', headers: { 'correlation-id': 'not-ours', device_id: 'dev-1', status: '200' } },
              {
                key: 'dev-1',
                value: reply.body,
                headers: {
                  'correlation-id': correlationId,
                  device_id: 'dev-1',
                  status: reply.status,
                  ...(reply.contentType ? { 'content-type': reply.contentType } : {}),
                },
              },
            ],
          });
        }
      }, 50);
      cleanups.push(async () => clearInterval(responder));
      const nb = client();
      const send = (name: string) => nb.sendCommand(tenant, 'dev-1', name, undefined, { timeoutMs: 15_000 }).catch((e: unknown) => e);
      const [big, offline, boom, ok, garbled] = await Promise.all(['big', 'offline', 'boom', 'ok', 'garbled'].map(send));
      clearInterval(responder);
      assert.ok(big instanceof CommandRejectedError, String(big));
      assert.match(big.message, /400: command payload too large/);
      assert.ok(offline instanceof DeviceNotConnectedError, String(offline));
      assert.match(offline.message, /503: device is not connected/);
      assert.equal(offline.deviceId, 'dev-1');
      assert.ok(boom instanceof CommandFailedError, String(boom));
      assert.equal(boom.status, 500);
      assert.equal(boom.response.text(), 'device broke');
      assert.ok(!(ok instanceof Error), String(ok));
      assert.deepEqual((ok as CommandResponse).json(), { done: true });
      assert.ok(garbled instanceof MalformedMessageError, String(garbled));
    });

    it('speaks SASL_SSL like Cloud2Edge: PLAIN (ditto-c2e) and SCRAM-SHA-512 (hono) with a CA file and serverName', async () => {
      const pki = broker!.pki!;
      const tls = { caFile: pki.caFile, serverName: pki.serverName };
      for (const credentials of [
        { mechanism: 'plain', ...C2E_PLAIN_USER },
        { mechanism: 'scram-sha-512', ...C2E_SCRAM_USER },
      ] as const) {
        const tenant = newTenant();
        const nb = client({ brokers: [broker!.secureBootstrap!], credentials, tls });
        await nb.connect();
        await env.publishDownstream('telemetry', tenant, {
          deviceId: 'dev-1',
          payload: Buffer.from(`via ${credentials.mechanism}`),
          contentType: 'text/plain',
        });
        const received: string[] = [];
        for await (const message of nb.telemetry(tenant)) {
          received.push(message.text());
          break;
        }
        assert.deepEqual(received, [`via ${credentials.mechanism}`]);
        const records = await rawReader(`hono.command.${tenant}`);
        await nb.sendOneWayCommand(tenant, 'dev-1', 'ping');
        await waitUntil(() => records.length >= 1);
      }
    });

    it('fails to connect with a wrong password or an untrusted certificate, without leaking the password', async () => {
      const pki = broker!.pki!;
      const wrong = client({
        brokers: [broker!.secureBootstrap!],
        credentials: { mechanism: 'scram-sha-512', username: 'hono', password: 'not-the-secret' },
        tls: { caFile: pki.caFile, serverName: pki.serverName },
      });
      const error = await wrong.connect({ timeoutMs: 15_000 }).catch((e: unknown) => e);
      assert.ok(error instanceof KafkaConnectError, String(error));
      assert.doesNotMatch(`${error.message} ${String(error.cause)}`, /not-the-secret/);
      const untrusted = client({
        brokers: [broker!.secureBootstrap!],
        credentials: { mechanism: 'plain', ...C2E_PLAIN_USER },
        tls: true,
        connectTimeoutMs: 4_000,
      });
      const tlsError = await untrusted.connect().catch((e: unknown) => e);
      assert.ok(tlsError instanceof KafkaConnectError || tlsError instanceof TimeoutError, String(tlsError));
    });

    it(
      'back-pressure: a stalled loop body holds at most `prefetch` records and keeps its group membership',
      { timeout: 60_000 },
      async () => {
        const tenant = newTenant();
        const texts = Array.from({ length: 30 }, (_, i) => `b${i}`);
        await publishEvents(tenant, texts);
        // Session timeout 6 s (the broker's minimum): a body stalled for 8 s would lose the partitions
        // if the blocked batch handler did not keep heartbeating.
        const nb = client({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
        const stream = nb.events(tenant, { prefetch: 3 })[Symbol.asyncIterator]() as KafkaDownstreamStream;
        const received: string[] = [];
        const first = await stream.next();
        received.push(first.value!.text());
        let maxBuffered = 0;
        const until = Date.now() + 8_000;
        while (Date.now() < until) {
          maxBuffered = Math.max(maxBuffered, stream.buffered);
          await delay(100);
        }
        assert.equal(maxBuffered, 3, 'the queue filled up to prefetch and no further');
        const [description] = (await env.admin.describeGroups([stream.groupId])).groups;
        assert.equal(description?.state, 'Stable');
        assert.equal(description?.members.length, 1);
        for (;;) {
          const next = await stream.next();
          received.push(next.value!.text());
          if (received.length === texts.length) break;
        }
        await stream.return();
        assert.deepEqual(received, texts, 'every record exactly once, in order');
      },
    );

    it('emits connected / disconnected, rejects pending commands on close, and refuses use after close', async () => {
      const tenant = newTenant();
      env.devicePresent(tenant); // nobody answers: the command stays pending until close()
      const nb = client();
      const events: string[] = [];
      nb.on('connected', () => events.push('connected'));
      nb.on('disconnected', ({ error }) => events.push(`disconnected:${error === undefined ? 'closed' : error.message}`));
      await nb.connect();
      const pending = nb.sendCommand(tenant, 'dev-1', 'wait', undefined, { timeoutMs: 30_000 }).catch((e: unknown) => e);
      const controller = new AbortController();
      const streamEnded = (async () => {
        for await (const _ of nb.events(tenant, { signal: controller.signal })) {
          // nothing arrives
        }
        return 'ended';
      })();
      await delay(500);
      await nb.close();
      assert.equal(await streamEnded, 'ended');
      const rejected = await pending;
      assert.ok(rejected instanceof AbortError, String(rejected));
      assert.deepEqual(events, ['connected', 'disconnected:closed']);
      // close() is final (the SDK-wide rule): nothing connects again.
      const closed = (error: unknown) => error instanceof NorthboundNotConnectedError && error.reason === 'closed';
      await assert.rejects(nb.sendOneWayCommand(tenant, 'dev-1', 'again'), closed);
      await assert.rejects(nb.connect(), closed);
      assert.throws(() => nb.events(tenant)[Symbol.asyncIterator](), closed);
      await nb.close(); // idempotent
      assert.deepEqual(events, ['connected', 'disconnected:closed']);
    });

    it(
      'offset commits recover after a broker restart: the committed offset catches up, close commits, a new consumer re-reads nothing',
      { timeout: 300_000 },
      async (t) => {
        const tenant = newTenant();
        const topic = `hono.event.${tenant}`;
        const group = `${env.groupId}.event.${tenant}`;
        const warnings: string[] = [];
        const logger: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} };
        const first = Array.from({ length: 40 }, (_, i) => `c${i}`);
        const second = Array.from({ length: 40 }, (_, i) => `c${40 + i}`);
        await publishEvents(tenant, first);
        const nb = client({ logger, commitIntervalMs: 200, commitThreshold: 5, commitErrorAfterMs: 1_000 });
        const commitErrors: KafkaCommitError[] = [];
        nb.on('error', (error) => {
          if (error instanceof KafkaCommitError) commitErrors.push(error);
        });
        const { stream, processed, release, loop } = gatedLoop(nb, tenant, 10);
        await waitUntil(() => processed.length === 10 && stream.buffered > 0, 60_000);
        await broker!.stop();
        // The buffered records are processed while the broker is down: their commits fail until it is back.
        release();
        await waitUntil(() => warnings.some((w) => w.startsWith('committing Kafka offsets failed')), 120_000);
        await waitUntil(() => commitErrors.length > 0, 120_000);
        const during = { processed: processed.length, uncommitted: stream.uncommittedRecords };
        await broker!.start();
        await publishEvents(tenant, second);
        await waitUntil(() => processed.length === first.length + second.length, 120_000);
        // While the stream still runs (the loop waits for the next record), the group's committed offset catches up
        // with every processed record.
        const restarted = Date.now();
        const offset = await committedReaches(group, topic, processed.length, 120_000);
        t.diagnostic(
          `during the outage: ${during.processed} processed, ${during.uncommitted} not committed; after the restart the committed offset reached ` +
            `${offset} (= every processed record) within ${Date.now() - restarted} ms of processing the last record; commit error: ${commitErrors[0]!.message}`,
        );
        assert.ok(commitErrors[0]!.failedAttempts >= 1);
        assert.ok(commitErrors[0]!.uncommittedRecords > 0);
        assert.equal(commitErrors[0]!.groupId, group);
        // close() ends the stream with a final commit (the loop waits for a next record, so all 80 are processed).
        await nb.close();
        await loop;
        assert.equal(await committed(group, topic), processed.length);
        // The next consumer of the group starts after the last processed record: nothing is processed twice.
        await publishEvents(tenant, ['after']);
        const next = client();
        const reread: string[] = [];
        for await (const message of next.events(tenant)) {
          reread.push(message.text());
          if (message.text() === 'after') break;
        }
        assert.deepEqual(reread, ['after']);
      },
    );

    it('close() makes the final commit although commits failed during a broker outage', { timeout: 300_000 }, async () => {
      const tenant = newTenant();
      const topic = `hono.event.${tenant}`;
      const group = `${env.groupId}.event.${tenant}`;
      const warnings: string[] = [];
      const logger: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} };
      await publishEvents(
        tenant,
        Array.from({ length: 12 }, (_, i) => `f${i}`),
      );
      // No timed commits during the test: before the outage commits come from the threshold, afterwards only close() commits.
      const nb = client({ logger, commitIntervalMs: 600_000, commitThreshold: 5 });
      const { stream, processed, release, loop } = gatedLoop(nb, tenant, 6);
      await waitUntil(() => processed.length === 6 && stream.buffered > 0, 60_000);
      assert.equal(await committedReaches(group, topic, 5, 60_000), 5);
      await broker!.stop();
      release();
      await waitUntil(() => warnings.some((w) => w.startsWith('committing Kafka offsets failed')), 120_000);
      await broker!.start();
      await publishEvents(tenant, ['g0', 'g1', 'g2']);
      await waitUntil(() => processed.length === 15, 120_000); // the consumer is back in its group
      assert.equal(await committed(group, topic), 5, 'nothing committed since the failure (the retry timer is 10 minutes away)');
      await nb.close();
      await loop;
      assert.equal(await committed(group, topic), 15);
    });

    it(
      "commandsWhileDisconnected 'fail': refuses commands at once while Kafka is known to be down, sends again once it is back",
      { timeout: 300_000 },
      async (t) => {
        const tenant = newTenant();
        const peer = await env.startCommandPeer(tenant, (command) => ({ status: 200, payload: Buffer.from(`pong ${command.name}`) }));
        cleanups.push(peer.stop);
        const nb = client({ commandsWhileDisconnected: 'fail' });
        assert.equal((await nb.sendCommand(tenant, 'dev-1', 'before', undefined, { timeoutMs: 15_000 })).text(), 'pong before');
        await broker!.stop();
        const beforeKnown: string[] = [];
        let refused: unknown;
        try {
          // The client learns that Kafka is gone from its own failures (its response consumer, a command's write).
          const deadline = Date.now() + 120_000;
          while (!(refused instanceof NorthboundNotConnectedError)) {
            if (Date.now() > deadline) assert.fail(`commands were never refused as not connected: ${beforeKnown.join(', ')}`);
            refused = await nb.sendCommand(tenant, 'dev-1', 'during', undefined, { timeoutMs: 2_000 }).catch((e: unknown) => e);
            if (!(refused instanceof NorthboundNotConnectedError)) beforeKnown.push(String((refused as Error).name));
          }
          // From then on every command is refused without being sent, however long its timeout.
          const oneWay = await nb.sendOneWayCommand(tenant, 'dev-1', 'blink', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e);
          const request = await nb.sendCommand(tenant, 'dev-1', 'switch', undefined, { timeoutMs: 60_000 }).catch((e: unknown) => e);
          for (const error of [refused, oneWay, request]) {
            assert.ok(error instanceof NorthboundNotConnectedError, String(error));
            assert.equal(error.reason, 'disconnected');
            assert.equal(error.code, 'northbound.not-connected');
            assert.ok(!(error instanceof DeviceNotConnectedError));
          }
          assert.match((request as Error).message, /command "switch" to .*: the Kafka northbound client is disconnected/);
        } finally {
          await broker!.start();
        }
        t.diagnostic(`before the client knew: ${beforeKnown.join(', ') || 'nothing'}; then: ${(refused as Error).message}`);
        // Back: the client notices by itself (its consumers, or the probe a refused command starts).
        const deadline = Date.now() + 120_000;
        for (;;) {
          const result = await nb.sendCommand(tenant, 'dev-1', 'after', undefined, { timeoutMs: 10_000 }).catch((e: unknown) => e);
          if (!(result instanceof Error)) {
            assert.equal((result as CommandResponse).text(), 'pong after');
            break;
          }
          if (Date.now() > deadline) assert.fail(`commands did not go through again: ${String(result)}`);
          await delay(500);
        }
        assert.ok(
          peer.received.every((command) => command.name !== 'switch' && command.name !== 'blink'),
          'a refused command reached the device',
        );
      },
    );

    it('sends commands and gets responses again after a broker restart', { timeout: 120_000 }, async () => {
      const tenant = newTenant();
      const peer = await env.startCommandPeer(tenant, (command) => ({ status: 200, payload: Buffer.from(`pong ${command.name}`) }));
      cleanups.push(peer.stop);
      const nb = client();
      assert.equal((await nb.sendCommand(tenant, 'dev-1', 'before', undefined, { timeoutMs: 15_000 })).text(), 'pong before');
      await env.restartBroker();
      const response = await nb.sendCommand(tenant, 'dev-1', 'after', undefined, { timeoutMs: 60_000 });
      assert.equal(response.text(), 'pong after');
    });
  });
});
