/**
 * The northbound tap (`anchorNorthbound`) against the real test brokers, Kafka (a KRaft node) and RabbitMQ (AMQP 1.0),
 * with the tap in a process of its own (test/fixtures/anchor-tap/tap.ts) on a default `Anchorer.open({ dataDir })`:
 *
 * 1. messages are published the way Hono's adapters put them on the messaging network (both kinds, several devices,
 *    JSON and binary payloads, with and without a content type);
 * 2. run 1 is SIGKILLed in the middle of the stream, run 2 is stopped with `stop()` in the middle of the stream, run 3
 *    anchors the rest and stops;
 * 3. then every published message is in the outbox, in the stream of its kind, with its bytes, its content type and
 *    thing ID = device ID; a message with an identity on the network (every Kafka record: topic/partition/offset; AMQP
 *    messages with a message-id, half of them here) is recorded exactly once, its redelivery after the kill
 *    recognised as a duplicate; the only duplicate records are of AMQP messages without a message-id that the killed
 *    run had appended (its acknowledgements had not reached the broker), one extra copy at most; the graceful stop left
 *    none; and every record's proof verifies against the ledger and the payload store.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Anchorer } from '../../src/anchor/anchorer.js';
import { anchorNorthbound, type TapAnchorer } from '../../src/anchor/northbound-tap.js';
import type { RecordEnvelope } from '../../src/anchor/types.js';
import { verify } from '../../src/anchor/verify.js';
import { ValidationError } from '../../src/core/errors.js';
import { DevLedger } from '../../src/ledger/dev/index.js';
import { EmbeddedStore } from '../../src/offchain/embedded.js';
import { createKafkaTestEnv, kafkaAvailability, type KafkaTestEnv, startKafka } from '../support/kafka.js';
import type { NorthboundTestEnv } from '../support/northbound-env.js';
import { type RabbitMq, rabbitMqNorthboundEnv, rabbitMqProblem, startRabbitMq } from '../support/rabbitmq.js';
import { skipUnlessAvailable } from '../support/services.js';
import { settlesWithin, until } from '../support/settle.js';

const TAP = join(import.meta.dirname, '..', 'fixtures', 'anchor-tap', 'tap.ts');
/** Messages per kind. */
const PER_KIND = 150;
const KINDS = ['telemetry', 'event'] as const;
type Kind = (typeof KINDS)[number];

const dirs: string[] = [];
const children = new Set<ChildProcessWithoutNullStreams>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Published {
  kind: Kind;
  deviceId: string;
  /** The content type the record must carry. */
  contentType: string;
  sha: string;
  /** It has an identity on the network (`sourceId`), so it must be recorded exactly once. */
  identified: boolean;
}

interface Printed {
  kind: Kind;
  stream: string;
  seq: number;
  sha: string;
  duplicate: boolean;
}

interface TapStats {
  appended: number;
  duplicates: number;
  acknowledged: number;
  failed: number;
}

interface TapRun {
  printed: Printed[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  outcome(): { done?: TapStats; failed?: string };
  stop(): void;
  stderr(): string;
}

/** Starts the tap fixture; SIGKILLs it synchronously as it prints its `killAfter`th appended record. */
function startTap(config: object, killAfter?: number): TapRun {
  const child = spawn(process.execPath, ['--import', 'tsx', TAP, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const printed: Printed[] = [];
  const outcome: ReturnType<TapRun['outcome']> = {};
  createInterface({ input: child.stdout }).on('line', (line) => {
    let value: Partial<Printed> & { done?: boolean; stats?: TapStats; failed?: string };
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      return;
    }
    if (value.done === true) outcome.done = value.stats;
    if (value.failed !== undefined) outcome.failed = value.failed;
    if (value.sha === undefined) return;
    printed.push(value as Printed);
    if (killAfter !== undefined && printed.length === killAfter) child.kill('SIGKILL');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { printed, exited, outcome: () => outcome, stop: () => void child.stdin.write('stop\n'), stderr: () => stderr };
}

async function scenario(
  t: TestContext,
  env: NorthboundTestEnv,
  connection: { transport: 'kafka' | 'amqp'; kafka?: object; amqp?: object },
): Promise<void> {
  const started = Date.now();
  const tenant = `tl-tap-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-anchor-tap-'));
  dirs.push(dataDir);
  const config = { ...connection, dataDir, tenant, kinds: KINDS };

  // 1. What Hono's adapters would have put on the network.
  const published = new Map<string, Published>();
  for (let n = 0; n < PER_KIND; n += 1) {
    for (const kind of KINDS) {
      const deviceId = `org.acme:sensor-${n % 3}`;
      const binary = n % 10 === 9;
      const payload = binary
        ? randomBytes(24)
        : Buffer.from(JSON.stringify({ kind, n, temp: 20 + (n % 7) / 2, at: randomBytes(4).toString('hex') }));
      // Binary ones without a content type: the record says application/octet-stream.
      const contentType = binary ? undefined : 'application/json';
      // AMQP: every other message carries a message-id; Kafka records always have an identity.
      const messageId = n % 2 === 0 ? `${tenant}-${kind}-${n}` : undefined;
      await env.publishDownstream(kind, tenant, {
        deviceId,
        payload,
        qos: 1,
        ...(contentType === undefined ? {} : { contentType }),
        ...(messageId === undefined ? {} : { messageId }),
      });
      const sha = createHash('sha256').update(payload).digest('hex');
      const identified = connection.transport === 'kafka' || messageId !== undefined;
      published.set(sha, { kind, deviceId, contentType: contentType ?? 'application/octet-stream', sha, identified });
    }
  }
  const total = published.size;
  assert.equal(total, PER_KIND * KINDS.length);
  t.diagnostic(`published ${total} messages in ${Date.now() - started} ms`);

  // 2. Run 1: SIGKILLed in the middle of the stream.
  const run1 = startTap(config, Math.floor(total * 0.3));
  const exit1 = await run1.exited;
  assert.equal(exit1.signal, 'SIGKILL', `run 1 was killed mid-stream: ${JSON.stringify(exit1)} ${run1.stderr()}`);
  // Run 2: stopped gracefully in the middle of the stream.
  const run2 = startTap(config);
  await until(() => run2.printed.length >= Math.floor(total * 0.3) || run2.outcome().failed !== undefined, 'run 2 to append', 40_000).catch(
    (error: unknown) => assert.fail(`${String(error)}: ${run2.stderr()}`),
  );
  run2.stop();
  const exit2 = await run2.exited;
  assert.equal(exit2.code, 0, `run 2 stopped cleanly: ${JSON.stringify(run2.outcome())} ${run2.stderr()}`);
  const stats2 = run2.outcome().done!;
  assert.equal(stats2.appended, run2.printed.length, 'run 2 printed every record it appended');
  assert.equal(stats2.acknowledged, stats2.appended, 'stop() acknowledged every message it had appended');
  assert.ok(run2.printed.length < total, `run 2 stopped mid-stream (${run2.printed.length} of ${total})`);
  // Run 3: the rest.
  const run3 = startTap(config);
  const seen = () => new Set([...run1.printed, ...run2.printed, ...run3.printed].map((entry) => entry.sha));
  await until(() => seen().size >= total || run3.outcome().failed !== undefined, 'every message to be appended', 40_000).catch(
    (error: unknown) => assert.fail(`${String(error)}: ${seen().size} of ${total}; ${JSON.stringify(run3.outcome())} ${run3.stderr()}`),
  );
  await new Promise((resolve) => setTimeout(resolve, 300)); // anything extra would show up now
  run3.stop();
  const exit3 = await run3.exited;
  assert.equal(exit3.code, 0, `run 3 stopped cleanly: ${JSON.stringify(run3.outcome())} ${run3.stderr()}`);
  t.diagnostic(
    `appended: run 1 ${run1.printed.length} (killed), run 2 ${run2.printed.length} (stopped), run 3 ${run3.printed.length}; ` +
      `${Date.now() - started} ms`,
  );

  // 3. The outbox, resumed here with the ledger and the store given explicitly so that proofs can be checked on them.
  const ledger = await DevLedger.open({ directory: join(dataDir, 'ledger') });
  const store = new EmbeddedStore({ dataDir: join(dataDir, 'payloads') });
  const anchorer = await Anchorer.open({ dataDir, ledger, store, batch: { maxWaitMs: 50 } });
  try {
    await until(() => anchorer.status().backlog === 0, 'the backlog to drain', 30_000);
    const streams = anchorer.status().streams.map((entry) => entry.stream);
    assert.deepEqual(streams.sort(), [`${tenant}/event`, `${tenant}/telemetry`], 'one stream per kind, named after the kind');
    const copies = new Map<string, Array<{ stream: string; seq: number }>>();
    for (const { stream, lastSeq } of anchorer.status().streams) {
      for (let seq = 1; seq <= lastSeq; seq += 1) {
        const proof = await anchorer.proof(stream, seq, { timeoutMs: 10_000 });
        const envelope: RecordEnvelope = proof.envelope;
        const message = published.get(envelope.payloadSha256);
        assert.ok(message, `${stream} #${seq} holds a published message`);
        assert.equal(stream, `${tenant}/${message.kind}`, `${stream} #${seq}: the stream of its kind`);
        assert.equal(envelope.kind, message.kind);
        assert.equal(envelope.tenant, tenant);
        assert.equal(envelope.thingId, message.deviceId, 'thing ID = device ID');
        assert.equal(envelope.contentType, message.contentType);
        const verdict = await verify(proof, { ledger, store });
        assert.equal(verdict.ok, true, `verify() of ${stream} #${seq}: ${JSON.stringify(verdict.checks)}`);
        assert.ok(
          verdict.checks.every((check) => check.status === 'ok'),
          `every check ran for ${stream} #${seq}: ${JSON.stringify(verdict.checks)}`,
        );
        copies.set(envelope.payloadSha256, [...(copies.get(envelope.payloadSha256) ?? []), { stream, seq }]);
      }
    }
    // Every published message is anchored.
    assert.equal(copies.size, total, `${copies.size} of ${total} distinct messages in the outbox`);
    // What each run printed is what the outbox holds at that position.
    const atPosition = new Map([...copies].flatMap(([sha, list]) => list.map(({ stream, seq }) => [`${stream}#${seq}`, sha] as const)));
    for (const entry of [...run1.printed, ...run2.printed, ...run3.printed]) {
      assert.equal(atPosition.get(`${entry.stream}#${entry.seq}`), entry.sha, `${entry.stream} #${entry.seq} as appended`);
    }
    // Duplicate records: only of messages without an identity that the killed run had appended (an earlier copy from
    // before the first record the next runs appended to that stream), one extra copy at most; the graceful stop of
    // run 2 left none. Messages with an identity that came again were recognised (the receipt of the first record).
    const firstAfterKill = new Map<string, number>();
    for (const entry of [...run2.printed, ...run3.printed]) {
      firstAfterKill.set(entry.stream, Math.min(entry.seq, firstAfterKill.get(entry.stream) ?? Number.POSITIVE_INFINITY));
    }
    let duplicates = 0;
    for (const [sha, list] of copies) {
      if (list.length === 1) continue;
      duplicates += list.length - 1;
      assert.equal(published.get(sha)?.identified, false, `message ${sha} has an identity, yet it was recorded ${list.length} times`);
      assert.equal(list.length, 2, `message ${sha} is in the outbox ${list.length} times`);
      const [first, second] = list.sort((a, b) => a.seq - b.seq) as [{ stream: string; seq: number }, { stream: string; seq: number }];
      assert.equal(first.stream, second.stream);
      const boundary = firstAfterKill.get(first.stream) ?? Number.POSITIVE_INFINITY;
      assert.ok(first.seq < boundary, `the first copy of duplicate ${sha} (${first.stream} #${first.seq}) was appended by the killed run`);
      assert.ok(second.seq >= boundary, `the second copy of duplicate ${sha} (${second.stream} #${second.seq}) came after the restart`);
    }
    const run2Shas = new Set(run2.printed.map((entry) => entry.sha));
    for (const entry of run3.printed) assert.ok(!run2Shas.has(entry.sha), `run 3 appended ${entry.sha} again after a graceful stop`);
    const recognised = [...run2.printed, ...run3.printed].filter((entry) => entry.duplicate);
    for (const entry of recognised) {
      assert.equal(published.get(entry.sha)?.identified, true, `${entry.sha} was recognised by an identity it has`);
      assert.ok(
        run1.printed.some((first) => first.sha === entry.sha && first.seq === entry.seq),
        `the duplicate ${entry.sha} is the record the killed run made (${entry.stream} #${entry.seq})`,
      );
    }
    t.diagnostic(
      `outbox: ${copies.size} distinct messages, ${duplicates} duplicate record(s) after the SIGKILL, ` +
        `${recognised.length} redelivered message(s) recognised; ${Date.now() - started} ms`,
    );
  } finally {
    await anchorer.close();
    await store.close();
    await ledger.close();
  }
}

/**
 * In process: an append that fails stops the tap with that error and leaves the message unacknowledged (the next tap
 * gets it, and only the messages from it on); a tap stopped with `stop()` while idle acknowledged everything.
 */
async function failureScenario(env: NorthboundTestEnv): Promise<void> {
  const tenant = `tl-tapfail-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'twinledger-anchor-tap-'));
  dirs.push(dataDir);
  const texts = ['m0', 'm1', 'm2', 'm3', 'm4'];
  for (const text of texts) await env.publishDownstream('event', tenant, { deviceId: 'org.acme:door', payload: Buffer.from(text), qos: 1 });
  const anchorer = await Anchorer.open({ dataDir, durable: false, batch: { maxWaitMs: 50 } });
  const first = env.createNorthbound();
  const second = env.createNorthbound();
  try {
    const appended: string[] = [];
    const broken = new ValidationError('payload', 'refused by the test');
    const failing: TapAnchorer = {
      async append(input, options) {
        const text = Buffer.from(input.payload as Uint8Array).toString('utf8');
        if (text === 'm2') throw broken;
        const receipt = await anchorer.append(input, options);
        appended.push(text);
        return receipt;
      },
    };
    const tap = anchorNorthbound(first, failing, { tenant, kinds: ['event'] });
    await assert.rejects(settlesWithin(tap.done, 30_000, 'the failing tap to stop'), (error) => error === broken);
    assert.deepEqual(appended, ['m0', 'm1']);
    assert.deepEqual(tap.stats(), { appended: 2, duplicates: 0, acknowledged: 2, failed: 1 });

    const again: string[] = [];
    const collecting: TapAnchorer = {
      async append(input, options) {
        const receipt = await anchorer.append(input, options);
        again.push(Buffer.from(input.payload as Uint8Array).toString('utf8'));
        return receipt;
      },
    };
    const controller = new AbortController();
    const next = anchorNorthbound(second, collecting, { tenant, kinds: ['event'], signal: controller.signal });
    await until(() => again.length >= 3, 'the second tap to get the rest', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    await settlesWithin(next.done, 15_000, 'the second tap to stop on its signal');
    assert.deepEqual(again.sort(), ['m2', 'm3', 'm4'], 'the refused message came again, the acknowledged ones did not');
    assert.deepEqual(next.stats(), { appended: 3, duplicates: 0, acknowledged: 3, failed: 0 });
  } finally {
    await first.close();
    await second.close();
    await anchorer.close();
  }
}

const kafka = await kafkaAvailability();

describe('northbound tap over Kafka', { skip: skipUnlessAvailable(kafka.problem), timeout: 300_000 }, () => {
  let env: KafkaTestEnv | undefined;
  before(async () => {
    if (kafka.problem) throw new Error(kafka.problem);
    env = await createKafkaTestEnv(await startKafka(), { ownsBroker: true });
  });
  after(async () => {
    await env?.teardown();
  });

  it(
    'anchors every message across a SIGKILL and a stop(); redeliveries recognised by message identity; every proof verifies',
    { timeout: 90_000 },
    async (t) => {
      await scenario(t, env!, {
        transport: 'kafka',
        kafka: { bootstrap: env!.broker.bootstrap, groupId: `tap-${randomBytes(4).toString('hex')}` },
      });
    },
  );

  it('a failed append stops the tap, and the next tap gets that message again', { timeout: 60_000 }, async () => {
    await failureScenario(env!);
  });
});

const rabbit = rabbitMqProblem();

describe('northbound tap over AMQP 1.0 (RabbitMQ)', { skip: skipUnlessAvailable(rabbit), timeout: 300_000 }, () => {
  let broker: RabbitMq | undefined;
  let env: NorthboundTestEnv | undefined;
  before(async () => {
    if (rabbit) throw new Error(rabbit);
    broker = await startRabbitMq();
    env = await rabbitMqNorthboundEnv(broker);
  });
  after(async () => {
    await env?.teardown();
    await broker?.stop();
  });

  it(
    'anchors every message across a SIGKILL and a stop(); redeliveries recognised by message identity; every proof verifies',
    { timeout: 90_000 },
    async (t) => {
      const { host, port, username, password, amqpHostname } = broker!;
      await scenario(t, env!, { transport: 'amqp', amqp: { host, port, username, password, amqpHostname } });
    },
  );

  it('a failed append stops the tap, and the next tap gets that message again', { timeout: 60_000 }, async () => {
    await failureScenario(env!);
  });
});
